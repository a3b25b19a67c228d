/* SPDX-License-Identifier: MIT */
#pragma once

/* A command's own flags, parsed without getopt (which keeps global state:
 * fleet mode runs a command on several threads at once). */

#include <stdbool.h>
#include <stddef.h>

#include "ctl.h"

typedef struct Flag {
        const char *name;         /* "--wait" */
        const char *short_name;   /* "-n" or NULL */
        const char **value;       /* takes a value when non-NULL */
        bool *set;                /* a boolean flag when non-NULL */
} Flag;

#define ARGS_MAX 64

typedef struct Args {
        char *pos[ARGS_MAX];      /* positional arguments in order */
        size_t n;
} Args;

/* Flags anywhere, "--" ends them. 0, or EXIT_USAGE after printing why. */
int args_parse(const Ctx *c, const char *command, int argc, char **argv,
               const Flag *flags, size_t n_flags, Args *ret);

/* A decimal in [min, max], or EXIT_USAGE after printing. */
int args_uint(const Ctx *c, const char *command, const char *what, const char *s,
              unsigned min, unsigned max, unsigned *ret);
