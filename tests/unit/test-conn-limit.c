/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/un.h>

#include "conn-limit.h"
#include "tests.h"

static struct sockaddr_storage addr(int family, const char *a, uint16_t port) {
        struct sockaddr_storage ss = { .ss_family = (sa_family_t) family };
        struct sockaddr_in *in = (struct sockaddr_in *) &ss;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &ss;

        if (family == AF_INET) {
                in->sin_port = htons(port);
                ASSERT_INT_EQ(inet_pton(AF_INET, a, &in->sin_addr), 1);
        } else {
                in6->sin6_port = htons(port);
                ASSERT_INT_EQ(inet_pton(AF_INET6, a, &in6->sin6_addr), 1);
        }
        return ss;
}

#define v4(a, port) addr(AF_INET, a, port)
#define v6(a, port) addr(AF_INET6, a, port)

#define SA(ss) ((const struct sockaddr *) &(ss))

TEST(one_peer_leaves_room_for_others) {
        static ConnLimit l = CONN_LIMIT_INIT;
        struct sockaddr_storage a = v4("100.64.0.1", 1000), b = v4("100.64.0.2", 1000);

        for (unsigned i = 0; i < CONN_LIMIT_PER_PEER; i++) {
                struct sockaddr_storage port = v4("100.64.0.1", (uint16_t) (2000 + i));
                ASSERT_INT_EQ(conn_limit_take(&l, SA(port)), 0);   /* the port does not matter */
        }
        ASSERT_INT_EQ(conn_limit_take(&l, SA(a)), -EUSERS);
        ASSERT_INT_EQ(l.total, CONN_LIMIT_PER_PEER);
        /* The reserve goes to the others... */
        for (unsigned i = 0; i < CONN_LIMIT_RESERVED; i++) {
                struct sockaddr_storage other = v4("100.64.1.0", 1);
                ((struct sockaddr_in *) &other)->sin_addr.s_addr = htonl(0x64400100u + i);
                ASSERT_INT_EQ(conn_limit_take(&l, SA(other)), 0);
        }
        /* ... until the worker is full, for everyone. */
        ASSERT_INT_EQ(conn_limit_take(&l, SA(b)), -EBUSY);
        ASSERT_INT_EQ(conn_limit_take(&l, SA(a)), -EBUSY);
        /* One closes: its peer may come back, the full peer still may not. */
        conn_limit_release(&l, SA(a));
        ASSERT_INT_EQ(conn_limit_take(&l, SA(b)), 0);
        ASSERT_INT_EQ(conn_limit_take(&l, SA(b)), -EBUSY);
        conn_limit_release(&l, SA(b));
        ASSERT_INT_EQ(conn_limit_take(&l, SA(a)), 0);
        ASSERT_INT_EQ(conn_limit_take(&l, SA(a)), -EBUSY);
}

TEST(release_frees_the_peer_slot) {
        static ConnLimit l = CONN_LIMIT_INIT;

        /* More distinct peers over time than there are slots. */
        for (unsigned i = 0; i < 4 * CONN_LIMIT_TOTAL; i++) {
                struct sockaddr_storage p = v4("10.0.0.0", 1);
                ((struct sockaddr_in *) &p)->sin_addr.s_addr = htonl(0x0a000000u + i);
                ASSERT_INT_EQ(conn_limit_take(&l, SA(p)), 0);
                conn_limit_release(&l, SA(p));
        }
        ASSERT_INT_EQ(l.total, 0);
        for (size_t i = 0; i < CONN_LIMIT_TOTAL; i++)
                ASSERT_INT_EQ(l.peers[i].n, 0);
}

TEST(families_and_unknown) {
        static ConnLimit l = CONN_LIMIT_INIT;
        struct sockaddr_storage a4 = v4("127.0.0.1", 1), a6 = v6("::1", 1), m6 = v6("::ffff:127.0.0.1", 1),
                                never = v4("127.0.0.2", 1);
        struct sockaddr_un un = { .sun_family = AF_UNIX };

        ASSERT_INT_EQ(conn_limit_take(&l, SA(a4)), 0);
        ASSERT_INT_EQ(conn_limit_take(&l, SA(a6)), 0);
        ASSERT_INT_EQ(conn_limit_take(&l, SA(m6)), 0);
        ASSERT_INT_EQ(conn_limit_take(&l, (const struct sockaddr *) &un), -EAFNOSUPPORT);
        ASSERT_INT_EQ(l.total, 3);
        ASSERT_INT_EQ(l.peers[0].n + l.peers[1].n + l.peers[2].n, 3);
        /* Releasing what was never taken changes nothing. */
        conn_limit_release(&l, (const struct sockaddr *) &un);
        conn_limit_release(&l, SA(never));
        ASSERT_INT_EQ(l.total, 3);
        conn_limit_release(&l, SA(a6));
        conn_limit_release(&l, SA(a6));
        ASSERT_INT_EQ(l.total, 2);
}

int main(void) {
        RUN(one_peer_leaves_room_for_others);
        RUN(release_frees_the_peer_slot);
        RUN(families_and_unknown);
        return 0;
}
