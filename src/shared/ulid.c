/* SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "macro.h"
#include "ulid.h"

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

int ulid_new(char ret[ULID_LEN + 1]) {
        uint8_t b[16];
        struct timespec ts;
        uint64_t ms;
        unsigned acc = 0, bits = 0;
        size_t o = 0;

        clock_gettime(CLOCK_REALTIME, &ts);
        ms = (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
        for (int i = 0; i < 6; i++)
                b[i] = (uint8_t) (ms >> (40 - 8 * i));
        if (getrandom(b + 6, 10, 0) != 10)
                return -EIO;

        /* 128 bits as 26 base32 digits: two leading zero bits pad the front. */
        bits = 2;
        for (size_t i = 0; i < 16; i++) {
                acc = (acc << 8) | b[i];
                bits += 8;
                while (bits >= 5) {
                        bits -= 5;
                        ret[o++] = alphabet[(acc >> bits) & 31];
                }
        }
        ret[o] = 0;
        return o == ULID_LEN ? 0 : -EIO;
}

bool ulid_is_valid(const char *s) {
        if (!s || strlen(s) != ULID_LEN || s[0] > '7')
                return false;
        for (const char *p = s; *p; p++)
                if (!strchr(alphabet, *p) || !*p)
                        return false;
        return true;
}

void ulid_time_prefix(uint64_t ms, char ret[ULID_TIME_LEN + 1]) {
        for (int i = ULID_TIME_LEN - 1; i >= 0; i--) {
                ret[i] = alphabet[ms & 31];
                ms >>= 5;
        }
        ret[ULID_TIME_LEN] = 0;
}
