/*
 * fuzz_keyfile.c - libFuzzer target: the key-file parser
 * (ssg_ring_parse_keyfile of mod_session_sign/ssg_token.c).
 *
 * The input is the text of a SessionSignKeyFile. A model written here from
 * the documented format (one secret per line; leading and trailing SP/HTAB
 * ignored, and a trailing CR, so CRLF files work; empty lines and lines
 * starting with '#' skipped) splits the same bytes into candidate secrets
 * and adds them one by one to a second ring with ssg_ring_add. Properties:
 *  - both agree: the file is accepted exactly when every candidate is
 *    accepted and there is at least one; then the rings hold the same key
 *    ids in the same order;
 *  - a refusal names the line of the first refused candidate and the reason
 *    ssg_ring_add gave for it ("line N: reason"), or says there is no
 *    secret when the model found none;
 *  - a refusal is a short, printable, fixed message: it never carries the
 *    secret bytes of the file.
 *
 * Seeds: fuzz/corpus/keyfile, made by fuzz/make_seeds.py.
 */
#include "fuzz_common.h"

#include <apr_strings.h>

#include "ssg_token.h"

#define IS_BLANK(c) ((c) == ' ' || (c) == '\t')

/*
 * The model: add each candidate line to ring in order.
 * @return NULL if every candidate was added and there was one, else the
 *         expected message, from p.
 */
static const char *model_parse(apr_pool_t *p, ssg_ring_t *ring,
                               const char *text, size_t len, int *candidates)
{
    size_t line_start = 0;
    int lineno = 0;

    *candidates = 0;
    while (line_start < len) {
        const char *nl = memchr(text + line_start, '\n', len - line_start);
        size_t line_end = nl ? (size_t)(nl - text) : len;
        size_t b = line_start, e = line_end;
        const char *err;

        lineno++;
        line_start = nl ? line_end + 1 : len;
        while (b < e && IS_BLANK(text[b])) {
            b++;
        }
        while (e > b && (IS_BLANK(text[e - 1]) || text[e - 1] == '\r')) {
            e--;
        }
        if (b == e || text[b] == '#') {
            continue;
        }
        (*candidates)++;
        err = ssg_ring_add(ring, text + b, e - b);
        if (err) {
            return apr_psprintf(p, "line %d: %s", lineno, err);
        }
    }
    return *candidates ? NULL : "(no secret)";
}

static void fuzz_keyfile(apr_pool_t *p, const uint8_t *data, size_t size)
{
    ssg_ring_t *ring, *model;
    const char *err, *want, *c;
    int candidates, i;

    /* both rings live in the per-input pool: clearing it frees their keys */
    if (ssg_ring_create(p, &ring) != APR_SUCCESS
        || ssg_ring_create(p, &model) != APR_SUCCESS) {
        abort();
    }
    err = ssg_ring_parse_keyfile(p, ring, (const char *)data, size);
    want = model_parse(p, model, (const char *)data, size, &candidates);

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
    if (candidates == 0) {
        FUZZ_CHECK(strncmp(err, "no secret", 9) == 0, "empty file: %s", err);
    }
    else {
        FUZZ_CHECK(strcmp(err, want) == 0, "said \"%s\", the model \"%s\"", err, want);
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
