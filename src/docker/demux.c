/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "demux.h"
#include "macro.h"

int demux_feed(Demux *d, const char *data, size_t size, DemuxSink sink, void *userdata) {
        while (size > 0) {
                if (d->left == 0) {
                        size_t n = MIN(size, sizeof(d->header) - d->header_have);

                        memcpy(d->header + d->header_have, data, n);
                        d->header_have += n;
                        data += n;
                        size -= n;
                        if (d->header_have < sizeof(d->header))
                                return 0;
                        if (d->header[0] > 3 || d->header[1] || d->header[2] || d->header[3])
                                return -EBADMSG;
                        d->left = (uint32_t) d->header[4] << 24 | (uint32_t) d->header[5] << 16 |
                                  (uint32_t) d->header[6] << 8 | d->header[7];
                        /* An empty frame: on to the next header. */
                        d->header_have = d->left == 0 ? 0 : d->header_have;
                        continue;
                }
                size_t n = MIN(size, (size_t) d->left);
                int r = sink(userdata, d->header[0], data, n);
                if (r < 0)
                        return r;
                d->left -= (uint32_t) n;
                data += n;
                size -= n;
                if (d->left == 0)
                        d->header_have = 0;
        }
        return 0;
}

bool demux_complete(const Demux *d) {
        return d->left == 0 && d->header_have == 0;
}
