/* SPDX-License-Identifier: MIT */
#include <stdarg.h>

#include "args.h"
#include "macro.h"

static const Flag *find_flag(const Flag *flags, size_t n, const char *arg, const char **inline_value) {
        *inline_value = NULL;
        for (size_t i = 0; i < n; i++) {
                const char *rest = startswith(arg, flags[i].name);
                if (rest && *rest == 0)
                        return &flags[i];
                if (rest && *rest == '=' && flags[i].value) {
                        *inline_value = rest + 1;
                        return &flags[i];
                }
                if (flags[i].short_name && streq(arg, flags[i].short_name))
                        return &flags[i];
        }
        return NULL;
}

int args_parse(const Ctx *c, const char *command, int argc, char **argv,
               const Flag *flags, size_t n_flags, Args *ret) {
        bool only_pos = false;

        *ret = (Args) {};
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i], *inline_value;
                const Flag *f;

                if (!only_pos && streq(a, "--")) {
                        only_pos = true;
                        continue;
                }
                if (!only_pos && a[0] == '-' && a[1] != 0) {
                        f = find_flag(flags, n_flags, a, &inline_value);
                        if (!f)
                                return command_usage_error(c, command, "unknown option %s", a);
                        if (f->set)
                                *f->set = true;
                        else if (inline_value)
                                *f->value = inline_value;
                        else if (i + 1 < argc)
                                *f->value = argv[++i];
                        else
                                return command_usage_error(c, command, "%s needs a value", a);
                        continue;
                }
                if (ret->n == ARGS_MAX)
                        return command_usage_error(c, command, "too many arguments");
                ret->pos[ret->n++] = argv[i];
        }
        return 0;
}

int args_uint(const Ctx *c, const char *command, const char *what, const char *s,
              unsigned min, unsigned max, unsigned *ret) {
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (!*s || *end || errno || *s == '-' || *s == '+' || v < min || v > max)
                return command_usage_error(c, command, "%s must be a number from %u to %u", what, min, max);
        *ret = (unsigned) v;
        return 0;
}
