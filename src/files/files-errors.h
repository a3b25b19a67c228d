/* SPDX-License-Identifier: MIT */
#pragma once

/* How a failed lookup, read or write is told to the caller: status, error
 * and hint for each errno the resolution and upload code return. */

#include <stdbool.h>

#include "files-config.h"

typedef enum FilesOp {
        FILES_OP_READ,
        FILES_OP_LIST,
        FILES_OP_WRITE,
} FilesOp;

typedef struct FilesErrorText {
        unsigned status;
        char error[256];
        char hint[512];
} FilesErrorText;

void files_describe_errno(int e, FilesOp op, const FilesRule *rule, FilesErrorText *ret);
