/* SPDX-License-Identifier: MIT */
#pragma once

/* How many connections a worker holds, in all and per peer address, and
 * whether it takes one more. No peer may take the last CONN_LIMIT_RESERVED
 * connections: one peer holding all it may hold (a flood of slow requests)
 * still leaves room for the others. */

#include <pthread.h>
#include <sys/socket.h>

#define CONN_LIMIT_TOTAL 256
#define CONN_LIMIT_RESERVED 32
#define CONN_LIMIT_PER_PEER (CONN_LIMIT_TOTAL - CONN_LIMIT_RESERVED)

typedef struct ConnLimitPeer {
        sa_family_t family;
        unsigned char addr[16];         /* IPv4 in the first 4 bytes */
        unsigned n;                     /* 0: a free slot */
} ConnLimitPeer;

typedef struct ConnLimit {
        pthread_mutex_t lock;
        unsigned total;
        ConnLimitPeer peers[CONN_LIMIT_TOTAL];  /* at most one peer per connection */
} ConnLimit;

#define CONN_LIMIT_INIT { .lock = PTHREAD_MUTEX_INITIALIZER }

/* Counts one more connection from sa: 0, or -EBUSY when CONN_LIMIT_TOTAL
 * are open, -EUSERS when this peer holds CONN_LIMIT_PER_PEER, -EAFNOSUPPORT
 * for what is not IPv4 or IPv6 (nothing is counted then). */
int conn_limit_take(ConnLimit *l, const struct sockaddr *sa);
/* Counts a connection taken with conn_limit_take() as closed. */
void conn_limit_release(ConnLimit *l, const struct sockaddr *sa);
