/* SPDX-License-Identifier: MIT */
#pragma once

/* JSON string bodies (the bytes between the quotes) decoded and encoded a
 * byte at a time, so that no value ever has to sit in memory whole. The
 * decoder is strict: valid UTF-8 only, no raw control bytes, no lone
 * surrogates, no NUL (a value holding one cannot round-trip through an env
 * file). */

#include <stddef.h>
#include <stdint.h>

typedef struct JStrDecoder {
        uint8_t state;
        uint8_t n_hex;           /* hex digits of \uXXXX read so far */
        uint8_t utf8_need;       /* continuation bytes still due */
        uint32_t acc;            /* \u code unit, or UTF-8 code point, in progress */
        uint32_t high;           /* a high surrogate waiting for its pair */
        uint32_t utf8_cp, utf8_min;
} JStrDecoder;

#define JSTR_DECODER_INIT ((JStrDecoder) {})

/* The closing quote was read (the decoder is done). */
#define JSTR_END 8

/* Feeds one raw byte: returns the number of decoded bytes put in out (0-4),
 * JSTR_END at the closing quote, -EBADMSG on invalid input. */
int jstr_feed(JStrDecoder *d, unsigned char c, char out[static 4]);

/* Whether the decoder stands between characters (a range ending here is a
 * complete string body). */
int jstr_at_boundary(const JStrDecoder *d);

/* JSON encoding of a byte (no quotes): at most JSTR_ESCAPE_MAX bytes. */
#define JSTR_ESCAPE_MAX 6
size_t jstr_escape_byte(unsigned char c, char *out);
size_t jstr_escaped_len(const char *s, size_t n);
/* Encodes s into out (room for jstr_escaped_len(s, n) bytes); returns the length. */
size_t jstr_escape(const char *s, size_t n, char *out);
