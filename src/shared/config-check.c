/* SPDX-License-Identifier: MIT */
/* `tailkitd --check-config`: every loader, every error. */

#include "config-reader.h"
#include "config.h"
#include "macro.h"

/* A loader's result for `--check-config`: 1 when the file is invalid or
 * unreadable, 0 when it is fine or absent. */
static int invalid(int r) {
        if (r == -ENOMEM)
                return r;
        return r < 0 && r != -ENOENT;
}

int config_check_all(const char *config_dir, ConfigErrors *errors) {
        int n_invalid = 0, r;

        {
                _cleanup_(daemon_config_done) DaemonConfig c = {};
                r = invalid(daemon_config_load(config_dir, &c, errors));
                if (r < 0)
                        return r;
                n_invalid += r;
        }
        {
                _cleanup_(vars_config_done) VarsConfig c = {};
                r = invalid(vars_config_load(config_dir, &c, errors));
                if (r < 0)
                        return r;
                n_invalid += r;
        }

        return n_invalid;
}
