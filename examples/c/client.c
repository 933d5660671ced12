/* A client handle with its own configuration (several configurations in one process: staging and
 * production, other timeouts), instead of the process default client.
 *
 *   KY_BASE_URL=http://127.0.0.1:8787 ./client [PROGRAM_ID]
 *
 * Prints the token. Exit status 0, or the ky_status code with "KY_ERR_NAME: message" on stderr. */
#include <stdio.h>

#include "ky_access_token.h"

static int fail(ky_status status) {
    fprintf(stderr, "%s: %s\n", ky_status_name(status), ky_last_error_message());
    return (int)status;
}

int main(int argc, char **argv) {
    const char *id = argc > 1 ? argv[1] : "223fc70098ad11e9a5898928ba7882e6";
    /* snippet:begin handles */
    ky_config *cfg = NULL;
    ky_client *client = NULL;
    ky_status status = ky_config_from_env(&cfg);    /* or ky_config_new(&cfg): library defaults only */
    if (status != KY_OK) return fail(status);
    ky_config_set_timeout_ms(cfg, 2000);            /* each setter checks its value at once */
    ky_config_add_prefetch(cfg, id);                /* kept warm in the background */
    status = ky_client_new(cfg, &client);           /* checks everything; no I/O but the prefetch */
    ky_config_free(cfg);                            /* the client keeps its own copy */
    if (status != KY_OK) return fail(status);

    char token[KY_TOKEN_BUFFER_SIZE];
    status = ky_client_get_access_token(client, id, token, sizeof token);
    if (status == KY_OK) printf("%s\n", token);
    ky_client_free(client);                         /* NULL is a no-op; waits for its callbacks */
    /* snippet:end handles */
    return status == KY_OK ? 0 : fail(status);
}
