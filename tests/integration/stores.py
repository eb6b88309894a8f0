"""Real cache engines for the revocation tests: Debian's redis-server and
memcached, each started by the test on a free loopback port with its own
data directory, in its own process session, and stopped by PID. Never the
system instances. kill() and restart() keep the port, for outage tests."""
import os
import shutil
import socket
import subprocess
import time

import support


class _Engine:
    def __init__(self, root, port=None):
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o777)
        self.port = port or support.free_port()
        self.proc = None
        self.argv_prefix = []           # e.g. taskset/nice (make bench)

    def argv(self):
        raise NotImplementedError

    def start(self):
        self.proc = subprocess.Popen(self.argv_prefix + self.argv(), stdin=subprocess.DEVNULL,
                                     stdout=open(self.root / "out.log", "ab"),
                                     stderr=subprocess.STDOUT, start_new_session=True)
        support.wait_port(self.port, proc=self.proc)
        return self

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        deadline = time.time() + 5
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                time.sleep(0.05)
            except OSError:
                return

    def restart(self):
        self.kill()
        return self.start()

    def stop(self):
        support.stop_process(self.proc)


class Redis(_Engine):
    """A private redis-server. conf: extra redis.conf lines (ACL users,
    persistence), written to its own config file; persist=True keeps an
    append-only file (fsync always) in its data directory, as docs/fleet.md
    tells admins to run it. cli_user/cli_password: who redis-cli logs in as."""
    name = "redis"

    def __init__(self, root, port=None, conf=(), persist=False):
        super().__init__(root, port)
        self.conf = list(conf)
        self.persist = persist
        self.cli_auth = []

    def argv(self):
        cfg = self.root / "redis.conf"
        cfg.write_text("".join(l + "\n" for l in self.conf))
        keep = ["--appendonly", "yes", "--appendfsync", "always"] if self.persist \
            else ["--appendonly", "no"]
        return [shutil.which("redis-server") or "/usr/bin/redis-server", str(cfg),
                "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""] + keep + \
               ["--dir", str(self.root), "--daemonize", "no"]

    def cli(self, *args):
        r = subprocess.run(["redis-cli", "-p", str(self.port)] + self.cli_auth + list(args),
                           capture_output=True, text=True, timeout=10)
        return r.stdout.strip()

    def commands(self):
        for line in self.cli("info", "stats").splitlines():
            if line.startswith("total_commands_processed:"):
                return int(line.split(":")[1])
        return 0

    def spec(self):
        return "redis:127.0.0.1:%d" % self.port


class Memcached(_Engine):
    name = "memcache"

    def argv(self):
        argv = [shutil.which("memcached") or "/usr/bin/memcached", "-l", "127.0.0.1",
                "-p", str(self.port), "-U", "0", "-m", "16"]
        if os.geteuid() == 0:
            argv += ["-u", "daemon"]
        return argv

    def spec(self):
        return "memcache:127.0.0.1:%d" % self.port
