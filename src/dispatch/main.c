/* SPDX-License-Identifier: MIT */
/* tailkitd-dispatch: accepts tailnet connections on the socket systemd hands
 * it, peeks at the request line (bounded in size and time), and passes the
 * connection to the integration worker's seqpacket socket. It never reads a
 * request body and exits when idle; systemd starts it again on the next
 * connection. */

#include <arpa/inet.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include "config.h"
#include "fdpass.h"
#include "log.h"
#include "macro.h"
#include "paths.h"
#include "request-line.h"
#include "prefix-routes.h"
#include "raw-reply.h"
#include "sd-protocol.h"
#include "time-util.h"

#define REQUEST_LINE_TIMEOUT_USEC (5ULL * 1000000ULL)
#define LINGER_TIMEOUT_USEC (1ULL * 1000000ULL)
#define MAX_CONNECTIONS 1024
#define MAX_LISTENERS 16

typedef enum ConnState {
        CONN_PEEKING,
        CONN_LINGERING,   /* answered with an error; draining until the peer closes */
} ConnState;

typedef struct Conn {
        int fd;
        ConnState state;
        uint64_t deadline;
        struct Conn *prev, *next;
} Conn;

/* epoll data.ptr is a Conn or one of these: the tag tells them apart. */
typedef struct Listener {
        int fd;
} Listener;

static struct {
        Listener listeners[MAX_LISTENERS];
        size_t n_listeners;
        int epoll_fd;
        Conn *conns;
        unsigned n_conns;
        uint64_t idle_timeout_usec;  /* 0: never */
        uint64_t last_activity;
        const char *listen_arg;
} d = { .epoll_fd = -1 };

static bool is_listener(const void *ptr) {
        const Listener *l = ptr;
        return l >= d.listeners && l < d.listeners + MAX_LISTENERS;
}

static void conn_free(Conn *c) {
        if (!c)
                return;
        if (c->prev)
                c->prev->next = c->next;
        else
                d.conns = c->next;
        if (c->next)
                c->next->prev = c->prev;
        d.n_conns--;
        if (c->fd >= 0) {
                /* epoll registrations belong to the open file description, which
                 * a worker may still hold: remove ours explicitly. */
                (void) epoll_ctl(d.epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
                close(c->fd);
        }
        free(c);
}

static void conn_linger(Conn *c) {
        /* Half-close and drain so the client reads our answer instead of a RST. */
        (void) shutdown(c->fd, SHUT_WR);
        c->state = CONN_LINGERING;
        c->deadline = now_usec() + LINGER_TIMEOUT_USEC;
}

static void conn_fail(Conn *c, int status, const char *error, const char *hint) {
        raw_reply_error(c->fd, status, error, hint, 0);
        conn_linger(c);
}

/* GET /integrations/{docker,systemd,metrics}/available must answer even when
 * that worker is not installed: the Go client asks before using one (SPEC §1.5). */
static void conn_hand_off(Conn *c, const char *integration, bool probe);

static bool is_availability_probe(const RequestLine *rl, const char *path) {
        bool get = (rl->method_len == 3 && memcmp(rl->method, "GET", 3) == 0) ||
                   (rl->method_len == 4 && memcmp(rl->method, "HEAD", 4) == 0);

        return get &&
               startswith(path, "/integrations/") && endswith(path, "/available") &&
               strchr(path + STRLEN("/integrations/"), '/') == path + strlen(path) - STRLEN("/available");
}

static void conn_hand_off(Conn *c, const char *integration, bool probe) {
        char path[256], hint[1024], error[128];
        _cleanup_close_ int sock = -1;
        int r;

        if ((size_t) snprintf(path, sizeof(path), "%s/%s.sock", runtime_dir(), integration) >= sizeof(path))
                sock = -ENAMETOOLONG;
        else
                sock = seqpacket_connect(path);
        if (sock == -EAGAIN) {
                /* The worker does not accept (stopped, stuck, restarting): its
                 * backlog is full. Never wait for it; the others go on. */
                log_struct(LOG_WARNING, ((LogField[]) { { "INTEGRATION", integration }, {} }),
                           "Worker socket %s is full: tailkitd@%s.service is not accepting connections",
                           path, integration);
                snprintf(hint, sizeof(hint),
                         "the %s worker is not accepting connections (its socket %s is full); retry later, "
                         "or see: systemctl status tailkitd@%s.service",
                         integration, path, integration);
                snprintf(error, sizeof(error), "integration %s is busy", integration);
                conn_fail(c, 503, error, hint);
                return;
        }
        if (sock < 0) {
                if (probe && (sock == -ENOENT || sock == -ECONNREFUSED)) {
                        /* Not installed: the tools worker checks the caller's
                         * identity and answers {"available": false}. */
                        conn_hand_off(c, "tools", false);
                        return;
                }
                log_struct(LOG_WARNING, ((LogField[]) { { "INTEGRATION", integration }, {} }),
                           "Cannot reach worker socket %s: %s", path, strerror(-sock));
                snprintf(hint, sizeof(hint),
                         "the worker socket %s is missing or refused the connection; "
                         "enable it with: systemctl enable --now tailkitd@%s.socket",
                         path, integration);
                snprintf(error, sizeof(error), "integration %s is not available on this node", integration);
                conn_fail(c, 503, error, hint);
                return;
        }
        r = fd_send(sock, c->fd);
        if (r < 0) {
                log_struct(LOG_WARNING, ((LogField[]) { { "INTEGRATION", integration }, {} }),
                           "Cannot pass connection to %s: %s", path, strerror(-r));
                snprintf(hint, sizeof(hint), "retry; see: systemctl status tailkitd@%s.service", integration);
                conn_fail(c, 503, "worker did not take the connection", hint);
                return;
        }
        conn_free(c);
}

static void conn_process(Conn *c, uint32_t events) {
        char buf[REQUEST_LINE_MAX];
        RequestLine rl;
        ssize_t n;

        if (c->state == CONN_LINGERING) {
                for (;;) {
                        n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
                        if (n > 0)
                                continue;
                        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                                return;
                        conn_free(c);
                        return;
                }
        }

        n = recv(c->fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
        if (n < 0) {
                if (errno == EAGAIN || errno == EINTR)
                        return;
                conn_free(c);
                return;
        }
        if (n == 0) {
                /* Closed (or half-closed) before a full request line: nothing to answer. */
                conn_free(c);
                return;
        }

        switch (request_line_parse(buf, (size_t) n, &rl)) {
        case REQUEST_LINE_INCOMPLETE:
                if (events & (EPOLLRDHUP | EPOLLHUP)) {
                        /* The peer shut down its side: the line can never complete. */
                        conn_fail(c, 400, "incomplete request line", "the client closed before sending a full request line");
                        return;
                }
                return;  /* edge-triggered: new bytes wake us again */
        case REQUEST_LINE_BAD:
                conn_fail(c, 400, "malformed request line", "expected: METHOD /path HTTP/1.1");
                return;
        case REQUEST_LINE_TOO_LONG:
                conn_fail(c, 414, "request line too long", "the request line is limited to 8192 bytes");
                return;
        case REQUEST_LINE_OK:
                break;
        }

        char path[REQUEST_LINE_MAX];
        memcpy(path, rl.path, rl.path_len);
        path[rl.path_len] = 0;
        const char *integration = route_integration(path, rl.path_len);
        if (!integration) {
                conn_fail(c, 404, "not found", "tailkitd serves /tools, /health, /exec, /files, /receive, /vars "
                          "and /integrations/{docker,systemd,metrics}");
                return;
        }
        conn_hand_off(c, integration, is_availability_probe(&rl, path));
}

static void accept_connections(const Listener *l) {
        for (;;) {
                int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0) {
                        if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
                                return;
                        if (errno == EMFILE || errno == ENFILE) {
                                log_warning_errno(errno, "Cannot accept more connections: %m");
                                return;
                        }
                        log_error_errno(errno, "accept() failed: %m");
                        return;
                }
                d.last_activity = now_usec();
                if (d.n_conns >= MAX_CONNECTIONS) {
                        raw_reply_error(fd, 503, "too many pending connections", "retry later", 0);
                        close(fd);
                        continue;
                }

                Conn *c = calloc(1, sizeof(Conn));
                if (!c) {
                        close(fd);
                        log_oom();
                        continue;
                }
                *c = (Conn) {
                        .fd = fd,
                        .state = CONN_PEEKING,
                        .deadline = d.last_activity + REQUEST_LINE_TIMEOUT_USEC,
                        .next = d.conns,
                };
                if (d.conns)
                        d.conns->prev = c;
                d.conns = c;
                d.n_conns++;

                struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.ptr = c };
                if (epoll_ctl(d.epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
                        log_error_errno(errno, "epoll_ctl() failed: %m");
                        conn_free(c);
                        continue;
                }
                /* Bytes may already be queued: look now rather than wait for an edge. */
                conn_process(c, 0);
        }
}

static void expire_connections(uint64_t now) {
        Conn *next;
        for (Conn *c = d.conns; c; c = next) {
                next = c->next;
                if (c->deadline > now)
                        continue;
                if (c->state == CONN_PEEKING)
                        conn_fail(c, 408, "request line not received in time",
                                  "send the request line within 5 seconds");
                else
                        conn_free(c);
        }
}

static int next_timeout_ms(uint64_t now) {
        uint64_t deadline = UINT64_MAX;

        for (Conn *c = d.conns; c; c = c->next)
                deadline = MIN(deadline, c->deadline);
        if (!d.conns && d.idle_timeout_usec > 0)
                deadline = MIN(deadline, d.last_activity + d.idle_timeout_usec);
        if (deadline == UINT64_MAX)
                return -1;
        if (deadline <= now)
                return 0;
        return (int) MIN((deadline - now + 999) / 1000, (uint64_t) INT32_MAX);
}

static int listen_on(const char *arg) {
        _cleanup_free_ char *host = NULL;
        const char *colon = strrchr(arg, ':');
        struct sockaddr_storage ss = {};
        socklen_t sl;
        _cleanup_close_ int fd = -1;
        char *end;
        long port;

        if (!colon)
                return log_error_errno(EINVAL, "--listen expects ADDRESS:PORT, got '%s'", arg);
        host = strndup(arg, (size_t) (colon - arg));
        if (!host)
                return log_oom();
        port = strtol(colon + 1, &end, 10);
        if (*end || port <= 0 || port > 65535)
                return log_error_errno(EINVAL, "--listen: invalid port in '%s'", arg);

        if (host[0] == '[' && host[strlen(host) - 1] == ']') {
                struct sockaddr_in6 *s6 = (struct sockaddr_in6 *) &ss;
                host[strlen(host) - 1] = 0;
                s6->sin6_family = AF_INET6;
                s6->sin6_port = htons((uint16_t) port);
                if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1)
                        return log_error_errno(EINVAL, "--listen: invalid IPv6 address in '%s'", arg);
                sl = sizeof(*s6);
        } else {
                struct sockaddr_in *s4 = (struct sockaddr_in *) &ss;
                s4->sin_family = AF_INET;
                s4->sin_port = htons((uint16_t) port);
                if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
                        return log_error_errno(EINVAL, "--listen: invalid IPv4 address in '%s'", arg);
                sl = sizeof(*s4);
        }

        fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return log_error_errno(errno, "socket() failed: %m");
        (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int) { 1 }, sizeof(int));
        if (bind(fd, (struct sockaddr *) &ss, sl) < 0)
                return log_error_errno(errno, "Cannot bind %s: %m", arg);
        if (listen(fd, SOMAXCONN) < 0)
                return log_error_errno(errno, "listen() on %s failed: %m", arg);
        return TAKE_FD(fd);
}

static void help(void) {
        printf("tailkitd-dispatch [OPTIONS]\n\n"
               "Routes tailkitd HTTP connections to the per-integration workers.\n"
               "Normally started by tailkitd.socket; run by hand with --listen.\n\n"
               "  -h --help              Show this help\n"
               "     --version           Show the version\n"
               "     --listen ADDR:PORT  Bind this address instead of using socket activation\n\n"
               "Environment: TAILKITD_RUNTIME_DIR (worker sockets, default %s),\n"
               "TAILKITD_IDLE_TIMEOUT (seconds, 0 = never), TAILKITD_CONFIG_DIR.\n",
               TAILKITD_RUNTIME_DIR);
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_LISTEN };
        static const struct option options[] = {
                { "help",    no_argument,       NULL, 'h'         },
                { "version", no_argument,       NULL, ARG_VERSION },
                { "listen",  required_argument, NULL, ARG_LISTEN  },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("tailkitd-dispatch %s\n", TAILKITD_VERSION);
                        return 0;
                case ARG_LISTEN:
                        d.listen_arg = optarg;
                        break;
                default:
                        return -EINVAL;
                }
        if (optind < argc)
                return log_error_errno(EINVAL, "Unexpected argument '%s'", argv[optind]);
        return 1;
}

/* tailkitd.conf may be invalid: the workers report that; routing goes on with defaults. */
static uint64_t configured_idle_timeout(void) {
        ConfigErrors errors = {};
        DaemonConfig cfg = {};
        uint64_t sec;

        if (daemon_config_load(config_dir(), &cfg, &errors) < 0)
                for (size_t i = 0; i < errors.n; i++)
                        log_warning("%s", errors.messages[i]);
        sec = cfg.idle_timeout_sec;
        daemon_config_done(&cfg);
        config_errors_done(&errors);
        return idle_timeout_usec(sec);
}

static int add_listener(int fd) {
        Listener *l;
        int flags;

        if (d.n_listeners >= MAX_LISTENERS)
                return log_error_errno(EMFILE, "More than %d listening sockets; ignoring the rest", MAX_LISTENERS);
        flags = fcntl(fd, F_GETFL);
        if (flags >= 0)
                (void) fcntl(fd, F_SETFL, flags | O_NONBLOCK);
        l = &d.listeners[d.n_listeners];
        l->fd = fd;
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = l };
        if (epoll_ctl(d.epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
                return log_error_errno(errno, "epoll_ctl() failed: %m");
        d.n_listeners++;
        return 0;
}

/* Every listening stream socket systemd passes is served (IPv4 and IPv6, or
 * loopback and the tailnet address); anything else is reported and left alone. */
static int take_activated_sockets(void) {
        int n = listen_fds_take();

        if (n < 0)
                return log_error_errno(n, "Failed to read the sockets passed by systemd: %m");
        if (n == 0)
                return log_error_errno(EINVAL, "No socket passed by systemd: start tailkitd.socket, "
                                       "or use --listen to run by hand");
        for (int fd = LISTEN_FDS_START; fd < LISTEN_FDS_START + n; fd++) {
                if (socket_is_listening(fd, AF_UNSPEC, SOCK_STREAM) <= 0) {
                        log_warning("Socket %d passed by systemd is not a listening stream socket "
                                    "(ListenStream=); ignoring it", fd - LISTEN_FDS_START);
                        continue;
                }
                (void) add_listener(fd);
        }
        if (d.n_listeners == 0)
                return log_error_errno(EINVAL, "None of the %d sockets passed by systemd is a listening "
                                       "stream socket (ListenStream=)", n);
        return 0;
}

static bool connection_pending(void) {
        for (size_t i = 0; i < d.n_listeners; i++) {
                struct pollfd p = { .fd = d.listeners[i].fd, .events = POLLIN };
                if (poll(&p, 1, 0) > 0)
                        return true;
        }
        return false;
}

static volatile sig_atomic_t terminate;

static void on_terminate(int sig) {
        terminate = 1;
}

static void wait_for_termination(void) {
        struct sigaction sa = { .sa_handler = on_terminate };

        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        while (!terminate)
                pause();
}

static void raise_nofile(void) {
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = MIN(rl.rlim_max, (rlim_t) 65536);
                (void) setrlimit(RLIMIT_NOFILE, &rl);
        }
}

int main(int argc, char *argv[]) {
        int r, n;

        log_setup("dispatch");
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? 1 : 0;

        signal(SIGPIPE, SIG_IGN);
        raise_nofile();

        d.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (d.epoll_fd < 0) {
                log_error_errno(errno, "epoll_create1() failed: %m");
                return 1;
        }
        if (d.listen_arg) {
                r = listen_on(d.listen_arg);
                if (r < 0 || add_listener(r) < 0)
                        return 1;
        } else if (take_activated_sockets() < 0) {
                /* Exiting would make systemd start us again at once and trip
                 * the socket's trigger limit: the node would stop answering
                 * until someone runs reset-failed. Say what is wrong and stay. */
                (void) notify_send("READY=1\nSTATUS=No usable listening socket; see journalctl -u tailkitd.service");
                wait_for_termination();
                return 0;
        }

        d.idle_timeout_usec = configured_idle_timeout();
        d.last_activity = now_usec();
        (void) notify_send("READY=1\nSTATUS=Dispatching connections");
        log_debug("Dispatching to workers in %s", runtime_dir());

        for (;;) {
                struct epoll_event events[64];
                uint64_t now = now_usec();
                int timeout = next_timeout_ms(now);

                n = epoll_wait(d.epoll_fd, events, (int) ELEMENTSOF(events), timeout);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        log_error_errno(errno, "epoll_wait() failed: %m");
                        return 1;
                }
                for (int i = 0; i < n; i++) {
                        if (is_listener(events[i].data.ptr))
                                accept_connections(events[i].data.ptr);
                        else
                                conn_process(events[i].data.ptr, events[i].events);
                }

                now = now_usec();
                expire_connections(now);
                if (!d.conns && d.idle_timeout_usec > 0 && now - d.last_activity >= d.idle_timeout_usec) {
                        /* A connection may have arrived since the last wait: serve it first. */
                        if (connection_pending())
                                continue;
                        log_debug("Idle for %llu s, exiting", (unsigned long long) (d.idle_timeout_usec / 1000000));
                        (void) notify_send("STOPPING=1");
                        break;
                }
        }
        return 0;
}
