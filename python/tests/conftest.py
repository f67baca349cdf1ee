"""Shared pytest setup: the suite tests the installed weir package.

Run it twice, as the Makefile does: with WEIR_CYTHON=1 (the Cython fast
paths, which must then really be in use) and with WEIR_CYTHON=0 (the
pure-Python twins).
"""

import os

import pytest


def pytest_report_header(config):
    from weir import coder, operations

    return f"weir coder: {coder.IMPLEMENTATION}, operations: {operations.IMPLEMENTATION} (WEIR_CYTHON={os.environ.get('WEIR_CYTHON', 'unset')})"


@pytest.fixture(scope="session", autouse=True)
def implementation_is_what_was_asked():
    from weir import coder, operations

    want = "slow" if os.environ.get("WEIR_CYTHON") == "0" else "fast"
    if want == "fast" and os.environ.get("WEIR_ALLOW_SLOW") != "1":
        assert coder.IMPLEMENTATION == "fast", "the Cython coder is not built; reinstall weir with a C compiler"
        assert operations.IMPLEMENTATION == "fast", "the Cython operations are not built; reinstall weir with a C compiler"
    if want == "slow":
        assert coder.IMPLEMENTATION == "slow" and operations.IMPLEMENTATION == "slow"


@pytest.fixture(autouse=True)
def no_swallowed_exceptions(capfd):
    """Fail a test whose stderr shows an exception Cython had to swallow."""
    yield
    _, err = capfd.readouterr()
    assert "Exception ignored" not in err, err
