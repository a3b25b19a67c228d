/* SPDX-License-Identifier: MIT */
#pragma once

/* The systemd protocols a service speaks without libsystemd: socket
 * activation (sd_listen_fds), readiness (sd_notify) and the journal's native
 * protocol (sd_journal_sendv). Linking libsystemd for them maps it and its
 * compression and crypto libraries into the process: over 1 MiB of the
 * dispatcher's RSS. Each is a few system calls, bounded, and documented:
 *   https://www.freedesktop.org/software/systemd/man/sd_listen_fds.html
 *   https://www.freedesktop.org/software/systemd/man/sd_notify.html
 *   https://systemd.io/JOURNAL_NATIVE_PROTOCOL/ */

#include <stddef.h>
#include <sys/uio.h>

#define LISTEN_FDS_START 3
/* More passed sockets than this is a unit misconfiguration: -E2BIG. */
#define LISTEN_FDS_MAX 256

#define JOURNAL_SOCKET_PATH "/run/systemd/journal/socket"
/* Fields in one record: tailkitd's records have fewer than 48. */
#define JOURNAL_FIELDS_MAX 64

/* sd_listen_fds(1): the number of sockets passed to this process (0 when
 * none, or when $LISTEN_PID names another process), starting at fd
 * LISTEN_FDS_START. Sets FD_CLOEXEC on them and always unsets $LISTEN_PID,
 * $LISTEN_FDS and $LISTEN_FDNAMES, so children do not inherit them. */
int listen_fds_take(void);

/* sd_is_socket(fd, family, type, 1): 1 when fd is a listening socket of this
 * type (SOCK_STREAM, SOCK_SEQPACKET) and family (AF_UNSPEC: any), 0 when it
 * is anything else (not a socket, another type, not listening). */
int socket_is_listening(int fd, int family, int type);

/* sd_notify(0, state): sends state ("READY=1\nSTATUS=...") to
 * $NOTIFY_SOCKET (a path, or an abstract name when it starts with '@').
 * 1 when sent, 0 when no notification socket is set. */
int notify_send(const char *state);

/* sd_journal_sendv(): one record, one datagram to socket_path (NULL: the
 * journal's). Each field is "NAME=value"; a value with a newline is sent in
 * the protocol's binary form. The socket is opened on first use and kept.
 * Returns 0 or a negative errno (no journal, EMSGSIZE...): the record is
 * then not written, and the caller decides where it goes instead. */
int journal_send(const char *socket_path, const struct iovec *fields, size_t n_fields);
