/* SPDX-License-Identifier: MIT */
#pragma once

/* Prometheus' text exposition format (0.0.4) and OpenMetrics 1.0, written
 * into one bounded buffer: a family's HELP and TYPE once, then its samples
 * (contiguous, as both formats require). The two differ only where this
 * writer hides it: an OpenMetrics counter family is named without its
 * "_total" (the samples keep it), "untyped" is "unknown", and the body ends
 * with "# EOF". A failure (out of memory, past EXPOSITION_MAX) sticks: later
 * calls do nothing and expo_finish() returns it. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EXPOSITION_MAX (8 * 1024 * 1024)
#define EXPOSITION_TEXT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define EXPOSITION_OPENMETRICS_TYPE "application/openmetrics-text; version=1.0.0; charset=utf-8"

typedef enum ExpoType {
        EXPO_COUNTER,
        EXPO_GAUGE,
        EXPO_UNTYPED,
} ExpoType;

typedef struct Expo {
        char *buf;
        size_t len, alloc;
        bool openmetrics;
        int error;
} Expo;

/* name must match [a-zA-Z_:][a-zA-Z0-9_:]* (a counter's ends in "_total"). */
void expo_family(Expo *e, const char *name, ExpoType type, const char *help);
/* labels: key, value, key, value, …, NULL (values escaped here). */
void expo_sample_u64(Expo *e, const char *name, const char *const *labels, uint64_t v);
void expo_sample(Expo *e, const char *name, const char *const *labels, double v);
/* Appends "# EOF" for OpenMetrics; 0 or the first error. */
int expo_finish(Expo *e);
void expo_done(Expo *e);

bool expo_name_is_valid(const char *name);

/* Which format an Accept header prefers: 1 OpenMetrics, 0 the text format
 * (also when it names neither: the format's default). other, when not
 * NULL, is a media type that wins over both when the client prefers it
 * (application/json on /all): then -1. */
int expo_negotiate(const char *accept, const char *other);
