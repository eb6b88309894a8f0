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
CORE_CFLAGS := -std=c99 -D_GNU_SOURCE -O2 -g $(WARN) -Imod_session_sign -Imod_ws_auth $(APR_CFLAGS)

SSG_CORE   := mod_session_sign/ssg_token.c mod_session_sign/ssg_util.c mod_session_sign/ssg_origin.c
WSA_CORE   := mod_ws_auth/wsa_core.c
SSG_SRC    := mod_session_sign/mod_session_sign.c $(SSG_CORE)
WSA_SRC    := mod_ws_auth/mod_ws_auth.c $(WSA_CORE) mod_session_sign/ssg_origin.c

APXS_FLAGS := -Wc,-Wall -Wc,-Wextra -Wc,-Werror -Wc,-fvisibility=hidden -Wc,-std=gnu99 \
              -Imod_session_sign -Imod_ws_auth $(EXTRA_APXS_FLAGS)

SSG_SO     := $(BUILD)/mod_session_sign.so
WSA_SO     := $(BUILD)/mod_ws_auth.so
CLI        := $(BUILD)/session-sign

.PHONY: all modules cli check deps unit integration guards e2e demo bench \
        install clean fuzz check-asan soak format-check

all: modules cli

modules: $(SSG_SO) $(WSA_SO)

$(BUILD):
	mkdir -p $(BUILD)

# apxs/libtool builds in place; each module gets its own scratch copy so the
# shared ssg_origin.c object of one never lands in the other's libtool state
$(SSG_SO): $(SSG_SRC) mod_session_sign/*.h | $(BUILD)
	rm -rf $(BUILD)/ssg && mkdir -p $(BUILD)/ssg
	cp $(SSG_SRC) mod_session_sign/*.h $(BUILD)/ssg/
	cd $(BUILD)/ssg && $(APXS) -c $(APXS_FLAGS) -o mod_session_sign.la \
	    mod_session_sign.c ssg_token.c ssg_util.c ssg_origin.c -lcrypto >build.log 2>&1 \
	    || { cat build.log; exit 1; }
	cp $(BUILD)/ssg/.libs/mod_session_sign.so $@.tmp && mv -f $@.tmp $@

$(WSA_SO): $(WSA_SRC) mod_ws_auth/*.h mod_session_sign/*.h | $(BUILD)
	rm -rf $(BUILD)/wsa && mkdir -p $(BUILD)/wsa
	cp $(WSA_SRC) mod_ws_auth/*.h mod_session_sign/*.h $(BUILD)/wsa/
	cd $(BUILD)/wsa && $(APXS) -c $(APXS_FLAGS) -o mod_ws_auth.la \
	    mod_ws_auth.c wsa_core.c ssg_origin.c >build.log 2>&1 \
	    || { cat build.log; exit 1; }
	cp $(BUILD)/wsa/.libs/mod_ws_auth.so $@.tmp && mv -f $@.tmp $@

cli: $(CLI)

$(CLI): mod_session_sign/session_sign_cli.c $(SSG_CORE) mod_session_sign/*.h | $(BUILD)
	$(CC) $(CORE_CFLAGS) -o $@ mod_session_sign/session_sign_cli.c $(SSG_CORE) $(APR_LIBS) -lcrypto

# ---------------------------------------------------------------- tests

UNIT_TESTS := $(BUILD)/test_ssg_token $(BUILD)/test_ssg_token_evp $(BUILD)/test_ssg_util \
              $(BUILD)/test_ssg_origin $(BUILD)/test_wsa_core

$(BUILD)/test_ssg_token: tests/unit/test_ssg_token.c $(SSG_CORE) | $(BUILD)
	$(CC) $(CORE_CFLAGS) -o $@ $< $(SSG_CORE) $(CHECK_FLAGS) $(APR_LIBS) -lcrypto
# the same tests against the EVP_MAC path (what OpenSSL without its
# deprecated API compiles; see mod_session_sign/ssg_token.c)
$(BUILD)/test_ssg_token_evp: tests/unit/test_ssg_token.c $(SSG_CORE) | $(BUILD)
	$(CC) $(CORE_CFLAGS) -DSSG_MAC_EVP -o $@ $< $(SSG_CORE) $(CHECK_FLAGS) $(APR_LIBS) -lcrypto
$(BUILD)/test_ssg_util: tests/unit/test_ssg_util.c tests/unit/ref_httpd.h $(SSG_CORE) | $(BUILD)
	$(CC) $(CORE_CFLAGS) -o $@ $< $(SSG_CORE) $(CHECK_FLAGS) $(APR_LIBS) -lcrypto
$(BUILD)/test_ssg_origin: tests/unit/test_ssg_origin.c mod_session_sign/ssg_origin.c | $(BUILD)
	$(CC) $(CORE_CFLAGS) -o $@ $< mod_session_sign/ssg_origin.c $(CHECK_FLAGS) $(APR_LIBS)
$(BUILD)/test_wsa_core: tests/unit/test_wsa_core.c $(WSA_CORE) mod_session_sign/ssg_origin.c | $(BUILD)
	$(CC) $(CORE_CFLAGS) -o $@ $< $(WSA_CORE) mod_session_sign/ssg_origin.c $(CHECK_FLAGS) $(APR_LIBS)

deps:
	@sh tests/tools/ensure-deps.sh

unit: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do echo "== $$t"; CK_VERBOSITY=normal ./$$t; done

guards: modules
	@bash tests/tools/guards.sh

integration: modules cli
	$(PYTEST) -q -p no:cacheprovider --basetemp=$(BUILD)/pytest tests/integration tests/unit/test_ssg_ref.py $(PYTEST_ARGS)

check: deps
	$(MAKE) all
	$(MAKE) unit
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
