/*
 * kinds.c - wsload's request kinds: the one request of churn/get/hold, the
 * spec file of mix, and the fixed schedule that interleaves the kinds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wsload.h"

/* @return the new kind's index; dies when there are too many */
int wsl_kind_add(wsl_t *L, const char *name, int mode, int weight, const char *req, size_t req_len)
{
    wsl_kind_t *k;

    if (L->nkinds >= WSL_MAX_KINDS) {
        wsl_die("too many kinds");
    }
    k = &L->kinds[L->nkinds];
    memset(k, 0, sizeof(*k));
    snprintf(k->name, sizeof(k->name), "%s", name);
    k->mode = mode;
    k->weight = mode == K_HOLD ? 0 : weight;
    k->req = malloc(req_len);
    if (!k->req) {
        wsl_die("out of memory");
    }
    memcpy(k->req, req, req_len);
    k->req_len = req_len;
    if (mode == K_HOLD) {
        L->hold_kind = L->nkinds;
    }
    return L->nkinds++;
}

void wsl_kind_expect(wsl_kind_t *k, int lo, int hi)
{
    if (k->nexpect < WSL_MAX_EXPECT) {
        k->expect_lo[k->nexpect] = lo;
        k->expect_hi[k->nexpect] = hi;
        k->nexpect++;
    }
}

int wsl_kind_expected(const wsl_kind_t *k, int status)
{
    int i;

    for (i = 0; i < k->nexpect; i++) {
        if (status >= k->expect_lo[i] && status <= k->expect_hi[i]) {
            return 1;
        }
    }
    return 0;
}

/*
 * The spec of mix: each kind a line
 *     kind NAME MODE WEIGHT EXPECT LEN\n
 * followed by LEN raw request bytes and a newline. MODE is get, ws or hold;
 * EXPECT a comma-separated list of statuses (e.g. 400,431).
 */
void wsl_load_spec(wsl_t *L, const char *path)
{
    FILE *f = fopen(path, "rb");
    char line[512];

    if (!f) {
        wsl_die("cannot open the spec file");
    }
    while (fgets(line, sizeof(line), f)) {
        char name[64], mode_s[16], expect[64], *tok, *save = NULL, *req;
        int weight, mode, k;
        long len;

        if (line[0] == '\n' || line[0] == '#') {
            continue;
        }
        if (sscanf(line, "kind %63s %15s %d %63s %ld", name, mode_s, &weight, expect, &len) != 5 ||
            weight < 0 || len <= 0 || len > 1 << 20) {
            wsl_die("bad kind line in the spec");
        }
        mode = !strcmp(mode_s, "get")    ? K_GET
               : !strcmp(mode_s, "ws")   ? K_WS
               : !strcmp(mode_s, "hold") ? K_HOLD
                                         : -1;
        if (mode < 0) {
            wsl_die("unknown mode in the spec");
        }
        req = malloc((size_t)len);
        if (!req || fread(req, 1, (size_t)len, f) != (size_t)len) {
            wsl_die("short request in the spec");
        }
        fgetc(f); /* the newline after the bytes */
        k = wsl_kind_add(L, name, mode, weight, req, (size_t)len);
        free(req);
        for (tok = strtok_r(expect, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            wsl_kind_expect(&L->kinds[k], atoi(tok), atoi(tok));
        }
    }
    fclose(f);
}

/* smooth weighted round robin: each kind spread evenly over the cycle;
 * request number i is of kind sched[i % nslots] */
void wsl_build_schedule(wsl_t *L)
{
    long cur[WSL_MAX_KINDS] = {0};
    int total = 0, i, s;

    for (i = 0; i < L->nkinds; i++) {
        total += L->kinds[i].weight;
    }
    if (total <= 0 || total > WSL_MAX_SLOTS) {
        wsl_die("the weights must add up to 1..4096");
    }
    for (s = 0; s < total; s++) {
        int best = -1;
        for (i = 0; i < L->nkinds; i++) {
            cur[i] += L->kinds[i].weight;
            if (L->kinds[i].weight && (best < 0 || cur[i] > cur[best])) {
                best = i;
            }
        }
        cur[best] -= total;
        L->sched[s] = best;
    }
    L->nslots = total;
}

/* The request of churn/get/hold: a GET, or an RFC 6455 upgrade; Origin and
 * Cookie when given (NULL: none). @return a malloc'd string. */
char *wsl_build_request(int upgrade, const char *path, const char *host, const char *origin,
                        const char *cookie)
{
    size_t n = strlen(path) + strlen(host) + (cookie ? strlen(cookie) : 0) +
               (origin ? strlen(origin) : 0) + 512;
    char *req = malloc(n);

    if (!req) {
        wsl_die("out of memory");
    }
    snprintf(req, n, "GET %s HTTP/1.1\r\nHost: %s\r\n%s%s%s%s%s%s%s\r\n", path, host,
             upgrade ? "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                       "Sec-WebSocket-Version: 13\r\n"
                     : "",
             origin ? "Origin: " : "", origin ? origin : "", origin ? "\r\n" : "",
             cookie ? "Cookie: " : "", cookie ? cookie : "", cookie ? "\r\n" : "");
    return req;
}
