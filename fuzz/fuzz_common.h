/*
 * fuzz_common.h - shared by every libFuzzer target in fuzz/ and by
 * fuzz/replay.c: the entry point, APR set-up and a property check.
 *
 * Each target is one fuzz_<name>.c defining LLVMFuzzerTestOneInput. It is
 * built twice (mk/fuzz.mk): with clang -fsanitize=fuzzer,address,undefined
 * (make fuzz), and with the ordinary compiler linked to replay.c (make
 * fuzz-replay), which feeds it the committed seed corpus.
 *
 * Rules every target keeps: never abort or leak on any input; copy bytes
 * that must be NUL-terminated into an exact-size malloc block, so ASan
 * sees a read past the end (pool memory is carved from large blocks, so
 * ASan cannot see an overrun inside a pool allocation); free what it mallocs
 * on every path.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * A property of the code under test does not hold: say which and abort,
 * which libFuzzer records as a crash (with the input saved as an artifact)
 * and replay turns into a non-zero exit.
 */
#define FUZZ_CHECK(cond, ...)                                              \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "%s:%d: property failed: %s: ", __FILE__,      \
                    __LINE__, #cond);                                      \
            fprintf(stderr, __VA_ARGS__);                                  \
            fputc('\n', stderr);                                           \
            abort();                                                       \
        }                                                                  \
    } while (0)

static apr_pool_t *fuzz_global_pool;   /* lives until exit */
static apr_pool_t *fuzz_input_pool;    /* cleared after every input */

/*
 * At exit, destroy every pool, so their cleanups free the OpenSSL objects
 * they own (LeakSanitizer cannot see pointers kept in pool memory when APR
 * takes that memory from mmap, and would report them as leaks).
 */
static inline void fuzz_exit(void)
{
    fuzz_input_pool = NULL;
    fuzz_global_pool = NULL;
    apr_terminate();
}

/* Initialise APR once (static flag: the pools). @return the global pool. */
static inline apr_pool_t *fuzz_global(void)
{
    if (!fuzz_global_pool) {
        if (apr_initialize() != APR_SUCCESS
            || apr_pool_create(&fuzz_global_pool, NULL) != APR_SUCCESS
            || apr_pool_create(&fuzz_input_pool, fuzz_global_pool) != APR_SUCCESS
            || atexit(fuzz_exit) != 0) {
            fprintf(stderr, "fuzz: cannot initialise APR\n");
            abort();
        }
    }
    return fuzz_global_pool;
}

/*
 * @return the per-input subpool. Every target calls fuzz_input_done()
 * before it returns, so no input's data, or key, outlives it.
 */
static inline apr_pool_t *fuzz_pool(void)
{
    fuzz_global();
    return fuzz_input_pool;
}

/* Clear the per-input pool (running its cleanups). */
static inline void fuzz_input_done(void)
{
    if (fuzz_input_pool) {
        apr_pool_clear(fuzz_input_pool);
    }
}

/* @return a malloc'd NUL-terminated copy of exactly len + 1 bytes. */
static inline char *fuzz_cstr(const uint8_t *data, size_t len)
{
    char *s = malloc(len + 1);

    if (!s) {
        abort();
    }
    if (len) {
        memcpy(s, data, len);
    }
    s[len] = '\0';
    return s;
}

/*
 * Split data at the first '\n': the head is [data, data + *head_len), the
 * tail follows the newline. @return the tail, or NULL if there is no '\n'
 * (then *head_len == size and *tail_len == 0).
 */
static inline const uint8_t *fuzz_split(const uint8_t *data, size_t size,
                                        size_t *head_len, size_t *tail_len)
{
    const uint8_t *nl = size ? memchr(data, '\n', size) : NULL;

    if (!nl) {
        *head_len = size;
        *tail_len = 0;
        return NULL;
    }
    *head_len = (size_t)(nl - data);
    *tail_len = size - *head_len - 1;
    return nl + 1;
}

#endif /* FUZZ_COMMON_H */
