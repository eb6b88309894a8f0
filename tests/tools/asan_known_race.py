#!/usr/bin/python3
"""Is an ASan report file exactly the one known httpd 2.4.71 event-MPM race?

    asan_known_race.py REPORT...     exit 0 if every file is the known race,
                                     1 otherwise (the first mismatch is said)

The race (docs/security.md, "The one sanitizer report make check-asan
ignores"): a child of the stock event MPM that receives the SIGTERM of a stop
while it is still starting dereferences its listener's socket in
apr_os_sock_get. It is reproduced without our modules by
tests/tools/repro_event_stop_race.py. A report counts as that race only if
all of these hold, so the same SEGV with a frame of ours anywhere is never
hidden:
  - the file holds exactly one report, a SEGV, in thread T0;
  - its summary names apr_os_sock_get, and frame #0 is apr_os_sock_get in
    libapr-1;
  - frame #1 is in mod_mpm_event.so;
  - every frame is in libapr-1, mod_mpm_event.so, the apache2 binary, libc
    or the sanitizer runtimes: no other module, none of ours;
  - no line of the file names one of our modules or their functions.
"""
import re
import sys

OURS = re.compile(r"mod_session_sign|mod_ws_auth|session_sign|ws_auth|\bssg_|\bwsa_")
FRAME = re.compile(r"^\s*#(\d+) 0x[0-9a-f]+ in (\S+) (\S+)")
FRAME_NOSYM = re.compile(r"^\s*#(\d+) 0x[0-9a-f]+\s+\((\S+)\+0x[0-9a-f]+\)")
ALLOWED_DSO = re.compile(r"libapr-1\.so|mod_mpm_event\.so|/usr/sbin/apache2|libc\.so|"
                         r"libasan\.so|libubsan\.so|libpthread\.so|ld-linux")


def why_not(text):
    if OURS.search(text):
        return "names one of our modules or functions"
    if text.count("ERROR: AddressSanitizer") != 1:
        return "not exactly one report"
    if not re.search(r"ERROR: AddressSanitizer: SEGV on unknown address", text):
        return "not a SEGV"
    if not re.search(r"SUMMARY: AddressSanitizer: SEGV \S+ in apr_os_sock_get\b", text):
        return "the SEGV is not in apr_os_sock_get"
    if not re.search(r"==\d+==.*\bT0\b", text):
        return "not in thread T0"
    frames = []
    for line in text.splitlines():
        m = FRAME.match(line)
        if m:
            frames.append((int(m.group(1)), m.group(2), m.group(3)))
            continue
        m = FRAME_NOSYM.match(line)
        if m:
            frames.append((int(m.group(1)), "?", m.group(2)))
    if len(frames) < 2 or frames[0][0] != 0 or frames[1][0] != 1:
        return "no stack"
    if frames[0][1] != "apr_os_sock_get" or "libapr-1" not in frames[0][2]:
        return "frame #0 is not apr_os_sock_get in libapr"
    if "mod_mpm_event.so" not in frames[1][2]:
        return "frame #1 is not in mod_mpm_event.so"
    for n, fn, where in frames:
        if not ALLOWED_DSO.search(where):
            return "frame #%d is in %s" % (n, where)
    return None


def main(paths):
    for p in paths:
        with open(p, errors="replace") as f:
            why = why_not(f.read())
        if why:
            print("%s: not the known race: %s" % (p, why))
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
