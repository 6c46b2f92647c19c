/* rtc_interact._native: the per-viewer, per-packet hot path of encode-once fan-out, in C.
 *
 * vp8_packetize(frame, picture_id, max_payload) -> list[bytes]
 *   Splits one encoded VP8 frame into RTP payloads (RFC 7741), each starting with a 4-byte
 *   payload descriptor: X=1, S=1 on the first packet only, PID=0, then I=1 and the 15-bit
 *   picture id with M=1. Same bytes as rtc_interact.media.vp8.packetize_py (tests check).
 *
 * Limited API (abi3, Python >= 3.11): one wheel per platform for every CPython from 3.11.
 */
#ifndef Py_LIMITED_API
#define Py_LIMITED_API 0x030B0000
#endif
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#define DESCRIPTOR_SIZE 4

static PyObject *
vp8_packetize(PyObject *self, PyObject *args)
{
    Py_buffer frame;
    long picture_id;
    Py_ssize_t max_payload;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*ln:vp8_packetize", &frame, &picture_id, &max_payload))
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
        p[0] = i == 0 ? 0x90 : 0x80;      /* X=1, S on the first packet, PID=0 */
        p[1] = 0x80;                      /* I=1: picture id present */
        p[2] = (unsigned char)(0x80 | (pid >> 8)); /* M=1: 15-bit picture id */
        p[3] = (unsigned char)(pid & 0xFF);
        memcpy(p + DESCRIPTOR_SIZE, data + pos, (size_t)size);
        PyList_SetItem(out, i, payload);  /* steals the reference */
    }
    PyBuffer_Release(&frame);
    return out;
}

static PyMethodDef methods[] = {
    {"vp8_packetize", vp8_packetize, METH_VARARGS,
     "vp8_packetize(frame, picture_id, max_payload) -> list[bytes]\n\n"
     "Split one encoded VP8 frame into RTP payloads with 4-byte descriptors."},
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
