/*
 * replay.c - run a fuzz target over files, without libFuzzer.
 *
 * Linked with one fuzz/fuzz_<name>.c and built with the ordinary compiler
 * and warnings (mk/fuzz.mk, make fuzz-replay), so `make check` replays the
 * committed seed corpora on every build, with no clang:
 *
 *   build/replay_token fuzz/corpus/token
 *   build/replay_token crash-0123abcd          (one file: reproduce a crash)
 *
 * Each argument is a directory (every regular file in it, in name order,
 * hidden files skipped) or a single file. Every input is copied into an
 * exact-size malloc block, as libFuzzer does, so a sanitizer or valgrind
 * sees a read past its end. A property failure aborts inside the target.
 * @return 0 if every input ran; 1 if an argument is missing, unreadable, or
 *         a directory without inputs; 2 on bad usage.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    struct stat sb;
    uint8_t *buf;
    size_t size;

    if (!f || fstat(fileno(f), &sb) != 0 || sb.st_size < 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        if (f) {
            fclose(f);
        }
        return -1;
    }
    size = (size_t)sb.st_size;
    buf = malloc(size ? size : 1);
    if (!buf || fread(buf, 1, size, f) != size) {
        fprintf(stderr, "replay: %s: cannot read\n", path);
        free(buf);
        fclose(f);
        return -1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, size);
    free(buf);
    return 0;
}

static int skip_hidden(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

/* @return the number of inputs run, or -1 */
static int run_dir(const char *dir)
{
    struct dirent **names;
    int n, i, ran = 0, bad = 0;

    n = scandir(dir, &names, skip_hidden, alphasort);
    if (n < 0) {
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    for (i = 0; i < n; i++) {
        size_t len = strlen(dir) + strlen(names[i]->d_name) + 2;
        char *path = malloc(len);
        struct stat sb;

        if (!path) {
            abort();
        }
        snprintf(path, len, "%s/%s", dir, names[i]->d_name);
        if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
            if (run_file(path) == 0) {
                ran++;
            }
            else {
                bad = 1;
            }
        }
        free(path);
        free(names[i]);
    }
    free(names);
    return bad ? -1 : ran;
}

int main(int argc, char **argv)
{
    int i, failed = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
        return 2;
    }
    for (i = 1; i < argc; i++) {
        struct stat sb;

        if (stat(argv[i], &sb) != 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            failed = 1;
        }
        else if (S_ISDIR(sb.st_mode)) {
            int n = run_dir(argv[i]);

            if (n == 0) {
                fprintf(stderr, "replay: %s: no inputs\n", argv[i]);
            }
            if (n <= 0) {
                failed = 1;
                continue;
            }
            printf("%s: %s: %d inputs replayed\n", argv[0], argv[i], n);
        }
        else if (run_file(argv[i]) != 0) {
            failed = 1;
        }
        else {
            printf("%s: %s: replayed\n", argv[0], argv[i]);
        }
    }
    return failed;
}
