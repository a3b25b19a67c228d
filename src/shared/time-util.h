/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

#define USEC_PER_SEC 1000000ULL
#define USEC_PER_MSEC 1000ULL

/* CLOCK_MONOTONIC in microseconds. */
uint64_t now_usec(void);
/* The same in milliseconds. */
uint64_t now_ms(void);

/* The idle timeout a process uses: TAILKITD_IDLE_TIMEOUT (seconds, 0 = never)
 * when set and valid, else config_sec from tailkitd.conf. */
uint64_t idle_timeout_usec(uint64_t config_sec);
