#!/bin/bash
# Guards that keep the tree honest (run by `make check`):
#  1. every directive in a module's command table is documented, and only those;
#  2. each .so exports exactly its module symbol;
#  3. the pure core (core/) includes no httpd header, and every core file
#     has its unit test binary (tests/unit/test_<file>.c);
#  4. every Check test defined is registered in a TCase;
#  5. no code outside tests reaches into another module's private
#     structures: no ap_find_linked_module, no ap_hook_get_session_* table
#     walk, no ap_get_module_config of a module but our own (an .htaccess
#     file's configuration may be asked whether it holds mod_session's
#     entry, on a line marked "presence only");
#  6. each glue file opens with a one-line summary, stays under ~500 lines;
#  7. log tags are unique per call site.
set -u
cd "$(dirname "$0")/../.."
fail=0
pass=0
ok()  { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

for m in mod_session_sign mod_ws_auth; do
    code=$(cat "$m"/*.c | tr '\n' ' ' | grep -oE 'AP_INIT_[A-Z0-9_]+\( *"[A-Za-z]+"' | sed -E 's/.*"([A-Za-z]+)"/\1/' | sort -u)
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

for f in core/*.[ch]; do
    if grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"](httpd|http_[a-z_]+|ap_[a-z_]+|util_[a-z_]+|mod_[a-z_]+|scoreboard|mpm_common)\.h[>"]' "$f"; then
        bad "$f includes an httpd header"
    else
        ok "$f: pure core (no httpd header)"
    fi
done
for f in core/*.c; do
    t="tests/unit/test_$(basename "$f")"
    if [ -f "$t" ]; then ok "$f: unit-tested by $t"; else bad "$f: no $t"; fi
done

glue="mod_session_sign/*.c mod_ws_auth/*.c bench/mod_min_gate.c"
# shellcheck disable=SC2086
hits=$(grep -nE 'ap_find_linked_module|ap_hook_get_session_|ap_hook_get_[a-z_]+\(' $glue)
if [ -z "$hits" ]; then ok "no module lookup or hook-table walk outside tests"; else bad "private reach: $hits"; fi
# shellcheck disable=SC2086
hits=$(grep -nE 'ap_get_module_config\(' $glue | grep -vE '&(session_sign|ws_auth|min_gate)_module\)' \
       | grep -vE '&session_module\) != NULL /\* presence only \*/')
if [ -z "$hits" ]; then ok "ap_get_module_config only of our own modules"; else bad "another module's config read: $hits"; fi
# shellcheck disable=SC2086
hits=$(grep -nE 'response_code_strings|core_request_config|ap_get_core_module_config|authz_core_dir_conf|auth_basic_config' $glue)
if [ -z "$hits" ]; then ok "no core/authz/auth_basic private structure touched"; else bad "private structure: $hits"; fi

for f in mod_session_sign/*.c mod_ws_auth/*.c; do
    n=$(wc -l < "$f")
    if head -2 "$f" | grep -qE '^ \* [a-z_]+\.c - .+'; then ok "$f: opens with its concern"; else bad "$f: no one-line concern at the top"; fi
    if [ "$n" -le 520 ]; then ok "$f: $n lines"; else bad "$f: $n lines (split it)"; fi
done

dups=$(grep -ohE '"(SSG|WSA)[0-9]{4}:' mod_session_sign/*.c mod_ws_auth/*.c | sort | uniq -d)
if [ -z "$dups" ]; then ok "log tags unique per call site"; else bad "log tags used twice: $(echo $dups)"; fi

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
    for f in core/*.[ch] mod_session_sign/*.[ch] mod_ws_auth/*.[ch]; do
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
