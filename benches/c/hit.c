/* Cached hit: ns per ky_get_access_token / ky_client_get_access_token call with a warm cache,
 * from THREADS threads at once (total throughput), one JSON line per repeat.
 *
 *   hit global|client|client-per-thread|spin THREADS DURATION_MS REPEATS [ITERS]
 *
 * client-per-thread gives each thread a client of its own (nothing shared between threads): the
 * control that shows how much of the multi-thread cost is contention on the shared cache entry.
 * spin calls no library at all, just a ~20 ns computation on the thread's own data: its
 * 2-thread / 1-thread ratio says whether this (shared, noisy) machine really gave us two cores
 * at that moment, so a scaling figure can be read against it.
 * KY_BASE_URL names the sandbox (the one cold fetch that warms the cache). With ITERS > 0 a single
 * thread makes exactly ITERS calls instead (for callgrind instruction counts). All threads ask for
 * the same program id: that is the game-server case (one game, many request threads). */
#include "bench.h"

#include <pthread.h>
#include <stdatomic.h>

#include "ky_access_token.h"

static const char *const ID = "223fc70098ad11e9a5898928ba7882e6";

static ky_client *client; /* NULL: the global functions (or one client per thread) */
static bool per_thread, spin;
static atomic_bool stop;
static pthread_barrier_t start;

typedef struct {
    ky_client *own;
    uint64_t calls, elapsed_ns, cpu_ns, failures;
} worker;

/* CPU time this thread has run: unlike wall time it does not grow while another process holds
 * the core, but it does grow with cache misses on lines another core wrote (contention). */
static uint64_t thread_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A fixed chain of dependent multiplies on thread-local data: no memory shared, no library. */
static ky_status spin_once(char *buf) {
    uint64_t x = (uint64_t)(unsigned char)buf[0] + 1;
    for (int i = 0; i < 8; i++) x = x * 6364136223846793005u + 1442695040888963407u;
    buf[0] = (char)(x >> 56);
    return KY_OK;
}

static inline ky_status get(const ky_client *c, char *buf, size_t len) {
    if (spin) return spin_once(buf);
    return c ? ky_client_get_access_token(c, ID, buf, len) : ky_get_access_token(ID, buf, len);
}

static ky_client *make_client(void) {
    ky_config *cfg = NULL;
    ky_client *c = NULL;
    if (ky_config_from_env(&cfg) != KY_OK) die("ky_config_from_env", ky_last_error_message());
    if (ky_client_new(cfg, &c) != KY_OK) die("ky_client_new", ky_last_error_message());
    ky_config_free(cfg);
    return c;
}

static void *run(void *arg) {
    worker *w = arg;
    const ky_client *c = per_thread ? w->own : client;
    char buf[KY_TOKEN_BUFFER_SIZE];
    pthread_barrier_wait(&start);
    uint64_t t0 = now_ns(), c0 = thread_cpu_ns(), calls = 0, failures = 0;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        for (int i = 0; i < 256; i++) failures += get(c, buf, sizeof buf) != KY_OK;
        calls += 256;
    }
    w->elapsed_ns = now_ns() - t0;
    w->cpu_ns = thread_cpu_ns() - c0;
    w->calls = calls;
    w->failures = failures;
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 5) die("usage", "hit global|client THREADS DURATION_MS REPEATS [ITERS]");
    const char *mode = argv[1];
    long threads = arg_long(argv[2], "THREADS"), duration_ms = arg_long(argv[3], "DURATION_MS");
    long repeats = arg_long(argv[4], "REPEATS"), iters = argc > 5 ? arg_long(argv[5], "ITERS") : 0;
    if (threads < 1 || threads > 64) die("argument", "THREADS must be 1..64");
    worker w[64];
    memset(w, 0, sizeof w);
    per_thread = strcmp(mode, "client-per-thread") == 0;
    spin = strcmp(mode, "spin") == 0;
    if (strcmp(mode, "client") == 0) client = make_client();
    else if (per_thread) {
        for (long t = 0; t < threads; t++) w[t].own = make_client();
    } else if (strcmp(mode, "global") != 0 && !spin)
        die("argument", "MODE must be global, client, client-per-thread or spin");

    char buf[KY_TOKEN_BUFFER_SIZE];
    for (long t = 0; t < (per_thread ? threads : 1); t++)
        if (get(per_thread ? w[t].own : client, buf, sizeof buf) != KY_OK)
            die("warming the cache", ky_last_error_message());

    if (iters > 0) {
        const ky_client *c = per_thread ? w[0].own : client;
        uint64_t t0 = now_ns(), failures = 0;
        for (long i = 0; i < iters; i++) failures += get(c, buf, sizeof buf) != KY_OK;
        uint64_t dt = now_ns() - t0;
        if (failures) die("cached get", "a call did not return KY_OK");
        printf("{\"bench\":\"hit\",\"mode\":\"%s\",\"threads\":1,\"repeat\":0,\"calls\":%ld,"
               "\"ns_per_call\":%.2f}\n", mode, iters, (double)dt / (double)iters);
        ky_client_free(client);
        ky_client_free(w[0].own);
        return 0;
    }

    for (long r = 0; r < repeats; r++) {
        pthread_t tid[64];
        atomic_store(&stop, false);
        pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
        for (long t = 0; t < threads; t++)
            if (pthread_create(&tid[t], NULL, run, &w[t]) != 0) die("pthread_create", "");
        pthread_barrier_wait(&start);
        sleep_ns((uint64_t)duration_ms * 1000000u);
        atomic_store(&stop, true);
        double per_s = 0, ns_sum = 0, cpu_sum = 0;
        uint64_t calls = 0, failures = 0;
        for (long t = 0; t < threads; t++) {
            pthread_join(tid[t], NULL);
            calls += w[t].calls;
            failures += w[t].failures;
            per_s += (double)w[t].calls * 1e9 / (double)w[t].elapsed_ns;
            ns_sum += (double)w[t].elapsed_ns / (double)w[t].calls;
            cpu_sum += (double)w[t].cpu_ns / (double)w[t].calls;
        }
        pthread_barrier_destroy(&start);
        if (failures) die("cached get", "a call did not return KY_OK");
        /* ns_per_call: what one caller sees (mean over threads); mcalls_per_s: all threads together;
         * cpu_ns_per_call: CPU time per call (mean over threads). */
        printf("{\"bench\":\"hit\",\"mode\":\"%s\",\"threads\":%ld,\"repeat\":%ld,\"calls\":%llu,"
               "\"ns_per_call\":%.2f,\"mcalls_per_s\":%.3f,\"cpu_ns_per_call\":%.2f}\n",
               mode, threads, r, (unsigned long long)calls, ns_sum / (double)threads, per_s / 1e6,
               cpu_sum / (double)threads);
        fflush(stdout);
    }
    ky_client_free(client);
    for (long t = 0; t < threads; t++) ky_client_free(w[t].own);
    return 0;
}
