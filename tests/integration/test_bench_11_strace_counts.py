"""`make bench` counts the system calls of a guarded GET with strace -c -f
(bench/gatebench/tracers.py: syscalls(), parse_strace_counts();
docs/performance.md, "What is measured"). The parser is read here against real strace
runs of a process that makes a known number of calls, from several threads,
some of them failing (strace's errors column), and the difference of two runs
is exact, as the benchmark's per-GET figure assumes."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYTHON = "/usr/bin/python3"

sys.path.insert(0, str(ROOT / "bench"))
from gatebench.tracers import parse_strace_counts  # noqa: E402

# n getppid() calls in the main thread and n in a second one; n rmdir() calls
# that fail with ENOENT (counted in strace's errors column)
CODE = ("import os, sys, threading\n"
        "n = int(sys.argv[1])\n"
        "def calls():\n"
        "    for _ in range(n):\n"
        "        os.getppid()\n"
        "t = threading.Thread(target=calls); t.start(); t.join()\n"
        "calls()\n"
        "for _ in range(n):\n"
        "    try:\n"
        "        os.rmdir('/nonexistent-bench-strace-test')\n"
        "    except FileNotFoundError:\n"
        "        pass\n")


def strace_counts(tmp_path, n):
    out = tmp_path / ("strace-%d.out" % n)
    r = subprocess.run(["strace", "-c", "-f", "-o", str(out), PYTHON, "-c", CODE, str(n)],
                       capture_output=True, text=True, timeout=120)
    if "ptrace" in r.stderr and "not permitted" in r.stderr:
        pytest.skip("ptrace is not permitted here: " + r.stderr.strip()[:200])
    assert r.returncode == 0, r.stderr
    return out.read_text(), parse_strace_counts(out.read_text())


@pytest.fixture(scope="module", autouse=True)
def have_strace():
    assert shutil.which("strace"), "strace missing: make deps installs it"


def test_counts_of_a_real_run(tmp_path):
    text, c = strace_counts(tmp_path, 300)
    # the calls of both threads (-f), and every failing call
    assert c["getppid"] == 600
    assert c["rmdir"] == 300
    assert "total" not in c
    # every row of strace's table is read, nothing else
    rows = [line for line in text.splitlines()
            if line.strip() and line.split()[-1] != "total" and line.split()[0][0].isdigit()]
    assert len(c) == len(rows)
    assert sum(c.values()) == int([line for line in text.splitlines()
                                   if line.split() and line.split()[-1] == "total"][0].split()[3])


def test_difference_of_two_runs_is_exact(tmp_path):
    _, a = strace_counts(tmp_path, 100)
    _, b = strace_counts(tmp_path, 1100)
    assert b["getppid"] - a["getppid"] == 2000
    assert b["rmdir"] - a["rmdir"] == 1000


def test_table_shapes():
    text = ("% time     seconds  usecs/call     calls    errors syscall\n"
            "------ ----------- ----------- --------- --------- ----------------\n"
            " 78.45   12.219544         192     63371      7447 futex\n"
            "  8.27    1.287845          28     44546     22509 read\n"
            "  0.01    0.001109          24        46           mmap\n"
            "  0.00    0.000000           0         1           rt_sigreturn\n"
            "------ ----------- ----------- --------- --------- ----------------\n"
            "100.00   15.576172          90    172889     29960 total\n")
    assert parse_strace_counts(text) == {"futex": 63371, "read": 44546, "mmap": 46,
                                               "rt_sigreturn": 1}
    assert parse_strace_counts("") == {}
    assert parse_strace_counts("strace: Process 12 attached\n") == {}
