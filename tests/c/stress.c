/*
 * Threaded stress driver, run by tests/stress.rs against an in-process sandbox that flaps
 * (outages, token rotations) while this runs: THREADS threads each make CALLS calls, mixing
 * ky_get_access_token, ky_get_access_token_alloc, ky_client_get_access_token, compare-and-invalidate
 * (global and per client), plain invalidation and async gets (default client and a shared
 * client) across four program ids. Each thread then makes a private client, queues async gets
 * on it and frees it at once, checking that ky_client_free waited for every callback.
 *
 *   stress OUT_FILE THREADS CALLS BASE_URL      (the default client reads KY_BASE_URL etc.)
 *
 * Every result goes to OUT_FILE, one line each: "<source> <program id> <status> <token or ->"
 * (for a failed _alloc, which has no status: -1 and the error message in place of the token);
 * the Rust test checks each token is one the sandbox issued for that id and each status is an
 * expected one. This program only checks what it alone can see (free-waits, async accounting)
 * and exits non-zero on a violation. Only pthread mutexes and condition variables synchronise
 * its own data, so helgrind/DRD can follow every happens-before edge.
 */
#define _POSIX_C_SOURCE 200809L
#include "ky_access_token.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_IDS 4
#define TOKEN_MAX 128
#define PRIVATE_ASYNC 6

static const char *const IDS[N_IDS] = {"stress-a", "stress-b", "stress-c", "stress-d"};

enum source {
    SRC_GET,              /* ky_get_access_token */
    SRC_ALLOC,            /* ky_get_access_token_alloc */
    SRC_CLIENT_GET,       /* ky_client_get_access_token on the shared client */
    SRC_ASYNC,            /* ky_get_access_token_async callback */
    SRC_CLIENT_ASYNC,     /* ky_client_get_access_token_async callback, shared client */
    SRC_PRIVATE_ASYNC,    /* callback of a client freed right after queuing */
    SRC_INVALIDATE_IF,    /* ky_invalidate_access_token_if / ky_client_…_if status */
    SRC_INVALIDATE,       /* ky_invalidate_access_token / ky_client_invalidate status */
    SRC_SUBMIT,           /* an async submission that was refused */
    N_SOURCES
};
static const char *const SOURCE_NAMES[N_SOURCES] = {
    "get", "alloc", "client_get", "async", "client_async", "private_async",
    "invalidate_if", "invalidate", "submit"};

typedef struct {
    unsigned char source;
    unsigned char id;
    int status;
    char token[TOKEN_MAX];
} record;

/* All results, appended under one lock (cheap next to a library call). */
static pthread_mutex_t records_lock = PTHREAD_MUTEX_INITIALIZER;
static record *records;
static size_t n_records, cap_records;

/* Async calls queued but not yet called back, for the default and the shared client. */
static pthread_mutex_t pending_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pending_zero = PTHREAD_COND_INITIALIZER;
static long pending;

static ky_client *shared_client;
static const char *base_url;
static long calls_per_thread;
static int failures;

static void fail(const char *what) {
    pthread_mutex_lock(&records_lock);
    failures++;
    pthread_mutex_unlock(&records_lock);
    fprintf(stderr, "stress: FAIL %s\n", what);
}

static void add(enum source source, int id, int status, const char *token, size_t len) {
    pthread_mutex_lock(&records_lock);
    if (n_records == cap_records) {
        cap_records = cap_records ? cap_records * 2 : 4096;
        records = realloc(records, cap_records * sizeof *records);
        if (!records) {
            perror("realloc");
            exit(2);
        }
    }
    record *r = &records[n_records++];
    r->source = (unsigned char)source;
    r->id = (unsigned char)id;
    r->status = status;
    if (!token) {
        strcpy(r->token, "-");
    } else if (len >= TOKEN_MAX) {
        strcpy(r->token, "TOO_LONG"); /* never a sandbox token: the test reports it */
    } else {
        memcpy(r->token, token, len);
        r->token[len] = '\0';
    }
    pthread_mutex_unlock(&records_lock);
}

/* userdata of a shared-pool async call: which source and id it was. */
typedef struct {
    enum source source;
    int id;
} async_call;

#ifdef STRESS_INJECT_RACE
/* tests/stress.rs builds a variant with this unsynchronised counter to prove that the
 * suppressions in tests/helgrind.supp still let helgrind see a race in C code. */
static long injected_race;
#endif

static void on_token(ky_status status, const char *token, size_t len, void *userdata) {
#ifdef STRESS_INJECT_RACE
    injected_race++;
#endif
    if ((status == KY_OK) != (token != NULL) || (token && strlen(token) != len))
        fail("callback token does not match its status/length");
    /* The userdata was filled under pending_lock: reading it under the same lock gives helgrind
     * and DRD a happens-before edge they can see (the library's own queue uses futexes). */
    pthread_mutex_lock(&pending_lock);
    async_call call = *(async_call *)userdata;
    pthread_mutex_unlock(&pending_lock);
    free(userdata);
    add(call.source, call.id, (int)status, token, len);
    pthread_mutex_lock(&pending_lock);
    if (--pending == 0) pthread_cond_broadcast(&pending_zero);
    pthread_mutex_unlock(&pending_lock);
}

static void queue_async(const ky_client *client, int id) {
    async_call *call = malloc(sizeof *call);
    if (!call) exit(2);
    pthread_mutex_lock(&pending_lock);
    call->source = client ? SRC_CLIENT_ASYNC : SRC_ASYNC;
    call->id = id;
    pending++;
    pthread_mutex_unlock(&pending_lock);
    ky_status s = client ? ky_client_get_access_token_async(client, IDS[id], on_token, call)
                         : ky_get_access_token_async(IDS[id], on_token, call);
    if (s != KY_OK) {
        /* Not queued: the callback will not run. */
        free(call);
        add(SRC_SUBMIT, id, (int)s, NULL, 0);
        pthread_mutex_lock(&pending_lock);
        if (--pending == 0) pthread_cond_broadcast(&pending_zero);
        pthread_mutex_unlock(&pending_lock);
    }
}

/* A private client's callbacks count into this; ky_client_free must wait for all of them. */
typedef struct {
    pthread_mutex_t lock;
    int called;
    int id;
} private_calls;

static void on_private_token(ky_status status, const char *token, size_t len, void *userdata) {
    private_calls *calls = userdata;
    pthread_mutex_lock(&calls->lock);
    int id = calls->id;
    pthread_mutex_unlock(&calls->lock);
    add(SRC_PRIVATE_ASYNC, id, (int)status, token, len);
    /* Last: ky_client_free must not return before this. */
    pthread_mutex_lock(&calls->lock);
    calls->called++;
    pthread_mutex_unlock(&calls->lock);
}

static ky_client *new_client(void) {
    ky_config *cfg = NULL;
    ky_client *client = NULL;
    if (ky_config_new(&cfg) != KY_OK || ky_config_set_base_url(cfg, base_url) != KY_OK ||
        ky_config_set_cache_ttl_ms(cfg, 50) != KY_OK ||
        ky_config_set_timeout_ms(cfg, 30000) != KY_OK ||
        ky_config_set_max_retries(cfg, 0) != KY_OK || ky_client_new(cfg, &client) != KY_OK) {
        fprintf(stderr, "stress: client setup failed: %s\n", ky_last_error_message());
        exit(2);
    }
    ky_config_free(cfg);
    return client;
}

static void private_client_round(int id) {
    private_calls calls = {PTHREAD_MUTEX_INITIALIZER, 0, 0};
    pthread_mutex_lock(&calls.lock); /* published to the callbacks under their lock, as above */
    calls.id = id;
    pthread_mutex_unlock(&calls.lock);
    ky_client *client = new_client();
    int queued = 0;
    for (int i = 0; i < PRIVATE_ASYNC; i++) {
        ky_status s = ky_client_get_access_token_async(client, IDS[id], on_private_token, &calls);
        if (s == KY_OK)
            queued++;
        else
            add(SRC_SUBMIT, id, (int)s, NULL, 0);
    }
    ky_client_free(client); /* cancels what has not started, waits for the rest */
    pthread_mutex_lock(&calls.lock);
    int called = calls.called;
    pthread_mutex_unlock(&calls.lock);
    if (called != queued) fail("ky_client_free returned before every callback had run");
    pthread_mutex_destroy(&calls.lock);
}

static void *worker(void *arg) {
    unsigned seed = (unsigned)(size_t)arg * 2654435761u + 1;
    char buf[KY_TOKEN_BUFFER_SIZE];
    char last[N_IDS][TOKEN_MAX] = {{0}};
    for (long i = 0; i < calls_per_thread; i++) {
        seed = seed * 1103515245u + 12345u;
        int id = (int)((seed >> 16) % N_IDS);
        int op = (int)((seed >> 8) % 16);
        ky_status s;
        if (op < 4) {
            s = ky_get_access_token(IDS[id], buf, sizeof buf);
            add(SRC_GET, id, (int)s, s == KY_OK ? buf : NULL, s == KY_OK ? strlen(buf) : 0);
        } else if (op < 8) {
            s = ky_client_get_access_token(shared_client, IDS[id], buf, sizeof buf);
            add(SRC_CLIENT_GET, id, (int)s, s == KY_OK ? buf : NULL, s == KY_OK ? strlen(buf) : 0);
        } else if (op < 9) {
            char *token = ky_get_access_token_alloc(IDS[id]);
            if (token) {
                add(SRC_ALLOC, id, KY_OK, token, strlen(token));
            } else {
                /* No status from _alloc: status -1 and the message in place of the token. */
                const char *msg = ky_last_error_message();
                size_t n = strlen(msg);
                add(SRC_ALLOC, id, -1, msg, n < TOKEN_MAX ? n : TOKEN_MAX - 1);
            }
            ky_string_free(token);
            continue;
        } else if (op < 11) {
            queue_async(op == 9 ? NULL : shared_client, id);
            continue;
        } else if (op < 13) {
            /* As a game would after WeChat rejected the token it last used. */
            bool dropped = false;
            size_t len = strlen(last[id]);
            s = op == 11 ? ky_invalidate_access_token_if(IDS[id], last[id], len, &dropped)
                         : ky_client_invalidate_access_token_if(shared_client, IDS[id], last[id],
                                                                len, &dropped);
            add(SRC_INVALIDATE_IF, id, (int)s, NULL, 0);
            continue;
        } else if (op < 14) {
            s = (i & 1) ? ky_invalidate_access_token(IDS[id])
                        : ky_client_invalidate_access_token(shared_client, IDS[id]);
            add(SRC_INVALIDATE, id, (int)s, NULL, 0);
            continue;
        } else {
            s = ky_client_get_access_token(shared_client, IDS[id], buf, sizeof buf);
            add(SRC_CLIENT_GET, id, (int)s, s == KY_OK ? buf : NULL, s == KY_OK ? strlen(buf) : 0);
        }
        if (s == KY_OK && strlen(buf) < TOKEN_MAX) strcpy(last[id], buf);
    }
    private_client_round((int)((size_t)arg % N_IDS));
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s OUT_FILE THREADS CALLS BASE_URL\n", argv[0]);
        return 2;
    }
    long threads = strtol(argv[2], NULL, 10);
    calls_per_thread = strtol(argv[3], NULL, 10);
    base_url = argv[4];
    if (threads < 1 || threads > 256 || calls_per_thread < 1) {
        fprintf(stderr, "stress: bad THREADS or CALLS\n");
        return 2;
    }
    shared_client = new_client();

    pthread_t tids[256];
    for (long t = 0; t < threads; t++)
        if (pthread_create(&tids[t], NULL, worker, (void *)(size_t)t) != 0) {
            perror("pthread_create");
            return 2;
        }
    for (long t = 0; t < threads; t++) pthread_join(tids[t], NULL);

    pthread_mutex_lock(&pending_lock);
    while (pending > 0) pthread_cond_wait(&pending_zero, &pending_lock);
    pthread_mutex_unlock(&pending_lock);
    ky_client_free(shared_client);

    FILE *out = fopen(argv[1], "w");
    if (!out) {
        perror(argv[1]);
        return 2;
    }
    pthread_mutex_lock(&records_lock);
    for (size_t i = 0; i < n_records; i++)
        fprintf(out, "%s %s %d %s\n", SOURCE_NAMES[records[i].source], IDS[records[i].id],
                records[i].status, records[i].token);
    size_t total = n_records;
    int failed = failures;
    pthread_mutex_unlock(&records_lock);
    if (fclose(out) != 0) {
        perror(argv[1]);
        return 2;
    }
    free(records);
    printf("stress: %ld threads x %ld calls, %zu results, %d failed\n", threads, calls_per_thread,
           total, failed);
    return failed ? 1 : 0;
}
