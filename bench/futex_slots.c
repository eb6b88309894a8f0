/*
 * futex_slots.c - LD_PRELOAD shim for the benchmark's httpd instances:
 * gives each process a private futex hash of BENCH_FUTEX_SLOTS slots
 * (prctl PR_FUTEX_HASH, Linux 6.16+) before it creates its first thread.
 *
 * Why: since Linux 6.16 a threaded process gets a private futex hash sized
 * by the CPUs, 16 slots on this 2-CPU machine. An httpd child with 1,100
 * idle workers has them all waiting on one condition variable, so one of
 * the 16 buckets holds 1,100 waiters; any other futex that hashes into it
 * (a mutex of the request path) walks them on every wake: ~50 us per wake
 * instead of ~0.3 us. Whether that happens depends on where the process's
 * futexes land, so it differs from one httpd start to the next and from one
 * child to the other, and it hits P, S and F alike: a lottery of 10-30% of
 * a request's CPU, far above the 2-6% the benchmark must resolve. With
 * 4,096 slots no bucket is shared by chance (docs/performance.md).
 *
 * Each process that calls pthread_create sets its hash once, before its
 * first thread, and appends "pid slots" (or "pid unsupported") to the file
 * BENCH_FUTEX_LOG names, so the benchmark can check every child.
 * Nothing else changes: the call goes on to the real pthread_create.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

#ifndef PR_FUTEX_HASH
#define PR_FUTEX_HASH           78
#define PR_FUTEX_HASH_SET_SLOTS 1
#define PR_FUTEX_HASH_GET_SLOTS 2
#endif

typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

static pid_t done_pid; /* the process whose hash is set: a fork resets it */

static void set_slots(void)
{
    const char *v = getenv("BENCH_FUTEX_SLOTS");
    const char *logp = getenv("BENCH_FUTEX_LOG");
    long slots = v ? strtol(v, NULL, 10) : 4096;
    char line[64];
    int n, fd;

    if (prctl(PR_FUTEX_HASH, PR_FUTEX_HASH_SET_SLOTS, slots, 0, 0) == 0) {
        n = snprintf(line, sizeof(line), "%ld %d\n", (long)getpid(),
                     prctl(PR_FUTEX_HASH, PR_FUTEX_HASH_GET_SLOTS, 0, 0, 0));
    }
    else {
        n = snprintf(line, sizeof(line), "%ld unsupported\n", (long)getpid());
    }
    if (logp && (fd = open(logp, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666)) >= 0) {
        if (write(fd, line, (size_t)n) != n) {
            /* the benchmark reports a child missing from the log */
        }
        close(fd);
    }
}

int pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*start)(void *), void *arg)
{
    static create_fn real;

    if (!real) {
        real = (create_fn)dlsym(RTLD_NEXT, "pthread_create");
        if (!real) {
            return EAGAIN;
        }
    }
    if (done_pid != getpid()) {
        done_pid = getpid();
        set_slots();
    }
    return real(t, attr, start, arg);
}
