/* The same fetch with libcurl (OpenSSL), the usual C alternative: GET the token URL over loopback
 * TLS, trusting the sandbox CA, and check the answer carries an accessToken.
 *
 *   curl_fetch fresh|reuse N REPEATS BASE_URL CA_FILE
 *
 * fresh: one easy handle, but CURLOPT_FRESH_CONNECT + CURLOPT_FORBID_REUSE: a new TCP + TLS
 *   connection per fetch (curl's CA store stays cached in the handle, as a long-lived program's
 *   would). reuse: one easy handle with keep-alive: one connection for all fetches.
 * One JSON line per repeat, like ky_fetch. */
#include "bench.h"

#include <curl/curl.h>

typedef struct {
    char data[4096];
    size_t len;
} body;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata) {
    body *b = userdata;
    size_t n = size * nmemb;
    if (b->len + n >= sizeof b->data) return 0; /* a token answer is a few hundred bytes */
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

int main(int argc, char **argv) {
    static const char *const modes[2] = {"fresh", "reuse"};
    const fetch_args a = parse_fetch_args(argc, argv, "curl_fetch fresh|reuse N REPEATS BASE_URL CA_FILE", modes);
    const int fresh = a.first_mode; /* MODE is fresh */
    char url[512];
    snprintf(url, sizeof url, "%s/api/config/v1/programs/223fc70098ad11e9a5898928ba7882e6/accesstoken", a.base);
    uint64_t *us = calloc((size_t)a.n, sizeof *us);
    if (!us) die("calloc", "");

    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *h = curl_easy_init();
    if (!h) die("curl_easy_init", "");
    body b;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CAINFO, a.ca);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, (long)fresh);
    curl_easy_setopt(h, CURLOPT_FORBID_REUSE, (long)fresh);

    for (long r = -1; r < a.repeats; r++) { /* round -1 warms up (CA load, first connection) */
        double sum = 0;
        for (long i = 0; i < a.n; i++) {
            b.len = 0;
            uint64_t t0 = now_ns();
            CURLcode rc = curl_easy_perform(h);
            long code = 0;
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
            if (rc != CURLE_OK) die("curl_easy_perform", curl_easy_strerror(rc));
            if (code != 200 || !strstr(b.data, "\"accessToken\"")) die("curl_easy_perform", "no token in the answer");
            us[i] = now_ns() - t0;
            sum += (double)us[i];
            if (r < 0) break;
        }
        if (r < 0) continue;
        printf("{\"bench\":\"fetch\",\"peer\":\"libcurl\",\"mode\":\"%s\",\"repeat\":%ld,\"n\":%ld,\"p50_us\":%.1f,"
               "\"mean_us\":%.1f}\n",
               argv[1], r, a.n, quantile(us, (size_t)a.n, 0.5) / 1e3, sum / (double)a.n / 1e3);
        fflush(stdout);
    }
    curl_easy_cleanup(h);
    curl_global_cleanup();
    free(us);
    return 0;
}
