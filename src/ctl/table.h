/* SPDX-License-Identifier: MIT */
#pragma once

/* Readable tables: a header row and aligned columns, the last column
 * unpadded. Cells are copied; control characters become '?'. */

#include <stddef.h>
#include <stdio.h>

#include "macro.h"

typedef struct Table Table;

/* Column headers, NULL-terminated. */
Table *table_new(const char *first, ...) _sentinel_;
Table *table_free(Table *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(Table *, table_free);

/* One row: exactly as many cells as headers (NULL prints as "-"). */
int table_add(Table *t, ...);
size_t table_rows(const Table *t);
void table_print(const Table *t, FILE *f);
