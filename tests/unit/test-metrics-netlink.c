/* SPDX-License-Identifier: MIT */
/* net_parse_link_msg() (src/metrics/network.c) on RTM_NEWLINK messages built
 * with libmnl as the kernel would send them in an RTM_GETLINK dump: the
 * IFLA_STATS64 attribute at its size, larger (a newer kernel appending
 * fields), shorter (an older one), IFLA_STATS only, and malformed ones. */

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "macro.h"
#include "metrics.h"
#include "tests.h"

static char buf[8192] __attribute__((aligned(8)));

static struct nlmsghdr *new_link(uint16_t type) {
        struct nlmsghdr *nlh;
        struct ifinfomsg *ifi;

        memset(buf, 0, sizeof(buf));
        nlh = mnl_nlmsg_put_header(buf);
        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = NLM_F_MULTI;
        ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
        ifi->ifi_family = AF_UNSPEC;
        ifi->ifi_index = 7;
        return nlh;
}

/* Distinct values per field: field i holds 1000 + i. */
static struct rtnl_link_stats64 stats64(void) {
        struct rtnl_link_stats64 st;
        uint64_t *f = (uint64_t *) &st;

        for (size_t i = 0; i < sizeof(st) / sizeof(uint64_t); i++)
                f[i] = 1000 + i;
        return st;
}

static void assert_from_stats64(const NetCounters *c, const struct rtnl_link_stats64 *st) {
        ASSERT_INT_EQ(c->rx_bytes, st->rx_bytes);
        ASSERT_INT_EQ(c->rx_packets, st->rx_packets);
        ASSERT_INT_EQ(c->rx_errors, st->rx_errors);
        /* /proc/net/dev's drop column: rx_dropped + rx_missed_errors. */
        ASSERT_INT_EQ(c->rx_dropped, st->rx_dropped + st->rx_missed_errors);
        ASSERT_INT_EQ(c->rx_fifo, st->rx_fifo_errors);
        ASSERT_INT_EQ(c->tx_bytes, st->tx_bytes);
        ASSERT_INT_EQ(c->tx_packets, st->tx_packets);
        ASSERT_INT_EQ(c->tx_errors, st->tx_errors);
        ASSERT_INT_EQ(c->tx_dropped, st->tx_dropped);
        ASSERT_INT_EQ(c->tx_fifo, st->tx_fifo_errors);
}

TEST(stats64_exact) {
        _cleanup_(net_list_done) NetList l = {};
        struct rtnl_link_stats64 st = stats64();
        struct nlmsghdr *nlh = new_link(RTM_NEWLINK);

        mnl_attr_put_u32(nlh, IFLA_MTU, 1500);
        mnl_attr_put_strz(nlh, IFLA_IFNAME, "veth1a2b.100");
        mnl_attr_put(nlh, IFLA_STATS64, sizeof(st), &st);
        ASSERT_OK(net_parse_link_msg(nlh, nlh->nlmsg_len, &l));
        ASSERT_INT_EQ(l.n, 1);
        ASSERT_STREQ(l.items[0].name, "veth1a2b.100");
        assert_from_stats64(&l.items[0], &st);
}

/* A newer kernel's struct is longer: the known prefix is read, the rest
 * (here 0xff bytes) ignored, nothing past it touched. */
TEST(stats64_longer) {
        _cleanup_(net_list_done) NetList l = {};
        struct rtnl_link_stats64 st = stats64();
        char big[sizeof(st) + 48];
        struct nlmsghdr *nlh = new_link(RTM_NEWLINK);

        memcpy(big, &st, sizeof(st));
        memset(big + sizeof(st), 0xff, sizeof(big) - sizeof(st));
        mnl_attr_put_strz(nlh, IFLA_IFNAME, "wg-ts");
        mnl_attr_put(nlh, IFLA_STATS64, sizeof(big), big);
        ASSERT_OK(net_parse_link_msg(nlh, nlh->nlmsg_len, &l));
        ASSERT_STREQ(l.items[0].name, "wg-ts");
        assert_from_stats64(&l.items[0], &st);
}

/* An older kernel's struct is shorter (here without rx_missed_errors and
 * everything after rx_length_errors): the missing fields count as 0. */
TEST(stats64_shorter) {
        _cleanup_(net_list_done) NetList l = {};
        struct rtnl_link_stats64 st = stats64(), expect = {};
        size_t n = offsetof(struct rtnl_link_stats64, rx_over_errors);
        struct nlmsghdr *nlh = new_link(RTM_NEWLINK);

        memcpy(&expect, &st, n);
        mnl_attr_put_strz(nlh, IFLA_IFNAME, "eth0");
        mnl_attr_put(nlh, IFLA_STATS64, n, &st);
        ASSERT_OK(net_parse_link_msg(nlh, nlh->nlmsg_len, &l));
        assert_from_stats64(&l.items[0], &expect);
        ASSERT_INT_EQ(l.items[0].rx_fifo, 0);
        ASSERT_INT_EQ(l.items[0].tx_fifo, 0);
        ASSERT_INT_EQ(l.items[0].rx_dropped, st.rx_dropped);
}

/* Without IFLA_STATS64 the 32-bit IFLA_STATS serves; with both, STATS64. */
TEST(stats32) {
        _cleanup_(net_list_done) NetList l = {};
        struct rtnl_link_stats s32 = { .rx_bytes = 4000000000U, .rx_packets = 2, .rx_dropped = 3,
                                       .rx_missed_errors = 4, .rx_fifo_errors = 5, .tx_bytes = 6,
                                       .tx_fifo_errors = 7 };
        struct rtnl_link_stats64 st = stats64();
        struct nlmsghdr *nlh = new_link(RTM_NEWLINK);

        mnl_attr_put_strz(nlh, IFLA_IFNAME, "ppp0");
        mnl_attr_put(nlh, IFLA_STATS, sizeof(s32), &s32);
        ASSERT_OK(net_parse_link_msg(nlh, nlh->nlmsg_len, &l));
        ASSERT_INT_EQ(l.items[0].rx_bytes, 4000000000U);
        ASSERT_INT_EQ(l.items[0].rx_dropped, 7);
        ASSERT_INT_EQ(l.items[0].rx_fifo, 5);
        ASSERT_INT_EQ(l.items[0].tx_bytes, 6);
        ASSERT_INT_EQ(l.items[0].tx_fifo, 7);

        nlh = new_link(RTM_NEWLINK);
        mnl_attr_put(nlh, IFLA_STATS, sizeof(s32), &s32);
        mnl_attr_put(nlh, IFLA_STATS64, sizeof(st), &st);
        mnl_attr_put_strz(nlh, IFLA_IFNAME, "ppp1");
        ASSERT_OK(net_parse_link_msg(nlh, nlh->nlmsg_len, &l));
        ASSERT_INT_EQ(l.n, 2);
        assert_from_stats64(&l.items[1], &st);
}

/* No statistics at all (some virtual devices): zeros, not an error. Unknown
 * attribute types beyond IFLA_MAX are skipped. */
TEST(no_stats_unknown_attrs) {
        _cleanup_(net_list_done) NetList l = {};
        struct nlmsghdr *nlh = new_link(RTM_NEWLINK);

        mnl_attr_put_u32(nlh, IFLA_MAX + 5, 42);
        mnl_attr_put_strz(nlh, IFLA_IFNAME, "dummy0");
        ASSERT_OK(net_parse_link_msg(nlh, nlh->nlmsg_len, &l));
        ASSERT_STREQ(l.items[0].name, "dummy0");
        ASSERT_INT_EQ(l.items[0].rx_bytes, 0);
}

TEST(malformed) {
        _cleanup_(net_list_done) NetList l = {};
        struct rtnl_link_stats64 st = stats64();
        struct nlmsghdr *nlh;
        char name[80];

        /* Not RTM_NEWLINK. */
        nlh = new_link(RTM_NEWADDR);
        mnl_attr_put_strz(nlh, IFLA_IFNAME, "eth0");
        ASSERT_INT_EQ(net_parse_link_msg(nlh, nlh->nlmsg_len, &l), -EBADMSG);
        /* No name. */
        nlh = new_link(RTM_NEWLINK);
        mnl_attr_put(nlh, IFLA_STATS64, sizeof(st), &st);
        ASSERT_INT_EQ(net_parse_link_msg(nlh, nlh->nlmsg_len, &l), -EBADMSG);
        /* A name without its NUL. */
        nlh = new_link(RTM_NEWLINK);
        mnl_attr_put(nlh, IFLA_IFNAME, 4, "eth0");
        ASSERT_INT_EQ(net_parse_link_msg(nlh, nlh->nlmsg_len, &l), -EBADMSG);
        /* A name longer than any interface's. */
        memset(name, 'x', sizeof(name) - 1);
        name[sizeof(name) - 1] = 0;
        nlh = new_link(RTM_NEWLINK);
        mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        ASSERT_INT_EQ(net_parse_link_msg(nlh, nlh->nlmsg_len, &l), -EBADMSG);
        /* Shorter than its header says, or than the ifinfomsg. */
        nlh = new_link(RTM_NEWLINK);
        mnl_attr_put_strz(nlh, IFLA_IFNAME, "eth0");
        ASSERT_INT_EQ(net_parse_link_msg(nlh, nlh->nlmsg_len - 4, &l), -EBADMSG);
        ASSERT_INT_EQ(net_parse_link_msg(nlh, sizeof(struct nlmsghdr) - 1, &l), -EBADMSG);
        nlh = new_link(RTM_NEWLINK);
        nlh->nlmsg_len = sizeof(struct nlmsghdr) + 4;
        ASSERT_INT_EQ(net_parse_link_msg(nlh, nlh->nlmsg_len, &l), -EBADMSG);
        /* An attribute whose length runs past the message. */
        nlh = new_link(RTM_NEWLINK);
        mnl_attr_put_strz(nlh, IFLA_IFNAME, "eth0");
        struct nlattr *a = mnl_attr_nest_start(nlh, IFLA_STATS64);
        a->nla_len = 2000;
        ASSERT_INT_EQ(net_parse_link_msg(nlh, nlh->nlmsg_len, &l), -EBADMSG);
        ASSERT_INT_EQ(l.n, 0);
}

/* fuzz-netlink's finding: a message whose nlmsg_len is not a multiple of
 * 4 ends the buffer, and its last attribute reaches into the padding that
 * libmnl's walk assumes is there. Parsed from a heap copy of exactly
 * nlmsg_len bytes, so that the ASan build catches any read past it. */
TEST(unaligned_end) {
        _cleanup_(net_list_done) NetList l = {};
        _cleanup_free_ char *copy = NULL;
        struct nlmsghdr *nlh;
        uint16_t n;

        nlh = new_link(RTM_NEWLINK);
        mnl_attr_put_strz(nlh, IFLA_IFNAME, "eth0");
        /* IFLA_STATS with 6 bytes of payload: nla_len 10, padded to 12. */
        mnl_attr_put(nlh, IFLA_STATS, 6, "\1\2\3\4\5\6");
        nlh->nlmsg_len -= 3;            /* the attribute now ends 1 byte past it */
        n = (uint16_t) nlh->nlmsg_len;
        copy = malloc(n);
        ASSERT_NOT_NULL(copy);
        memcpy(copy, nlh, n);
        ASSERT_INT_EQ(net_parse_link_msg(copy, n, &l), -EBADMSG);

        /* The same attribute ending exactly at an unaligned nlmsg_len is
         * whole: read, and nothing past it. */
        nlh = new_link(RTM_NEWLINK);
        mnl_attr_put_strz(nlh, IFLA_IFNAME, "eth0");
        mnl_attr_put(nlh, IFLA_STATS, 6, "\1\2\3\4\5\6");
        nlh->nlmsg_len -= 2;            /* only the padding is cut */
        n = (uint16_t) nlh->nlmsg_len;
        free(copy);
        copy = malloc(n);
        ASSERT_NOT_NULL(copy);
        memcpy(copy, nlh, n);
        ASSERT_OK(net_parse_link_msg(copy, n, &l));
        ASSERT_INT_EQ(l.n, 1);
        ASSERT_STREQ(l.items[0].name, "eth0");
}

int main(void) {
        RUN(stats64_exact);
        RUN(stats64_longer);
        RUN(stats64_shorter);
        RUN(stats32);
        RUN(no_stats_unknown_attrs);
        RUN(malformed);
        RUN(unaligned_end);
        return 0;
}
