# mk/bench.mk - `make bench` (issues #5, #14): the cost of the WebSocket gate,
# side by side with a plain proxy, the minimal HMAC-cookie gate and
# mod_auth_form + mod_session_crypto; and the one load generator (bench/wsload/)
# that `make soak` uses too.
# Include it from the top Makefile after its variables (e.g. beside
# `include mk/demo.mk`); it leaves the default goal alone and uses
# the top Makefile's CC, CORE_CFLAGS, APR_LIBS, BUILD, CORE_LIB, CORE_HDR, apxs_module.
#
#   make bench                        full run, ~14 min: 5 interleaved rounds x 8 s
#   make bench BENCH_QUICK=1          smoke run, ~3 min: 2 rounds x 3 s, no Pm/Pk,
#                                     smaller memory and tunnel figures
#   make bench BENCH_ROUNDS=7 BENCH_SECONDS=10
#   make bench BENCH_NICE=-5          (takes CPU from other users of the machine)
#   make bench BENCH_REVOCATION_ONLY=1  only S, Sr (shmcb) and Sd (Redis) loaded at once
#   make bench-tools                  only build wsload, wsecho, micro, futex_slots.so, mod_min_gate.so
#   make bench-tunnel                 only issue 16's figures (bench/tunnelbench.py)
#
# Results: a Markdown report on stdout and bench/results/<timestamp>.{md,json,png}
# (git-ignored); docs/performance.md: what is measured, the targets, the latest
# recorded full run. The driver is bench/bench.py with the package bench/gatebench/.

_bench_saved_goal := $(.DEFAULT_GOAL)

BENCH_PYTHON  ?= /usr/bin/python3
BENCH_BIN     := $(or $(BUILD),build)/bench
BENCH_TOOLS   := $(BENCH_BIN)/wsload $(BENCH_BIN)/wsecho $(BENCH_BIN)/micro \
                 $(BENCH_BIN)/futex_slots.so $(BENCH_BIN)/mod_min_gate.so
# the core is C99; the tools want POSIX/GNU (clock_gettime, accept4, memmem)
BENCH_CFLAGS   = $(filter-out -std=c99,$(CORE_CFLAGS)) -std=gnu99
BENCH_ARGS    := $(if $(strip $(BENCH_QUICK)),--quick) \
                 $(if $(strip $(BENCH_ROUNDS)),--rounds $(BENCH_ROUNDS)) \
                 $(if $(strip $(BENCH_SECONDS)),--seconds $(BENCH_SECONDS)) \
                 $(if $(strip $(BENCH_NICE)),--nice $(BENCH_NICE)) \
                 $(if $(strip $(BENCH_REVOCATION_ONLY)),--only-revocation)

.PHONY: bench bench-tools bench-deps bench-tunnel

$(BENCH_BIN):
	mkdir -p $@

# the one load generator, of `make bench` (churn, get, hold) and of
# `make soak` (mix, see mk/hardening.mk)
WSLOAD_SRC := $(wildcard bench/wsload/*.c)
$(BENCH_BIN)/wsload: $(WSLOAD_SRC) bench/wsload/wsload.h | $(BENCH_BIN)
	$(CC) $(BENCH_CFLAGS) -o $@ $(WSLOAD_SRC) -pthread

$(BENCH_BIN)/wsecho: bench/wsecho.c | $(BENCH_BIN)
	$(CC) $(BENCH_CFLAGS) -o $@ bench/wsecho.c -lcrypto

$(BENCH_BIN)/micro: bench/micro.c $(CORE_LIB) $(CORE_HDR) | $(BENCH_BIN)
	$(CC) $(BENCH_CFLAGS) -o $@ bench/micro.c $(CORE_LIB) $(APR_LIBS) -lcrypto

# LD_PRELOAD'ed into the benchmark's httpd instances (see the file's comment)
$(BENCH_BIN)/futex_slots.so: bench/futex_slots.c | $(BENCH_BIN)
	$(CC) $(BENCH_CFLAGS) -shared -fPIC -o $@ bench/futex_slots.c -ldl

# M, the reference minimal HMAC-cookie gate (bench only, never installed):
# the same apxs_module rule as the product modules, on the same core
$(eval $(call apxs_module,$(BENCH_BIN)/mod_min_gate.so,mod_min_gate,bench/mod_min_gate.c,$(CORE_HDR),$(CORE_LIB),))

bench-tools: $(BENCH_TOOLS)

# Debian packages the benchmark needs besides the build's (root: installed)
bench-deps:
	@sh tests/tools/ensure-deps.sh wrk gnuplot-nox valgrind strace redis-server

bench: bench-deps all bench-tools
	$(BENCH_PYTHON) bench/bench.py --build $(or $(BUILD),build) $(BENCH_ARGS)
	$(BENCH_PYTHON) bench/tunnelbench.py --build $(or $(BUILD),build) $(if $(strip $(BENCH_QUICK)),--rounds 3 --seconds 2 --window 10)

# issue 16 alone (~3 min): tunnel throughput with WSAuthTunnelLifetime
# absolute against off, and the timer's cost with 2,000 idle tunnels
bench-tunnel: all bench-tools
	$(BENCH_PYTHON) bench/tunnelbench.py --build $(or $(BUILD),build)

.DEFAULT_GOAL := $(_bench_saved_goal)
