/* SPDX-License-Identifier: MIT */
/* One RTM_NEWLINK message of a dump, and /proc/net/dev text, as the metrics
 * worker reads them (the kernel is trusted, but a parser must not be the
 * weak point if a message is truncated or odd). */
#include "fuzz.h"
#include "metrics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        NetList l = {};
        char *text;

        (void) net_parse_link_msg(data, size, &l);
        net_list_done(&l);
        text = fuzz_strndup(data, size);
        l = (NetList) {};
        (void) net_parse_proc_dev(text, &l);
        net_list_done(&l);
        free(text);
        return 0;
}
