/* SPDX-License-Identifier: MIT */
#include <time.h>

#include "log.h"
#include "macro.h"
#include "time-util.h"

uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

uint64_t idle_timeout_usec(uint64_t config_sec) {
        const char *e = getenv("TAILKITD_IDLE_TIMEOUT");
        unsigned long long v;
        char *end;

        if (!e)
                return config_sec * USEC_PER_SEC;
        errno = 0;
        v = strtoull(e, &end, 10);
        if (errno != 0 || end == e || *end || v > UINT32_MAX) {
                log_warning("Ignoring invalid TAILKITD_IDLE_TIMEOUT='%s'", e);
                return config_sec * USEC_PER_SEC;
        }
        return (uint64_t) v * USEC_PER_SEC;
}

uint64_t now_ms(void) {
        return now_usec() / USEC_PER_MSEC;
}
