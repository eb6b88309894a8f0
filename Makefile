# mod_session_sign + mod_ws_auth
#
#   make            build both modules and the session-sign tool
#   make check      install test dependencies (as root), then run every test
#   make demo       build, install what it needs and run the demo on loopback
#   make bench      the side-by-side benchmark (docs/performance.md)
#   make install    install through apxs + conf/*.load/*.conf (Debian layout)

APXS       ?= /usr/bin/apxs
CC         ?= gcc
PYTHON     ?= /usr/bin/python3
PYTEST     ?= $(PYTHON) -m pytest
BUILD      := build

APR_CFLAGS := $(shell apr-1-config --cflags --cppflags --includes 2>/dev/null)
APR_LIBS   := $(shell apr-1-config --link-ld --libs 2>/dev/null)
CHECK_FLAGS = $(shell pkg-config --cflags --libs check 2>/dev/null)
WARN       := -Wall -Wextra -Werror
CORE_CFLAGS := -std=c99 -D_GNU_SOURCE -O2 -g $(WARN) -Icore $(APR_CFLAGS)

# ---------------------------------------------------------------- the core
#
# core/: the pure core (C, APR, OpenSSL; never an httpd header), built once
# per compiler/flags variant as a static archive that the modules, the
# session-sign tool, the unit tests, the fuzzers and the bench all link.

CORE_SRC   := $(sort $(wildcard core/*.c))
CORE_HDR   := $(sort $(wildcard core/*.h))
CORE_LIB   := $(BUILD)/core/libssgcore.a

# $(call core_archive,DIR,COMPILER,FLAGS): DIR/libssgcore.a from core/*.c
define core_archive
$(1)/%.o: core/%.c $(CORE_HDR)
	@mkdir -p $(1)
	$(2) $(3) -c -o $$@ $$<
$(1)/libssgcore.a: $(patsubst core/%.c,$(1)/%.o,$(CORE_SRC))
	rm -f $$@ && ar rcs $$@ $$^
endef

# position-independent (linked into the .so modules) with hidden symbols
# (httpd loads modules RTLD_GLOBAL: two modules' copies must not interpose)
$(eval $(call core_archive,$(BUILD)/core,$(CC),$(CORE_CFLAGS) -fPIC -fvisibility=hidden))

# ---------------------------------------------------------------- modules
#
# $(call apxs_module,OUT.so,NAME,GLUE_SOURCES,HEADERS,CORE_ARCHIVE,EXTRA_APXS_FLAGS):
# one rule for every module build (the product modules, their ASan
# variants, the bench's minimal gate). apxs/libtool builds in place, so each
# build works in a scratch copy of its glue files beside OUT.

APXS_FLAGS := -Wc,-Wall -Wc,-Wextra -Wc,-Werror -Wc,-fvisibility=hidden -Wc,-std=gnu99 \
              -Icore -Imod_session_sign $(EXTRA_APXS_FLAGS)

define apxs_module
$(1): $(3) $(4) $(5)
	rm -rf $$(@D)/$(2).d && mkdir -p $$(@D)/$(2).d
	cp $(3) $(4) $$(@D)/$(2).d/
	cd $$(@D)/$(2).d && $$(APXS) -c $$(APXS_FLAGS) $(6) -I$$(abspath core) \
	    -I$$(abspath mod_session_sign) -o $(2).la $(notdir $(3)) $$(abspath $(5)) -lcrypto \
	    >build.log 2>&1 || { cat build.log; exit 1; }
	cp $$(@D)/$(2).d/.libs/$(2).so $$@.tmp && mv -f $$@.tmp $$@
endef

CLI_SRC    := mod_session_sign/session_sign_cli.c
SSG_GLUE   := $(filter-out $(CLI_SRC),$(sort $(wildcard mod_session_sign/*.c)))
SSG_HDRS   := $(sort $(wildcard mod_session_sign/*.h))
WSA_GLUE   := $(sort $(wildcard mod_ws_auth/*.c))
WSA_HDRS   := $(sort $(wildcard mod_ws_auth/*.h)) mod_session_sign/mod_session_sign.h

SSG_SO     := $(BUILD)/mod_session_sign.so
WSA_SO     := $(BUILD)/mod_ws_auth.so
CLI        := $(BUILD)/session-sign

.PHONY: all modules cli core check deps unit integration guards e2e demo bench \
        install clean fuzz check-asan soak format-check node-verify express-deps

all: modules cli

core: $(CORE_LIB)

modules: $(SSG_SO) $(WSA_SO)

$(BUILD):
	mkdir -p $(BUILD)

$(eval $(call apxs_module,$(SSG_SO),mod_session_sign,$(SSG_GLUE),$(SSG_HDRS) $(CORE_HDR),$(CORE_LIB),))
# WSAuthSource express: Debian's hiredis (the store) and jansson (its JSON)
WSA_LIBS   := -lhiredis -ljansson
$(eval $(call apxs_module,$(WSA_SO),mod_ws_auth,$(WSA_GLUE),$(WSA_HDRS) $(CORE_HDR),$(CORE_LIB),$(WSA_LIBS)))

cli: $(CLI)

$(CLI): $(CLI_SRC) $(CORE_LIB) $(CORE_HDR) | $(BUILD)
	$(CC) $(CORE_CFLAGS) -o $@ $(CLI_SRC) $(CORE_LIB) $(APR_LIBS) -lcrypto

# ---------------------------------------------------------------- tests

# one Check binary per core file: tests/unit/test_<core file>.c
UNIT_TESTS := $(patsubst core/%.c,$(BUILD)/test_%,$(CORE_SRC)) $(BUILD)/test_ssg_token_evp

$(BUILD)/test_%: tests/unit/test_%.c tests/unit/ref_httpd.h $(CORE_LIB) | $(BUILD)
	$(CC) $(CORE_CFLAGS) -o $@ $< $(CORE_LIB) $(CHECK_FLAGS) $(APR_LIBS) -lcrypto
# the express-session cookie vectors (tests/tools/make_express_vectors.js)
$(BUILD)/test_wsa_express: tests/unit/express_vectors.h
# the token tests against the EVP_MAC path (what OpenSSL without its
# deprecated API compiles; see core/ssg_token.c): its own core variant
$(eval $(call core_archive,$(BUILD)/core-evp,$(CC),$(CORE_CFLAGS) -DSSG_MAC_EVP))
$(BUILD)/test_ssg_token_evp: tests/unit/test_ssg_token.c $(BUILD)/core-evp/libssgcore.a | $(BUILD)
	$(CC) $(CORE_CFLAGS) -DSSG_MAC_EVP -o $@ $< $(BUILD)/core-evp/libssgcore.a $(CHECK_FLAGS) \
	    $(APR_LIBS) -lcrypto

deps:
	@sh tests/tools/ensure-deps.sh
	@$(MAKE) --no-print-directory express-deps

# the real Express app of the exp_10 tests and the e2e suite, and the npm
# package that writes the unit vectors: exactly what its lock file pins
EXPRESS_APP := tests/express-app
express-deps:
	@command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || \
	    ENSURE_DEPS_WHO=express-deps sh tests/tools/ensure-deps.sh --only nodejs npm
	@if [ ! -f $(EXPRESS_APP)/node_modules/.package-lock.json ] \
	    || [ $(EXPRESS_APP)/package-lock.json -nt $(EXPRESS_APP)/node_modules/.package-lock.json ]; then \
	    echo "express-deps: npm ci in $(EXPRESS_APP)"; \
	    cd $(EXPRESS_APP) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error; \
	fi

unit: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do echo "== $$t"; CK_VERBOSITY=normal ./$$t; done

# the backend's verifier of WSAuthForwardSignature (docs/forward-signature.md)
node-verify:
	cd node/ws-auth-verify && $(NODE) --test

guards: modules
	@bash tests/tools/guards.sh

integration: modules cli
	$(PYTEST) -q -p no:cacheprovider --basetemp=$(BUILD)/pytest tests/integration tests/unit/test_ssg_ref.py $(PYTEST_ARGS)

check: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) node-verify
	$(MAKE) check-valgrind
	$(MAKE) guards
	$(MAKE) fuzz-replay
	$(MAKE) integration
	$(MAKE) e2e
	$(MAKE) pkg-check

include mk/demo.mk
include mk/fuzz.mk
include mk/hardening.mk
include mk/bench.mk
include mk/deb.mk
include mk/docs.mk

# ---------------------------------------------------------------- install

LIBEXECDIR := $(shell $(APXS) -q LIBEXECDIR 2>/dev/null)
SYSCONFDIR ?= /etc/apache2

install: all
	install -d $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(SYSCONFDIR)/mods-available $(DESTDIR)/usr/local/bin
	$(APXS) -i -S LIBEXECDIR=$(DESTDIR)$(LIBEXECDIR) -n session_sign $(SSG_SO)
	$(APXS) -i -S LIBEXECDIR=$(DESTDIR)$(LIBEXECDIR) -n ws_auth $(WSA_SO)
	install -m 644 conf/session_sign.load conf/session_sign.conf conf/ws_auth.load conf/ws_auth.conf \
	    $(DESTDIR)$(SYSCONFDIR)/mods-available/
	install -m 755 $(CLI) $(DESTDIR)/usr/local/bin/session-sign
	install -d $(DESTDIR)/usr/include/apache2
	install -m 644 mod_session_sign/mod_session_sign.h $(DESTDIR)/usr/include/apache2/

clean:
	rm -rf $(BUILD) .pytest_cache tests/integration/__pycache__ tests/unit/__pycache__ tests/tools/__pycache__
