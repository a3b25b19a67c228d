/* SPDX-License-Identifier: MIT */
#include "macro.h"
#include "paths.h"

const char *config_dir(void) {
        const char *e = getenv("TAILKITD_CONFIG_DIR");
        return isempty(e) ? TAILKITD_CONFIG_DIR : e;
}

const char *runtime_dir(void) {
        const char *e = getenv("TAILKITD_RUNTIME_DIR");
        return isempty(e) ? TAILKITD_RUNTIME_DIR : e;
}

const char *state_dir(void) {
        static __thread char buf[4096];
        const char *e = getenv("STATE_DIRECTORY");
        size_t n;

        if (isempty(e))
                return "/var/lib/tailkitd";
        /* systemd passes a colon-separated list when several are configured. */
        n = strcspn(e, ":");
        if (n >= sizeof(buf))
                return "/var/lib/tailkitd";
        memcpy(buf, e, n);
        buf[n] = 0;
        return buf;
}
