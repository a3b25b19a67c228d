/* SPDX-License-Identifier: MIT */
#pragma once

/* Command output as the body of a JSON string, escaped block by block so a
 * poll never holds the output whole. Bytes that are not valid UTF-8 become
 * U+FFFD, one per byte (as Go's encoder does), and so does NUL: a job's
 * output is text, and a NUL would cut it in most clients. Control characters
 * are escaped as JSON requires (\n, \t..., else \u00XX); '/' is not. */

#include <stdbool.h>
#include <stddef.h>

/* The most JSON bytes one input byte can become ("\u001f"). */
#define OUTPUT_ESCAPE_MAX 6
/* The longest incomplete UTF-8 sequence output_escape() leaves unconsumed. */
#define OUTPUT_CARRY_MAX 3

/* Escapes in[0..len) into out (room for len * OUTPUT_ESCAPE_MAX bytes) and
 * returns the bytes written. Unless eof, a UTF-8 sequence cut by the end of
 * the block is left unconsumed (*ret_consumed < len, at most
 * OUTPUT_CARRY_MAX bytes left): the caller passes it again in front of the
 * next block. */
size_t output_escape(const unsigned char *in, size_t len, bool eof, char *out, size_t *ret_consumed);
