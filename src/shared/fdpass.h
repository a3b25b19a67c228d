/* SPDX-License-Identifier: MIT */
#pragma once

/* Handing a client connection from the dispatcher to a worker: one fd per
 * SOCK_SEQPACKET message, with a one-byte payload so the message is never
 * empty. */

/* Connects a SOCK_SEQPACKET socket to path (non-blocking connect is not
 * needed: systemd holds the listening socket, so connect() completes at once). */
int seqpacket_connect(const char *path);

int fd_send(int sock, int fd);

/* Receives one fd (O_CLOEXEC). Returns -EBADMSG when the message carried no
 * fd or more than one (extras are closed), 0 at end of stream with *ret = -1. */
int fd_recv(int sock, int *ret);
