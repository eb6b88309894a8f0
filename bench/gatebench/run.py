"""One run's setup and teardown: a private work directory, a snapshot of the
modules, the backend and every instance started, the sessions obtained from
the login handlers, each instance checked to answer as it must, and at the
end the instances stopped and their error logs read."""
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .instances import (BREAKDOWN, CONFIGS, FUTEX_SLOTS, MIN_GATE, PASSWORD, REVOCATION, ROOT,
                        USER, Backend, Httpd, Placement, config_bodies, log, support)


def post_form(port, path, body):
    st, hd, _ = support.get(port, path, [("Content-Type", "application/x-www-form-urlencoded")],
                            method="POST", body=body.encode())
    return st, hd


def session_cookie(hdrs, name="session"):
    v = support.cookie_value(hdrs, name)
    return "%s=%s" % (name, v) if v else None


def handshake(port, cookie=None, origin="same"):
    return support.ws_handshake(port, "/ws/", cookie=cookie, origin=origin)[0]


def plain_get(port, cookie=None):
    return support.get(port, "/ws/", [("Cookie", cookie)] if cookie else [])[0]


class Run:
    """The state of one `make bench`: its arguments (a), the tools' directory,
    where processes run (place), the instances by name (httpd), the backend,
    each instance's session cookie, and the results as they come."""

    def __init__(self, args):
        self.a = args
        self.build = (ROOT / args.build).resolve()
        self.tools = self.build / "bench"
        ncpu = os.cpu_count() or 1
        if args.no_pin or ncpu < 2:
            self.place = Placement(None, None, args.nice)
        else:
            self.place = Placement(args.server_cpus, args.client_cpus, args.nice)
        self.results = {"rounds": [], "hold": {}, "memory": {}, "micro": {}, "checks": {}}
        slots = getattr(args, "futex_slots", FUTEX_SLOTS)
        self.futex = (self.tools / "futex_slots.so", slots) if slots > 0 else None
        if self.futex and not self.futex[0].exists():
            raise RuntimeError("%s missing: make bench-tools" % self.futex[0])
        self.httpd = {}
        self.backend = None
        self.cookies = {}
        self.work = None
        self.redis = None

    @property
    def configs(self):
        """The instances of this run, in measuring order."""
        return (CONFIGS + (BREAKDOWN if self.a.breakdown else ())
                + ((MIN_GATE,) if self.a.min_gate else ())
                + (REVOCATION if getattr(self.a, "revocation", False) else ()))

    def setup(self):
        self.work = Path(tempfile.mkdtemp(prefix="bench-"))
        os.chmod(self.work, 0o755)
        htpasswd = self.work / "htpasswd"
        r = subprocess.run(["htpasswd", "-cbB", str(htpasswd), USER, PASSWORD],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("htpasswd -cbB failed: " + r.stderr)
        os.chmod(htpasswd, 0o644)
        # a private snapshot of the modules: one build for the whole run, and
        # no crash if a concurrent `make` rewrites build/*.so in place (seen:
        # children that had them mapped died with SIGSEGV at a small ip)
        self.modules = self.work / "modules"
        self.modules.mkdir()
        sos = ["mod_session_sign.so", "mod_ws_auth.so"]
        for so in sos:
            shutil.copy2(self.build / so, self.modules / so)
        if self.a.min_gate:
            src = self.tools / "mod_min_gate.so"
            if not src.exists():
                raise RuntimeError("%s missing: make bench-tools" % src)
            shutil.copy2(src, self.modules / "mod_min_gate.so")
            sos.append("mod_min_gate.so")
        for so in sos:
            os.chmod(self.modules / so, 0o755)
        self.backend = Backend(self.work, self.tools, self.place)
        if getattr(self.a, "revocation", False):
            # Sd's cache: Debian's redis-server on a free loopback port with
            # its own directory, on the client CPUs (as the backend), stopped
            # at the end (tests/integration/stores.py)
            import stores
            self.redis = stores.Redis(self.work / "redis")
            self.redis.argv_prefix = self.place.client([])
            self.redis.start()
        self.bodies = config_bodies(self.backend.port, htpasswd, self.modules / "mod_min_gate.so",
                                    self.redis.port if self.redis else None)
        for name in self.configs:
            self.httpd[name] = Httpd(name, self.work / name, self.bodies[name], self.modules,
                                     self.place, self.futex)
        for name in self.configs:
            log("starting %s on port %d" % (name, self.httpd[name].port))
            self.httpd[name].start()
        self.results["futex"] = {n: h.futex for n, h in self.httpd.items()}
        log("futex hash of the httpd children: %s" % ", ".join(
            "%s %s" % (n, h.futex) for n, h in self.httpd.items()))

    def login_and_check(self):
        hs, hf = self.httpd["S"], self.httpd["F"]
        st, hd = post_form(hs.port, "/login", "username=%s&password=%s" % (USER, PASSWORD))
        cs = session_cookie(hd)
        st2, hd2 = post_form(hf.port, "/login",
                             "httpd_username=%s&httpd_password=%s" % (USER, PASSWORD))
        cf = session_cookie(hd2)
        if not cs or not cf:
            raise RuntimeError("login failed: S %s %s, F %s %s" % (st, bool(cs), st2, bool(cf)))
        # P ignores the cookie; it gets S's so its request has the same size.
        # Pm is an unsigned mod_session deployment: its cookie is the plain
        # session, so Pk - Pm is all that signing adds
        self.cookies = {"P": cs, "S": cs, "F": cf, "Pm": "session=user=%s" % USER, "Pk": cs,
                        "M": cs}
        checks = {
            "S login handler": (st, 303),
            "F login handler": (st2, 302),
            "P handshake": (handshake(self.httpd["P"].port, cs), 101),
            "P GET": (plain_get(self.httpd["P"].port, cs), 200),
            "S handshake with session": (handshake(hs.port, cs), 101),
            "S handshake without session": (handshake(hs.port, None), 401),
            "S cross-origin handshake": (handshake(hs.port, cs, origin="http://evil.example"), 403),
            "S GET with session": (plain_get(hs.port, cs), 200),
            "S GET without session": (plain_get(hs.port, None), 401),
            "F handshake with session": (handshake(hf.port, cf), 101),
            "F handshake without session": (handshake(hf.port, None), 401),
            "F GET with session": (plain_get(hf.port, cf), 200),
            "F GET without session": (plain_get(hf.port, None), 401),
        }
        for name in REVOCATION:
            if name in self.httpd:
                st3, hd3 = post_form(self.httpd[name].port, "/login",
                                     "username=%s&password=%s" % (USER, PASSWORD))
                c = session_cookie(hd3)
                if not c or not c.startswith("session=v2."):
                    raise RuntimeError("%s login gave no v2 session (%s)" % (name, st3))
                self.cookies[name] = c
                checks["%s login handler" % name] = (st3, 303)
        for name in BREAKDOWN + (MIN_GATE,) + REVOCATION:
            if name in self.httpd:
                checks["%s GET" % name] = (plain_get(self.httpd[name].port, self.cookies[name]), 200)
        if MIN_GATE in self.httpd:
            # a gate, not a pass-through: no session, no request
            checks["M GET without session"] = (plain_get(self.httpd[MIN_GATE].port, None), 401)
        bad = {k: v for k, v in checks.items() if v[0] != v[1]}
        self.results["checks"] = {k: v[0] for k, v in checks.items()}
        self.results["cookie_bytes"] = {k: len(v) for k, v in self.cookies.items()}
        if bad:
            raise RuntimeError("sanity checks failed: %s" % bad)
        for h in self.httpd.values():
            h.mark_log()
        log("sanity checks passed (cookie sizes: S %d, F %d bytes)" % (len(cs), len(cf)))

    def stop(self):
        problems, crashes = {}, {}
        for name, h in self.httpd.items():
            h.stop()
            problems[name] = h.log_problems()
            crashes[name] = h.crashes()
        self.results["crashes"] = crashes
        if self.backend:
            self.backend.stop()
        if self.redis:
            self.redis.stop()
        self.results["log_problems"] = {k: len(v) for k, v in problems.items()}
        self.results["log_samples"] = {k: v[:5] for k, v in problems.items() if v}
