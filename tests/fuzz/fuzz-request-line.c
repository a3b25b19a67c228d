/* SPDX-License-Identifier: MIT */
/* The dispatcher's request-line parser: bytes peeked from any tailnet peer. */
#include "fuzz.h"
#include "request-line.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        RequestLine rl;

        /* Every prefix, as the dispatcher peeks more and more of a line. */
        for (size_t n = 0; n <= size; n += n < 64 ? 1 : 61) {
                RequestLineResult res = request_line_parse((const char *) data, n, &rl);
                if (res == REQUEST_LINE_OK) {
                        /* The slices must lie inside what was given. */
                        if (rl.method < (const char *) data || rl.method + rl.method_len > (const char *) data + n ||
                            rl.path < (const char *) data || rl.path + rl.path_len > (const char *) data + n)
                                abort();
                }
        }
        return 0;
}
