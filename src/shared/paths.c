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
