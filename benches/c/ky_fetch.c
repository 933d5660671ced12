/* Cold fetch through this library over loopback TLS: every call goes to the server (cache TTL 0).
 *
 *   ky_fetch pooled|new-client N REPEATS BASE_URL CA_FILE
 *
 * pooled: one client for all fetches; after one warm-up fetch, the library's HTTP agent (ureq)
 *   keeps the connection in its pool, so this measures request + response on a reused TLS
 *   connection (run.py counts the TCP connections actually opened).
 * new-client: a new client per fetch, so every fetch opens a new TCP + TLS connection; the time
 *   for ky_client_new (configuration check, CA file, root store) is reported separately.
 * One JSON line per repeat with the median and mean microseconds per fetch. */
#include "bench.h"

#include "ky_access_token.h"

static const char *const ID = "223fc70098ad11e9a5898928ba7882e6";

static ky_client *new_client(const char *base, const char *ca) {
    ky_config *cfg = NULL;
    ky_client *c = NULL;
    if (ky_config_new(&cfg) != KY_OK) die("ky_config_new", ky_last_error_message());
    if (ky_config_set_base_url(cfg, base) != KY_OK) die("ky_config_set_base_url", ky_last_error_message());
    if (ky_config_set_ca_file(cfg, ca) != KY_OK) die("ky_config_set_ca_file", ky_last_error_message());
    if (ky_config_set_cache_ttl_ms(cfg, 0) != KY_OK) die("ky_config_set_cache_ttl_ms", ky_last_error_message());
    if (ky_config_set_max_retries(cfg, 0) != KY_OK) die("ky_config_set_max_retries", ky_last_error_message());
    if (ky_client_new(cfg, &c) != KY_OK) die("ky_client_new", ky_last_error_message());
    ky_config_free(cfg);
    return c;
}

static void fetch(ky_client *c) {
    char buf[KY_TOKEN_BUFFER_SIZE];
    ky_status s = ky_client_get_access_token(c, ID, buf, sizeof buf);
    if (s != KY_OK) die(ky_status_name(s), ky_last_error_message());
}

int main(int argc, char **argv) {
    static const char *const modes[2] = {"pooled", "new-client"};
    const fetch_args a = parse_fetch_args(argc, argv, "ky_fetch pooled|new-client N REPEATS BASE_URL CA_FILE", modes);
    const int pooled = a.first_mode; /* MODE is pooled */
    uint64_t *us = calloc((size_t)a.n, sizeof *us), *setup = calloc((size_t)a.n, sizeof *setup);
    if (!us || !setup) die("calloc", "");

    ky_client *shared = pooled ? new_client(a.base, a.ca) : NULL;
    if (pooled) fetch(shared); /* opens the connection the pool then keeps */
    for (long r = 0; r < a.repeats; r++) {
        double sum = 0;
        for (long i = 0; i < a.n; i++) {
            uint64_t t0 = now_ns();
            ky_client *c = pooled ? shared : new_client(a.base, a.ca);
            uint64_t t1 = now_ns();
            fetch(c);
            uint64_t t2 = now_ns();
            if (!pooled) ky_client_free(c);
            setup[i] = t1 - t0;
            us[i] = t2 - t1;
            sum += (double)(t2 - t1);
        }
        printf("{\"bench\":\"fetch\",\"peer\":\"ky\",\"mode\":\"%s\",\"repeat\":%ld,\"n\":%ld,\"p50_us\":%.1f,"
               "\"mean_us\":%.1f,\"client_new_p50_us\":%.1f,\"warmup\":%d}\n",
               argv[1], r, a.n, quantile(us, (size_t)a.n, 0.5) / 1e3, sum / (double)a.n / 1e3,
               quantile(setup, (size_t)a.n, 0.5) / 1e3, r == 0 && pooled);
        fflush(stdout);
    }
    ky_client_free(shared);
    free(us);
    free(setup);
    return 0;
}
