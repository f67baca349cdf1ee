"""Builds weir's Cython extensions and its Go engine.

The Cython extensions are optional: if they cannot be built (no C compiler,
no Cython), weir installs without them, with a warning, and runs on its
pure-Python coders and operations. The engine is not: it is compiled with Go
into the package as ``weir/_bin/weir`` (run by the ``weir`` command, see
``weir/_cli.py``), and a build without Go stops and says so.

The Go sources come from the checkout around this directory, or from ``_go/``
in an sdist, where the sdist command copies them.
"""

import os
import re
import shutil
import subprocess
import sys

from setuptools import Distribution, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

HERE = os.path.dirname(os.path.abspath(__file__))
FAST_MODULES = ["weir._coder_fast", "weir._operations_fast", "weir._aggregate_fast", "weir._state_aggregate_fast"]
GO_MODULE = "github.com/weir-dev/weir"
# What the engine's build needs from the Go module; tests and test data stay out of the sdist.
GO_FILES = ["go.mod", "go.sum"]
GO_DIRS = ["cmd", "internal"]
SDIST_GO = "_go"


def version():
    """weir's one version number, from weir/__init__.py (also the wheel's, see pyproject.toml)."""
    with open(os.path.join(HERE, "weir", "__init__.py"), encoding="utf-8") as f:
        m = re.search(r'^__version__ = "([^"]+)"', f.read(), re.M)
    if not m:
        raise SystemExit("error: weir/__init__.py has no __version__ = \"...\" line")
    return m.group(1)


def go_root():
    """The directory of the Go module: _go/ in an sdist, else the checkout's root."""
    for d in (os.path.join(HERE, SDIST_GO), os.path.dirname(HERE)):
        try:
            with open(os.path.join(d, "go.mod"), encoding="utf-8") as f:
                if f.readline().split() == ["module", GO_MODULE]:
                    return d
        except OSError:
            pass
    raise SystemExit(f"error: weir's Go sources (go.mod of {GO_MODULE}) are neither in {SDIST_GO}/ nor in "
                     f"{os.path.dirname(HERE)}: build weir from its sdist or from a checkout of its repository")


def build_engine(out):
    """Compiles the engine into the file out: static (no cgo), so it runs on any Linux of its architecture."""
    go = os.environ.get("GO", "go")
    if shutil.which(go) is None:
        raise SystemExit(
            "error: building weir from source needs Go (1.26 or newer) on PATH, to compile its engine; "
            f"'{go}' was not found. Install Go from https://go.dev/dl/ and retry, or install a binary "
            "wheel of weir, which carries the engine.")
    root = go_root()
    out = os.path.abspath(out)  # go runs in root
    os.makedirs(os.path.dirname(out), exist_ok=True)
    cmd = [go, "build", "-trimpath", "-ldflags", f"-s -w -X main.version={version()}", "-o", out, "./cmd/weir"]
    sys.stderr.write(f"weir: building the engine: {' '.join(cmd)} (in {root})\n")
    env = dict(os.environ, CGO_ENABLED="0")
    if subprocess.call(cmd, cwd=root, env=env) != 0:
        raise SystemExit(f"error: building weir's engine failed: {' '.join(cmd)} in {root} (see Go's messages above)")


class BuildPyWithEngine(build_py):
    """Also puts the engine, weir/_bin/weir, into the package."""

    def run(self):
        super().run()
        base = HERE if self.editable_mode else self.build_lib
        build_engine(os.path.join(base, "weir", "_bin", "weir"))


class SdistWithGo(sdist):
    """Also copies the engine's Go sources into the sdist, under _go/."""

    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, files)
        root = go_root()
        dest = os.path.join(base_dir, SDIST_GO)
        for name in GO_FILES:
            self._copy(os.path.join(root, name), os.path.join(dest, name))
        for top in GO_DIRS:
            for d, dirs, names in os.walk(os.path.join(root, top)):
                dirs[:] = sorted(x for x in dirs if x != "testdata")
                for name in sorted(names):
                    # Go sources and Go assembly (.s): a package's assembly is part of its build.
                    if name.endswith((".go", ".s")) and not name.endswith("_test.go"):
                        src = os.path.join(d, name)
                        self._copy(src, os.path.join(dest, os.path.relpath(src, root)))

    def _copy(self, src, dst):
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(src, dst)


class OptionalBuildExt(build_ext):
    """Turns a failed extension build into a warning."""

    def finalize_options(self):
        super().finalize_options()
        if self.parallel is None:
            self.parallel = True  # one compiler per core: the two extensions build side by side

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


class BinaryDistribution(Distribution):
    """A platform wheel even when no extension was built: the engine is a native binary."""

    def has_ext_modules(self):
        return True


def extensions():
    sources = [m for m in FAST_MODULES if os.path.exists(os.path.join(HERE, *m.split(".")) + ".pyx")]
    if not sources:
        return []
    from setuptools import Extension

    # An sdist ships the C that Cython generated when it was made: compile that, rather than generate it
    # again for each wheel (Cython would, as its own headers in the fresh build environment look newer).
    c_files = [os.path.join(*m.split(".")) + ".c" for m in sources]
    if os.path.exists(os.path.join(HERE, "PKG-INFO")) and all(os.path.exists(os.path.join(HERE, c)) for c in c_files):
        return [Extension(m, [c], extra_compile_args=["-O3"]) for m, c in zip(sources, c_files)]
    try:
        from Cython.Build import cythonize
    except ImportError:
        sys.stderr.write("WARNING: Cython is missing; weir installs without its compiled fast paths.\n")
        return []
    exts = [Extension(m, [os.path.join(*m.split(".")) + ".pyx"], extra_compile_args=["-O3"]) for m in sources]
    return cythonize(exts, language_level=3, compiler_directives={
        "boundscheck": False, "wraparound": False, "cdivision": True, "embedsignature": True})


setup(
    distclass=BinaryDistribution,
    ext_modules=extensions(),
    cmdclass={"build_ext": OptionalBuildExt, "build_py": BuildPyWithEngine, "sdist": SdistWithGo},
)
