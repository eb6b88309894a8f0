"""The documentation's figures: each docs/*.dot renders with graphviz, its
PNG is committed beside it, and the page that shows it links both."""
import pathlib
import shutil
import subprocess

import pytest

DOCS = pathlib.Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize("src", sorted(p.name for p in DOCS.glob("*.dot")))
def test_doc_10_01_each_figure_renders_and_is_committed(src, tmp_path):
    dot = shutil.which("dot")
    assert dot, "graphviz (dot) is installed by tests/tools/ensure-deps.sh"
    out = tmp_path / "fig.png"
    r = subprocess.run([dot, "-Tpng", "-Gdpi=96", str(DOCS / src), "-o", str(out)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr
    png = DOCS / src.replace(".dot", ".png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pages = [p for p in DOCS.glob("*.md") if png.name in p.read_text()]
    assert pages and all(src in p.read_text() for p in pages)


def test_doc_10_02_the_fleet_page_shows_the_request_path():
    assert (DOCS / "fleet.dot").exists()
    text = (DOCS / "fleet.md").read_text()
    assert "![The request path of a fleet](fleet.png)" in text
