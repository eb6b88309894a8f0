# mk/fuzz.mk - libFuzzer targets and the replay of their seed corpora.
#
# Included by the top Makefile (`include mk/fuzz.mk`), which defines CC,
# CORE_CFLAGS, APR_LIBS, BUILD, CORE_LIB, CORE_HDR and core_archive.
#
#   make fuzz-replay      build build/replay_<target> with $(CC) and the
#                         project flags (no clang, no libFuzzer) and feed it
#                         every file of fuzz/corpus/<target>; for make check
#   make fuzz             build build/fuzz_<target> with clang and
#                         -fsanitize=fuzzer,address,undefined, run each for
#                         FUZZ_SECONDS on a fresh copy of its seeds under
#                         build/fuzz-run/, print executions and coverage
#   make fuzz-seeds       rewrite fuzz/corpus/ with fuzz/make_seeds.py
#   make fuzz-seeds-check fail if fuzz/corpus/ differs from what it makes
#
# Knobs: FUZZ_SECONDS (60), FUZZ_TARGETS (all), FUZZ_ARGS (extra libFuzzer
# flags, e.g. FUZZ_ARGS=-jobs=2), FUZZ_CLANG (clang), FUZZ_REPLAY_WRAPPER
# (e.g. "valgrind --error-exitcode=1 -q" to replay under valgrind).
# One target alone: make fuzz FUZZ_TARGETS=origin FUZZ_SECONDS=300
# A crash: build/replay_<target> build/fuzz-run/<target>/artifacts/crash-...

FUZZ_TARGETS        ?= token cookie keyfile origin upgrade login express fsig
FUZZ_SECONDS        ?= 60
FUZZ_ARGS           ?=
FUZZ_CLANG          ?= clang
FUZZ_SANITIZE       ?= -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
                       -fno-omit-frame-pointer
FUZZ_REPLAY_WRAPPER ?=
FUZZ_PYTHON         ?= /usr/bin/python3

# every target links the core archive: the replays the ordinary one, the
# fuzzers a variant instrumented like themselves (clang, the sanitizers,
# libFuzzer's coverage without its main)
FUZZ_CORE_LIB := $(BUILD)/core-fuzz/libssgcore.a
FUZZ_CORE_SANITIZE ?= -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
                      -fno-omit-frame-pointer
$(eval $(call core_archive,$(BUILD)/core-fuzz,$(FUZZ_CLANG),$(CORE_CFLAGS) -g -O1 $(FUZZ_CORE_SANITIZE)))
FUZZ_HDRS     := $(wildcard fuzz/*.h) $(CORE_HDR) tests/unit/ref_httpd.h
FUZZ_BINS     := $(patsubst %,$(BUILD)/fuzz_%,$(FUZZ_TARGETS))
FUZZ_REPLAYS  := $(patsubst %,$(BUILD)/replay_%,$(FUZZ_TARGETS))

.PHONY: fuzz fuzz-replay fuzz-seeds fuzz-seeds-check

# the ordinary compiler and warnings: the corpus replays on every build
$(BUILD)/replay_%: fuzz/fuzz_%.c fuzz/replay.c $(CORE_LIB) $(FUZZ_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CORE_CFLAGS) -Ifuzz -o $@ fuzz/replay.c $< $(CORE_LIB) $(APR_LIBS) -lcrypto

# clang + libFuzzer; -O1 after CORE_CFLAGS' -O2 wins
$(BUILD)/fuzz_%: fuzz/fuzz_%.c $(FUZZ_CORE_LIB) $(FUZZ_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CLANG) $(CORE_CFLAGS) -g -O1 $(FUZZ_SANITIZE) -Ifuzz -o $@ $< \
	    $(FUZZ_CORE_LIB) $(APR_LIBS) -lcrypto

fuzz-replay: $(FUZZ_REPLAYS)
	@set -e; for t in $(FUZZ_TARGETS); do \
	    $(FUZZ_REPLAY_WRAPPER) $(BUILD)/replay_$$t fuzz/corpus/$$t; \
	done

fuzz: $(FUZZ_BINS)
	@sh fuzz/run.sh '$(BUILD)' '$(FUZZ_SECONDS)' '$(FUZZ_ARGS)' $(FUZZ_TARGETS)

fuzz-seeds:
	$(FUZZ_PYTHON) fuzz/make_seeds.py

fuzz-seeds-check:
	$(FUZZ_PYTHON) fuzz/make_seeds.py --check
