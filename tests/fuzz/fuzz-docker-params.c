/* SPDX-License-Identifier: MIT */
/* Docker's filters query parameter (JSON validated and normalized before it
 * reaches the Engine) and the name/reference checks before a URL is built. */
#include "fuzz.h"
#include "params.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *s = fuzz_strndup(data, size), *out = NULL, *error = NULL, *esc;

        if (filters_normalize(s, &out, &error) >= 0) {
                char *again = NULL, *error2 = NULL;
                /* Normalizing is idempotent: what passes once passes again. */
                if (filters_normalize(out, &again, &error2) < 0)
                        abort();
                free(again);
                free(error2);
        }
        free(out);
        free(error);
        (void) docker_name_is_valid(s);
        (void) docker_image_ref_is_valid(s);
        (void) compose_project_is_valid(s);
        esc = query_escape(s);
        free(esc);
        free(s);
        return 0;
}
