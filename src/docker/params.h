/* SPDX-License-Identifier: MIT */
#pragma once

/* What a caller may put into an Engine URL: ids and names (checked before
 * they are placed in a path) and the query parameters each endpoint declares
 * (nothing else is passed on; ?filters= must be a JSON filter object). */

#include <stdbool.h>
#include <stddef.h>

#define DOCKER_NAME_MAX 128
#define DOCKER_REF_MAX 512
#define COMPOSE_PROJECT_MAX 64
#define FILTERS_MAX 4096
#define FILTER_KEYS_MAX 32
#define FILTER_VALUES_MAX 64
#define FILTER_VALUE_MAX 512

/* A container, network, volume, node, service or task id or name:
 * [a-zA-Z0-9][a-zA-Z0-9_.-]*, no "..". */
bool docker_name_is_valid(const char *s);
/* An image id or reference: "sha256:<hex>", "busybox", "local/busybox:1.36",
 * "registry:5000/x/y@sha256:<hex>"; no "..", "//", or leading/trailing "/". */
bool docker_image_ref_is_valid(const char *s);
/* A compose project name as compose normalises them: [a-z0-9][a-z0-9_-]*. */
bool compose_project_is_valid(const char *s);

typedef enum QueryType {
        QUERY_BOOL,          /* 1/0/true/false → "1"/"0" */
        QUERY_UINT,          /* 0..max */
        QUERY_FILTERS,       /* a JSON filter object, re-serialised */
        QUERY_TAIL,          /* "all" or 0..max */
        QUERY_TIMESTAMP,     /* Unix seconds, optional fraction */
        QUERY_IMAGE,         /* docker_image_ref_is_valid() */
        QUERY_PATH,          /* absolute, no control characters, at most 512 bytes */
} QueryType;

typedef struct QueryParam {
        const char *name;
        QueryType type;
        unsigned max;        /* QUERY_UINT, QUERY_TAIL */
        const char *def;     /* sent when the caller gives none; NULL: omitted */
} QueryParam;

typedef struct QueryPair {
        const char *key;
        const char *value;   /* NULL for "?key" without '=' */
} QueryPair;

/* Checks the caller's pairs against declared (ended by {}) and builds the
 * Engine's query string ("a=1&filters=%7B...", possibly "") with the
 * declared parameters in their order, then fixed ("stream=false", may be
 * NULL). -EINVAL with *error (owned by the caller) naming the parameter. */
int query_build(const QueryParam *declared, const QueryPair *pairs, size_t n_pairs, const char *fixed,
                char **ret, char **error);

/* ?filters=: a JSON object of filter name → array of strings (or the
 * older name → {value: true}); returns the compact JSON to pass on. */
int filters_normalize(const char *json, char **ret, char **error);

/* Percent-encodes everything but RFC 3986 unreserved characters. */
char *query_escape(const char *s);
