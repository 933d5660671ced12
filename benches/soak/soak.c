/*
 * Soak load for benches/soak/run.sh: a mixed load through the C ABI for DURATION seconds, so the
 * script can watch this process's RSS, open fds and threads stay flat.
 *
 *   soak DURATION_S BASE_URL        (the default client reads KY_BASE_URL etc.)
 *
 * Threads: two on the default client (gets, _alloc, compare-and-invalidate, async gets), one on
 * a shared client (gets, async gets, invalidations), one on the sandbox's fault modes (HTTP 500,
 * malformed JSON, API errors, a 3000-byte token into a small buffer, slow answers), one churning
 * clients (new client with a prefetch list, gets, async gets, free). A log callback counts lines.
 * Prints progress every 10 s and the totals by status at the end; exit 1 on a broken contract.
 */
#define _POSIX_C_SOURCE 200809L
#include "ky_access_token.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_IDS 8
#define SLOTS 16

static const char *base_url;
static atomic_bool stop;
static atomic_long by_status[SLOTS];
static atomic_long calls, callbacks_pending, log_lines, broken;
static ky_client *shared_client;

static void count(ky_status s) {
    atomic_fetch_add(&calls, 1);
    atomic_fetch_add(&by_status[(unsigned)s < SLOTS ? (unsigned)s : SLOTS - 1], 1);
}

static void id_of(int n, char out[32]) { snprintf(out, 32, "soak-%d", n % N_IDS); }

static void on_token(ky_status s, const char *token, size_t len, void *userdata) {
    (void)userdata;
    if ((s == KY_OK) != (token != NULL) || (token && strlen(token) != len))
        atomic_fetch_add(&broken, 1);
    count(s);
    atomic_fetch_sub(&callbacks_pending, 1);
}

static void on_log(ky_log_level level, const char *line, void *userdata) {
    (void)level;
    (void)line;
    (void)userdata;
    atomic_fetch_add(&log_lines, 1);
}

static void nap_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static ky_client *new_client(int prefetch) {
    ky_config *cfg = NULL;
    ky_client *client = NULL;
    char id[32];
    id_of(prefetch, id);
    if (ky_config_from_env(&cfg) != KY_OK || ky_config_set_base_url(cfg, base_url) != KY_OK ||
        ky_config_set_cache_ttl_ms(cfg, 100) != KY_OK ||
        ky_config_set_stale_if_error_ms(cfg, 1000) != KY_OK ||
        (prefetch >= 0 && ky_config_add_prefetch(cfg, id) != KY_OK) ||
        ky_client_new(cfg, &client) != KY_OK) {
        fprintf(stderr, "soak: client setup failed: %s\n", ky_last_error_message());
        exit(2);
    }
    ky_config_free(cfg);
    return client;
}

static void queue_async(const ky_client *client, const char *id) {
    atomic_fetch_add(&callbacks_pending, 1);
    ky_status s = client ? ky_client_get_access_token_async(client, id, on_token, NULL)
                         : ky_get_access_token_async(id, on_token, NULL);
    if (s != KY_OK) {
        atomic_fetch_sub(&callbacks_pending, 1);
        count(s);
    }
}

static void *default_client_load(void *arg) {
    unsigned seed = (unsigned)(size_t)arg + 7;
    char buf[KY_TOKEN_BUFFER_SIZE], id[32];
    for (long i = 0; !atomic_load(&stop); i++) {
        seed = seed * 1103515245u + 12345u;
        id_of((int)(seed >> 16), id);
        switch ((seed >> 8) % 8) {
        case 0: {
            char *token = ky_get_access_token_alloc(id);
            count(token ? KY_OK : KY_ERR_HTTP_STATUS); /* only an outage can fail here */
            ky_string_free(token);
            break;
        }
        case 1:
            queue_async(NULL, id);
            break;
        case 2: {
            ky_status s = ky_get_access_token(id, buf, sizeof buf);
            count(s);
            if (s == KY_OK) count(ky_invalidate_access_token_if(id, buf, strlen(buf), NULL));
            break;
        }
        default:
            count(ky_get_access_token(id, buf, sizeof buf));
        }
        if (i % 64 == 0) nap_ms(1); /* a game server's pace, not a busy loop */
    }
    return NULL;
}

static void *shared_client_load(void *arg) {
    (void)arg;
    char buf[KY_TOKEN_BUFFER_SIZE], id[32];
    for (long i = 0; !atomic_load(&stop); i++) {
        id_of((int)i, id);
        if (i % 5 == 0)
            queue_async(shared_client, id);
        else if (i % 17 == 0)
            count(ky_client_invalidate_access_token(shared_client, id));
        else
            count(ky_client_get_access_token(shared_client, id, buf, sizeof buf));
        if (i % 64 == 0) nap_ms(1);
    }
    return NULL;
}

static void *fault_load(void *arg) {
    (void)arg;
    static const char *const faults[] = {"fault-http-500", "fault-malformed", "fault-api-error",
                                         "fault-not-json", "fault-no-token",  "slow-30"};
    char small[64];
    for (long i = 0; !atomic_load(&stop); i++) {
        const char *id = faults[i % (sizeof faults / sizeof *faults)];
        count(ky_get_access_token(id, small, sizeof small));
        ky_invalidate_access_token(id); /* refetch every time: the failure paths, not the cache */
        ky_status s = ky_get_access_token("big-token-3000", small, sizeof small);
        count(s);
        if (s == KY_ERR_BUFFER_TOO_SMALL) {
            char *token = ky_get_access_token_alloc("big-token-3000");
            count(token && strlen(token) == 3000 ? KY_OK : KY_ERR_INTERNAL);
            ky_string_free(token);
        }
        nap_ms(5);
    }
    return NULL;
}

static void *client_churn(void *arg) {
    (void)arg;
    char buf[KY_TOKEN_BUFFER_SIZE], id[32];
    for (int i = 0; !atomic_load(&stop); i++) {
        ky_client *client = new_client(i);
        id_of(i + 1, id);
        count(ky_client_get_access_token(client, id, buf, sizeof buf));
        for (int k = 0; k < 4; k++) queue_async(client, id);
        ky_client_free(client); /* cancels or waits for those four */
        nap_ms(20);
    }
    return NULL;
}

int main(int argc, char **argv) {
    long duration = argc == 3 ? strtol(argv[1], NULL, 10) : 0;
    if (duration < 1) {
        fprintf(stderr, "usage: %s DURATION_S BASE_URL (DURATION_S: whole seconds, > 0)\n", argv[0]);
        return 2;
    }
    base_url = argv[2];
    ky_set_log_callback(on_log, NULL, KY_LOG_INFO);
    shared_client = new_client(-1);

    void *(*const loads[])(void *) = {default_client_load, default_client_load,
                                      shared_client_load, fault_load, client_churn};
    enum { N_LOADS = sizeof loads / sizeof *loads };
    pthread_t tids[N_LOADS];
    for (size_t t = 0; t < N_LOADS; t++) pthread_create(&tids[t], NULL, loads[t], (void *)t);
    for (long s = 1; s <= duration; s++) {
        nap_ms(1000);
        if (s % 10 == 0) {
            printf("soak: %4ld s, %ld calls, %ld log lines\n", s, atomic_load(&calls),
                   atomic_load(&log_lines));
            fflush(stdout);
        }
    }
    atomic_store(&stop, true);
    for (size_t t = 0; t < N_LOADS; t++) pthread_join(tids[t], NULL);
    while (atomic_load(&callbacks_pending) > 0) nap_ms(10);
    ky_client_free(shared_client);
    ky_set_log_callback(NULL, NULL, KY_LOG_INFO);

    printf("soak: done, %ld calls (%.0f/s):", atomic_load(&calls),
           (double)atomic_load(&calls) / (double)duration);
    for (int s = 0; s < SLOTS; s++)
        if (atomic_load(&by_status[s])) printf(" %s=%ld", ky_status_name(s), atomic_load(&by_status[s]));
    printf(", %ld broken\n", atomic_load(&broken));
    return atomic_load(&broken) ? 1 : 0;
}
