/* SPDX-License-Identifier: MIT */
#pragma once

/* Where tailkitd finds its files. Tests and `tailkitd --root` override the
 * compiled-in defaults through the environment:
 *   TAILKITD_CONFIG_DIR  (default /etc/tailkitd)
 *   TAILKITD_RUNTIME_DIR (default /run/tailkitd)
 *   STATE_DIRECTORY      (set by systemd's StateDirectory=; default /var/lib/tailkitd) */

const char *config_dir(void);
const char *runtime_dir(void);
const char *state_dir(void);
