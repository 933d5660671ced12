/* Refresh-ahead: a caller asking every ~1 ms for DURATION_MS, across several TTL boundaries, with
 * the sandbox answering after a delay (PUT /_sandbox/delay/MS, set by run.py). Without
 * refresh-ahead the call that finds the token expired waits for the fetch; with it, a hit past
 * FRACTION x TTL starts one background refresh and returns at once.
 *
 *   refresh_ahead FRACTION TTL_MS DURATION_MS PROGRAM_ID
 *
 * KY_BASE_URL names the sandbox. One JSON line: caller latency p50/p99/p99.9/max, calls slower
 * than 1 ms, and the client's upstream requests and background refreshes. */
#include "bench.h"

#include "ky_access_token.h"

int main(int argc, char **argv) {
    if (argc != 5) die("usage", "refresh_ahead FRACTION TTL_MS DURATION_MS PROGRAM_ID");
    double fraction = strtod(argv[1], NULL);
    long ttl_ms = arg_long(argv[2], "TTL_MS"), duration_ms = arg_long(argv[3], "DURATION_MS");
    const char *id = argv[4];

    ky_config *cfg = NULL;
    ky_client *client = NULL;
    if (ky_config_from_env(&cfg) != KY_OK) die("ky_config_from_env", ky_last_error_message());
    if (ky_config_set_cache_ttl_ms(cfg, (uint64_t)ttl_ms) != KY_OK) die("ttl", ky_last_error_message());
    if (ky_config_set_refresh_ahead(cfg, fraction) != KY_OK) die("refresh_ahead", ky_last_error_message());
    if (ky_client_new(cfg, &client) != KY_OK) die("ky_client_new", ky_last_error_message());
    ky_config_free(cfg);

    char buf[KY_TOKEN_BUFFER_SIZE];
    if (ky_client_get_access_token(client, id, buf, sizeof buf) != KY_OK) die("first get", ky_last_error_message());
    size_t cap = (size_t)duration_ms * 2 + 16, n = 0, slow = 0;
    uint64_t *lat = calloc(cap, sizeof *lat);
    if (!lat) die("calloc", "");
    uint64_t start = now_ns(), end = start + (uint64_t)duration_ms * 1000000u, next = start;
    while (n < cap && now_ns() < end) {
        uint64_t t0 = now_ns();
        ky_status s = ky_client_get_access_token(client, id, buf, sizeof buf);
        uint64_t dt = now_ns() - t0;
        if (s != KY_OK) die(ky_status_name(s), ky_last_error_message());
        lat[n++] = dt;
        slow += dt > 1000000u;
        next += 1000000u; /* every 1 ms; after a stall, carry on from now instead of bursting */
        uint64_t now = now_ns();
        if (next > now) sleep_ns(next - now);
        else next = now;
    }
    ky_stats st;
    ky_client_stats(client, &st, sizeof st);
    printf("{\"bench\":\"refresh_ahead\",\"fraction\":%.2f,\"ttl_ms\":%ld,\"calls\":%zu,\"p50_us\":%.2f,"
           "\"p99_us\":%.2f,\"p999_us\":%.2f,\"max_us\":%.1f,\"calls_over_1ms\":%zu,\"upstream_requests\":%llu,"
           "\"background_refreshes\":%llu}\n",
           fraction, ttl_ms, n, quantile(lat, n, 0.5) / 1e3, quantile(lat, n, 0.99) / 1e3,
           quantile(lat, n, 0.999) / 1e3, quantile(lat, n, 1.0) / 1e3, slow,
           (unsigned long long)st.upstream_requests, (unsigned long long)st.refresh_ahead_runs);
    ky_client_free(client);
    free(lat);
    return 0;
}
