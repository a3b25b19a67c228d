/* SPDX-License-Identifier: MIT */
/* fast-localapi: a LocalAPI double for benchmarks only. One epoll loop on a
 * unix socket answers GET /localapi/v0/whois?addr=IP[:PORT] and
 * /localapi/v0/status from fixture bodies read into memory at start, with
 * keep-alive. Real tailscaled answers whois well under a millisecond; the
 * Python double (tests/fake-tailscaled, which the tests keep using for its
 * fidelity and failure modes) does not, and would be the bottleneck.
 *
 *   fast-localapi --socket PATH --fixtures DIR [--peer ADDR=FILE]... [--status FILE]
 *
 * The peer table is DIR/peers.json (a flat {"addr": "file"} map) plus the
 * --peer entries. Build: cc -O2 -std=gnu11 -Wall -Wextra -Werror. */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "macro.h"       /* src/shared: unhexchar() */

#define MAX_PEERS 256
#define REQ_MAX 8192
#define BODY_MAX (1 << 20)

typedef struct {
        char addr[64];
        char *body;
        size_t len;
} Peer;

typedef struct {
        int fd;
        size_t used;
        char buf[REQ_MAX];
} Conn;

static Peer peers[MAX_PEERS];
static size_t n_peers;
static char *status_body;
static size_t status_len;

static int read_file(const char *dir, const char *name, char **ret, size_t *ret_len) {
        char path[4096];
        FILE *f;
        char *b;
        size_t n;

        if ((size_t) snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path) || strstr(name, ".."))
                return -EINVAL;
        f = fopen(path, "re");
        if (!f)
                return -errno;
        b = malloc(BODY_MAX);
        if (!b) {
                fclose(f);
                return -ENOMEM;
        }
        n = fread(b, 1, BODY_MAX, f);
        fclose(f);
        *ret = b;
        *ret_len = n;
        return 0;
}

static int add_peer(const char *dir, const char *addr, const char *file) {
        Peer *p;

        if (n_peers >= MAX_PEERS || strlen(addr) >= sizeof(p->addr))
                return -E2BIG;
        p = &peers[n_peers];
        strcpy(p->addr, addr);
        if (read_file(dir, file, &p->body, &p->len) < 0)
                return -ENOENT;
        n_peers++;
        return 0;
}

/* peers.json is generated (make-fixtures.py): a flat object of plain strings. */
static int load_peers_json(const char *dir) {
        char *s, *p, *k, *ke, *v, *ve;
        size_t len;
        int r;

        r = read_file(dir, "peers.json", &s, &len);
        if (r < 0)
                return r;
        s[len < BODY_MAX ? len : BODY_MAX - 1] = 0;
        for (p = s; (k = strchr(p, '"')); p = ve + 1) {
                ke = strchr(k + 1, '"');
                v = ke ? strchr(ke + 1, '"') : NULL;
                ve = v ? strchr(v + 1, '"') : NULL;
                if (!ve)
                        break;
                *ke = *ve = 0;
                /* Node keys are not looked up by tailkitd: skipped. */
                if (strncmp(k + 1, "nodekey:", 8) != 0 && add_peer(dir, k + 1, v + 1) < 0)
                        fprintf(stderr, "fast-localapi: skipping peer %s (%s)\n", k + 1, v + 1);
        }
        free(s);
        return 0;
}

/* The addr query value, percent-decoded, without its port and ::ffff: prefix. */
static bool whois_key(const char *query, size_t qlen, char *out, size_t size) {
        const char *a = NULL;
        size_t o = 0;

        for (size_t i = 0; i + 5 <= qlen; i++)
                if ((i == 0 || query[i - 1] == '&') && memcmp(query + i, "addr=", 5) == 0) {
                        a = query + i + 5;
                        break;
                }
        if (!a)
                return false;
        for (; a < query + qlen && *a != '&' && o + 1 < size; a++) {
                if (*a == '%' && a + 2 < query + qlen && unhexchar(a[1]) >= 0 && unhexchar(a[2]) >= 0) {
                        out[o++] = (char) (unhexchar(a[1]) * 16 + unhexchar(a[2]));
                        a += 2;
                } else
                        out[o++] = *a;
        }
        out[o] = 0;
        if (out[0] == '[') {
                char *e = strchr(out, ']');
                if (!e)
                        return false;
                *e = 0;
                memmove(out, out + 1, strlen(out + 1) + 1);
        } else if (strchr(out, ':') == strrchr(out, ':') && strchr(out, ':'))
                *strchr(out, ':') = 0;
        if (strncmp(out, "::ffff:", 7) == 0 && strchr(out, '.'))
                memmove(out, out + 7, strlen(out + 7) + 1);
        return true;
}

static void send_all(int fd, const char *head, size_t hl, const char *body, size_t bl) {
        struct iovec iov[2] = { { (void *) head, hl }, { (void *) body, bl } };
        struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };

        /* Replies are small: the socket buffer takes them whole. */
        (void) !sendmsg(fd, &m, MSG_NOSIGNAL);
}

/* Answers one request of buf[0..len); false: close the connection. */
static bool answer(int fd, const char *buf, size_t len) {
        static const char not_found[] = "no match for IP:port\n";
        const char *sp1 = memchr(buf, ' ', len), *sp2, *q;
        const char *body = not_found;
        size_t bl = sizeof(not_found) - 1;
        int status = 404;
        bool keep;
        char head[256], key[128];
        int hl;

        if (!sp1 || !(sp2 = memchr(sp1 + 1, ' ', len - (size_t) (sp1 + 1 - buf))))
                return false;
        keep = (size_t) (sp2 + 9 - buf) <= len && memcmp(sp2 + 1, "HTTP/1.1", 8) == 0 &&
               !memmem(buf, len, "\r\nConnection: close", 19) && !memmem(buf, len, "\r\nconnection: close", 19);
        q = memchr(sp1, '?', (size_t) (sp2 - sp1));
        if (strncmp(sp1 + 1, "/localapi/v0/whois", 18) == 0 && q &&
            whois_key(q + 1, (size_t) (sp2 - q - 1), key, sizeof(key))) {
                for (size_t i = 0; i < n_peers; i++)
                        if (strcmp(peers[i].addr, key) == 0) {
                                body = peers[i].body;
                                bl = peers[i].len;
                                status = 200;
                                break;
                        }
        } else if (strncmp(sp1 + 1, "/localapi/v0/status", 19) == 0 && status_body) {
                body = status_body;
                bl = status_len;
                status = 200;
        }
        hl = snprintf(head, sizeof(head),
                      "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s\r\n",
                      status, status == 200 ? "OK" : "Not Found",
                      status == 200 ? "application/json" : "text/plain; charset=utf-8", bl,
                      keep ? "" : "Connection: close\r\n");
        send_all(fd, head, (size_t) hl, body, bl);
        return keep;
}

static void conn_close(int ep, Conn *c) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        free(c);
}

static void conn_read(int ep, Conn *c) {
        for (;;) {
                ssize_t n = recv(c->fd, c->buf + c->used, sizeof(c->buf) - c->used, 0);
                char *end;

                if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                        conn_close(ep, c);
                        return;
                }
                if (n < 0)
                        return;
                c->used += (size_t) n;
                while ((end = memmem(c->buf, c->used, "\r\n\r\n", 4))) {
                        size_t l = (size_t) (end + 4 - c->buf);
                        if (!answer(c->fd, c->buf, l)) {
                                conn_close(ep, c);
                                return;
                        }
                        memmove(c->buf, c->buf + l, c->used - l);
                        c->used -= l;
                }
                if (c->used == sizeof(c->buf)) {
                        conn_close(ep, c);
                        return;
                }
        }
}

static volatile sig_atomic_t stop;
static void on_signal(int sig) {
        (void) sig;
        stop = 1;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "socket", required_argument, NULL, 's' },
                { "fixtures", required_argument, NULL, 'f' },
                { "peer", required_argument, NULL, 'p' },
                { "status", required_argument, NULL, 't' },
                {}
        };
        const char *sock = NULL, *dir = NULL, *status = "status.json", *extra[MAX_PEERS];
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct sigaction act = { .sa_handler = on_signal };
        size_t n_extra = 0;
        int c, lfd, ep;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 's': sock = optarg; break;
                case 'f': dir = optarg; break;
                case 't': status = optarg; break;
                case 'p':
                        if (n_extra < MAX_PEERS)
                                extra[n_extra++] = optarg;
                        break;
                default: return 2;
                }
        if (!sock || !dir || strlen(sock) >= sizeof(sa.sun_path)) {
                fprintf(stderr, "usage: fast-localapi --socket PATH --fixtures DIR [--peer ADDR=FILE]... [--status FILE]\n");
                return 2;
        }
        if (load_peers_json(dir) < 0) {
                fprintf(stderr, "fast-localapi: cannot read %s/peers.json\n", dir);
                return 1;
        }
        for (size_t i = 0; i < n_extra; i++) {
                char a[64];
                const char *eq = strchr(extra[i], '=');
                if (!eq || (size_t) (eq - extra[i]) >= sizeof(a))
                        return 2;
                memcpy(a, extra[i], (size_t) (eq - extra[i]));
                a[eq - extra[i]] = 0;
                /* --peer entries win over peers.json: they go first. */
                size_t before = n_peers;
                if (before >= MAX_PEERS)
                        return 2;
                memmove(peers + 1, peers, before * sizeof(Peer));
                n_peers = 0;
                if (add_peer(dir, a, eq + 1) < 0) {
                        fprintf(stderr, "fast-localapi: bad --peer %s\n", extra[i]);
                        return 1;
                }
                n_peers = before + 1;
        }
        (void) read_file(dir, status, &status_body, &status_len);

        signal(SIGPIPE, SIG_IGN);
        sigaction(SIGTERM, &act, NULL);
        sigaction(SIGINT, &act, NULL);
        strcpy(sa.sun_path, sock);
        lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        (void) unlink(sock);
        if (lfd < 0 || bind(lfd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(lfd, 4096) < 0 ||
            chmod(sock, 0666) < 0) {
                perror("fast-localapi: listen");
                return 1;
        }
        ep = epoll_create1(EPOLL_CLOEXEC);
        epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &(struct epoll_event) { .events = EPOLLIN, .data.ptr = NULL });
        fprintf(stderr, "fast-localapi: %zu peers, listening on %s\n", n_peers, sock);

        while (!stop) {
                struct epoll_event ev[64];
                int n = epoll_wait(ep, ev, 64, -1);

                for (int i = 0; i < n; i++) {
                        if (ev[i].data.ptr) {
                                conn_read(ep, ev[i].data.ptr);
                                continue;
                        }
                        for (;;) {
                                int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                                Conn *cn;
                                if (fd < 0)
                                        break;
                                cn = malloc(sizeof(Conn));
                                if (!cn) {
                                        close(fd);
                                        continue;
                                }
                                cn->fd = fd;
                                cn->used = 0;
                                epoll_ctl(ep, EPOLL_CTL_ADD, fd,
                                          &(struct epoll_event) { .events = EPOLLIN, .data.ptr = cn });
                                conn_read(ep, cn);
                        }
                }
        }
        unlink(sock);
        return 0;
}
