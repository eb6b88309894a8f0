"""make deb, installed for real (issue 18, point 3): apt-get install on this
machine's system Apache, a2enmod, configtest, the system server on a
loopback port of the test's choosing answering 401 and 101 through a real
WebSocket backend, then apt-get purge, leaving no file behind and Apache as
it was. Root only. Whatever happens, the finally blocks put the machine
back: the server stopped (only if this test started it), the packages
purged, /etc/apache2 and /var/lib/apache2 restored from a snapshot."""
import hashlib
import os
import shutil
import signal
import stat
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from pkg_support import PACKAGES

import support

SSG, WSA = PACKAGES
ETC = Path("/etc/apache2")
STATE = Path("/var/lib/apache2")          # a2enmod's enabled/disabled markers
# where a package's files could land; compared before install, after purge
WATCHED = [ETC, STATE, Path("/usr/lib/apache2/modules"), Path("/usr/bin"),
           Path("/usr/include/apache2"), Path("/usr/share/doc"), Path("/usr/share/man"),
           Path("/usr/share/lintian/overrides"), Path("/usr/lib/debug")]
CONTENT_HASHED = (ETC, STATE)
RUN_DIRS = [Path("/var/run/apache2"), Path("/var/lock/apache2")]
APACHE2CTL = "/usr/sbin/apache2ctl"
PIDFILE = Path("/var/run/apache2/apache2.pid")   # APACHE_PID_FILE of /etc/apache2/envvars
SITE = "zz-pkg-test"
# what `a2enmod session_sign ws_auth` must enable
PULLED_IN = ["session", "session_cookie", "proxy", "proxy_http", "proxy_wstunnel"]

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason=(
    "the package install test needs root: it runs apt-get install/purge, a2enmod and "
    "the system Apache on this machine (run `make pkg-check` as root)"))


def run(*argv, check=True, timeout=120, **kw):
    r = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL, **kw)
    if check and r.returncode != 0:
        raise AssertionError("%s -> %d\n%s%s" % (" ".join(argv), r.returncode, r.stdout, r.stderr))
    return r


def manifest(roots, hashed=CONTENT_HASHED):
    """{path: description} of every entry under roots: type and mode, the
    target of a symlink, size (and content hash under `hashed`) of a file."""
    out = {}
    for root in roots:
        if not root.exists():
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            for name in dirnames + filenames:
                p = os.path.join(dirpath, name)
                st = os.lstat(p)
                if stat.S_ISLNK(st.st_mode):
                    out[p] = ("link", os.readlink(p))
                elif stat.S_ISDIR(st.st_mode):
                    out[p] = ("dir", st.st_mode, st.st_uid, st.st_gid)
                else:
                    d = ("file", st.st_mode, st.st_uid, st.st_gid, st.st_size)
                    if any(root == h for h in hashed):
                        with open(p, "rb") as f:
                            d += (hashlib.sha256(f.read()).hexdigest(),)
                    out[p] = d
    return out


def diff(before, after):
    return sorted(("+ " + p) for p in after.keys() - before.keys()) + \
        sorted(("- " + p) for p in before.keys() - after.keys()) + \
        sorted(("~ " + p) for p in before.keys() & after.keys() if before[p] != after[p])


def installed(pkg):
    r = run("dpkg-query", "-W", "-f", "${db:Status-Abbrev}", pkg, check=False)
    return r.returncode == 0 and r.stdout[:2] not in ("un", "pn", "")


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def system_apache_pid():
    """The pid in the system pid file, if that process is an apache2."""
    try:
        pid = int(PIDFILE.read_text().split()[0])
        return pid if os.readlink("/proc/%d/exe" % pid) == "/usr/sbin/apache2" else None
    except (OSError, ValueError, IndexError):
        return None


def under(m, root):
    return {p: v for p, v in m.items() if p.startswith(str(root) + "/")}


def restore_file(snap, path):
    """One file back from the snapshot of its directory: content, mode,
    owner and mtime."""
    with tarfile.open(snap) as tar:
        member = tar.getmember(arcname(path))
        path.write_bytes(tar.extractfile(member).read())
    os.chown(path, member.uid, member.gid)
    os.chmod(path, member.mode)
    os.utime(path, (member.mtime, member.mtime))


def enabled_modules():
    return {p.name[:-5] for p in (ETC / "mods-enabled").glob("*.load")}


def arcname(path):
    """A snapshot's name inside its tarball: the whole path, so the tarball
    of one directory can never be restored onto another."""
    return str(path).lstrip("/")


def snapshot_name(path):
    return arcname(path).replace("/", "-") + ".tar"


def snapshot(path, dest):
    assert not dest.exists(), "%s: one snapshot per directory" % dest
    with tarfile.open(dest, "w") as t:
        t.add(str(path), arcname=arcname(path))


def restore(snap, path, before, keep):
    """Put `path` back as it was in the tarball `snap`. The tarball must
    hold exactly the entries `before` (the manifest taken at snapshot time)
    lists under `path`, or nothing is touched. What is replaced is first
    saved to the tarball `keep`, and directories are swapped whole, so
    nothing is lost or half-restored if this is interrupted."""
    want = {arcname(path)} | {arcname(p) for p in under(before, path)}
    with tarfile.open(snap) as t:
        names = set(t.getnames())
    if names != want:
        raise AssertionError("%s does not hold a snapshot of %s: not restoring it (%d entries "
                             "differ)" % (snap, path, len(names ^ want)))
    if path.exists():
        snapshot(path, keep)
    staging = path.parent / (".%s.pkg-test-restore" % path.name)
    old = path.parent / (".%s.pkg-test-old" % path.name)
    for d in (staging, old):
        assert not d.exists(), "%s exists: a previous restore was interrupted; look inside" % d
    staging.mkdir()
    with tarfile.open(snap) as t:
        t.extractall(staging, numeric_owner=True)
    if path.exists():
        path.rename(old)
    (staging / arcname(path)).rename(path)
    shutil.rmtree(old)
    shutil.rmtree(staging)


def stop_apache(pid):
    """SIGTERM the server this test started (by the pid its pid file gave),
    wait for it and its pid file to go."""
    if pid is None or not alive(pid):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.time() + 20
    while time.time() < deadline and alive(pid):
        time.sleep(0.1)
    if alive(pid):
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)


@pytest.fixture
def machine(tmp_path, debs):
    """Refuse to run where the test would disturb what it did not set up;
    snapshot what it changes, and restore it whatever happens."""
    for pkg in PACKAGES:
        if installed(pkg):
            pytest.skip("%s is already installed on this machine; this test installs and "
                        "purges it and will not remove an admin's installation" % pkg)
    pid = system_apache_pid()
    if pid is not None:
        pytest.skip("the system Apache is running (pid %d from %s); this test starts and "
                    "stops it itself and never restarts a server it did not start" % (pid, PIDFILE))
    for p in (ETC / "sites-available" / (SITE + ".conf"), ETC / "sites-enabled" / (SITE + ".conf")):
        assert not p.exists(), "%s exists: a previous run left it behind" % p
    before = manifest(WATCHED)
    snaps = {}
    for path in (ETC, STATE):
        snaps[path] = tmp_path / snapshot_name(path)
        snapshot(path, snaps[path])
    state = {
        "before": before,
        "run_dirs": [d for d in RUN_DIRS if not d.exists()],
        "apache_pid": None,
        "backend": None,
    }
    try:
        yield state
    finally:
        problems = []
        try:
            # none ran when the test began: one running now is the test's
            stop_apache(state["apache_pid"] or system_apache_pid())
        except Exception as e:       # keep restoring
            problems.append("stopping apache: %r" % e)
        if state["backend"] is not None:
            state["backend"].stop()
        if any(installed(p) for p in PACKAGES):
            r = run("apt-get", "purge", "-y", *PACKAGES, check=False,
                    env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
            if r.returncode:
                problems.append("apt-get purge: " + r.stdout + r.stderr)
        for path, snap in snaps.items():
            if diff(under(state["before"], path), manifest([path])):
                try:
                    restore(snap, path, state["before"], tmp_path / ("replaced-" + snapshot_name(path)))
                except Exception as e:
                    problems.append("restoring %s: %r" % (path, e))
        for d in state["run_dirs"]:
            # made by apache2ctl for the server this test ran
            shutil.rmtree(d, ignore_errors=True)
        for path in (ETC, STATE):
            left = diff(under(state["before"], path), manifest([path]))
            if left:
                problems.append("%s not restored: %s" % (path, left[:20]))
        assert not problems, problems


def test_pkg_20_01_install_enable_serve_purge_leaves_the_machine_as_it_was(machine, debs, tmp_path):
    t0 = time.time()
    before = machine["before"]
    mods_before = enabled_modules()
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")

    # -- install: files of the packages only, nothing enabled, no key made
    run("apt-get", "install", "-y", "--no-install-recommends",
        *[str(debs[p]) for p in PACKAGES], env=env, timeout=300)
    assert all(installed(p) for p in PACKAGES)
    owned = set()
    for pkg in PACKAGES:
        owned |= {l for l in run("dpkg-query", "-L", pkg).stdout.splitlines() if l}
    new = manifest(WATCHED).keys() - before.keys()
    assert new <= owned, "files no package owns appeared at install: %s" % sorted(new - owned)
    assert enabled_modules() == mods_before, "installing enabled a module"

    # -- a2enmod pulls in what the .load files name
    newly = [m for m in PULLED_IN if m not in mods_before]
    r = run("a2enmod", "session_sign", "ws_auth")
    to_disable = ["ws_auth", "session_sign"] + newly[::-1]   # dependents first
    assert {"session_sign", "ws_auth", *PULLED_IN} <= enabled_modules(), r.stdout

    # -- a key, made the way the docs say, with the packaged tool
    keys = tmp_path / "session-sign.keys"
    old_umask = os.umask(0o077)
    try:
        with open(keys, "w") as f:
            subprocess.run(["/usr/bin/session-sign", "genkey"], stdout=f, check=True)
    finally:
        os.umask(old_umask)
    backend = machine["backend"] = support.Backend(tmp_path)

    # -- a sample site on a free loopback port; ports.conf listens there only
    port = support.free_port()
    (tmp_path / "logs").mkdir()
    (ETC / "sites-available" / (SITE + ".conf")).write_text(f"""
<VirtualHost 127.0.0.1:{port}>
    ServerName 127.0.0.1
    ErrorLog {tmp_path}/logs/error.log
    CustomLog {tmp_path}/logs/access.log combined
    Session On
    SessionCookieName session path=/;HttpOnly;SameSite=Lax
    SessionSignKeyFile {keys}
    <Location /ws/>
        WSAuth On
        WSAuthForwardHeader X-Remote-User user
        ProxyPass ws://127.0.0.1:{backend.port}/
    </Location>
</VirtualHost>
""")
    run("a2ensite", SITE)
    (ETC / "ports.conf").write_text("Listen 127.0.0.1:%d\n" % port)
    t = run(APACHE2CTL, "configtest", check=False)
    assert t.returncode == 0, t.stdout + t.stderr

    # -- the system Apache, started with Debian's envvars, answers
    st = run(APACHE2CTL, "start", check=False, start_new_session=True)
    deadline = time.time() + 15
    while time.time() < deadline and system_apache_pid() is None:
        time.sleep(0.1)
    machine["apache_pid"] = system_apache_pid()
    assert machine["apache_pid"], "apache2ctl start: %s%s" % (st.stdout, st.stderr)
    support.wait_port(port)

    status, _, _ = support.ws_handshake(port, "/ws/")
    assert status == 401
    token = run("/usr/bin/session-sign", "sign", "--key-file", str(keys), "user=alice").stdout.strip()
    status, _, _ = support.ws_handshake(port, "/ws/", cookie="session=" + token)
    assert status == 101
    echoed, seen = support.ws_session(port, "/ws/", cookie="session=" + token,
                                      messages=("hello",), want_headers=True)
    assert echoed == ["hello"] and seen.get("x-remote-user") == "alice", seen
    status, _, _ = support.ws_handshake(port, "/ws/", cookie="session=" + token[:-2] + "AA")
    assert status == 401

    # -- undo what the test did, as an admin would
    stop_apache(machine["apache_pid"])
    assert not alive(machine["apache_pid"])
    run("a2dissite", SITE)
    (ETC / "sites-available" / (SITE + ".conf")).unlink()
    for m in to_disable:
        run("a2dismod", "-q", m)
    restore_file(tmp_path / snapshot_name(ETC), ETC / "ports.conf")
    # /etc/apache2 is as it was, but for the packages' own files
    changed = [c for c in diff(under(before, ETC), manifest([ETC])) if c[2:] not in owned]
    assert not changed, "/etc/apache2 after the test's own undoing: %s" % changed

    # -- purge: no file of the packages left anywhere
    run("apt-get", "purge", "-y", *PACKAGES, env=env, timeout=300)
    assert not any(installed(p) for p in PACKAGES)
    after = manifest(WATCHED)
    changed = diff(before, after)
    # a2dismod/a2dissite leave markers for what the test disabled (state of
    # a2enmod, not of the packages); the fixture restores /var/lib/apache2
    marker = lambda line: line.startswith("+ %s/" % STATE) and (
        os.path.basename(line[2:]) in newly + [SITE] or os.path.isdir(line[2:]))
    leftovers = [c for c in changed if not marker(c)]
    assert not leftovers, leftovers
    for line in changed:
        assert os.path.basename(line[2:]) not in ("session_sign", "ws_auth"), line
    assert time.time() - t0 < 180
