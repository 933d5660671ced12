/* Stampede: THREADS threads ask one client for the same cold program id at the same moment; the
 * library must send exactly one upstream request and every caller must get the token. A fresh
 * program id each round keeps the cache cold. The sandbox's delay (PUT /_sandbox/delay/MS, set by
 * run.py) keeps the fetch in flight long enough for every thread to pile up behind it.
 *
 *   stampede THREADS ROUNDS ID_PREFIX
 *
 * One JSON line per round: the wait of each caller (from just before its call to its return),
 * p50/p99/max, and the client's upstream-request count for the round. Exits 1 if a call failed
 * or a round sent more than one request (run.py also checks the sandbox's own count per id). */
#include "bench.h"

#include <pthread.h>

#include "ky_access_token.h"

static ky_client *client;
static pthread_barrier_t go, done;
static char id[KY_MAX_PROGRAM_ID_LEN + 1];
static uint64_t *waits;
static int failures;
static pthread_mutex_t failures_lock = PTHREAD_MUTEX_INITIALIZER;
static long rounds;

static void *caller(void *arg) {
    size_t index = (size_t)arg;
    char buf[KY_TOKEN_BUFFER_SIZE];
    for (long r = 0; r < rounds; r++) {
        pthread_barrier_wait(&go);
        uint64_t t0 = now_ns();
        ky_status s = ky_client_get_access_token(client, id, buf, sizeof buf);
        waits[index] = now_ns() - t0;
        if (s != KY_OK) {
            pthread_mutex_lock(&failures_lock);
            if (failures++ == 0) fprintf(stderr, "stampede: %s: %s\n", ky_status_name(s), ky_last_error_message());
            pthread_mutex_unlock(&failures_lock);
        }
        pthread_barrier_wait(&done);
    }
    return NULL;
}

static ky_stats stats(void) {
    ky_stats st;
    if (ky_client_stats(client, &st, sizeof st) != KY_OK) die("ky_client_stats", ky_last_error_message());
    return st;
}

int main(int argc, char **argv) {
    if (argc != 4) die("usage", "stampede THREADS ROUNDS ID_PREFIX");
    long threads = arg_long(argv[1], "THREADS");
    rounds = arg_long(argv[2], "ROUNDS");
    const char *prefix = argv[3];
    if (threads < 1 || threads > 1024) die("argument", "THREADS must be 1..1024");
    if (strlen(prefix) > 20) die("argument", "ID_PREFIX longer than 20");

    ky_config *cfg = NULL;
    if (ky_config_from_env(&cfg) != KY_OK) die("ky_config_from_env", ky_last_error_message());
    ky_config_set_max_retries(cfg, 0); /* a retry would be a second request: count only the stampede */
    ky_config_set_timeout_ms(cfg, 30000);
    if (ky_client_new(cfg, &client) != KY_OK) die("ky_client_new", ky_last_error_message());
    ky_config_free(cfg);

    waits = calloc((size_t)threads, sizeof *waits);
    pthread_t *tid = calloc((size_t)threads, sizeof *tid);
    if (!waits || !tid) die("calloc", "");
    pthread_barrier_init(&go, NULL, (unsigned)threads + 1);
    pthread_barrier_init(&done, NULL, (unsigned)threads + 1);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024); /* 256 threads x 8 MiB default would be wasteful */
    for (long t = 0; t < threads; t++)
        if (pthread_create(&tid[t], &attr, caller, (void *)(size_t)t) != 0) die("pthread_create", "");

    int bad_rounds = 0;
    for (long r = 0; r < rounds; r++) {
        snprintf(id, sizeof id, "%s-%ld-r%ld", prefix, threads, r);
        uint64_t before = stats().upstream_requests;
        uint64_t t0 = now_ns();
        pthread_barrier_wait(&go);
        pthread_barrier_wait(&done);
        uint64_t wall = now_ns() - t0;
        ky_stats after = stats();
        uint64_t requests = after.upstream_requests - before;
        bad_rounds += requests != 1;
        uint64_t mx = quantile(waits, (size_t)threads, 1.0);
        printf("{\"bench\":\"stampede\",\"threads\":%ld,\"round\":%ld,\"id\":\"%s\",\"upstream_requests\":%llu,"
               "\"p50_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f,\"round_ms\":%.2f,\"coalesced_total\":%llu}\n",
               threads, r, id, (unsigned long long)requests, quantile(waits, (size_t)threads, 0.5) / 1e3,
               quantile(waits, (size_t)threads, 0.99) / 1e3, mx / 1e3, wall / 1e6,
               (unsigned long long)after.coalesced_waiters);
        fflush(stdout);
    }
    for (long t = 0; t < threads; t++) pthread_join(tid[t], NULL);
    ky_client_free(client);
    if (failures) die("stampede", "a caller did not get the token");
    if (bad_rounds) die("stampede", "a round sent more than one upstream request");
    return 0;
}
