#!/usr/bin/python3
"""express_stack.py - the exp_10 stack for the browser tests: a private
redis-server, the real Express app of tests/express-app and a private
Apache in front of it with WSAuthSource express (tests/integration's own
helpers, so both suites run one configuration).

    /usr/bin/python3 tests/tools/express_stack.py RUN_DIR

Prints one JSON line when ready ({"url", "port", "pids", "logs"}), runs
until SIGTERM or SIGINT, then stops all three by PID and exits 1 if the
Apache error log holds a line no test expects, or a secret."""
import json
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
import express_app as ex  # noqa: E402
import stores  # noqa: E402
import support  # noqa: E402


def main():
    root = Path(sys.argv[1]).resolve()
    root.mkdir(parents=True, exist_ok=True)
    support.open_to_workers(root)
    redis = stores.Redis(root / "redis").start()
    app = h = None
    try:
        app = ex.ExpressApp(root / "app", redis)
        h = support.Httpd(root / "httpd", ex.apache_conf(app, redis, app.secret_file),
                          modules=["proxy", "proxy_http", "proxy_wstunnel"], sign=False)
        h.ack("WSA0001")
        h.secret(ex.SECRET_A, ex.SECRET_B, ex.FSIG_KEY)
        h.start()
    except BaseException:
        for p in (h, app, redis):
            if p:
                p.stop()
        raise
    print(json.dumps({
        "url": h.base, "port": h.port, "app_port": app.port, "redis_port": redis.port,
        "pids": [h.proc.pid, app.proc.pid, redis.proc.pid],
        "users": ex.USERS,
        "logs": {"error": str(h.root / "logs" / "error_log"),
                 "access": str(h.root / "logs" / "access_log")},
    }), flush=True)
    stop = {"now": False}

    def on_signal(signum, frame):
        stop["now"] = True
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    while not stop["now"]:
        signal.pause()
    h.stop()
    app.stop()
    redis.stop()
    bad = h.unexpected_log_lines()
    leaked = h.leaked()
    for line in bad:
        print("unexpected: " + line, file=sys.stderr)
    if leaked:
        print("secrets in the logs: %d" % len(leaked), file=sys.stderr)
    sys.exit(1 if bad or leaked else 0)


if __name__ == "__main__":
    main()
