/* Helpers shared by the benchmark drivers: a monotonic clock, sorting and percentiles, RSS, and a
 * one-line JSON result format that benches/py/run.py parses (one object per line on stdout). */
#ifndef KY_BENCH_H
#define KY_BENCH_H

/* POSIX 2008 (barriers, nanosleep, clock_gettime) under -std=c11 -pedantic; first include of every driver. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void sleep_ns(uint64_t ns) {
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Sorts `v` in place and returns its q-quantile (nearest rank), q in [0, 1]. */
static inline uint64_t quantile(uint64_t *v, size_t n, double q) {
    if (n == 0) return 0;
    qsort(v, n, sizeof *v, cmp_u64);
    size_t rank = (size_t)(q * (double)n);
    if (rank >= n) rank = n - 1;
    return v[rank];
}

/* Resident set size of this process in KiB, from /proc/self/status (0 if unreadable). */
static inline long rss_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = 0;
    if (!f) return 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) kib = strtol(line + 6, NULL, 10);
    fclose(f);
    return kib;
}

/* Exits with a message naming the failed step (never a token). */
static inline void die(const char *what, const char *detail) {
    fprintf(stderr, "bench: %s failed: %s\n", what, detail ? detail : "");
    exit(1);
}

static inline long arg_long(const char *s, const char *name) {
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 0) die("argument", name);
    return v;
}

/* The fetch drivers' arguments: MODE N REPEATS BASE_URL CA_FILE, MODE one of `modes[0]` and
 * `modes[1]`; exits with `usage` on anything else. */
typedef struct {
    int first_mode; /* MODE is modes[0] */
    long n, repeats;
    const char *base, *ca;
} fetch_args;

static inline fetch_args parse_fetch_args(int argc, char **argv, const char *usage, const char *const modes[2]) {
    if (argc != 6) die("usage", usage);
    fetch_args a = {strcmp(argv[1], modes[0]) == 0, arg_long(argv[2], "N"), arg_long(argv[3], "REPEATS"),
                    argv[4], argv[5]};
    if (!a.first_mode && strcmp(argv[1], modes[1]) != 0) die("argument", usage);
    if (a.n < 1) die("argument", "N must be positive");
    return a;
}

#endif
