/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "envfile.h"
#include "macro.h"
#include "vars-names.h"

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

int envfile_write(FILE *f, json_object *scope) {
        _cleanup_free_ const char **keys = NULL;
        size_t n = 0;

        keys = calloc((size_t) json_object_object_length(scope) + 1, sizeof(char *));
        if (!keys)
                return -ENOMEM;
        json_object_object_foreach(scope, key, val) {
                if (vars_key_is_reserved(key) || !json_object_is_type(val, json_type_string))
                        continue;
                keys[n++] = key;
        }
        qsort(keys, n, sizeof(char *), cmp_str);

        for (size_t i = 0; i < n; i++) {
                json_object *v = json_object_object_get(scope, keys[i]);
                const char *s = json_object_get_string(v);
                size_t len = (size_t) json_object_get_string_len(v);

                fprintf(f, "%s=\"", keys[i]);
                for (size_t k = 0; k < len; k++) {
                        if (strchr("\"\\$`", s[k]) && s[k])
                                fputc('\\', f);
                        fputc(s[k], f);
                }
                fputs("\"\n", f);
        }
        return ferror(f) ? -EIO : 0;
}
