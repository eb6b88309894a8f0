"""make deb: what the two packages hold and declare (issue 18, points 1 and 2).
Needs no root: the packages are only unpacked."""
import os
import re
import subprocess

import pytest

from pkg_support import DEB_DIR, PACKAGES, ROOT, contents, field, tree_version

SSG, WSA = PACKAGES
MODDIR = "/usr/lib/apache2/modules"
AVAIL = "/etc/apache2/mods-available"

EXPECTED_FILES = {
    SSG: {
        MODDIR + "/mod_session_sign.so",
        AVAIL + "/session_sign.load",
        AVAIL + "/session_sign.conf",
        "/usr/bin/session-sign",
        "/usr/include/apache2/mod_session_sign.h",
        "/usr/share/man/man1/session-sign.1.gz",
        "/usr/share/doc/%s/copyright" % SSG,
        "/usr/share/doc/%s/changelog.gz" % SSG,
        "/usr/share/doc/%s/README.Debian" % SSG,
        "/usr/share/doc/%s/README.md.gz" % SSG,
        "/usr/share/doc/%s/mod_session_sign.md.gz" % SSG,
        "/usr/share/doc/%s/token-format.md.gz" % SSG,
        "/usr/share/doc/%s/security.md.gz" % SSG,
        "/usr/share/doc/%s/fleet.md.gz" % SSG,
        "/usr/share/doc/%s/fleet.png" % SSG,
    },
    WSA: {
        MODDIR + "/mod_ws_auth.so",
        AVAIL + "/ws_auth.load",
        AVAIL + "/ws_auth.conf",
        "/usr/share/doc/%s/copyright" % WSA,
        "/usr/share/doc/%s/changelog.gz" % WSA,
        "/usr/share/doc/%s/README.Debian" % WSA,
        "/usr/share/doc/%s/mod_ws_auth.md.gz" % WSA,
        "/usr/share/doc/%s/express.md.gz" % WSA,
        "/usr/share/doc/%s/forward-signature.md.gz" % WSA,
    },
}

# what a2enmod must enable with each module ("# Depends:" in its .load)
LOAD_DEPENDS = {
    "session_sign": ["session", "session_cookie"],
    "ws_auth": ["session_sign", "proxy", "proxy_http", "proxy_wstunnel"],
}

# one line as `session-sign genkey` prints it: 32 bytes in base64url
GENKEY_LINE = re.compile(rb"^\s*[A-Za-z0-9_-]{43}\s*$", re.M)


@pytest.fixture(scope="module")
def unpacked(debs, tmp_path_factory):
    """{package: directory with its data (dpkg-deb -x) and DEBIAN/ (-e)}"""
    out = {}
    for name, deb in debs.items():
        d = tmp_path_factory.mktemp(name)
        subprocess.run(["dpkg-deb", "-x", str(deb), str(d)], check=True)
        subprocess.run(["dpkg-deb", "-e", str(deb), str(d / "DEBIAN")], check=True)
        out[name] = d
    return out


def depends(deb):
    return [d.strip() for d in field(deb, "Depends").split(",")]


def dh_apache2_api():
    """The apache2-api-YYYYMMNN dependency dh_apache2 adds, from its source."""
    with open("/usr/bin/dh_apache2") as f:
        m = re.search(r'^our \$API = "(\d{8})";', f.read(), re.M)
    assert m, "dh_apache2 no longer says its API version the way this test reads it"
    return "apache2-api-" + m.group(1)


def test_pkg_10_01_two_packages_at_the_version_of_debian_changelog(debs):
    version = tree_version()
    assert set(debs) == set(PACKAGES)
    arch = subprocess.run(["dpkg", "--print-architecture"], check=True,
                          capture_output=True, text=True).stdout.strip()
    for name, deb in debs.items():
        assert field(deb, "Version") == version
        assert deb.name == "%s_%s_%s.deb" % (name, version, arch)
    # nothing else an admin could pick up with ./build/deb/*.deb
    assert sorted(p.name for p in DEB_DIR.glob("*.deb")) == sorted(d.name for d in debs.values())


def test_pkg_10_02_modules_depend_on_the_apache2_api_of_dh_apache2(debs):
    api = dh_apache2_api()
    provided = subprocess.run(["dpkg-query", "-W", "-f", "${Provides}", "apache2-bin"],
                              check=True, capture_output=True, text=True).stdout
    assert api in [p.strip() for p in provided.split(",")], provided
    for deb in debs.values():
        assert api in depends(deb), field(deb, "Depends")


def test_pkg_10_03_ws_auth_depends_on_session_sign_of_the_same_version(debs):
    assert "%s (= %s)" % (SSG, tree_version()) in depends(debs[WSA])


def test_pkg_10_04_files_in_the_debian_layout(debs):
    for name, deb in debs.items():
        files = {p for p in contents(deb) if not p.endswith("/")}
        assert files == EXPECTED_FILES[name], name
    conffiles = {}
    for name, deb in debs.items():
        r = subprocess.run(["dpkg-deb", "--ctrl-tarfile", str(deb)], check=True, capture_output=True)
        listing = subprocess.run(["tar", "-xO", "./conffiles"], input=r.stdout,
                                 capture_output=True).stdout.decode()
        conffiles[name] = set(listing.split())
    # the only files in /etc are the a2enmod files, and they are conffiles
    assert conffiles[SSG] == {AVAIL + "/session_sign.load", AVAIL + "/session_sign.conf"}
    assert conffiles[WSA] == {AVAIL + "/ws_auth.load", AVAIL + "/ws_auth.conf"}


@pytest.mark.parametrize("module", sorted(LOAD_DEPENDS))
def test_pkg_10_05_load_file_names_what_a2enmod_must_enable_with_it(unpacked, module):
    pkg = SSG if module == "session_sign" else WSA
    lines = (unpacked[pkg] / AVAIL[1:] / (module + ".load")).read_text().splitlines()
    # a2enmod reads "# Depends:" only above the first line that is not a
    # comment (get_deps in /usr/sbin/a2enmod)
    first = next(i for i, l in enumerate(lines) if l.strip() and not l.lstrip().startswith("#"))
    dep_lines = [l for l in lines[:first] if l.startswith("# Depends:")]
    assert len(dep_lines) == 1, lines
    assert dep_lines[0].split(":", 1)[1].split() == LOAD_DEPENDS[module]
    so = "%s/mod_%s.so" % (MODDIR, module)
    assert lines[first] == "LoadModule %s_module %s" % (module, so)
    assert (unpacked[pkg] / so[1:]).is_file()
    for dep in LOAD_DEPENDS[module]:
        if dep != "session_sign":
            assert os.path.exists("%s/%s.load" % (AVAIL, dep)), "apache2 has no module %s" % dep


def test_pkg_10_06_no_key_is_shipped_and_no_script_makes_one(unpacked):
    for name, d in unpacked.items():
        for path in d.rglob("*"):
            if not path.is_file() or "DEBIAN" in path.relative_to(d).parts:
                continue
            rel = "/" + str(path.relative_to(d))
            assert "key" not in path.name.lower() or rel.endswith(".md.gz"), rel
            if path.suffix in (".so", ".gz") or rel == "/usr/bin/session-sign":
                continue
            assert not GENKEY_LINE.search(path.read_bytes()), "%s holds a line shaped like a key" % rel
        scripts = {p.name: p.read_text() for p in (d / "DEBIAN").iterdir()
                   if p.name in ("preinst", "postinst", "prerm", "postrm", "config")}
        # dh_apache2 --noenable: installing enables nothing, so no postinst
        assert "postinst" not in scripts, scripts.get("postinst")
        for script, text in scripts.items():
            assert "genkey" not in text and "session-sign" not in text, (name, script)
            # only dh_apache2's disabling on remove/purge
            assert "apache2_invoke dismod" in text, (name, script, text)


def test_pkg_10_07_conf_readme_and_man_page_say_how_to_make_a_key(unpacked):
    ssg = unpacked[SSG]
    assert "session-sign genkey" in (ssg / AVAIL[1:] / "session_sign.conf").read_text()
    for pkg in PACKAGES:
        assert "session-sign genkey" in (unpacked[pkg] / ("usr/share/doc/%s/README.Debian" % pkg)).read_text()
    man = subprocess.run(["man", "-l", str(ssg / "usr/share/man/man1/session-sign.1.gz")],
                         check=True, capture_output=True, text=True,
                         env=dict(os.environ, MANWIDTH="200")).stdout
    assert "session-sign genkey" in man


def test_pkg_10_08_man_page_renders_without_warnings(unpacked):
    page = unpacked[SSG] / "usr/share/man/man1/session-sign.1.gz"
    r = subprocess.run(["man", "--warnings", "-l", str(page)], capture_output=True, text=True,
                       env=dict(os.environ, MANWIDTH="80"))
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert r.stdout.startswith("SESSION-SIGN(1)")


def test_pkg_10_09_packaged_tool_signs_what_the_reference_verifies(unpacked, tmp_path):
    import support
    tool = str(unpacked[SSG] / "usr/bin/session-sign")
    key = subprocess.run([tool, "genkey"], check=True, capture_output=True, text=True).stdout
    assert GENKEY_LINE.fullmatch(key.encode())
    (tmp_path / "keys").write_text(key)
    tok = subprocess.run([tool, "sign", "--key-file", str(tmp_path / "keys"), "user=alice"],
                         check=True, capture_output=True, text=True).stdout.strip()
    status, payload, _, _ = support.verify(tok, keys=(key.strip(),))
    assert (status, payload) == ("ok", b"user=alice")


def test_pkg_10_10_lintian_reports_no_error_and_docs_explain_each_warning(debs):
    report = DEB_DIR / "lintian.txt"
    if not report.exists() or any(report.stat().st_mtime < d.stat().st_mtime for d in debs.values()):
        r = subprocess.run(["lintian", "--tag-display-limit", "0"] + [str(d) for d in debs.values()],
                           capture_output=True, text=True)
        text = r.stdout
    else:
        text = report.read_text()
    tags = re.findall(r"^([EWX]): (\S+?): (\S+)", text, re.M)
    assert not [t for t in tags if t[0] != "W"], text
    doc = (ROOT / "docs" / "packaging.md").read_text()
    undocumented = sorted({t[2] for t in tags if "`%s`" % t[2] not in doc})
    assert not undocumented, "lintian warnings not explained in docs/packaging.md: %s" % undocumented
