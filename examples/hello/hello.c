/* One call from C: the token for a program id, from the process default client (configured by
 * the KY_* environment: KY_BASE_URL points it at the sandbox). */
#include <stdio.h>

#include "ky_access_token.h"

int main(void) {
    char token[KY_TOKEN_BUFFER_SIZE];
    ky_status status = ky_get_access_token("223fc70098ad11e9a5898928ba7882e6", token, sizeof token);
    if (status != KY_OK) {
        fprintf(stderr, "%s: %s\n", ky_status_name(status), ky_last_error_message());
        return 1;
    }
    printf("%s\n", token);
    return 0;
}
