/* SPDX-License-Identifier: MIT */
/* The LocalAPI status body (tailkitctl --all's peer list). */
#include "fuzz.h"
#include "localapi-status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        PeerList l = {};

        if (localapi_parse_status((const char *) data, size, &l) >= 0) {
                (void) peer_list_find(&l, "tailkitd-alpha");
                (void) peer_list_find(&l, "100.101.7.12");
        }
        peer_list_done(&l);
        return 0;
}
