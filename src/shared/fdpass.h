/* SPDX-License-Identifier: MIT */
#pragma once

/* Handing a client connection from the dispatcher to a worker: one fd per
 * SOCK_SEQPACKET message, with a one-byte payload so the message is never
 * empty. */

#include <stdbool.h>

/* Connects a non-blocking SOCK_SEQPACKET socket to path. -EAGAIN when the
 * listener's backlog is full (its worker does not accept), -ENOENT or
 * -ECONNREFUSED when nothing listens. */
int seqpacket_connect(const char *path);

/* Never blocks: -EAGAIN when the socket cannot take the message now. */
int fd_send(int sock, int fd);

/* Whether fd is a connected TCP socket (IPv4 or IPv6): the only kind of
 * connection a worker serves. */
bool fd_is_tcp_stream(int fd);

/* Receives one fd (O_CLOEXEC). Returns -EBADMSG when the message carried no
 * fd or more than one (extras are closed), 0 at end of stream with *ret = -1. */
int fd_recv(int sock, int *ret);
