/*
 * fuzz_keyfile.c - libFuzzer target: the key-file parser
 * (ssg_ring_parse_keyfile of core/ssg_token.c).
 *
 * The input is the text of a SessionSignKeyFile. A model written here from
 * the documented format (docs/mod_session_sign.md, SessionSignKeyFile: one
 * secret per line; LF or CRLF; leading and trailing SP/HTAB ignored; blank
 * lines skipped; a line starting with '#' is a comment of printable text;
 * any other line is a secret of printable ASCII without blank, '#', quote,
 * PEM boundary, byte-order mark or NAME=value shape) splits the same bytes
 * into comments and candidate secrets and adds the secrets one by one to a
 * second ring with ssg_ring_add. Properties:
 *  - both agree: the file is accepted exactly when every line is and there
 *    is at least one secret; then the rings hold the same key ids in order;
 *  - a refusal names the line of the first refused line ("line N: ..."),
 *    with the reason ssg_ring_add gave where the model's line checks passed,
 *    or says there is no secret when the model found none;
 *  - a refusal is a short, printable, fixed message: it never carries the
 *    bytes of the file;
 *  - a BOM, a byte >= 0x80 or a control byte in a secret line, is always
 *    refused (the BOM-before-a-comment hole of issue 13).
 *
 * Seeds: fuzz/corpus/keyfile, made by fuzz/make_seeds.py.
 */
#include "fuzz_common.h"

#include <apr_strings.h>

#include "ssg_token.h"

#define IS_BLANK(c) ((c) == ' ' || (c) == '\t')

/* The model's own reading of one secret line: is it well formed? */
static int model_secret_shape_ok(const unsigned char *b, size_t n)
{
    size_t i, name = 0;

    for (i = 0; i < n; i++) {
        if (b[i] <= 0x20 || b[i] >= 0x7f || b[i] == '#') {
            return 0; /* blank, control, DEL, non-ASCII, BOM, '#' */
        }
    }
    if (b[0] == '"' || b[0] == '\'' || (n >= 5 && memcmp(b, "-----", 5) == 0)) {
        return 0;
    }
    /* NAME=value: an identifier, '=', then something that is not padding */
    while (name < n && (b[name] == '_' || (b[name] >= 'A' && b[name] <= 'Z') ||
                        (b[name] >= 'a' && b[name] <= 'z') ||
                        (name > 0 && b[name] >= '0' && b[name] <= '9'))) {
        name++;
    }
    if (name > 0 && name + 1 < n && b[name] == '=') {
        for (i = name + 1; i < n; i++) {
            if (b[i] != '=') {
                return 0;
            }
        }
    }
    return 1;
}

/*
 * The model: add each candidate line to ring in order.
 * @return NULL if every line passed and there was a secret; else "line N"
 *         (the model's checks refused line N), "line N: reason" (ssg_ring_add
 *         refused it) or "(no secret)"; *ring_reason tells which.
 */
static const char *model_parse(apr_pool_t *p, ssg_ring_t *ring, const char *text, size_t len,
                               int *candidates, int *ring_reason)
{
    size_t line_start = 0;
    int lineno = 0;

    *candidates = 0;
    *ring_reason = 0;
    while (line_start < len) {
        const char *nl = memchr(text + line_start, '\n', len - line_start);
        size_t line_end = nl ? (size_t)(nl - text) : len;
        size_t b = line_start, e = line_end, i;
        const unsigned char *u = (const unsigned char *)text;
        const char *err;

        lineno++;
        line_start = nl ? line_end + 1 : len;
        if (e > b && text[e - 1] == '\r') {
            e--;
        }
        while (b < e && IS_BLANK(text[b])) {
            b++;
        }
        while (e > b && IS_BLANK(text[e - 1])) {
            e--;
        }
        if (b == e) {
            continue;
        }
        if (text[b] == '#') {
            for (i = b + 1; i < e; i++) {
                if ((u[i] < 0x20 && u[i] != '\t') || u[i] == 0x7f) {
                    return apr_psprintf(p, "line %d", lineno);
                }
            }
            continue;
        }
        (*candidates)++;
        if (!model_secret_shape_ok(u + b, e - b)) {
            return apr_psprintf(p, "line %d", lineno);
        }
        err = ssg_ring_add(ring, text + b, e - b);
        if (err) {
            *ring_reason = 1;
            return apr_psprintf(p, "line %d: %s", lineno, err);
        }
    }
    return *candidates ? NULL : "(no secret)";
}

static void fuzz_keyfile(apr_pool_t *p, const uint8_t *data, size_t size)
{
    ssg_ring_t *ring, *model;
    const char *err, *want, *c;
    int candidates, ring_reason, i;

    /* both rings live in the per-input pool: clearing it frees their keys */
    if (ssg_ring_create(p, &ring) != APR_SUCCESS
        || ssg_ring_create(p, &model) != APR_SUCCESS) {
        abort();
    }
    err = ssg_ring_parse_keyfile(p, ring, (const char *)data, size);
    want = model_parse(p, model, (const char *)data, size, &candidates, &ring_reason);

    if (!want) {
        FUZZ_CHECK(err == NULL, "refused a file the model accepts: %s", err);
        FUZZ_CHECK(ssg_ring_count(ring) == candidates
                   && ssg_ring_count(ring) == ssg_ring_count(model),
                   "%d keys, the model has %d", ssg_ring_count(ring), candidates);
        FUZZ_CHECK(candidates >= 1 && candidates <= SSG_MAX_KEYS, "%d keys", candidates);
        for (i = 0; i < candidates; i++) {
            const char *k = ssg_ring_kid(ring, i);
            FUZZ_CHECK(k && strlen(k) == SSG_KID_LEN
                       && strcmp(k, ssg_ring_kid(model, i)) == 0,
                       "key %d: kid %s", i, k ? k : "(null)");
        }
        FUZZ_CHECK(ssg_ring_kid(ring, candidates) == NULL, "kid past the end");
        return;
    }

    FUZZ_CHECK(err != NULL, "accepted a file the model refuses (%s)", want);
    if (!strcmp(want, "(no secret)")) {
        FUZZ_CHECK(strncmp(err, "no secret", 9) == 0, "empty file: %s", err);
    }
    else if (ring_reason) {
        FUZZ_CHECK(strcmp(err, want) == 0, "said \"%s\", the model \"%s\"", err, want);
    }
    else {
        size_t wl = strlen(want);
        FUZZ_CHECK(strncmp(err, want, wl) == 0 && err[wl] == ':',
                   "said \"%s\", the model refuses %s", err, want);
    }
    FUZZ_CHECK(strlen(err) < 128, "long error message");
    for (c = err; *c; c++) {
        FUZZ_CHECK(*c >= 0x20 && *c < 0x7f, "unprintable byte in the error");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_keyfile(fuzz_pool(), data, size);
    fuzz_input_done();                 /* runs the rings' cleanups: frees their keys */
    return 0;
}
