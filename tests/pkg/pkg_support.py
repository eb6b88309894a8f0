"""Helpers of the package tests (tests/pkg): the built .debs and the tree."""
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEB_DIR = ROOT / "build" / "deb"
PACKAGES = ("libapache2-mod-session-sign", "libapache2-mod-ws-auth")

# support.py of the integration tests: free ports, raw WebSocket handshakes,
# the echo backend
sys.path.insert(0, str(ROOT / "tests" / "integration"))


def tree_version():
    """The one version of the tree: debian/changelog's top entry."""
    return subprocess.run(["dpkg-parsechangelog", "-l", str(ROOT / "debian" / "changelog"),
                           "-S", "Version"], check=True, capture_output=True,
                          text=True).stdout.strip()


def field(deb, name):
    return subprocess.run(["dpkg-deb", "-f", str(deb), name], check=True,
                          capture_output=True, text=True).stdout.strip()


def contents(deb):
    """Paths in the package's data, without the leading '.'; dirs end in /."""
    out = subprocess.run(["dpkg-deb", "-c", str(deb)], check=True,
                         capture_output=True, text=True).stdout
    paths = []
    for line in out.splitlines():
        # -rw-r--r-- root/root 123 2026-01-01 00:00 ./usr/bin/x [-> target]
        path = re.split(r"\s+", line, maxsplit=5)[5].split(" -> ")[0]
        paths.append(path[1:] if path.startswith("./") else path)
    return [p for p in paths if p not in ("/", "")]
