/* SPDX-License-Identifier: MIT */
#include "jstring.h"
#include "macro.h"
#include "render.h"

#define RAW_CHUNK 4096
/* One raw chunk encoded (6 bytes per byte at worst), or one key's line head. */
#define OUT_MAX (RAW_CHUNK * JSTR_ESCAPE_MAX + 2048)

enum { P_NEXT, P_BODY, P_DONE };

struct ScopeRender {
        ScopeFile *file;
        RenderFormat format;
        const ScopeEntry *only;
        int phase;
        size_t next;             /* the entry after the one being sent */
        bool first;
        uint64_t pos, end;       /* what is left of the current value's body */
        JStrDecoder dec;
        size_t out_pos, out_len;
        char raw[RAW_CHUNK];
        char out[OUT_MAX];
};

int scope_render_new(ScopeFile *f, RenderFormat format, const ScopeEntry *only, ScopeRender **ret) {
        ScopeRender *r = calloc(1, sizeof(ScopeRender));

        if (!r) {
                scope_file_free(f);
                return -ENOMEM;
        }
        r->file = f;
        r->format = format;
        r->only = only;
        r->first = true;
        *ret = r;
        return 0;
}

void scope_render_free(ScopeRender *r) {
        if (!r)
                return;
        scope_file_free(r->file);
        free(r);
}

static void put(ScopeRender *r, const char *s, size_t n) {
        memcpy(r->out + r->out_len, s, n);
        r->out_len += n;
}

static void put_str(ScopeRender *r, const char *s) {
        put(r, s, strlen(s));
}

static void put_byte_encoded(ScopeRender *r, unsigned char c) {
        if (r->format != RENDER_ENV)
                r->out_len += jstr_escape_byte(c, r->out + r->out_len);
        else {
                if (c == '"' || c == '\\' || c == '$' || c == '`')
                        r->out[r->out_len++] = '\\';
                r->out[r->out_len++] = (char) c;
        }
}

static void begin_value(ScopeRender *r, const ScopeEntry *e) {
        const char *key = scope_entry_key(r->file, e);

        /* Visible keys are A-Z0-9_ (at most 256): nothing to escape. */
        if (r->format == RENDER_ENV) {
                put_str(r, key);
                put_str(r, "=\"");
        } else if (r->format == RENDER_JSON) {
                put_str(r, r->first ? "{\"" : ",\"");
                put_str(r, key);
                put_str(r, "\":\"");
        } else {
                put_str(r, "{\"key\":\"");
                put_str(r, key);
                put_str(r, "\",\"value\":\"");
        }
        r->first = false;
        r->pos = e->off;
        r->end = e->off + e->len;
        r->dec = JSTR_DECODER_INIT;
        r->phase = P_BODY;
}

static int next_value(ScopeRender *r) {
        const ScopeFile *f = r->file;

        if (r->format == RENDER_KEY) {
                if (r->first && r->only) {
                        begin_value(r, r->only);
                        return 0;
                }
                put_str(r, "\"}\n");
                r->phase = P_DONE;
                return 0;
        }
        while (r->next < f->n && !f->entries[r->next].visible)
                r->next++;
        if (r->next < f->n) {
                begin_value(r, &f->entries[r->next++]);
                return 0;
        }
        if (r->format == RENDER_JSON)
                put_str(r, r->first ? "{}\n" : "}\n");
        r->phase = P_DONE;
        return 0;
}

static int body_chunk(ScopeRender *r) {
        size_t want = (size_t) MIN((uint64_t) RAW_CHUNK, r->end - r->pos);
        ssize_t n;

        if (want == 0) {
                if (!jstr_at_boundary(&r->dec))
                        return -EBADMSG;
                if (r->format == RENDER_ENV)
                        put_str(r, "\"\n");
                else if (r->format == RENDER_JSON)
                        put_str(r, "\"");
                r->phase = P_NEXT;
                return 0;
        }
        do
                n = pread(r->file->fd, r->raw, want, (off_t) r->pos);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return negative_errno();
        if (n == 0)
                return -EIO;    /* truncated in place since it was checked */
        r->pos += (uint64_t) n;
        for (ssize_t i = 0; i < n; i++) {
                char dec[4];
                int k = jstr_feed(&r->dec, (unsigned char) r->raw[i], dec);

                if (k < 0 || k == JSTR_END)
                        return -EBADMSG;
                for (int j = 0; j < k; j++)
                        put_byte_encoded(r, (unsigned char) dec[j]);
        }
        return 0;
}

static int refill(ScopeRender *r) {
        r->out_pos = r->out_len = 0;
        return r->phase == P_BODY ? body_chunk(r) : next_value(r);
}

ssize_t scope_render_read(ScopeRender *r, char *buf, size_t max) {
        while (r->out_pos == r->out_len) {
                int e;

                if (r->phase == P_DONE)
                        return 0;
                e = refill(r);
                if (e < 0)
                        return e;
        }
        max = MIN(max, r->out_len - r->out_pos);
        memcpy(buf, r->out + r->out_pos, max);
        r->out_pos += max;
        return (ssize_t) max;
}
