# mk/deb.mk - `make deb` (issue 18): Debian binary packages built from the
# tree with Debian's own tooling (debhelper + dh_apache2, debian/ in the tree,
# dpkg-buildpackage -us -uc -b), and their tests. Included from the top
# Makefile; it leaves the default goal alone and uses its BUILD, SSG_SO,
# WSA_SO and CLI.
#
#   make deb        install the packaging tools (root: apt-get), copy the tree
#                   to build/deb/src, build there, lintian (fails on an error);
#                   the .deb files land in build/deb/
#   make pkg-check  make deb, then tests/pkg (the install test needs root)
#   make deb-stage DESTDIR=dir
#                   install the built files in the Debian layout under dir
#                   (what debian/rules calls; debian/ names no source file)
#
# The version is debian/changelog's (docs/packaging.md: how to bump it).

_deb_saved_goal := $(.DEFAULT_GOAL)

DEB_DIR       := $(or $(BUILD),build)/deb
DEB_SRC       := $(DEB_DIR)/src
DEB_PYTHON    ?= /usr/bin/python3
DEB_PYTEST    ?= $(DEB_PYTHON) -m pytest
# the header other modules include; found wherever the sources live
DEB_HEADER    ?= $(firstword $(wildcard mod_session_sign/mod_session_sign.h */mod_session_sign.h))
DEB_MANPAGE   := docs/session-sign.1
DEB_CONF      := conf/session_sign.load conf/session_sign.conf conf/ws_auth.load conf/ws_auth.conf
DEB_LIBEXEC   := /usr/lib/apache2/modules

.PHONY: deb deb-deps deb-stage deb-lint pkg-check

# Debian packages the packaging needs besides the build's (root: installed)
deb-deps:
	@sh tests/tools/ensure-deps.sh debhelper dpkg-dev fakeroot lintian build-essential man-db

# dpkg-buildpackage writes its results to the parent of the source tree:
# build in a copy (tracked and untracked files, nothing ignored, so no
# build/ output of this checkout) and the .debs land in build/deb/
deb: deb-deps
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_SRC)
	@if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	    git ls-files -z --cached --others --exclude-standard \
	        | xargs -0 sh -c 'for f; do [ -e "$$f" ] && printf "%s\0" "$$f"; done' sh \
	        | tar -c --null -T - -f - | tar -x -C $(DEB_SRC) -f -; \
	else \
	    tar -c --exclude=./build --exclude=./build-asan --exclude=./.git -f - . \
	        | tar -x -C $(DEB_SRC) -f -; \
	fi
	cd $(DEB_SRC) && dpkg-buildpackage -us -uc -b >../build.log 2>&1 \
	    || { tail -n 60 ../build.log; echo "make deb: dpkg-buildpackage failed; full log: $(DEB_DIR)/build.log"; exit 1; }
	rm -rf $(DEB_SRC)
	@ls -1 $(DEB_DIR)/*.deb
	$(MAKE) --no-print-directory deb-lint

# lintian on the built packages: an error fails; every warning left is
# listed with its reason in docs/packaging.md (tests/pkg checks that)
deb-lint:
	@rc=0; lintian --fail-on error --tag-display-limit 0 $(DEB_DIR)/*.deb >$(DEB_DIR)/lintian.txt 2>&1 || rc=$$?; \
	    cat $(DEB_DIR)/lintian.txt; \
	    [ $$rc -eq 0 ] && echo "lintian: no error ($$(grep -c '^W: ' $(DEB_DIR)/lintian.txt) warning(s))" || exit $$rc

deb-stage:
	@test -n "$(DESTDIR)" || { echo "deb-stage: set DESTDIR" >&2; exit 1; }
	@test -n "$(DEB_HEADER)" || { echo "deb-stage: mod_session_sign.h not found" >&2; exit 1; }
	install -d $(DESTDIR)$(DEB_LIBEXEC) $(DESTDIR)/etc/apache2/mods-available \
	    $(DESTDIR)/usr/bin $(DESTDIR)/usr/include/apache2 $(DESTDIR)/usr/share/man/man1
	install -m 644 $(SSG_SO) $(WSA_SO) $(DESTDIR)$(DEB_LIBEXEC)/
	install -m 644 $(DEB_CONF) $(DESTDIR)/etc/apache2/mods-available/
	install -m 755 $(CLI) $(DESTDIR)/usr/bin/session-sign
	install -m 644 $(DEB_HEADER) $(DESTDIR)/usr/include/apache2/
	install -m 644 $(DEB_MANPAGE) $(DESTDIR)/usr/share/man/man1/

pkg-check: deb
	$(DEB_PYTEST) -q -rs -p no:cacheprovider tests/pkg $(PYTEST_ARGS)

.DEFAULT_GOAL := $(_deb_saved_goal)
