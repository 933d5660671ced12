/*
 * get_token: print the access token for a program id.
 *
 *   KY_BASE_URL=http://127.0.0.1:8787 ./get_token [PROGRAM_ID]
 *
 * Exit status: 0 on success, otherwise the ky_status code.
 */
#include "ky_access_token.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    const char *program_id = argc > 1 ? argv[1] : "223fc70098ad11e9a5898928ba7882e6";
    char token[KY_TOKEN_BUFFER_SIZE];
    ky_status status = ky_get_access_token(program_id, token, sizeof token);

    if (status == KY_ERR_BUFFER_TOO_SMALL) {
        /* Longer than KY_TOKEN_BUFFER_SIZE: ask how much is needed and retry (served from cache). */
        size_t need = ky_last_required_size();
        char *big = (char *)malloc(need);
        if (big == NULL) return 1;
        status = ky_get_access_token(program_id, big, need);
        if (status == KY_OK) printf("%s\n", big);
        free(big);
    } else if (status == KY_OK) {
        printf("%s\n", token);
    }

    if (status != KY_OK) {
        fprintf(stderr, "get_token: %s: %s", ky_status_name(status), ky_last_error_message());
        if (status == KY_ERR_API) fprintf(stderr, " (err=%lld)", (long long)ky_last_api_err());
        fprintf(stderr, "\n");
    }
    return (int)status;
}
