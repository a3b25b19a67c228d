/* SPDX-License-Identifier: MIT */
/* The answer to GET /exec/jobs/{id}, streamed: the fields, then stdout and
 * stderr escaped block by block straight from their files, then the rest.
 * A poll holds one block in memory whatever the output's size, so many
 * slow pollers of a large output cannot exhaust the worker. */

#include "exec.h"
#include "job-output.h"
#include "macro.h"

#define READ_BLOCK 4096

typedef enum Phase {
        PHASE_HEAD,             /* {"job_id":...,"stdout":" */
        PHASE_STDOUT,
        PHASE_MID,              /* ","stderr":" */
        PHASE_STDERR,
        PHASE_TAIL,             /* ","stdout_truncated":...}\n */
        PHASE_DONE,
} Phase;

typedef struct JobStream {
        JobRead job;
        char *head, *tail;
        Phase phase;
        size_t literal_pos;
        unsigned char in[OUTPUT_CARRY_MAX + READ_BLOCK];
        size_t n_carry;
        uint64_t left;                  /* bytes of the current file still to send */
        char out[(OUTPUT_CARRY_MAX + READ_BLOCK) * OUTPUT_ESCAPE_MAX];
        size_t out_pos, out_len;
} JobStream;

static void job_stream_free(void *p) {
        JobStream *s = p;

        if (!s)
                return;
        job_read_done(&s->job);
        free(s->head);
        free(s->tail);
        free(s);
}

static const char *literal(JobStream *s) {
        return s->phase == PHASE_HEAD ? s->head : s->phase == PHASE_MID ? "\",\"stderr\":\"" : s->tail;
}

static int file_fd(JobStream *s) {
        return s->phase == PHASE_STDOUT ? s->job.stdout_fd : s->job.stderr_fd;
}

static void next_phase(JobStream *s) {
        s->phase++;
        s->literal_pos = 0;
        s->n_carry = 0;
        if (s->phase == PHASE_STDOUT)
                s->left = s->job.stdout_fd >= 0 ? s->job.stdout_size : 0;
        else if (s->phase == PHASE_STDERR)
                s->left = s->job.stderr_fd >= 0 ? s->job.stderr_size : 0;
}

/* Escapes the next block of the current file into out. A read error ends
 * the stream's text there: the JSON stays whole. */
static void fill_from_file(JobStream *s) {
        size_t want = (size_t) MIN(s->left, (uint64_t) READ_BLOCK), consumed;
        ssize_t n = 0;
        bool eof;

        if (want > 0)
                n = read(file_fd(s), s->in + s->n_carry, want);
        if (n < 0 && errno == EINTR)
                return;
        if (n <= 0)
                s->left = 0;
        else
                s->left -= (uint64_t) n;
        eof = s->left == 0;
        size_t len = s->n_carry + (size_t) MAX(n, (ssize_t) 0);
        s->out_len = output_escape(s->in, len, eof, s->out, &consumed);
        s->out_pos = 0;
        s->n_carry = len - consumed;
        memmove(s->in, s->in + consumed, s->n_carry);
        if (eof)
                next_phase(s);
}

static ssize_t job_stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
        JobStream *s = cls;
        size_t n = 0;

        (void) pos;
        while (n < max && s->phase != PHASE_DONE) {
                if (s->out_pos < s->out_len) {
                        size_t k = MIN(max - n, s->out_len - s->out_pos);
                        memcpy(buf + n, s->out + s->out_pos, k);
                        s->out_pos += k;
                        n += k;
                } else if (s->phase == PHASE_STDOUT || s->phase == PHASE_STDERR)
                        fill_from_file(s);
                else {
                        const char *l = literal(s);
                        size_t k = MIN(max - n, strlen(l) - s->literal_pos);
                        memcpy(buf + n, l + s->literal_pos, k);
                        s->literal_pos += k;
                        n += k;
                        if (l[s->literal_pos] == 0)
                                next_phase(s);
                }
        }
        return n > 0 ? (ssize_t) n : MHD_CONTENT_READER_END_OF_STREAM;
}

/* obj's JSON text without its first or last character ('{' or '}'). */
static char *json_inner(json_object *obj, bool drop_last) {
        const char *t = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        size_t len;

        if (!t || (len = strlen(t)) < 2)
                return NULL;
        return drop_last ? memdup_str(t, len - 1) : memdup_str(t + 1, len - 1);
}

int reply_job(Request *r, JobRead *job) {
        JobStream *s = calloc(1, sizeof(JobStream));
        _cleanup_free_ char *head = NULL, *tail = NULL;

        if (!s) {
                job_read_done(job);
                return -ENOMEM;
        }
        s->job = *job;
        *job = (JobRead) { .stdout_fd = -1, .stderr_fd = -1 };
        head = json_inner(s->job.fields, true);
        tail = json_inner(s->job.flags, false);
        if (head && asprintf(&s->head, "%s,\"stdout\":\"", head) < 0)
                s->head = NULL;
        if (tail && asprintf(&s->tail, "\",%s\n", tail) < 0)
                s->tail = NULL;
        if (!s->head || !s->tail) {
                job_stream_free(s);
                return -ENOMEM;
        }
        return reply_stream(r, 200, "application/json", MHD_SIZE_UNKNOWN, job_stream_read, s, job_stream_free);
}
