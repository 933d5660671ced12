/*
 * Memory bound, driven by tests/memory_bound.rs against a minimal keep-alive loopback server:
 *
 *   memory ok|fail COUNT
 *
 * Fetches COUNT distinct program ids from 4 threads (every fetch succeeds, or every one fails
 * with an API error), the way a server that takes program ids from requests would. Prints the
 * resident set size before, at its peak and after the tokens expired, and checks:
 *   - RSS grows by at most 32 MB while COUNT ids go through the cache;
 *   - at most max_programs tokens are cached (KY_MAX_PROGRAMS), none for failed ids;
 *   - once the tokens expired (KY_CACHE_TTL_MS, no stale window), one call sweeps them all and
 *     RSS (after malloc_trim, so what malloc keeps for reuse does not count) is back within
 *     8 MB of where it started.
 */
#include "ky_access_token.h"
#include "check.h"

#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define THREADS 4
#define MB (1024.0 * 1024.0)

static int ok_mode;
static long per_thread;
static long unexpected;
static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;

static double rss_mb(void) {
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        fclose(f);
    }
    return (double)resident * (double)sysconf(_SC_PAGESIZE) / MB;
}

static ky_stats stats(void) {
    ky_stats s;
    memset(&s, 0, sizeof s);
    ky_get_stats(&s, sizeof s);
    return s;
}

static void *fetch_ids(void *arg) {
    long t = (long)arg, i, bad = 0;
    char id[40], buf[KY_TOKEN_BUFFER_SIZE];
    for (i = 0; i < per_thread; i++) {
        ky_status status;
        snprintf(id, sizeof id, "m%ld_%ld", t, i);
        status = ky_get_access_token(id, buf, sizeof buf);
        if (status != (ok_mode ? KY_OK : KY_ERR_API)) bad++;
    }
    pthread_mutex_lock(&count_lock);
    unexpected += bad;
    pthread_mutex_unlock(&count_lock);
    return NULL;
}

static void run_threads(long count) {
    pthread_t threads[THREADS];
    long t;
    per_thread = count / THREADS;
    for (t = 0; t < THREADS; t++) pthread_create(&threads[t], NULL, fetch_ids, (void *)t);
    for (t = 0; t < THREADS; t++) pthread_join(threads[t], NULL);
}

int main(int argc, char **argv) {
    long count;
    double before, peak, after;
    ky_stats s;
    char buf[KY_TOKEN_BUFFER_SIZE];
    const char *ttl = getenv("KY_CACHE_TTL_MS");
    const char *max = getenv("KY_MAX_PROGRAMS");
    if (argc != 3 || !ttl || !max) {
        fprintf(stderr, "usage: KY_CACHE_TTL_MS=.. KY_MAX_PROGRAMS=.. memory ok|fail COUNT\n");
        return 2;
    }
    ok_mode = strcmp(argv[1], "ok") == 0;
    count = atol(argv[2]);

    /* The library, its client and the first connection exist before the baseline. */
    ky_get_access_token("warmup", buf, sizeof buf);
    malloc_trim(0);
    before = rss_mb();

    run_threads(count);
    peak = rss_mb();
    s = stats();
    CHECK(unexpected == 0, "%ld calls had an unexpected status", unexpected);
    CHECK(s.cached_programs <= (uint64_t)atol(max), "%llu tokens cached, cap %s",
          (unsigned long long)s.cached_programs, max);
    if (!ok_mode) CHECK(s.cached_programs == 0, "failed ids left %llu tokens", (unsigned long long)s.cached_programs);
    CHECK(peak - before <= 32.0, "RSS grew by %.1f MB for %ld ids (limit 32 MB)", peak - before, count);

    /* Let every token expire (the sweep runs at most once a second), then one call sweeps. */
    {
        long ms = atol(ttl) + 1500;
        struct timespec ts;
        ts.tv_sec = ms / 1000;
        ts.tv_nsec = (ms % 1000) * 1000000L;
        nanosleep(&ts, NULL);
    }
    ky_get_access_token("after-expiry", buf, sizeof buf);
    s = stats();
    CHECK(s.cached_programs <= 1, "%llu tokens still cached after they expired",
          (unsigned long long)s.cached_programs);
    malloc_trim(0);
    after = rss_mb();
    CHECK(after - before <= 8.0, "RSS after expiry is %.1f MB above the start", after - before);

    printf("memory %s: %ld ids: RSS %.1f MB before, %.1f MB at the end (+%.1f), %.1f MB after expiry (%+.1f)\n",
           argv[1], count, before, peak, peak - before, after, after - before);
    printf("memory: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
