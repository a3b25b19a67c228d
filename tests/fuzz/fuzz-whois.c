/* SPDX-License-Identifier: MIT */
/* tailscaled's whois body, then the caps it carries, as a worker checks them. */
#include "caps.h"
#include "fuzz.h"
#include "macro.h"
#include "whois.h"

static const char *const features[] = { "tools", "exec", "files", "vars", "docker", "systemd", "metrics" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(whois_freep) Whois *w = NULL;
        char *domains[] = { (char *) "example.com" };

        if (size > WHOIS_BODY_MAX)
                return 0;
        if (whois_parse((const char *) data, size, &w) < 0)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(features); i++) {
                (void) caps_allow(w->capmap, domains, 1, features[i], CAP_READ, NULL);
                (void) caps_allow(w->capmap, domains, 1, features[i], CAP_WRITE, NULL);
        }
        (void) caps_has(w->capmap, "tailscale.com/cap/devbox");
        return 0;
}
