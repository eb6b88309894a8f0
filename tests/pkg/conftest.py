"""The Debian packages of `make deb` (issue 18), as built in build/deb/.

`make pkg-check` builds them and runs these tests; run alone, they need a
previous `make deb`:  /usr/bin/python3 -m pytest -q tests/pkg
"""
import pytest

from pkg_support import DEB_DIR, field


@pytest.fixture(scope="session")
def debs():
    """{package name: path of its .deb in build/deb/}"""
    found = {}
    for deb in sorted(DEB_DIR.glob("*.deb")):
        found[field(deb, "Package")] = deb
    if not found:
        pytest.skip("no package in %s: run `make deb` (or `make pkg-check`) first" % DEB_DIR)
    return found
