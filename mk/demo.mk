# make demo / make e2e (issue #4): the Socket.IO chat demo behind a private
# Apache, and its end-to-end tests (socket.io-client + headless Chromium).
# Included from the top Makefile; it leaves the default goal alone.
#
#   make demo   install what is missing (root: apt-get; npm ci), build, run the
#               demo on 127.0.0.1 until Ctrl-C (PORT=8081 make demo to choose)
#   make e2e    the same preparation plus Debian's chromium, then
#               node --test tests/e2e/*.test.mjs (artifacts in build/e2e-artifacts/)

_demo_saved_goal := $(.DEFAULT_GOAL)

DEMO_BUILD    := $(or $(BUILD),build)
NODE          ?= node
E2E_TESTS     ?= tests/e2e/*.test.mjs
E2E_ARGS      ?=
E2E_TIMEOUT   ?= 600

.PHONY: demo demo-prepare e2e e2e-deps

demo:
	@bash demo/run.sh

demo-prepare:
	@bash demo/run.sh --prepare

e2e-deps: demo-prepare express-deps
	@sh tests/e2e/ensure-deps.sh

# one test file at a time; the harness starts and stops every server by PID
e2e: e2e-deps
	@rm -rf $(DEMO_BUILD)/e2e-run $(DEMO_BUILD)/e2e-artifacts
	timeout -k 10 $(E2E_TIMEOUT) $(NODE) --test --test-concurrency=1 $(E2E_ARGS) $(E2E_TESTS)
	@echo "e2e: screenshots in $(DEMO_BUILD)/e2e-artifacts/"

.DEFAULT_GOAL := $(_demo_saved_goal)
