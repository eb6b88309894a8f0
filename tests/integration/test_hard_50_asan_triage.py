"""The one sanitizer report `make check-asan` ignores (issue 13): the stock
event-MPM race in apr_os_sock_get. tests/tools/asan_known_race.py must
recognise exactly that report and nothing near it: the same SEGV with a
frame of ours anywhere, in another module, in another thread, or beside a
second report, is not ignored."""
import subprocess
import sys

import pytest

import support

sys.path.insert(0, str(support.TOOLS))
import asan_known_race  # noqa: E402

KNOWN = """=================================================================
==4242==ERROR: AddressSanitizer: SEGV on unknown address 0x000000000018 (pc 0x7f00aa12b4c5 bp 0x7ffd0 sp 0x7ffd0 T0)
==4242==The signal is caused by a READ memory access.
==4242==Hint: address points to the zero page.
    #0 0x7f00aa12b4c5 in apr_os_sock_get (/lib/x86_64-linux-gnu/libapr-1.so.0+0x2b4c5)
    #1 0x7f00a9e08111  (/usr/lib/apache2/modules/mod_mpm_event.so+0x8111)
    #2 0x7f00a9e09222  (/usr/lib/apache2/modules/mod_mpm_event.so+0x9222)
    #3 0x55d0c004d000 in ap_run_mpm (/usr/sbin/apache2+0x4d000)
    #4 0x55d0c003d000 in main (/usr/sbin/apache2+0x3d000)
    #5 0x7f00aa829d8f  (/lib/x86_64-linux-gnu/libc.so.6+0x29d8f)

AddressSanitizer can not provide additional info.
SUMMARY: AddressSanitizer: SEGV (/lib/x86_64-linux-gnu/libapr-1.so.0+0x2b4c5) in apr_os_sock_get
==4242==ABORTING
"""

OUR_FRAME = "    #3 0x7f00a9a01000 in wsa_gate (/work/main/build-asan/mod_ws_auth.so+0x1000)\n"


def _variants():
    lines = KNOWN.splitlines(keepends=True)
    idx3 = next(i for i, l in enumerate(lines) if l.lstrip().startswith("#3 "))
    yield "our-frame", "".join(lines[:idx3] + [OUR_FRAME] + lines[idx3:])
    yield "our-symbol-only", KNOWN.replace("in main (", "in ssg_session_decode (")
    yield "other-module", KNOWN.replace("#2 0x7f00a9e09222  (/usr/lib/apache2/modules/"
                                        "mod_mpm_event.so+0x9222)",
                                        "#2 0x7f00a9e09222  (/usr/lib/apache2/modules/"
                                        "mod_proxy.so+0x9222)")
    yield "other-thread", KNOWN.replace("sp 0x7ffd0 T0)", "sp 0x7ffd0 T3)")
    yield "other-function", KNOWN.replace("in apr_os_sock_get\n", "in apr_socket_close\n")
    yield "heap-overflow", KNOWN.replace("SEGV on unknown address", "heap-buffer-overflow on address")
    yield "two-reports", KNOWN + KNOWN
    yield "frame-1-elsewhere", KNOWN.replace("#1 0x7f00a9e08111  (/usr/lib/apache2/modules/"
                                             "mod_mpm_event.so+0x8111)",
                                             "#1 0x7f00a9e08111  (/usr/sbin/apache2+0x8111)")


def test_hard_50_01_the_known_race_report_is_recognised(tmp_path):
    assert asan_known_race.why_not(KNOWN) is None
    f = tmp_path / "asan.1"
    f.write_text(KNOWN)
    r = subprocess.run([support.PY, str(support.TOOLS / "asan_known_race.py"), str(f)])
    assert r.returncode == 0


@pytest.mark.parametrize("name,text", list(_variants()), ids=[n for n, _ in _variants()])
def test_hard_50_02_anything_near_it_is_not_ignored(tmp_path, name, text):
    assert asan_known_race.why_not(text) is not None, name
    f = tmp_path / "asan.2"
    f.write_text(text)
    r = subprocess.run([support.PY, str(support.TOOLS / "asan_known_race.py"), str(f)],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "not the known race" in r.stdout
