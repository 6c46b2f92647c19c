"""Build of the optional C extension (everything else is in pyproject.toml).

``rtc_interact._native`` is compiled from ``native/rtc_native.c`` against the limited API
(abi3). It is optional: where no C compiler exists the build warns and goes on, and
``rtc_interact.media.vp8`` falls back to its pure-Python twin (``IMPLEMENTATION == "python"``).
"""

from __future__ import annotations

import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """Say so, clearly, when the extension cannot be built; never fail the install."""

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:  # no compiler, no headers: the pure-Python twin is used
            print(f"rtc-interact: not building {ext.name} ({exc}); using pure Python",
                  file=sys.stderr)


setup(
    ext_modules=[
        Extension(
            "rtc_interact._native",
            sources=["native/rtc_native.c"],
            py_limited_api=True,
            define_macros=[("Py_LIMITED_API", "0x030B0000")],
            optional=True,
        )
    ],
    cmdclass={"build_ext": OptionalBuildExt},
    options={"bdist_wheel": {"py_limited_api": "cp311"}},
)
