/*
 * C ABI test program, driven by tests/c_abi.rs against the bundled sandbox.
 *
 *   test_api main                          full suite; needs KY_BASE_URL = a plain-HTTP sandbox
 *   test_api expect STATUS ID [SUBSTRING]  one call; asserts its status (and message substring)
 *
 * Compiled with -Wall -Wextra -Werror -pedantic as C11 and as C++17, run under valgrind in CI.
 */
#include "ky_access_token.h"
#include "check.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char SAMPLE_ID[] = "223fc70098ad11e9a5898928ba7882e6";
static const char SAMPLE_TOKEN[] =
    "27_t3e8Pqc7RzC1V8UB3r-SC9GdryVrB0LcOxi3D4e614Rg5d_3sUkLbHZX8sk-LCecrIpjOfQ4YY_AUHn6XogMHFd1Lt4W85aSrfIOcr3bpZvKP798hLHuJd7NNt5i96m9526EZk8SafcTKoKIJUaAGASTE";


/* Asserts a status, a non-empty message for failures, and that no message leaks the token. */
static void expect_status(const char *what, ky_status got, ky_status want) {
    const char *msg = ky_last_error_message();
    CHECK(got == want, "%s: got %s (%s), want %s", what, ky_status_name(got), msg,
          ky_status_name(want));
    CHECK(msg != NULL, "%s: message is NULL", what);
    if (want != KY_OK) {
        CHECK(msg[0] != '\0', "%s: empty message for a failure", what);
    } else {
        CHECK(msg[0] == '\0', "%s: message after success is \"%s\"", what, msg);
    }
    CHECK(strstr(msg, "27_t3e8") == NULL, "%s: message leaks the token", what);
}

static ky_status get(const char *id, char *buf, size_t len) { return ky_get_access_token(id, buf, len); }

static void test_version_and_names(void) {
    char expected[64];
    snprintf(expected, sizeof expected, "%d.%d.%d", KY_VERSION_MAJOR, KY_VERSION_MINOR, KY_VERSION_PATCH);
    CHECK(strcmp(ky_version(), expected) == 0, "ky_version() = %s, macros say %s", ky_version(), expected);
    {
        static const char *names[] = {"KY_OK", "KY_ERR_INVALID_ARGUMENT", "KY_ERR_BUFFER_TOO_SMALL",
                                      "KY_ERR_NETWORK", "KY_ERR_TIMEOUT", "KY_ERR_TLS",
                                      "KY_ERR_HTTP_STATUS", "KY_ERR_API", "KY_ERR_BAD_RESPONSE",
                                      "KY_ERR_INTERNAL", "KY_ERR_CANCELLED", "KY_ERR_BUSY"};
        int i;
        for (i = 0; i <= KY_ERR_BUSY; i++) {
            CHECK(strcmp(ky_status_name(i), names[i]) == 0, "name of %d is %s", i, ky_status_name(i));
            CHECK(ky_status_description(i)[0] != '\0', "description of %d empty", i);
        }
    }
    CHECK(strcmp(ky_status_name(12), "KY_ERR_UNKNOWN") == 0, "unknown status named %s", ky_status_name(10));
    CHECK(strcmp(ky_status_name(-7), "KY_ERR_UNKNOWN") == 0, "negative status named %s", ky_status_name(-7));
    CHECK(ky_last_error_message()[0] == '\0', "fresh thread has message \"%s\"", ky_last_error_message());
    CHECK(ky_last_api_err() == 0, "fresh thread api err %lld", (long long)ky_last_api_err());
}

static void test_happy_path(void) {
    char buf[KY_TOKEN_BUFFER_SIZE];
    expect_status("sample", get(SAMPLE_ID, buf, sizeof buf), KY_OK);
    CHECK(strcmp(buf, SAMPLE_TOKEN) == 0, "sample token is \"%.20s...\"", buf);
}

static void test_buffer_too_small(void) {
    enum { CANARY = 0xAB, SIZE = 256 };
    unsigned char raw[SIZE];
    size_t need = strlen(SAMPLE_TOKEN) + 1, i, len;
    for (len = 1; len < need; len += (len < 8 ? 1 : 37)) {
        memset(raw, CANARY, sizeof raw);
        expect_status("too small", get(SAMPLE_ID, (char *)raw, len), KY_ERR_BUFFER_TOO_SMALL);
        CHECK(raw[0] == 0, "len %zu: out_buf[0] is %d, want empty string", len, raw[0]);
        for (i = 1; i < sizeof raw; i++) {
            if (raw[i] != CANARY) break;
        }
        CHECK(i == sizeof raw, "len %zu: byte %zu was written", len, i);
        CHECK(ky_last_required_size() == need, "required size %zu, want %zu", ky_last_required_size(), need);
    }
    memset(raw, CANARY, sizeof raw);
    expect_status("len 0", get(SAMPLE_ID, (char *)raw, 0), KY_ERR_BUFFER_TOO_SMALL);
    CHECK(raw[0] == CANARY, "len 0 wrote out_buf[0]");
    expect_status("size query", get(SAMPLE_ID, NULL, 0), KY_ERR_BUFFER_TOO_SMALL);
    CHECK(ky_last_required_size() == need, "size query says %zu", ky_last_required_size());
    /* Exactly the required size works and writes exactly that much. */
    memset(raw, CANARY, sizeof raw);
    expect_status("exact", get(SAMPLE_ID, (char *)raw, need), KY_OK);
    CHECK(strcmp((char *)raw, SAMPLE_TOKEN) == 0, "exact-size copy differs");
    CHECK(raw[need] == CANARY, "byte past the exact size was written");
    CHECK(ky_last_required_size() == 0, "required size not reset after success");
}

static void test_invalid_arguments(void) {
    char buf[64];
    static const char *bad_ids[] = {"", "123456789012345678901234567890123", "a/b", "..", "a%2F",
                                    "a?b", "a#b", "a b", "a\tb", "\xe9\xa1\xb9\xe7\x9b\xae", "ab\xff"};
    size_t i;
    expect_status("NULL id", get(NULL, buf, sizeof buf), KY_ERR_INVALID_ARGUMENT);
    CHECK(strstr(ky_last_error_message(), "NULL") != NULL, "NULL id message: %s", ky_last_error_message());
    expect_status("NULL out_buf", get(SAMPLE_ID, NULL, 8), KY_ERR_INVALID_ARGUMENT);
    for (i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        buf[0] = 'x';
        expect_status(bad_ids[i], get(bad_ids[i], buf, sizeof buf), KY_ERR_INVALID_ARGUMENT);
        CHECK(buf[0] == 'x', "invalid id %zu wrote the buffer", i);
        expect_status("invalidate bad id", ky_invalidate_access_token(bad_ids[i]), KY_ERR_INVALID_ARGUMENT);
        CHECK(ky_get_access_token_alloc(bad_ids[i]) == NULL, "alloc accepted bad id %zu", i);
    }
    expect_status("invalidate NULL", ky_invalidate_access_token(NULL), KY_ERR_INVALID_ARGUMENT);
    CHECK(ky_get_access_token_alloc(NULL) == NULL, "alloc accepted NULL");
}

static void test_alloc_and_free(void) {
    char *token = ky_get_access_token_alloc(SAMPLE_ID);
    CHECK(token != NULL, "alloc failed: %s", ky_last_error_message());
    if (token) {
        CHECK(strcmp(token, SAMPLE_TOKEN) == 0, "alloc token differs");
        ky_string_free(token);
    }
    ky_string_free(NULL);
    token = ky_get_access_token_alloc("big-token-4096");
    CHECK(token != NULL && strlen(token) == 4096, "4096-byte token via alloc");
    ky_string_free(token);
    CHECK(ky_get_access_token_alloc("fault-api-error") == NULL, "alloc of an API error is not NULL");
    CHECK(ky_last_api_err() == 40013, "api err after alloc failure: %lld", (long long)ky_last_api_err());
}

static void test_long_token(void) {
    char *buf = (char *)malloc(4097);
    char small[KY_TOKEN_BUFFER_SIZE];
    expect_status("4096 in 4097", get("big-token-4096", buf, 4097), KY_OK);
    CHECK(strlen(buf) == 4096, "long token length %zu", strlen(buf));
    expect_status("4096 in default buffer", get("big-token-4096", small, sizeof small), KY_ERR_BUFFER_TOO_SMALL);
    CHECK(ky_last_required_size() == 4097, "required %zu", ky_last_required_size());
    free(buf);
}

static void test_failures(void) {
    char buf[KY_TOKEN_BUFFER_SIZE];
    expect_status("api error", get("fault-api-error", buf, sizeof buf), KY_ERR_API);
    CHECK(ky_last_api_err() == 40013, "api err %lld", (long long)ky_last_api_err());
    /* The upstream msg "项目不存在" arrives intact, in UTF-8. */
    CHECK(strstr(ky_last_error_message(), "\xe9\xa1\xb9\xe7\x9b\xae\xe4\xb8\x8d\xe5\xad\x98\xe5\x9c\xa8") != NULL,
          "message lost the upstream msg: %s", ky_last_error_message());
    expect_status("api error 40001", get("fault-api-error-40001", buf, sizeof buf), KY_ERR_API);
    CHECK(ky_last_api_err() == 40001, "api err %lld", (long long)ky_last_api_err());

    /* A success clears this thread's last error. */
    expect_status("after failure", get(SAMPLE_ID, buf, sizeof buf), KY_OK);
    CHECK(ky_last_api_err() == 0, "api err not cleared");

    expect_status("404", get("fault-http-404", buf, sizeof buf), KY_ERR_HTTP_STATUS);
    CHECK(strstr(ky_last_error_message(), "404") != NULL, "404 message: %s", ky_last_error_message());
    CHECK(ky_last_api_err() == 0, "api err set for an HTTP status");
    expect_status("302", get("fault-http-302", buf, sizeof buf), KY_ERR_HTTP_STATUS);
    expect_status("500", get("fault-http-500", buf, sizeof buf), KY_ERR_HTTP_STATUS);
    expect_status("malformed", get("fault-malformed", buf, sizeof buf), KY_ERR_BAD_RESPONSE);
    expect_status("control token", get("fault-control-token", buf, sizeof buf), KY_ERR_BAD_RESPONSE);
    expect_status("huge", get("fault-huge-body", buf, sizeof buf), KY_ERR_BAD_RESPONSE);
    /* The sandbox holds these headers for 30 s: a 2 s deadline on a client of its own times out
     * however slowly valgrind runs us, while every other call keeps the harness's generous one. */
    {
        ky_config *cfg = NULL;
        ky_client *client = NULL;
        CHECK(ky_config_from_env(&cfg) == KY_OK, "config: %s", ky_last_error_message());
        CHECK(ky_config_set_timeout_ms(cfg, 2000) == KY_OK, "timeout: %s", ky_last_error_message());
        CHECK(ky_config_set_max_retries(cfg, 0) == KY_OK, "retries: %s", ky_last_error_message());
        CHECK(ky_client_new(cfg, &client) == KY_OK, "client: %s", ky_last_error_message());
        expect_status("slow headers",
                      ky_client_get_access_token(client, "fault-slow-headers", buf, sizeof buf),
                      KY_ERR_TIMEOUT);
        ky_client_free(client);
        ky_config_free(cfg);
    }
}

static void test_invalidate(void) {
    char a[KY_TOKEN_BUFFER_SIZE], b[KY_TOKEN_BUFFER_SIZE];
    /* The harness asserts the sandbox saw exactly 2 requests for "c-inv". */
    expect_status("first", get("c-inv", a, sizeof a), KY_OK);
    expect_status("cached", get("c-inv", b, sizeof b), KY_OK);
    expect_status("invalidate", ky_invalidate_access_token("c-inv"), KY_OK);
    expect_status("after invalidate", get("c-inv", b, sizeof b), KY_OK);
    expect_status("invalidate unknown id", ky_invalidate_access_token("never-fetched"), KY_OK);
}

enum { THREADS = 16 };
struct worker {
    pthread_t thread;
    const char *id;
    ky_status status;
    long long api_err;
    char token[KY_TOKEN_BUFFER_SIZE];
};

static void *worker_main(void *arg) {
    struct worker *w = (struct worker *)arg;
    w->status = ky_get_access_token(w->id, w->token, sizeof w->token);
    w->api_err = ky_last_api_err();
    return NULL;
}

static void test_threads(void) {
    struct worker workers[THREADS];
    int i;
    /* The harness delays the sandbox for "slow-1000" and asserts it saw exactly one request. */
    for (i = 0; i < THREADS; i++) {
        workers[i].id = (i % 4 == 3) ? "fault-api-error" : "slow-1000";
        CHECK(pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]) == 0, "pthread_create");
    }
    for (i = 0; i < THREADS; i++) pthread_join(workers[i].thread, NULL);
    for (i = 0; i < THREADS; i++) {
        if (i % 4 == 3) {
            /* Errors stay on their own thread. */
            CHECK(workers[i].status == KY_ERR_API && workers[i].api_err == 40013, "worker %d: %d", i, workers[i].status);
        } else {
            CHECK(workers[i].status == KY_OK, "worker %d: %s", i, ky_status_name(workers[i].status));
            CHECK(strcmp(workers[i].token, workers[0].token) == 0, "worker %d got another token", i);
            CHECK(workers[i].api_err == 0, "worker %d sees another thread's error", i);
        }
    }
}

static int run_main(void) {
    test_version_and_names();
    test_happy_path();
    test_buffer_too_small();
    test_invalid_arguments();
    test_alloc_and_free();
    test_long_token();
    test_failures();
    test_invalidate();
    test_threads();
    return 0;
}

static int run_expect(int want, const char *id, const char *substring) {
    char buf[KY_TOKEN_BUFFER_SIZE];
    ky_status got = ky_get_access_token(id, buf, sizeof buf);
    printf("%s: %s\n", ky_status_name(got), got == KY_OK ? "(token received)" : ky_last_error_message());
    expect_status(id, got, (ky_status)want);
    if (substring) {
        CHECK(strstr(ky_last_error_message(), substring) != NULL, "message \"%s\" lacks \"%s\"",
              ky_last_error_message(), substring);
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "main") == 0) {
        run_main();
    } else if (argc >= 4 && strcmp(argv[1], "expect") == 0) {
        run_expect(atoi(argv[2]), argv[3], argc >= 5 ? argv[4] : NULL);
    } else {
        fprintf(stderr, "usage: test_api main | test_api expect STATUS ID [SUBSTRING]\n");
        return 2;
    }
    printf("c_api: %d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
