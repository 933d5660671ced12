/*
 * Process-model test program, driven by tests/process_model.rs against the bundled sandbox
 * (KY_BASE_URL, and KY_CA_FILE for TLS). Each mode reproduces one way real hosts use the
 * library that once handed out another program's token, hung, or killed the process:
 *
 *   test_process fork-pool        fork with a pooled keep-alive connection, then every process
 *                                 fetches its own distinct ids from 4 threads at once
 *   test_process fork-inflight    fork while another thread leads a slow fetch of the same id
 *   test_process fork-first-call  fork while another thread makes the process default client
 *                                 (its first call; KY_TEST_DEFAULT_CLIENT_DELAY_MS stretches it)
 *   test_process fork-threads     fork with live async workers, a refresh thread and a prefetch
 *                                 thread; async calls and ky_client_free in the child
 *   test_process log-deadlock     a log callback that waits for another thread's fetch while a
 *                                 third thread removes the callback
 *   test_process pthread-exit     an async callback that ends its thread with pthread_exit
 *   test_process string-free      ky_string_free on strings the caller zeroed or cut short
 *   test_process exit-outstanding exit() with async calls in flight, live workers, a refresh
 *                                 thread with a prefetch list and a log callback installed
 *   test_process setters-alone    (with KY_TIMEOUT_MS=0 in the environment) each setter checks
 *                                 its own value only; the bad variable is named, no request sent
 *
 * The sandbox answers id X with the token "sandbox_X_v1". The harness bounds every run with a
 * hard timeout and asserts nothing was written to stderr. Compiled with -Wall -Wextra -Werror
 * -pedantic as C11 and C++17.
 */
#include "ky_access_token.h"
#include "check.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- helpers --------------------------------------------------------------------------- */

static void expect_token(const char *what, const char *id, ky_status status, const char *token) {
    char want[128];
    snprintf(want, sizeof want, "sandbox_%s_v1", id);
    CHECK(status == KY_OK, "%s %s: %s: %s", what, id, ky_status_name(status), ky_last_error_message());
    if (status == KY_OK) {
        CHECK(strcmp(token, want) == 0, "%s: want the token of %s, got \"%s\" (another program's token)",
              what, id, token);
    }
}

static void get_and_check(const char *what, const char *id) {
    char buf[KY_TOKEN_BUFFER_SIZE];
    ky_status status = ky_get_access_token(id, buf, sizeof buf);
    expect_token(what, id, status, buf);
}

static void sleep_ms(long ms) {
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

static uint64_t misses(void) {
    ky_stats stats;
    memset(&stats, 0, sizeof stats);
    if (ky_get_stats(&stats, sizeof stats) != KY_OK) return 0;
    return stats.cache_misses;
}

/* Waits for every child; a child's failure fails the parent. */
static void reap(pid_t *children, int n) {
    int i;
    for (i = 0; i < n; i++) {
        int status = 0;
        CHECK(waitpid(children[i], &status, 0) == children[i], "waitpid");
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d ended with status 0x%x", i, status);
    }
}

/* Ends a forked child with its verdict (no atexit handlers of the parent run twice). */
static void child_exit(const char *who) {
    printf("%s: %d passed, %d failed\n", who, passed, failed);
    fflush(stdout);
    _exit(failed == 0 ? 0 : 1);
}

/* A one-shot signal between threads. */
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int count;
} latch;

static void latch_init(latch *l) {
    pthread_mutex_init(&l->lock, NULL);
    pthread_cond_init(&l->cond, NULL);
    l->count = 0;
}

static void latch_add(latch *l) {
    pthread_mutex_lock(&l->lock);
    l->count++;
    pthread_cond_broadcast(&l->cond);
    pthread_mutex_unlock(&l->lock);
}

/* Waits until `count` reaches `n` (the harness's hard timeout bounds a hang). */
static void latch_wait(latch *l, int n) {
    pthread_mutex_lock(&l->lock);
    while (l->count < n) pthread_cond_wait(&l->cond, &l->lock);
    pthread_mutex_unlock(&l->lock);
}

/* ---- fork-pool --------------------------------------------------------------------------- */

typedef struct {
    int proc;
    int thread;
} pool_job;

static void *fetch_distinct_ids(void *arg) {
    const pool_job *job = (const pool_job *)arg;
    int i;
    for (i = 0; i < 10; i++) {
        char id[32];
        snprintf(id, sizeof id, "p%d_%d_%d", job->proc, job->thread, i);
        get_and_check("after fork", id);
    }
    return NULL;
}

static void fetch_from_threads(int proc) {
    pthread_t threads[4];
    pool_job jobs[4];
    int t;
    for (t = 0; t < 4; t++) {
        jobs[t].proc = proc;
        jobs[t].thread = t;
        pthread_create(&threads[t], NULL, fetch_distinct_ids, &jobs[t]);
    }
    for (t = 0; t < 4; t++) pthread_join(threads[t], NULL);
}

static void fork_pool(void) {
    pid_t children[3];
    int i;
    /* One fetch leaves a kept-alive connection in the pool: the children inherit it. */
    get_and_check("before fork", "p_parent");
    for (i = 0; i < 3; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            fetch_from_threads(i + 1);
            get_and_check("cached before fork", "p_parent");
            child_exit("fork-pool child");
        }
        children[i] = pid;
    }
    fetch_from_threads(0);
    reap(children, 3);
}

/* ---- fork-inflight ----------------------------------------------------------------------- */

/* A thread that fetches the id it is given and checks the token. */
static void *fetch_on_a_thread(void *id) {
    get_and_check("on another thread", (const char *)id);
    return NULL;
}

/* Forks a child that fetches `first`, then `second` (if not NULL), itself and ends with its
 * verdict; returns its pid to the parent. */
static pid_t fork_fetching(const char *who, const char *first, const char *second) {
    pid_t child = fork();
    CHECK(child >= 0, "fork");
    if (child == 0) {
        get_and_check(who, first);
        if (second != NULL) get_and_check(who, second);
        child_exit(who);
    }
    return child;
}

static void fork_inflight(void) {
    pthread_t leader;
    pid_t child;
    uint64_t before = misses();
    pthread_create(&leader, NULL, fetch_on_a_thread, (void *)"slow-1500");
    /* The leader has missed the cache and owns the flight once the miss is counted. */
    while (misses() == before) sleep_ms(5);
    sleep_ms(100);
    /* The leader thread does not exist in the child: its call must fetch on its own. */
    child = fork_fetching("fork-inflight child", "slow-1500", "inflight-other");
    pthread_join(leader, NULL);
    reap(&child, 1);
}

/* ---- fork-threads -------------------------------------------------------------------------- */

typedef struct {
    latch done;
    const char *id;
    ky_status status;
    char token[KY_TOKEN_BUFFER_SIZE];
} async_result;

static void on_token(ky_status status, const char *token, size_t token_len, void *userdata) {
    async_result *r = (async_result *)userdata;
    r->status = status;
    r->token[0] = '\0';
    if (status == KY_OK && token_len < sizeof r->token) memcpy(r->token, token, token_len + 1);
    latch_add(&r->done);
}

static void async_and_check(const char *what, ky_client *client, const char *id) {
    async_result r;
    ky_status queued;
    latch_init(&r.done);
    r.id = id;
    queued = client ? ky_client_get_access_token_async(client, id, on_token, &r)
                    : ky_get_access_token_async(id, on_token, &r);
    CHECK(queued == KY_OK, "%s: queue %s: %s", what, id, ky_last_error_message());
    if (queued != KY_OK) return;
    latch_wait(&r.done, 1);
    expect_token(what, id, r.status, r.token);
}

static void fork_threads(void) {
    ky_config *cfg = NULL;
    ky_client *client = NULL;
    pid_t child;
    CHECK(ky_config_from_env(&cfg) == KY_OK, "config: %s", ky_last_error_message());
    CHECK(ky_config_add_prefetch(cfg, "prefetched") == KY_OK, "prefetch: %s", ky_last_error_message());
    CHECK(ky_config_set_refresh_ahead(cfg, 0.01) == KY_OK, "refresh-ahead");
    CHECK(ky_client_new(cfg, &client) == KY_OK, "client: %s", ky_last_error_message());
    ky_config_free(cfg);
    /* Workers of both the client's pool and the default client's pool are alive now. */
    async_and_check("async before fork", client, "threads-a");
    async_and_check("default async before fork", NULL, "threads-b");
    {
        /* A hit past the refresh-ahead point queues a refresh: the refresh thread is alive. */
        char buf[KY_TOKEN_BUFFER_SIZE];
        sleep_ms(50);
        CHECK(ky_client_get_access_token(client, "threads-a", buf, sizeof buf) == KY_OK, "hit");
    }
    child = fork();
    if (child == 0) {
        async_and_check("async in the child", client, "threads-c");
        async_and_check("default async in the child", NULL, "threads-d");
        {
            char buf[KY_TOKEN_BUFFER_SIZE];
            ky_status status = ky_client_get_access_token(client, "prefetched", buf, sizeof buf);
            expect_token("prefetched id in the child", "prefetched", status, buf);
        }
        ky_client_free(client); /* must return: no parent thread to wait for */
        child_exit("fork-threads child");
    }
    async_and_check("async in the parent after fork", client, "threads-e");
    reap(&child, 1);
    ky_client_free(client);
}

/* ---- log-deadlock ---------------------------------------------------------------------------- */

static latch in_callback;
static pthread_t thread_a;
static int a_nested_status = -1;

static void on_log(ky_log_level level, const char *line, void *userdata) {
    char buf[KY_TOKEN_BUFFER_SIZE];
    (void)level;
    (void)userdata;
    /* Thread A's own "token fetched" line: from inside the callback, wait for B's fetch. */
    if (pthread_equal(pthread_self(), thread_a) && strstr(line, "ld-a") != NULL && a_nested_status < 0) {
        latch_add(&in_callback);
        a_nested_status = (int)ky_get_access_token("slow-1500", buf, sizeof buf);
    }
}

static void *thread_b_body(void *arg) {
    (void)arg;
    get_and_check("B leads", "slow-1500");
    return NULL;
}

static void *thread_a_body(void *arg) {
    (void)arg;
    get_and_check("A", "ld-a");
    return NULL;
}

static void *thread_c_body(void *arg) {
    (void)arg;
    CHECK(ky_set_log_callback(NULL, NULL, KY_LOG_DEBUG) == KY_OK, "remove: %s", ky_last_error_message());
    return NULL;
}

static void log_deadlock(void) {
    pthread_t b, c;
    uint64_t before = misses();
    latch_init(&in_callback);
    CHECK(ky_set_log_callback(on_log, NULL, KY_LOG_DEBUG) == KY_OK, "install");
    pthread_create(&b, NULL, thread_b_body, NULL);
    while (misses() == before) sleep_ms(5);
    sleep_ms(100);
    pthread_create(&thread_a, NULL, thread_a_body, NULL);
    latch_wait(&in_callback, 1);
    pthread_create(&c, NULL, thread_c_body, NULL);
    pthread_join(b, NULL);
    pthread_join(thread_a, NULL);
    pthread_join(c, NULL);
    CHECK(a_nested_status == KY_OK, "the callback's nested get: %d", a_nested_status);
}

/* ---- pthread-exit ------------------------------------------------------------------------------ */

static latch exiting;

static void exit_in_callback(ky_status status, const char *token, size_t token_len, void *userdata) {
    (void)status;
    (void)token;
    (void)token_len;
    (void)userdata;
    latch_add(&exiting);
    pthread_exit(NULL); /* what CPython does to a thread that wants the GIL during finalization */
}

static void pthread_exit_in_callback(void) {
    ky_config *cfg = NULL;
    ky_client *client = NULL;
    int i;
    latch_init(&exiting);
    CHECK(ky_config_from_env(&cfg) == KY_OK, "config");
    CHECK(ky_client_new(cfg, &client) == KY_OK, "client");
    ky_config_free(cfg);
    /* More than the pool's 4 workers end this way: each is replaced on demand. */
    for (i = 0; i < 6; i++) {
        CHECK(ky_client_get_access_token_async(client, "exit-cb", exit_in_callback, NULL) == KY_OK, "queue");
    }
    latch_wait(&exiting, 6);
    async_and_check("async after workers were ended", client, "exit-after");
    ky_client_free(client);
}

/* ---- string-free ------------------------------------------------------------------------------ */

static void string_free(void) {
    char *s = ky_get_access_token_alloc("strfree");
    CHECK(s != NULL, "alloc: %s", ky_last_error_message());
    if (s) {
        memset(s, 0, strlen(s)); /* the caller wiped the secret first */
        ky_string_free(s);
    }
    s = ky_get_access_token_alloc("strfree");
    CHECK(s != NULL, "alloc: %s", ky_last_error_message());
    if (s) {
        s[3] = '\0'; /* or cut it short */
        ky_string_free(s);
    }
}

/* ---- exit-outstanding ------------------------------------------------------------------------- */

static void log_nothing(ky_log_level level, const char *line, void *userdata) {
    (void)level;
    (void)line;
    (void)userdata;
}

static void ignore_token(ky_status status, const char *token, size_t token_len, void *userdata) {
    (void)status;
    (void)token;
    (void)token_len;
    (void)userdata;
}

static void exit_outstanding(void) {
    ky_config *cfg = NULL;
    ky_client *client = NULL;
    int i;
    CHECK(ky_set_log_callback(log_nothing, NULL, KY_LOG_DEBUG) == KY_OK, "log");
    CHECK(ky_config_from_env(&cfg) == KY_OK, "config");
    CHECK(ky_config_add_prefetch(cfg, "exit-prefetch") == KY_OK, "prefetch");
    CHECK(ky_client_new(cfg, &client) == KY_OK, "client");
    ky_config_free(cfg);
    for (i = 0; i < 8; i++) {
        CHECK(ky_client_get_access_token_async(client, "slow-3000", ignore_token, NULL) == KY_OK, "queue");
        CHECK(ky_get_access_token_async("slow-2999", ignore_token, NULL) == KY_OK, "queue default");
    }
    printf("test_process exit-outstanding: %d passed, %d failed\n", passed, failed);
    fflush(stdout);
    exit(failed == 0 ? 0 : 1); /* with all of that still running: must end now, cleanly */
}

/* ---- setters-alone ------------------------------------------------------------------------------ */

static void setters_alone(void) {
    ky_config *cfg = NULL;
    char buf[KY_TOKEN_BUFFER_SIZE];
    CHECK(ky_config_from_env(&cfg) == KY_ERR_INVALID_ARGUMENT, "from_env accepted KY_TIMEOUT_MS=0");
    CHECK(strstr(ky_last_error_message(), "KY_TIMEOUT_MS=0") != NULL, "%s", ky_last_error_message());
    CHECK(ky_config_new(&cfg) == KY_OK, "new");
    /* The bad variable has nothing to do with these. */
    CHECK(ky_config_set_proxy(cfg, "env") == KY_OK, "proxy env: %s", ky_last_error_message());
    CHECK(ky_config_set_max_retries(cfg, 3) == KY_OK, "retries: %s", ky_last_error_message());
    CHECK(ky_config_set_timeout_ms(cfg, 0) == KY_ERR_INVALID_ARGUMENT, "timeout 0 accepted");
    CHECK(ky_config_set_cache_ttl_ms(cfg, 1000) == KY_OK, "ttl after a rejected timeout: %s",
          ky_last_error_message());
    ky_config_free(cfg);
    CHECK(ky_get_access_token("abc", buf, sizeof buf) == KY_ERR_INVALID_ARGUMENT, "default client");
    CHECK(strstr(ky_last_error_message(), "KY_TIMEOUT_MS=0") != NULL, "%s", ky_last_error_message());
}

/* ---- fork-first-call ------------------------------------------------------------------ */

static void fork_first_call(void) {
    pthread_t maker;
    pid_t child;
    CHECK(pthread_create(&maker, NULL, fetch_on_a_thread, (void *)"first-call") == 0, "pthread_create");
    /* The maker is inside the (stretched) making now, or, on a very slow machine, not yet there:
     * then this only tests an ordinary fork. Either way the child must get its token. */
    sleep_ms(300);
    child = fork_fetching("fork-first-call child", "first-call-child", NULL);
    pthread_join(maker, NULL);
    get_and_check("parent", "first-call-parent");
    reap(&child, 1);
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    setvbuf(stdout, NULL, _IONBF, 0);
    if (strcmp(mode, "fork-pool") == 0) fork_pool();
    else if (strcmp(mode, "fork-inflight") == 0) fork_inflight();
    else if (strcmp(mode, "fork-first-call") == 0) fork_first_call();
    else if (strcmp(mode, "fork-threads") == 0) fork_threads();
    else if (strcmp(mode, "log-deadlock") == 0) log_deadlock();
    else if (strcmp(mode, "pthread-exit") == 0) pthread_exit_in_callback();
    else if (strcmp(mode, "string-free") == 0) string_free();
    else if (strcmp(mode, "exit-outstanding") == 0) exit_outstanding();
    else if (strcmp(mode, "setters-alone") == 0) setters_alone();
    else {
        fprintf(stderr, "unknown mode \"%s\"\n", mode);
        return 2;
    }
    printf("test_process %s: %d passed, %d failed\n", mode, passed, failed);
    return failed == 0 ? 0 : 1;
}
