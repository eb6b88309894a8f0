#!/bin/bash
# Guards that keep the tree honest (run by `make check`):
#  1. every directive in a module's command table is documented, and only those;
#  2. each .so exports exactly its module symbol;
#  3. the pure cores include no httpd header;
#  4. every Check test defined is registered in a TCase.
set -u
cd "$(dirname "$0")/../.."
fail=0
pass=0
ok()  { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

for m in mod_session_sign mod_ws_auth; do
    code=$(tr '\n' ' ' < "$m/$m.c" | grep -oE 'AP_INIT_[A-Z0-9_]+\( *"[A-Za-z]+"' | sed -E 's/.*"([A-Za-z]+)"/\1/' | sort -u)
    docs=$(grep -E '^### [A-Za-z]+ Directive$' "docs/$m.md" 2>/dev/null | sed -E 's/^### //; s/ Directive$//' | sort -u)
    if [ -n "$code" ] && [ "$code" = "$docs" ]; then
        ok "$m: directives in code == directives in docs/$m.md ($(echo "$code" | wc -l))"
    else
        bad "$m: directives differ: code-only: $(comm -23 <(echo "$code") <(echo "$docs") 2>/dev/null | tr '\n' ' ') docs-only: $(comm -13 <(echo "$code") <(echo "$docs") 2>/dev/null | tr '\n' ' ')"
        echo "  code: $(echo $code)"; echo "  docs: $(echo $docs)"
    fi
    so="build/$m.so"
    sym=$(nm -D --defined-only "$so" 2>/dev/null | awk '{print $3}')
    want="$(echo "$m" | sed 's/^mod_//')_module"
    if [ "$sym" = "$want" ]; then
        ok "$so exports only $want"
    else
        bad "$so exports: $(echo $sym)"
    fi
done

for f in mod_session_sign/ssg_token.c mod_session_sign/ssg_token.h \
         mod_session_sign/ssg_util.c mod_session_sign/ssg_util.h \
         mod_session_sign/ssg_origin.c mod_session_sign/ssg_origin.h \
         mod_ws_auth/wsa_core.c mod_ws_auth/wsa_core.h; do
    if grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"](httpd|http_[a-z_]+|ap_[a-z_]+|util_[a-z_]+|mod_[a-z_]+|scoreboard|mpm_common)\.h[>"]' "$f"; then
        bad "$f includes an httpd header"
    else
        ok "$f: pure core (no httpd header)"
    fi
done

for t in tests/unit/test_*.c; do
    missing=""
    for name in $(grep -oE 'START_TEST\([a-z0-9_]+\)' "$t" | sed -E 's/START_TEST\((.*)\)/\1/'); do
        if ! grep -qE "tcase_add_(loop_)?test[a-z_]*\([^,]+, *$name\b" "$t"; then
            missing="$missing $name"
        fi
    done
    if [ -z "$missing" ]; then
        ok "$t: every test registered"
    else
        bad "$t: tests never registered:$missing"
    fi
done

# house style (.clang-format: httpd's C style) for the module sources
if command -v clang-format >/dev/null; then
    for f in mod_session_sign/*.[ch] mod_ws_auth/*.[ch]; do
        if clang-format --style=file --dry-run --Werror "$f" >/dev/null 2>&1; then
            ok "$f: clang-format clean"
        else
            bad "$f: not clang-format clean (run: clang-format -i $f)"
        fi
    done
else
    bad "clang-format not installed"
fi

echo "guards: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
