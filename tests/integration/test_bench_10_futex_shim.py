"""bench/futex_slots.c, the LD_PRELOAD shim that gives every httpd process of
`make bench` a private futex hash of BENCH_FUTEX_SLOTS slots before its first
thread (docs/performance.md, "A futex lottery at every httpd start").

A real threaded process (this Python, whose threads are pthread_create'd)
runs with the shim; the kernel's own answer (PR_FUTEX_HASH_GET_SLOTS, read
back by the shim) is what the log holds."""

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYTHON = "/usr/bin/python3"


def kernel_has_private_hash():
    m = re.match(r"(\d+)\.(\d+)", os.uname().release)
    return bool(m) and (int(m.group(1)), int(m.group(2))) >= (6, 16)


@pytest.fixture(scope="module")
def shim(tmp_path_factory):
    out = tmp_path_factory.mktemp("shim") / "futex_slots.so"
    subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-o", str(out),
                    str(ROOT / "bench" / "futex_slots.c"), "-ldl"], check=True)
    return out


def run(shim, log, code, slots=None):
    env = dict(os.environ, LD_PRELOAD=str(shim), BENCH_FUTEX_LOG=str(log))
    if slots is not None:
        env["BENCH_FUTEX_SLOTS"] = str(slots)
    r = subprocess.run([PYTHON, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.split(), [line.split() for line in log.read_text().splitlines()]


THREADS = ("import os, threading\n"
           "ts = [threading.Thread(target=lambda: None) for _ in range(8)]\n"
           "[t.start() for t in ts]; [t.join() for t in ts]\n"
           "print(os.getpid())\n")

FORKED = ("import os, threading\n"
          "def spin():\n"
          "    t = threading.Thread(target=lambda: None); t.start(); t.join()\n"
          "spin()\n"
          "pid = os.fork()\n"
          "if pid == 0:\n"
          "    spin(); os._exit(0)\n"
          "os.waitpid(pid, 0)\n"
          "print(os.getpid(), pid)\n")


def expect(slots):
    return str(slots) if kernel_has_private_hash() else "unsupported"


def test_once_per_process_with_the_default_4096(shim, tmp_path):
    log = tmp_path / "log"
    out, lines = run(shim, log, THREADS)
    # eight threads, one process: one line, the kernel's answer
    assert lines == [[out[0], expect(4096)]]


def test_the_slot_count_comes_from_the_environment(shim, tmp_path):
    log = tmp_path / "log"
    out, lines = run(shim, log, THREADS, slots=64)
    assert lines == [[out[0], expect(64)]]


def test_a_forked_child_sets_its_own(shim, tmp_path):
    # httpd's children are forked from a parent: each must get the hash,
    # not only the first process that ever called pthread_create
    log = tmp_path / "log"
    out, lines = run(shim, log, FORKED)
    assert sorted(lines) == sorted([[out[0], expect(4096)], [out[1], expect(4096)]])


def test_without_the_shim_the_kernel_default_is_small(tmp_path):
    # the reason the shim exists: on this kind of machine the default is
    # sized by the CPUs (16 slots on 2), far below 4,096
    if not kernel_has_private_hash():
        pytest.skip("kernel before 6.16: one global futex hash")
    code = ("import ctypes, threading\n"
            "t = threading.Thread(target=lambda: None); t.start(); t.join()\n"
            "libc = ctypes.CDLL(None, use_errno=True)\n"
            "print(libc.prctl(78, 2, 0, 0, 0))\n")
    r = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    slots = int(r.stdout)
    assert 0 < slots < 4096
