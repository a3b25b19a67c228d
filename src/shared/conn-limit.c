/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>

#include "conn-limit.h"

static int peer_key(const struct sockaddr *sa, ConnLimitPeer *ret) {
        *ret = (ConnLimitPeer) { .family = sa->sa_family };
        switch (sa->sa_family) {
        case AF_INET:
                memcpy(ret->addr, &((const struct sockaddr_in *) sa)->sin_addr, 4);
                return 0;
        case AF_INET6:
                memcpy(ret->addr, &((const struct sockaddr_in6 *) sa)->sin6_addr, 16);
                return 0;
        default:
                return -EAFNOSUPPORT;
        }
}

static bool same_peer(const ConnLimitPeer *a, const ConnLimitPeer *b) {
        return a->family == b->family && memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

/* The peer's slot, or else a free one (n == 0); NULL when neither exists,
 * which cannot happen below CONN_LIMIT_TOTAL connections. */
static ConnLimitPeer *find_slot(ConnLimit *l, const ConnLimitPeer *key) {
        ConnLimitPeer *free_slot = NULL;

        for (size_t i = 0; i < CONN_LIMIT_TOTAL; i++) {
                ConnLimitPeer *p = &l->peers[i];

                if (p->n > 0 && same_peer(p, key))
                        return p;
                if (p->n == 0 && !free_slot)
                        free_slot = p;
        }
        return free_slot;
}

int conn_limit_take(ConnLimit *l, const struct sockaddr *sa) {
        ConnLimitPeer key, *p;
        int r = 0;

        if (peer_key(sa, &key) < 0)
                return -EAFNOSUPPORT;
        pthread_mutex_lock(&l->lock);
        p = l->total < CONN_LIMIT_TOTAL ? find_slot(l, &key) : NULL;
        if (!p)
                r = -EBUSY;
        else if (p->n >= CONN_LIMIT_PER_PEER)
                r = -EUSERS;
        else {
                if (p->n == 0)
                        *p = key;
                p->n++;
                l->total++;
        }
        pthread_mutex_unlock(&l->lock);
        return r;
}

void conn_limit_release(ConnLimit *l, const struct sockaddr *sa) {
        ConnLimitPeer key, *p;

        if (peer_key(sa, &key) < 0)
                return;
        pthread_mutex_lock(&l->lock);
        p = find_slot(l, &key);
        if (p && p->n > 0 && same_peer(p, &key)) {
                p->n--;
                l->total--;
        }
        pthread_mutex_unlock(&l->lock);
}
