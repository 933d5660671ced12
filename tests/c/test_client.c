/*
 * C test of the client-handle API, driven by tests/c_abi.rs against the bundled sandbox:
 * configuration setters and their validation, per-client get / alloc / invalidate /
 * compare-and-invalidate, the versioned stats struct, the log callback (never the token), and
 * asynchronous calls under load with ky_client_free racing their callbacks.
 *
 *   test_client KY_BASE_URL
 *
 * Compiled with -Wall -Wextra -Werror -pedantic as C11 and as C++17, run under valgrind.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep under -std=c11 -pedantic */
#include "ky_access_token.h"
#include "check.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char SAMPLE_ID[] = "223fc70098ad11e9a5898928ba7882e6";
static const char SAMPLE_TOKEN_PREFIX[] = "27_t3e8";

static const char *base_url;

#define EXPECT(call, want)                                                                  \
    do {                                                                                    \
        ky_status got_ = (call);                                                            \
        CHECK(got_ == (want), "%s: got %s (%s)", #call, ky_status_name(got_),               \
              ky_last_error_message());                                                     \
    } while (0)

static ky_client *new_client(uint64_t ttl_ms) {
    ky_config *cfg = NULL;
    ky_client *client = NULL;
    EXPECT(ky_config_new(&cfg), KY_OK);
    EXPECT(ky_config_set_base_url(cfg, base_url), KY_OK);
    EXPECT(ky_config_set_timeout_ms(cfg, 5000), KY_OK);
    EXPECT(ky_config_set_max_retries(cfg, 0), KY_OK);
    EXPECT(ky_config_set_cache_ttl_ms(cfg, ttl_ms), KY_OK);
    EXPECT(ky_config_set_user_agent_suffix(cfg, "c-test/1.0"), KY_OK);
    EXPECT(ky_client_new(cfg, &client), KY_OK);
    ky_config_free(cfg);
    return client;
}

static void test_config_validation(void) {
    ky_config *cfg = NULL;
    ky_client *client = (ky_client *)&cfg; /* a canary: must stay untouched on failure */
    ky_client *const canary = client;

    EXPECT(ky_config_new(NULL), KY_ERR_INVALID_ARGUMENT);
    EXPECT(ky_config_set_timeout_ms(NULL, 10), KY_ERR_INVALID_ARGUMENT);
    CHECK(strstr(ky_last_error_message(), "config is NULL") != NULL, "%s", ky_last_error_message());
    EXPECT(ky_client_new(NULL, &client), KY_ERR_INVALID_ARGUMENT);
    CHECK(client == canary, "out written on failure");

    EXPECT(ky_config_new(&cfg), KY_OK);
    EXPECT(ky_config_set_timeout_ms(cfg, 0), KY_ERR_INVALID_ARGUMENT);
    CHECK(strstr(ky_last_error_message(), "timeout") != NULL, "%s", ky_last_error_message());
    EXPECT(ky_config_set_connect_timeout_ms(cfg, 0), KY_ERR_INVALID_ARGUMENT);
    EXPECT(ky_config_set_max_retries(cfg, 11), KY_ERR_INVALID_ARGUMENT);
    EXPECT(ky_config_set_refresh_ahead(cfg, 1.5), KY_ERR_INVALID_ARGUMENT);
    EXPECT(ky_config_set_refresh_ahead(cfg, -0.5), KY_ERR_INVALID_ARGUMENT);
    EXPECT(ky_config_set_stale_if_error_ms(cfg, 300001), KY_ERR_INVALID_ARGUMENT);
    CHECK(strstr(ky_last_error_message(), "5 minutes") != NULL, "%s", ky_last_error_message());
    EXPECT(ky_config_set_base_url(cfg, "ftp://example.com"), KY_ERR_INVALID_ARGUMENT);
    EXPECT(ky_config_set_base_url(cfg, "http://api.kuaiyugo.com"), KY_ERR_INVALID_ARGUMENT);
    EXPECT(ky_config_set_base_url(cfg, NULL), KY_ERR_INVALID_ARGUMENT);
    EXPECT(ky_config_set_proxy(cfg, "socks9://x"), KY_ERR_INVALID_ARGUMENT);
    EXPECT(ky_config_set_proxy(cfg, "http://user:hunter2@127.0.0.1:3128"), KY_OK);
    EXPECT(ky_config_set_proxy(cfg, "none"), KY_OK);
    EXPECT(ky_config_set_proxy(cfg, "env"), KY_OK);
    EXPECT(ky_config_set_user_agent_suffix(cfg, "bad\r\nheader: injected"), KY_ERR_INVALID_ARGUMENT);
    EXPECT(ky_config_add_prefetch(cfg, "not valid"), KY_ERR_INVALID_ARGUMENT);
    EXPECT(ky_config_set_ca_pem(cfg, NULL, 5), KY_ERR_INVALID_ARGUMENT);
    EXPECT(ky_config_set_ca_pem(cfg, (const uint8_t *)"x", 1), KY_OK); /* checked at client_new */
    EXPECT(ky_client_new(cfg, &client), KY_ERR_INVALID_ARGUMENT);
    CHECK(strstr(ky_last_error_message(), "PEM") != NULL, "%s", ky_last_error_message());
    CHECK(client == canary, "out written on failure");
    EXPECT(ky_config_set_ca_pem(cfg, NULL, 0), KY_OK);
    /* A CA file must be a regular file of at most 4 MiB: checked by the setter (never opened,
     * so a FIFO cannot block it), and read again with the same limits by ky_client_new. */
    EXPECT(ky_config_set_ca_file(cfg, "/nonexistent/ca.pem"), KY_ERR_INVALID_ARGUMENT);
    CHECK(strstr(ky_last_error_message(), "/nonexistent/ca.pem") != NULL, "%s", ky_last_error_message());
#ifdef _WIN32
    /* No /dev/zero on Windows (tests/dist.rs runs this under wine): a folder is no regular file. */
    EXPECT(ky_config_set_ca_file(cfg, "."), KY_ERR_INVALID_ARGUMENT);
#else
    EXPECT(ky_config_set_ca_file(cfg, "/dev/zero"), KY_ERR_INVALID_ARGUMENT);
#endif
    CHECK(strstr(ky_last_error_message(), "not a regular file") != NULL, "%s", ky_last_error_message());
    EXPECT(ky_config_set_ca_file(cfg, NULL), KY_OK);
    /* Each setter checks its own value only: a rejected timeout does not poison the others. */
    EXPECT(ky_config_set_timeout_ms(cfg, 0), KY_ERR_INVALID_ARGUMENT);
    EXPECT(ky_config_set_max_retries(cfg, 1), KY_OK);
    EXPECT(ky_config_set_max_programs(cfg, 0), KY_ERR_INVALID_ARGUMENT);
    CHECK(strstr(ky_last_error_message(), "max programs") != NULL, "%s", ky_last_error_message());
    EXPECT(ky_config_set_max_programs(cfg, 100), KY_OK);
    /* A rejected value leaves the earlier good one: this client uses the sandbox. */
    EXPECT(ky_config_set_base_url(cfg, base_url), KY_OK);
    EXPECT(ky_config_set_proxy(cfg, "none"), KY_OK);
    EXPECT(ky_config_set_base_url(cfg, "nonsense"), KY_ERR_INVALID_ARGUMENT);
    EXPECT(ky_client_new(cfg, &client), KY_OK);
    ky_config_free(cfg);
    {
        char token[KY_TOKEN_BUFFER_SIZE];
        EXPECT(ky_client_get_access_token(client, SAMPLE_ID, token, sizeof token), KY_OK);
    }
    ky_client_free(client);
    ky_client_free(NULL);
    ky_config_free(NULL);
}

static void test_get_alloc_invalidate(void) {
    ky_client *client = new_client(60000);
    char token[KY_TOKEN_BUFFER_SIZE], first[KY_TOKEN_BUFFER_SIZE];
    char *heap;
    bool dropped = true;

    EXPECT(ky_client_get_access_token(NULL, SAMPLE_ID, token, sizeof token), KY_ERR_INVALID_ARGUMENT);
    EXPECT(ky_client_get_access_token(client, "bad id", token, sizeof token), KY_ERR_INVALID_ARGUMENT);
    EXPECT(ky_client_get_access_token(client, SAMPLE_ID, token, sizeof token), KY_OK);
    CHECK(strncmp(token, SAMPLE_TOKEN_PREFIX, strlen(SAMPLE_TOKEN_PREFIX)) == 0, "wrong token");
    heap = ky_client_get_access_token_alloc(client, SAMPLE_ID);
    CHECK(heap != NULL && strcmp(heap, token) == 0, "alloc returned a different token");
    ky_string_free(heap);
    CHECK(ky_client_get_access_token_alloc(NULL, SAMPLE_ID) == NULL, "NULL client");

    /* Compare-and-invalidate: the current token drops once; a second report does nothing. */
    EXPECT(ky_client_get_access_token(client, "c-cas", first, sizeof first), KY_OK);
    EXPECT(ky_client_invalidate_access_token_if(client, "c-cas", "other", 5, &dropped), KY_OK);
    CHECK(!dropped, "a different token must not invalidate");
    EXPECT(ky_client_invalidate_access_token_if(client, "c-cas", first, strlen(first), &dropped), KY_OK);
    CHECK(dropped, "the current token must invalidate");
    EXPECT(ky_client_invalidate_access_token_if(client, "c-cas", first, strlen(first), NULL), KY_OK);
    EXPECT(ky_client_invalidate_access_token_if(client, "c-cas", NULL, 3, NULL), KY_ERR_INVALID_ARGUMENT);
    EXPECT(ky_client_invalidate_access_token(client, "c-cas"), KY_OK);
    EXPECT(ky_client_invalidate_access_token(client, NULL), KY_ERR_INVALID_ARGUMENT);
    EXPECT(ky_client_get_access_token(client, "c-cas", token, sizeof token), KY_OK);

    /* Failures carry their details like the global functions. */
    EXPECT(ky_client_get_access_token(client, "fault-api-error", token, sizeof token), KY_ERR_API);
    CHECK(ky_last_api_err() == 40013, "api err %lld", (long long)ky_last_api_err());
    CHECK(strstr(ky_last_error_message(), "项目不存在") != NULL, "%s", ky_last_error_message());
    ky_client_free(client);
}

static void test_stats(void) {
    ky_client *client = new_client(60000);
    char token[KY_TOKEN_BUFFER_SIZE];
    ky_stats stats;
    unsigned char small[16];

    EXPECT(ky_client_get_access_token(client, "st-1", token, sizeof token), KY_OK);
    EXPECT(ky_client_get_access_token(client, "st-1", token, sizeof token), KY_OK);
    EXPECT(ky_client_get_access_token(client, "st-2", token, sizeof token), KY_OK);
    EXPECT(ky_client_get_access_token(client, "fault-http-404", token, sizeof token), KY_ERR_HTTP_STATUS);

    memset(&stats, 0xAB, sizeof stats);
    EXPECT(ky_client_stats(client, &stats, sizeof stats), KY_OK);
    CHECK(stats.version == KY_STATS_VERSION, "version %u", stats.version);
    CHECK(stats.size == sizeof stats, "size %u", stats.size);
    CHECK(stats.cache_hits == 1, "hits %llu", (unsigned long long)stats.cache_hits);
    CHECK(stats.cache_misses == 3, "misses %llu", (unsigned long long)stats.cache_misses);
    CHECK(stats.upstream_requests == 3, "requests %llu", (unsigned long long)stats.upstream_requests);
    CHECK(stats.upstream_failures == 1, "failures %llu", (unsigned long long)stats.upstream_failures);
    CHECK(stats.upstream_failures_by_status[KY_ERR_HTTP_STATUS] == 1, "by status");
    CHECK(stats.cached_programs == 2, "cached %llu", (unsigned long long)stats.cached_programs);

    /* An older, smaller struct: only what fits is written. */
    memset(small, 0xCD, sizeof small);
    EXPECT(ky_client_stats(client, (ky_stats *)(void *)small, 12), KY_OK);
    CHECK(small[12] == 0xCD && small[15] == 0xCD, "wrote past out_size");
    {
        uint32_t size;
        memcpy(&size, small + 4, sizeof size);
        CHECK(size == 12, "size field %u", size);
    }
    EXPECT(ky_client_stats(client, &stats, 4), KY_ERR_INVALID_ARGUMENT);
    EXPECT(ky_client_stats(client, NULL, sizeof stats), KY_ERR_INVALID_ARGUMENT);
    EXPECT(ky_client_stats(NULL, &stats, sizeof stats), KY_ERR_INVALID_ARGUMENT);
    EXPECT(ky_get_stats(&stats, sizeof stats), KY_OK);
    ky_client_free(client);
}

/* ---- log callback ---- */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_lines, log_mentions_program, log_leaks_token, log_nested_status = -1;

static void on_log(ky_log_level level, const char *line, void *userdata) {
    (void)level;
    pthread_mutex_lock(&log_lock);
    log_lines++;
    if (strstr(line, (const char *)userdata) != NULL) log_mentions_program++;
    if (strstr(line, SAMPLE_TOKEN_PREFIX) != NULL || strstr(line, "sandbox_c-log") != NULL) log_leaks_token++;
    pthread_mutex_unlock(&log_lock);
    /* Changing the callback from inside it is refused, not a deadlock. */
    log_nested_status = ky_set_log_callback(NULL, NULL, KY_LOG_DEBUG);
}

static void test_log_callback(void) {
    static char program[] = "c-log";
    ky_client *client = new_client(60000);
    char token[KY_TOKEN_BUFFER_SIZE];

    EXPECT(ky_set_log_callback(on_log, program, 7), KY_ERR_INVALID_ARGUMENT);
    EXPECT(ky_set_log_callback(on_log, program, KY_LOG_DEBUG), KY_OK);
    EXPECT(ky_client_get_access_token(client, "c-log", token, sizeof token), KY_OK);
    EXPECT(ky_client_get_access_token(client, SAMPLE_ID, token, sizeof token), KY_OK);
    EXPECT(ky_set_log_callback(NULL, NULL, KY_LOG_DEBUG), KY_OK);
    /* Removed: no more lines. */
    EXPECT(ky_client_get_access_token(client, "c-log-2", token, sizeof token), KY_OK);
    pthread_mutex_lock(&log_lock);
    CHECK(log_lines >= 2, "lines %d", log_lines);
    CHECK(log_mentions_program >= 1, "no line names the program");
    CHECK(log_leaks_token == 0, "%d lines contain a token", log_leaks_token);
    CHECK(log_nested_status == KY_ERR_INVALID_ARGUMENT, "nested set returned %d", log_nested_status);
    pthread_mutex_unlock(&log_lock);
    ky_client_free(client);
}

/* ---- async ---- */

typedef struct {
    pthread_mutex_t lock;
    int calls, ok, cancelled, other, wrong_token;
    char expected[64];
} tally;

static void on_token(ky_status status, const char *token, size_t token_len, void *userdata) {
    tally *t = (tally *)userdata;
    pthread_mutex_lock(&t->lock);
    t->calls++;
    if (status == KY_OK) {
        t->ok++;
        if (token == NULL || strlen(token) != token_len ||
            (t->expected[0] != '\0' && strcmp(token, t->expected) != 0))
            t->wrong_token++;
    } else if (status == KY_ERR_CANCELLED) {
        t->cancelled++;
        if (token != NULL || strstr(ky_last_error_message(), "freed") == NULL) t->other++;
    } else {
        t->other++;
    }
    pthread_mutex_unlock(&t->lock);
}

typedef struct {
    ky_client *client;
    tally *counts;
    const char *id;
    int count;
    int queued;
} submitter;

static void *submit_main(void *arg) {
    submitter *s = (submitter *)arg;
    int i;
    for (i = 0; i < s->count; i++) {
        if (ky_client_get_access_token_async(s->client, s->id, on_token, s->counts) == KY_OK) s->queued++;
    }
    return NULL;
}

static void test_async_under_load(void) {
    enum { THREADS = 4, PER_THREAD = 50 };
    ky_client *client = new_client(60000);
    tally t;
    submitter subs[THREADS];
    pthread_t threads[THREADS];
    int i, queued = 0;

    memset(&t, 0, sizeof t);
    pthread_mutex_init(&t.lock, NULL);
    snprintf(t.expected, sizeof t.expected, "sandbox_c-async_v1");
    EXPECT(ky_client_get_access_token_async(client, "c-async", NULL, &t), KY_ERR_INVALID_ARGUMENT);
    EXPECT(ky_client_get_access_token_async(client, "no good", on_token, &t), KY_ERR_INVALID_ARGUMENT);
    EXPECT(ky_client_get_access_token_async(NULL, "c-async", on_token, &t), KY_ERR_INVALID_ARGUMENT);
    for (i = 0; i < THREADS; i++) {
        subs[i].client = client;
        subs[i].counts = &t;
        subs[i].id = "c-async";
        subs[i].count = PER_THREAD;
        subs[i].queued = 0;
        CHECK(pthread_create(&threads[i], NULL, submit_main, &subs[i]) == 0, "pthread_create");
    }
    for (i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        queued += subs[i].queued;
    }
    CHECK(queued == THREADS * PER_THREAD, "queued %d", queued);
    ky_client_free(client); /* waits for every callback */
    CHECK(t.calls == queued, "calls %d of %d", t.calls, queued);
    CHECK(t.ok + t.cancelled == queued && t.other == 0 && t.wrong_token == 0,
          "ok %d cancelled %d other %d wrong %d", t.ok, t.cancelled, t.other, t.wrong_token);
    pthread_mutex_destroy(&t.lock);
}

static void test_free_races_callbacks(void) {
    enum { CALLS = 300 };
    ky_client *client = new_client(60000);
    tally t;
    int i, queued = 0;
    char id[32];

    memset(&t, 0, sizeof t);
    pthread_mutex_init(&t.lock, NULL);
    for (i = 0; i < CALLS; i++) {
        snprintf(id, sizeof id, "slow-%d", 50 + i % 5);
        if (ky_client_get_access_token_async(client, id, on_token, &t) == KY_OK) queued++;
    }
    ky_client_free(client); /* while callbacks run and most calls are still queued */
    CHECK(queued == CALLS, "queued %d", queued);
    CHECK(t.calls == CALLS, "calls %d of %d after free returned", t.calls, CALLS);
    CHECK(t.other == 0 && t.wrong_token == 0, "other %d wrong %d", t.other, t.wrong_token);
    CHECK(t.cancelled > 0, "nothing was cancelled (ok %d)", t.ok);
    pthread_mutex_destroy(&t.lock);
}

static void test_default_client_async(void) {
    tally t;
    int spins = 0;
    memset(&t, 0, sizeof t);
    pthread_mutex_init(&t.lock, NULL);
    EXPECT(ky_get_access_token_async(SAMPLE_ID, on_token, &t), KY_OK);
    for (;;) { /* the default client is never freed: wait for the one callback */
        int calls;
        pthread_mutex_lock(&t.lock);
        calls = t.calls;
        pthread_mutex_unlock(&t.lock);
        if (calls == 1 || ++spins > 1000) break;
        {
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    CHECK(t.calls == 1 && t.ok == 1, "calls %d ok %d", t.calls, t.ok);
    pthread_mutex_destroy(&t.lock);
}

/* ky_*_async_detail: the callback receives the failure's message and API err as arguments. */
typedef struct {
    pthread_mutex_t lock;
    int calls;
    ky_status status;
    int64_t api_err;
    char token[64];
    char message[256];
} detail;

static void on_detail(ky_status status, const char *token, size_t token_len, const char *message,
                      int64_t api_err, void *userdata) {
    detail *d = (detail *)userdata;
    /* A ky_ call that fails inside the callback replaces this thread's last error; `message` is
     * the call's own copy and must not change. */
    EXPECT(ky_client_invalidate_access_token(NULL, "x"), KY_ERR_INVALID_ARGUMENT);
    pthread_mutex_lock(&d->lock);
    d->calls++;
    d->status = status;
    d->api_err = api_err;
    snprintf(d->token, sizeof d->token, "%s", token == NULL ? "(null)" : token);
    if (token != NULL && strlen(token) != token_len) snprintf(d->token, sizeof d->token, "(bad length)");
    snprintf(d->message, sizeof d->message, "%s", message == NULL ? "(null)" : message);
    pthread_mutex_unlock(&d->lock);
}

static void wait_for_detail(detail *d) { /* for the default client, which is never freed */
    int spins = 0, calls = 0;
    while (calls == 0 && ++spins < 6000) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&d->lock);
        calls = d->calls;
        pthread_mutex_unlock(&d->lock);
    }
}

static void test_async_detail(void) {
    ky_client *client = new_client(60000);
    detail ok, api, dflt;
    memset(&ok, 0, sizeof ok);
    memset(&api, 0, sizeof api);
    memset(&dflt, 0, sizeof dflt);
    pthread_mutex_init(&ok.lock, NULL);
    pthread_mutex_init(&api.lock, NULL);
    pthread_mutex_init(&dflt.lock, NULL);
    EXPECT(ky_client_get_access_token_async_detail(client, "c-detail", NULL, &ok), KY_ERR_INVALID_ARGUMENT);
    EXPECT(ky_client_get_access_token_async_detail(client, "no good", on_detail, &ok), KY_ERR_INVALID_ARGUMENT);
    EXPECT(ky_client_get_access_token_async_detail(NULL, "c-detail", on_detail, &ok), KY_ERR_INVALID_ARGUMENT);
    EXPECT(ky_get_access_token_async_detail(NULL, on_detail, &ok), KY_ERR_INVALID_ARGUMENT);
    EXPECT(ky_client_get_access_token_async_detail(client, "c-detail", on_detail, &ok), KY_OK);
    EXPECT(ky_client_get_access_token_async_detail(client, "fault-api-error", on_detail, &api), KY_OK);
    wait_for_detail(&ok); /* ky_client_free would cancel what has not run yet */
    wait_for_detail(&api);
    ky_client_free(client);

    CHECK(ok.calls == 1 && ok.status == KY_OK, "ok: calls %d status %d", ok.calls, (int)ok.status);
    CHECK(strcmp(ok.token, "sandbox_c-detail_v1") == 0, "ok: token %s", ok.token);
    CHECK(ok.message[0] == '\0' && ok.api_err == 0, "ok: message '%s' err %lld", ok.message, (long long)ok.api_err);

    CHECK(api.calls == 1 && api.status == KY_ERR_API, "api: calls %d status %d", api.calls, (int)api.status);
    CHECK(strcmp(api.token, "(null)") == 0, "api: token %s", api.token);
    CHECK(api.api_err == 40013, "api: err %lld", (long long)api.api_err);
    CHECK(strstr(api.message, "40013") != NULL && strstr(api.message, "项目不存在") != NULL,
          "api: message '%s'", api.message);

    EXPECT(ky_get_access_token_async_detail("fault-http-404", on_detail, &dflt), KY_OK);
    wait_for_detail(&dflt);
    CHECK(dflt.calls == 1 && dflt.status == KY_ERR_HTTP_STATUS, "default: calls %d status %d", dflt.calls,
          (int)dflt.status);
    CHECK(strstr(dflt.message, "404") != NULL && dflt.api_err == 0, "default: message '%s'", dflt.message);
    pthread_mutex_destroy(&ok.lock);
    pthread_mutex_destroy(&api.lock);
    pthread_mutex_destroy(&dflt.lock);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: test_client BASE_URL\n");
        return 2;
    }
    base_url = argv[1];
    test_config_validation();
    test_get_alloc_invalidate();
    test_stats();
    test_log_callback();
    test_async_under_load();
    test_free_races_callbacks();
    test_default_client_async();
    test_async_detail();
    printf("c_client: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
