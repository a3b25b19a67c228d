/* SPDX-License-Identifier: MIT */
#pragma once

/* An error answer written straight to a client's socket, where no HTTP
 * engine is in the way: the dispatcher's answers, and a worker refusing a
 * connection before libmicrohttpd takes it. One non-blocking send of
 * {"error": ..., "hint": ...} with Connection: close (and Retry-After when
 * retry_after_sec > 0). error and hint are fixed strings or names from
 * fixed tables: they are not JSON-escaped. */
void raw_reply_error(int fd, int status, const char *error, const char *hint, unsigned retry_after_sec);
