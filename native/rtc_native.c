/* rtc_interact._native: the per-viewer, per-packet hot path of encode-once fan-out, in C.
 *
 * vp8_packetize(frame, picture_id, max_payload, tl0_index, droppable) -> list[bytes]
 *   Splits one encoded VP8 frame into RTP payloads (RFC 7741), each starting with a 6-byte
 *   payload descriptor: X=1, N=droppable, S=1 on the first packet only, PID=0; then I=1, L=1,
 *   T=1; the 15-bit picture id with M=1; TL0PICIDX; TID=1 and Y=1 for a droppable frame, else
 *   TID=0 and Y=0. Same bytes as rtc_interact.media.vp8.packetize_py (tests check).
 *
 * Limited API (abi3, Python >= 3.11): one wheel per platform for every CPython from 3.11.
 */
#ifndef Py_LIMITED_API
#define Py_LIMITED_API 0x030B0000
#endif
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#define DESCRIPTOR_SIZE 6

static PyObject *
vp8_packetize(PyObject *self, PyObject *args)
{
    Py_buffer frame;
    long picture_id;
    Py_ssize_t max_payload;
    int tl0_index = 0, droppable = 0;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*ln|ip:vp8_packetize", &frame, &picture_id, &max_payload,
                          &tl0_index, &droppable))
        return NULL;
    if (max_payload <= DESCRIPTOR_SIZE) {
        PyBuffer_Release(&frame);
        PyErr_SetString(PyExc_ValueError,
                        "max_payload must leave room for the payload descriptor");
        return NULL;
    }
    const Py_ssize_t chunk = max_payload - DESCRIPTOR_SIZE;
    const Py_ssize_t length = frame.len;
    const Py_ssize_t count = (length + chunk - 1) / chunk;
    const unsigned char *data = (const unsigned char *)frame.buf;
    const unsigned pid = (unsigned)(picture_id & 0x7FFF);

    PyObject *out = PyList_New(count);
    if (out == NULL) {
        PyBuffer_Release(&frame);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        const Py_ssize_t pos = i * chunk;
        const Py_ssize_t size = length - pos < chunk ? length - pos : chunk;
        PyObject *payload = PyBytes_FromStringAndSize(NULL, size + DESCRIPTOR_SIZE);
        if (payload == NULL) {
            Py_DECREF(out);
            PyBuffer_Release(&frame);
            return NULL;
        }
        unsigned char *p = (unsigned char *)PyBytes_AsString(payload);
        /* X=1, N for a droppable frame, S on the first packet, PID=0 */
        p[0] = (unsigned char)((i == 0 ? 0x90 : 0x80) | (droppable ? 0x20 : 0x00));
        p[1] = 0xE0;                      /* I=1, L=1, T=1 */
        p[2] = (unsigned char)(0x80 | (pid >> 8)); /* M=1: 15-bit picture id */
        p[3] = (unsigned char)(pid & 0xFF);
        p[4] = (unsigned char)(tl0_index & 0xFF);   /* TL0PICIDX */
        p[5] = droppable ? 0x60 : 0x00;   /* TID=1, Y=1 (depends on TL0 only), or TID=0 */
        memcpy(p + DESCRIPTOR_SIZE, data + pos, (size_t)size);
        PyList_SetItem(out, i, payload);  /* steals the reference */
    }
    PyBuffer_Release(&frame);
    return out;
}

static PyMethodDef methods[] = {
    {"vp8_packetize", vp8_packetize, METH_VARARGS,
     "vp8_packetize(frame, picture_id, max_payload, tl0_index=0, droppable=False)"
     " -> list[bytes]\n\n"
     "Split one encoded VP8 frame into RTP payloads with 6-byte descriptors."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "rtc_interact._native",
    "C twin of rtc_interact.media.vp8.packetize_py.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__native(void)
{
    return PyModule_Create(&module);
}
