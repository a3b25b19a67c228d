/* SPDX-License-Identifier: MIT */
/* tailkitd-systemd: units over sd-bus (org.freedesktop.systemd1) and the
 * journal over sd-journal (/integrations/systemd). No systemctl or
 * journalctl is ever run. */

#include "systemd-worker.h"

int main(int argc, char *argv[]) {
        WorkerDefinition def = {
                .name = "systemd",
                .routes = systemd_routes,
                .n_routes = systemd_n_routes,
                .available = systemd_available,
                .init = systemd_init,
                .busy = systemd_busy,
        };

        return worker_main(argc, argv, &def);
}
