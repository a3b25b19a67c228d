/* SPDX-License-Identifier: MIT */
#include <stdarg.h>

#include "table.h"

struct Table {
        size_t n_cols, n_rows, alloc;
        char **cells;             /* row-major; row 0 is the header */
};

static char *clean_dup(const char *s) {
        char *d = strdup(s ?: "-");
        if (!d)
                return NULL;
        for (char *p = d; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        *p = '?';
        return d;
}

Table *table_new(const char *first, ...) {
        Table *t = calloc(1, sizeof(Table));
        va_list ap;

        if (!t)
                return NULL;
        va_start(ap, first);
        for (const char *h = first; h; h = va_arg(ap, const char *))
                t->n_cols++;
        va_end(ap);
        t->alloc = 16;
        t->cells = calloc(t->alloc * t->n_cols, sizeof(char *));
        if (!t->cells)
                return table_free(t);
        va_start(ap, first);
        size_t i = 0;
        for (const char *h = first; h; h = va_arg(ap, const char *))
                t->cells[i++] = clean_dup(h);
        va_end(ap);
        t->n_rows = 1;
        return t;
}

Table *table_free(Table *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; t->cells && i < t->n_rows * t->n_cols; i++)
                free(t->cells[i]);
        free(t->cells);
        free(t);
        return NULL;
}

int table_add(Table *t, ...) {
        va_list ap;

        if (t->n_rows == t->alloc) {
                char **n = reallocarray(t->cells, t->alloc * 2 * t->n_cols, sizeof(char *));
                if (!n)
                        return -ENOMEM;
                t->cells = n;
                t->alloc *= 2;
        }
        va_start(ap, t);
        for (size_t i = 0; i < t->n_cols; i++) {
                char *c = clean_dup(va_arg(ap, const char *));
                if (!c) {
                        for (size_t j = 0; j < i; j++)
                                free(t->cells[t->n_rows * t->n_cols + j]);
                        va_end(ap);
                        return -ENOMEM;
                }
                t->cells[t->n_rows * t->n_cols + i] = c;
        }
        va_end(ap);
        t->n_rows++;
        return 0;
}

size_t table_rows(const Table *t) {
        return t->n_rows - 1;
}

/* Display width: UTF-8 continuation bytes take no column. */
static size_t width(const char *s) {
        size_t w = 0;
        for (; *s; s++)
                if (((unsigned char) *s & 0xc0) != 0x80)
                        w++;
        return w;
}

void table_print(const Table *t, FILE *f) {
        size_t w[t->n_cols];

        memset(w, 0, sizeof w);
        for (size_t r = 0; r < t->n_rows; r++)
                for (size_t c = 0; c < t->n_cols; c++)
                        w[c] = MAX(w[c], width(t->cells[r * t->n_cols + c]));
        for (size_t r = 0; r < t->n_rows; r++) {
                for (size_t c = 0; c < t->n_cols; c++) {
                        const char *s = t->cells[r * t->n_cols + c];
                        if (c + 1 == t->n_cols)
                                fprintf(f, "%s\n", s);
                        else
                                fprintf(f, "%s%*s  ", s, (int) (w[c] - width(s)), "");
                }
        }
}
