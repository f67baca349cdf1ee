"""Builds weir's Cython extensions. If they cannot be built, weir installs
without them and runs on its pure-Python coders and operations."""

import os
import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
FAST_MODULES = ["weir._coder_fast", "weir._operations_fast"]


class OptionalBuildExt(build_ext):
    """Turns a failed extension build into a warning."""

    def run(self):
        try:
            super().run()
        except Exception as e:  # the compiler is missing or failed
            self._warn(e)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as e:
            self._warn(e, ext.name)

    def _warn(self, e, name="extensions"):
        sys.stderr.write(f"WARNING: weir could not build {name} ({e}); "
                         "it will run on its pure-Python coders and operations.\n")


def extensions():
    sources = [m for m in FAST_MODULES if os.path.exists(os.path.join(HERE, *m.split(".")) + ".pyx")]
    if not sources:
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        sys.stderr.write("WARNING: Cython is missing; weir installs without its compiled fast paths.\n")
        return []
    from setuptools import Extension

    exts = [Extension(m, [os.path.join(*m.split(".")) + ".pyx"], extra_compile_args=["-O3"]) for m in sources]
    return cythonize(exts, language_level=3, compiler_directives={
        "boundscheck": False, "wraparound": False, "cdivision": True, "embedsignature": True})


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
