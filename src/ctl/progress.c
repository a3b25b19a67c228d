/* SPDX-License-Identifier: MIT */
#include <inttypes.h>

#include "ctl.h"
#include "macro.h"
#include "progress.h"

#define BAR_WIDTH 30
#define REDRAW_MS 100

void format_bytes(uint64_t n, char *buf, size_t size) {
        static const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
        double v = (double) n;
        size_t u = 0;

        while (v >= 1024 && u + 1 < ELEMENTSOF(units)) {
                v /= 1024;
                u++;
        }
        if (u == 0)
                snprintf(buf, size, "%" PRIu64 " B", n);
        else
                snprintf(buf, size, "%.1f %s", v, units[u]);
}

void progress_begin(Progress *p, FILE *f, const char *label) {
        *p = (Progress) { .f = f, .label = label, .start_ms = now_ms() };
}

static void draw(Progress *p) {
        char done[32], total[32], rate[32];
        uint64_t elapsed = now_ms() - p->start_ms;

        format_bytes(p->done, done, sizeof done);
        format_bytes(elapsed ? p->done * 1000 / elapsed : 0, rate, sizeof rate);
        if (p->total > 0) {
                unsigned pct = (unsigned) (p->done * 100 / p->total);
                unsigned fill = (unsigned) (p->done * BAR_WIDTH / p->total);
                char bar[BAR_WIDTH + 1];

                format_bytes(p->total, total, sizeof total);
                memset(bar, '#', fill);
                memset(bar + fill, '.', BAR_WIDTH - fill);
                bar[BAR_WIDTH] = 0;
                fprintf(p->f, "\r\033[K%s [%s] %3u%% %s / %s  %s/s", p->label, bar, MIN(pct, 100u), done, total, rate);
        } else
                fprintf(p->f, "\r\033[K%s %s  %s/s", p->label, done, rate);
        fflush(p->f);
        p->drawn = true;
}

void progress_update(Progress *p, uint64_t done, uint64_t total) {
        uint64_t now;

        if (!p->f)
                return;
        p->done = done;
        p->total = total;
        now = now_ms();
        /* Nothing new, or too soon (the final 100 % is always drawn). */
        if (p->drawn && done == p->last_done)
                return;
        if (p->drawn && !(total && done == total) && now - p->last_draw_ms < REDRAW_MS)
                return;
        p->last_done = done;
        p->last_draw_ms = now;
        draw(p);
}

void progress_status(Progress *p, const char *status) {
        uint64_t now;

        if (!p->f)
                return;
        now = now_ms();
        if (p->drawn && now - p->last_draw_ms < REDRAW_MS)
                return;
        p->last_draw_ms = now;
        fprintf(p->f, "\r\033[K%s %s %.1f s", p->label, status, (double) (now - p->start_ms) / 1000.0);
        fflush(p->f);
        p->drawn = true;
}

void progress_end(Progress *p, bool ok) {
        if (!p->f)
                return;
        if (p->drawn) {
                if (ok && p->total)
                        draw(p);
                fputc('\n', p->f);
        }
        p->f = NULL;
}
