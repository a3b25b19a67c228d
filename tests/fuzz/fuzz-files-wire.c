/* SPDX-License-Identifier: MIT */
/* The files worker's caller-controlled strings: a path (X-Dest-Path, the
 * multipart "path" field, ?path=) through the syntactic check and the split
 * into directory and name, and a Range header against a file size. The
 * multipart body and its fields are fuzz-multipart.c's. */
#include "files-path.h"
#include "fuzz.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *s = fuzz_strndup(data, size), *dir = NULL;
        const char *why = NULL, *name = NULL;
        uint64_t start, len;

        if (files_path_check(s, size, &why) >= 0 && s[0] != '/' && files_path_split(s, &dir, &name) >= 0)
                free(dir);
        for (uint64_t fsize = 0; fsize < 3; fsize++)
                if (files_parse_range(s, fsize * 1000, &start, &len) > 0 && (len == 0 || start + len > fsize * 1000))
                        abort();        /* a satisfiable range lies inside the file */
        (void) files_accept_raw(s);
        free(s);
        return 0;
}
