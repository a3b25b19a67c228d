/* SPDX-License-Identifier: MIT */
#pragma once

/* A scope's answer produced piece by piece while it is sent: values are
 * decoded from the scope file a chunk at a time and encoded straight into
 * the reply, so a read holds a few KiB whatever the scope's size.
 *
 * RENDER_ENV writes KEY="value" lines (sorted by key) that both sh
 * (`set -a; . ./file`) and systemd's EnvironmentFile= read back exactly:
 * inside double quotes only " \ $ and ` are special to either, so they are
 * backslash-escaped and every other byte (newlines included) is literal. */

#include <sys/types.h>

#include "scopefile.h"

typedef enum RenderFormat {
        RENDER_JSON,             /* {"KEY":"value",...}\n */
        RENDER_ENV,              /* KEY="value"\n lines */
        RENDER_KEY,              /* {"key":"KEY","value":"value"}\n of one entry */
} RenderFormat;

typedef struct ScopeRender ScopeRender;

/* Takes ownership of f (freed with the render, also on failure). With
 * RENDER_KEY, only is the entry to show. */
int scope_render_new(ScopeFile *f, RenderFormat format, const ScopeEntry *only, ScopeRender **ret);
/* Up to max bytes of the answer into buf: their number, 0 at the end,
 * -EBADMSG/-EIO when the file no longer reads as it did when checked. */
ssize_t scope_render_read(ScopeRender *r, char *buf, size_t max);
void scope_render_free(ScopeRender *r);
