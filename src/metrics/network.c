/* SPDX-License-Identifier: MIT */
/* net.IOCountersStat per interface: an RTM_GETLINK dump over rtnetlink
 * (libmnl) reading IFLA_STATS64, or /proc/net/dev when netlink is not
 * available (or the proc root is a fixture tree). The counters mean what
 * /proc/net/dev's columns mean, so both sources agree:
 *   dropin = rx_dropped + rx_missed_errors, fifoin = rx_fifo_errors,
 *   dropout = tx_dropped, fifoout = tx_fifo_errors. */

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "macro.h"
#include "metrics.h"

#define NETLINK_TIMEOUT_SEC 1

void net_list_done(NetList *l) {
        free(l->items);
        *l = (NetList) {};
}

static NetCounters *net_list_add(NetList *l) {
        if (l->n >= NET_IFACES_MAX)
                return NULL;
        if (l->n == l->alloc) {
                size_t a = l->alloc ? l->alloc * 2 : 16;
                NetCounters *p = reallocarray(l->items, a, sizeof(NetCounters));
                if (!p)
                        return NULL;
                l->items = p;
                l->alloc = a;
        }
        l->items[l->n] = (NetCounters) {};
        return &l->items[l->n++];
}

int net_parse_proc_dev(const char *text, NetList *l) {
        for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
                unsigned long long v[16];
                const char *colon, *name;
                size_t nl = strcspn(line, "\n");
                NetCounters *c;

                colon = memchr(line, ':', nl);
                if (!colon)
                        continue;       /* the two header lines */
                name = line + strspn(line, " ");
                if (colon <= name || (size_t) (colon - name) >= sizeof(c->name))
                        continue;
                if (sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
                           &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10], &v[11],
                           &v[12], &v[13], &v[14], &v[15]) != 16)
                        return -EBADMSG;
                c = net_list_add(l);
                if (!c)
                        return l->n >= NET_IFACES_MAX ? -E2BIG : -ENOMEM;
                memcpy(c->name, name, (size_t) (colon - name));
                c->rx_bytes = v[0], c->rx_packets = v[1], c->rx_errors = v[2], c->rx_dropped = v[3], c->rx_fifo = v[4];
                c->tx_bytes = v[8], c->tx_packets = v[9], c->tx_errors = v[10], c->tx_dropped = v[11], c->tx_fifo = v[12];
        }
        return 0;
}

typedef struct LinkAttrs {
        const struct nlattr *name, *stats64, *stats;
} LinkAttrs;

static int link_attr_cb(const struct nlattr *attr, void *data) {
        LinkAttrs *a = data;

        /* Unknown attributes are fine: newer kernels add them. */
        if (mnl_attr_type_valid(attr, IFLA_MAX) < 0)
                return MNL_CB_OK;
        switch (mnl_attr_get_type(attr)) {
        case IFLA_IFNAME:
                if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
                        a->name = attr;
                break;
        case IFLA_STATS64:
                a->stats64 = attr;
                break;
        case IFLA_STATS:
                a->stats = attr;
                break;
        }
        return MNL_CB_OK;
}

int net_parse_link_msg(const void *buf, size_t len, NetList *l) {
        const struct nlmsghdr *nlh = buf;
        const struct nlattr *attr;
        struct rtnl_link_stats64 st = {};
        LinkAttrs a = {};
        NetCounters *c;
        const char *name, *end;

        /* nlmsg_len compared as unsigned too: mnl_nlmsg_ok() casts it to
         * int, so a length above INT_MAX passed as negative (found by
         * fuzz-netlink). */
        if (len > INT_MAX || len < sizeof(struct nlmsghdr) || nlh->nlmsg_len > len || !mnl_nlmsg_ok(nlh, (int) len) ||
            nlh->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(nlh) < sizeof(struct ifinfomsg))
                return -EBADMSG;
        /* Walk the attributes up to nlmsg_len itself, not libmnl's
         * mnl_attr_for_each() bound (nlmsg_len aligned up to 4): a message
         * whose length is not a multiple of 4 and that ends the buffer has
         * no padding after it, and an attribute reaching into that padding
         * would be read past the buffer (found by fuzz-netlink). */
        end = (const char *) nlh + nlh->nlmsg_len;
        for (attr = mnl_nlmsg_get_payload_offset(nlh, sizeof(struct ifinfomsg));
             mnl_attr_ok(attr, (int) (end - (const char *) attr));
             attr = mnl_attr_next(attr))
                if (link_attr_cb(attr, &a) < 0)
                        return -EBADMSG;
        /* The walk stops at an attribute that runs past the message (or
         * leftover bytes): a malformed message, not a shorter one. */
        if ((const char *) attr < end)
                return -EBADMSG;
        if (!a.name)
                return -EBADMSG;
        /* Copy what the kernel sent, up to the struct we know: a newer kernel's
         * longer struct only appends fields, an older one's shorter struct
         * leaves the rest 0. */
        if (a.stats64) {
                size_t n = mnl_attr_get_payload_len(a.stats64);
                memcpy(&st, mnl_attr_get_payload(a.stats64), MIN(n, sizeof(st)));
        } else if (a.stats) {
                struct rtnl_link_stats s32 = {};
                size_t n = mnl_attr_get_payload_len(a.stats);
                memcpy(&s32, mnl_attr_get_payload(a.stats), MIN(n, sizeof(s32)));
                st.rx_bytes = s32.rx_bytes, st.rx_packets = s32.rx_packets, st.rx_errors = s32.rx_errors;
                st.rx_dropped = s32.rx_dropped, st.rx_missed_errors = s32.rx_missed_errors;
                st.rx_fifo_errors = s32.rx_fifo_errors;
                st.tx_bytes = s32.tx_bytes, st.tx_packets = s32.tx_packets, st.tx_errors = s32.tx_errors;
                st.tx_dropped = s32.tx_dropped, st.tx_fifo_errors = s32.tx_fifo_errors;
        }
        name = mnl_attr_get_str(a.name);
        if (strlen(name) >= sizeof(c->name))
                return -EBADMSG;
        c = net_list_add(l);
        if (!c)
                return l->n >= NET_IFACES_MAX ? -E2BIG : -ENOMEM;
        snprintf(c->name, sizeof(c->name), "%s", name);
        c->rx_bytes = st.rx_bytes, c->rx_packets = st.rx_packets, c->rx_errors = st.rx_errors;
        /* As /proc/net/dev's "drop" column (dev_seq_printf_stats()). */
        c->rx_dropped = st.rx_dropped + st.rx_missed_errors, c->rx_fifo = st.rx_fifo_errors;
        c->tx_bytes = st.tx_bytes, c->tx_packets = st.tx_packets, c->tx_errors = st.tx_errors;
        c->tx_dropped = st.tx_dropped, c->tx_fifo = st.tx_fifo_errors;
        return 0;
}

static int dump_cb(const struct nlmsghdr *nlh, void *data) {
        int r = net_parse_link_msg(nlh, nlh->nlmsg_len, data);

        /* A message we cannot read is skipped; running out of memory stops. */
        return r == -ENOMEM || r == -E2BIG ? MNL_CB_ERROR : MNL_CB_OK;
}

static void mnl_socket_closep(struct mnl_socket **s) {
        if (*s)
                mnl_socket_close(*s);
}

static int netlink_dump(NetList *l) {
        _cleanup_(mnl_socket_closep) struct mnl_socket *nl = NULL;
        _cleanup_free_ char *buf = NULL;
        struct timeval tv = { .tv_sec = NETLINK_TIMEOUT_SEC };
        struct nlmsghdr *nlh;
        struct rtgenmsg *rt;
        unsigned seq = (unsigned) time(NULL), portid;
        size_t bufsize = MNL_SOCKET_BUFFER_SIZE;
        int r;

        buf = malloc(bufsize);
        if (!buf)
                return -ENOMEM;
        nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
        if (!nl)
                return -errno;
        if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
                return -errno;
        /* The kernel answers a dump at once; never wait on it for long. */
        if (setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
                return -errno;
        portid = mnl_socket_get_portid(nl);

        nlh = mnl_nlmsg_put_header(buf);
        nlh->nlmsg_type = RTM_GETLINK;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
        nlh->nlmsg_seq = seq;
        rt = mnl_nlmsg_put_extra_header(nlh, sizeof(struct rtgenmsg));
        rt->rtgen_family = AF_PACKET;
        if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
                return -errno;

        for (;;) {
                ssize_t n = mnl_socket_recvfrom(nl, buf, bufsize);
                if (n < 0)
                        return errno == EAGAIN ? -ETIMEDOUT : -errno;
                r = mnl_cb_run(buf, (size_t) n, seq, portid, dump_cb, l);
                if (r < 0)
                        return -errno ? -errno : -EIO;
                if (r == MNL_CB_STOP)
                        return 0;
        }
}

static bool wanted(const char *name, char *const *ifaces, size_t n) {
        if (n == 0)
                return true;
        for (size_t i = 0; i < n; i++)
                if (streq(ifaces[i], name))
                        return true;
        return false;
}

int metrics_network(const MetricsSources *s, char *const *ifaces, size_t n_ifaces, json_object **ret) {
        _cleanup_(net_list_done) NetList l = {};
        json_object *a;
        int r = -ENOENT;

        if (s->live) {
                r = netlink_dump(&l);
                if (r < 0)
                        net_list_done(&l);
        }
        if (r < 0) {
                _cleanup_free_ char *text = NULL;

                r = metrics_read_file(s->proc, "net/dev", METRICS_FILE_MAX, &text);
                if (r < 0)
                        return r;
                r = net_parse_proc_dev(text, &l);
                if (r < 0)
                        return r;
        }
        a = json_object_new_array();
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < l.n; i++) {
                const NetCounters *c = &l.items[i];
                json_object *o;

                if (!wanted(c->name, ifaces, n_ifaces))
                        continue;
                o = json_object_new_object();
                if (!o)
                        break;
                json_add(o, "name", json_object_new_string(c->name));
                json_add(o, "bytesSent", json_u64(c->tx_bytes));
                json_add(o, "bytesRecv", json_u64(c->rx_bytes));
                json_add(o, "packetsSent", json_u64(c->tx_packets));
                json_add(o, "packetsRecv", json_u64(c->rx_packets));
                json_add(o, "errin", json_u64(c->rx_errors));
                json_add(o, "errout", json_u64(c->tx_errors));
                json_add(o, "dropin", json_u64(c->rx_dropped));
                json_add(o, "dropout", json_u64(c->tx_dropped));
                json_add(o, "fifoin", json_u64(c->rx_fifo));
                json_add(o, "fifoout", json_u64(c->tx_fifo));
                json_object_array_add(a, o);
        }
        *ret = a;
        return 0;
}
