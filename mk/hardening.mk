# mk/hardening.mk - issue #6: sanitizers, valgrind, soak (fault tests are
# ordinary tests/integration/test_hard_*.py and run in `make check`).
# Included from the top Makefile (after its own rules, so `all` stays the
# default goal); uses its CC, CORE_CFLAGS, APR_LIBS, BUILD, APXS, APXS_FLAGS,
# the core_archive and apxs_module macros, SSG_GLUE, WSA_GLUE, PYTEST,
# UNIT_TESTS.
#
#   make check-asan       both modules built with ASan+UBSan into build-asan/,
#                         the whole integration suite run against them inside
#                         the private httpd (runtimes preloaded); fails on any
#                         test failure, any sanitizer report, any crashed child
#   make check-valgrind   every unit test binary under valgrind (CK_FORK=no)
#   make soak             >= 1,000,000 mixed requests against the gate while
#                         300 WebSockets stay open and echo (~3-6 min);
#                         report on stdout and in build/soak-report.md
#   make soak SOAK_REQUESTS=200000 SOAK_HELD=100    a shorter run
#
# ASan notes: httpd itself is not instrumented, so the ASan and UBSan
# runtimes are preloaded into it (SSG_HTTPD_PRELOAD, read by
# tests/integration/support.py); SSG_MODULE_DIR makes every test load the
# instrumented modules. APR pools sub-allocate from large blocks, so ASan
# sees overflows of a pool block, not of each apr_palloc'd object.

ASAN_BUILD    := build-asan
# -U_FORTIFY_SOURCE: apxs' CFLAGS fortify, and __memcpy_chk & co. bypass
# ASan's interceptors
ASAN_FLAGS    := -Wc,-fsanitize=address,undefined -Wc,-fno-omit-frame-pointer \
                 -Wc,-O1 -Wc,-g -Wc,-U_FORTIFY_SOURCE \
                 -Wl,-fsanitize=address,undefined
ASAN_SSG_SO   := $(ASAN_BUILD)/mod_session_sign.so
ASAN_WSA_SO   := $(ASAN_BUILD)/mod_ws_auth.so
# the workers write their reports here: as root they are User daemon, which
# must reach it (ASAN_LOGS=/tmp/... when the checkout is closed to daemon)
ASAN_LOGS     ?= $(ASAN_BUILD)/logs
# the runtimes of the compiler apxs builds with (not $(CC): clang's differ)
ASAN_CC        = $(shell $(APXS) -q CC)
ASAN_RUNTIMES  = $(shell $(ASAN_CC) -print-file-name=libasan.so):$(shell $(ASAN_CC) -print-file-name=libubsan.so)
ASAN_PYTEST_ARGS ?=
# the one report check-asan tolerates: stock httpd 2.4.71's event MPM
# segfaults a child in apr_os_sock_get when a SIGTERM stop races its
# start-up. tests/tools/asan_known_race.py decides, frame by frame, that a
# report is exactly that (none of our modules anywhere in it); the
# reproduction without our modules, and the rate measured, are in
# docs/security.md ("The one sanitizer report make check-asan ignores")
ASAN_KNOWN_RACE := httpd 2.4.71 event-MPM child start-up vs SIGTERM race, reproduced without our modules

VALGRIND      ?= valgrind
# the bench's load generator (bench/wsload/, its rule in mk/bench.mk), `mix`
SOAK_LOAD     := $(BUILD)/bench/wsload
SOAK_PYTHON   ?= /usr/bin/python3
SOAK_REQUESTS ?= 1000000
SOAK_HELD     ?= 300
SOAK_CONNS    ?= 48
SOAK_SECONDS  ?= 420

.PHONY: check-asan asan-modules asan-verify check-valgrind soak soak-tools

# ---------------------------------------------------------------- ASan

$(ASAN_BUILD):
	mkdir -p $(ASAN_BUILD)

# the same apxs_module rule as the top Makefile, with the sanitizer flags,
# and a core archive compiled the same way by apxs' compiler; apxs hands
# -Wl,<x> to libtool as <x>, and libtool 2.4.7 passes -fsanitize=* on to
# the compiler driver at link time (so libasan/libubsan become NEEDED); the
# nm check proves the instrumentation is really there
ASAN_CORE_LIB := $(ASAN_BUILD)/core/libssgcore.a
$(eval $(call core_archive,$(ASAN_BUILD)/core,$(ASAN_CC),$(CORE_CFLAGS) -fPIC -fvisibility=hidden \
    -fsanitize=address,undefined -fno-omit-frame-pointer -O1 -g -U_FORTIFY_SOURCE))
$(eval $(call apxs_module,$(ASAN_SSG_SO),mod_session_sign,$(SSG_GLUE),$(SSG_HDRS) $(CORE_HDR),$(ASAN_CORE_LIB),$(ASAN_FLAGS)))
$(eval $(call apxs_module,$(ASAN_WSA_SO),mod_ws_auth,$(WSA_GLUE),$(WSA_HDRS) $(CORE_HDR),$(ASAN_CORE_LIB),$(ASAN_FLAGS) $(WSA_LIBS)))

# the instrumentation must really be there
asan-verify: $(ASAN_SSG_SO) $(ASAN_WSA_SO)
	@for so in $^; do \
	    nm $$so | grep -q __asan_report || { echo "$$so: no ASan instrumentation"; exit 1; }; \
	    nm $$so | grep -q __ubsan_handle || { echo "$$so: no UBSan instrumentation"; exit 1; }; \
	    readelf -d $$so | grep -q 'NEEDED.*libasan' || { echo "$$so: libasan not NEEDED"; exit 1; }; \
	done

asan-modules: $(ASAN_SSG_SO) $(ASAN_WSA_SO) asan-verify

# the integration suite against the instrumented modules; then any report
# file of either runtime fails the target (and is printed).
# allow_user_segv_handler=0: httpd's children install their own SIGSEGV
# handler (sig_coredump) over ASan's, which would hide a crash's stack
# trace; with it ASan keeps its handler and writes a report. A crash also
# fails its test through the harness (AH00052 in the error log).
# Modules are replaced by rename, never rewritten in place under a server.
check-asan: modules cli asan-modules
	rm -rf $(ASAN_LOGS) && mkdir -p $(ASAN_LOGS) && chmod 1777 $(ASAN_LOGS)
	@if [ "$$(id -u)" = 0 ] && ! runuser -u daemon -- test -x $(abspath $(ASAN_LOGS)) 2>/dev/null; then \
	    echo "check-asan: User daemon cannot reach $(ASAN_LOGS); run with ASAN_LOGS=/tmp/asan-logs" >&2; exit 2; fi
	@echo "== integration suite with ASan+UBSan modules ($(ASAN_BUILD)/, runtimes preloaded)"
	SSG_MODULE_DIR=$(abspath $(ASAN_BUILD)) \
	SSG_HTTPD_PRELOAD=$(ASAN_RUNTIMES) \
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=0:allow_user_segv_handler=0:log_path=$(abspath $(ASAN_LOGS))/asan \
	UBSAN_OPTIONS=print_stacktrace=1:log_path=$(abspath $(ASAN_LOGS))/ubsan \
	    $(PYTEST) -q -p no:cacheprovider tests/integration $(ASAN_PYTEST_ARGS); \
	rc=$$?; bad=; known=; \
	for f in $$(find $(ASAN_LOGS) -type f -size +0c | sort); do \
	    if $(PYTHON) tests/tools/asan_known_race.py $$f; then \
	        known="$$known $$f"; else bad="$$bad $$f"; fi; \
	done; \
	for f in $$known; do echo "==== $$f (ignored: $(ASAN_KNOWN_RACE))"; cat $$f; done; \
	for f in $$bad; do echo "==== $$f"; cat $$f; done; \
	if [ -n "$$bad" ]; then \
	    echo "check-asan: FAILED: $$(echo $$bad | wc -w) sanitizer report(s) in $(ASAN_LOGS)/"; exit 1; \
	fi; \
	if [ $$rc -ne 0 ]; then echo "check-asan: FAILED: the test suite failed under ASan (rc=$$rc)"; exit $$rc; fi; \
	echo "check-asan: OK: suite passed, no ASan/UBSan report from our code, no crashed child" \
	     "($$(echo $$known | wc -w) known httpd shutdown-race report(s) ignored)"

# ---------------------------------------------------------------- valgrind

# CK_FORK=no: Check runs every test in the binary's own process, so valgrind
# sees them (with fork, each test runs in a child valgrind does not follow
# by default)
check-valgrind: $(UNIT_TESTS)
	@command -v $(VALGRIND) >/dev/null || { echo "valgrind missing: apt-get install valgrind"; exit 1; }
	@set -e; for t in $(UNIT_TESTS); do \
	    echo "== valgrind $$t"; \
	    CK_FORK=no CK_VERBOSITY=normal $(VALGRIND) -q --error-exitcode=1 --leak-check=full \
	        --track-origins=yes ./$$t; \
	done; echo "check-valgrind: OK: $(words $(UNIT_TESTS)) unit test binaries clean under valgrind"

# ---------------------------------------------------------------- soak

soak-tools: $(SOAK_LOAD)

# bounded: wsload mix stops after SOAK_REQUESTS requests or SOAK_SECONDS of
# load, whichever comes first (the run then fails); loopback only
soak: modules soak-tools
	$(SOAK_PYTHON) tests/soak/soak.py --build $(BUILD) --requests $(SOAK_REQUESTS) \
	    --held $(SOAK_HELD) --conns $(SOAK_CONNS) --max-seconds $(SOAK_SECONDS) \
	    --report $(BUILD)/soak-report.md
