"""make install: apxs + the Debian a2enmod layout (issue 2, foundation)."""
import subprocess

import support


def test_ssg_80_01_install_into_destdir_gives_debian_layout(tmp_path):
    dest = tmp_path / "dest"
    r = subprocess.run(["make", "-C", str(support.ROOT), "install", "DESTDIR=%s" % dest],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    mods = dest / "usr/lib/apache2/modules"
    avail = dest / "etc/apache2/mods-available"
    assert (mods / "mod_session_sign.so").is_file()
    assert (mods / "mod_ws_auth.so").is_file()
    for f in ("session_sign.load", "session_sign.conf", "ws_auth.load", "ws_auth.conf"):
        assert (avail / f).is_file(), f
    assert (dest / "usr/local/bin/session-sign").is_file()
    load = (avail / "session_sign.load").read_text()
    # a2enmod enables the dependencies named on a "# Depends:" line
    assert "# Depends: session session_cookie" in load
    assert "LoadModule session_sign_module /usr/lib/apache2/modules/mod_session_sign.so" in load
    assert "# Depends: session_sign" in (avail / "ws_auth.load").read_text()


def test_ssg_80_02_installed_load_and_conf_files_pass_configtest(httpd, tmp_path):
    dest = tmp_path / "dest"
    subprocess.run(["make", "-C", str(support.ROOT), "install", "DESTDIR=%s" % dest],
                   check=True, capture_output=True)
    avail = dest / "etc/apache2/mods-available"
    lines = []
    for f in ("session_sign.load", "ws_auth.load"):
        lines.append((avail / f).read_text().replace(
            "/usr/lib/apache2/modules/", "%s/usr/lib/apache2/modules/" % dest))
    for f in ("session_sign.conf", "ws_auth.conf"):
        lines.append((avail / f).read_text())
    h = httpd("\n".join(lines), start=False, sign=False, wsauth=False,
              modules=["proxy", "proxy_http", "proxy_wstunnel"])
    t = h.configtest()
    assert t.returncode == 0, t.stderr
