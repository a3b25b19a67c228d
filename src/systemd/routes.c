/* SPDX-License-Identifier: MIT */
#include "macro.h"
#include "systemd-worker.h"

/* GET needs the read cap, POST the write cap (worker core); systemd.toml's
 * [units] read/write and [journal] enabled are checked by each handler. */
const Route systemd_routes[] = {
        { "GET",  "/integrations/systemd/units",             CAP_READ,  0, false, systemd_units_get        },
        { "GET",  "/integrations/systemd/units/*",           CAP_READ,  0, false, systemd_unit_get         },
        { "GET",  "/integrations/systemd/units/*/file",      CAP_READ,  0, false, systemd_unit_file_get    },
        { "GET",  "/integrations/systemd/units/*/journal",   CAP_READ,  0, false, systemd_unit_journal_get },
        /* systemd-journal-remote --url=… appends gatewayd's /entries. */
        { "GET",  "/integrations/systemd/units/*/journal/entries", CAP_READ, 0, false, systemd_unit_journal_get },
        { "POST", "/integrations/systemd/units/*/start",     CAP_WRITE, 0, false, systemd_unit_start       },
        { "POST", "/integrations/systemd/units/*/stop",      CAP_WRITE, 0, false, systemd_unit_stop        },
        { "POST", "/integrations/systemd/units/*/restart",   CAP_WRITE, 0, false, systemd_unit_restart     },
        { "POST", "/integrations/systemd/units/*/reload",    CAP_WRITE, 0, false, systemd_unit_reload      },
        { "POST", "/integrations/systemd/units/*/enable",    CAP_WRITE, 0, false, systemd_unit_enable      },
        { "POST", "/integrations/systemd/units/*/disable",   CAP_WRITE, 0, false, systemd_unit_disable     },
        { "GET",  "/integrations/systemd/journal",           CAP_READ,  0, false, systemd_journal_get      },
        { "GET",  "/integrations/systemd/journal/entries",   CAP_READ,  0, false, systemd_journal_get      },
        /* The Go client asks before it uses the integration (SPEC §1.5);
         * identity only, like the other integrations' answers. */
        { "GET",  "/integrations/systemd/available",         CAP_NONE,  0, true,  systemd_available_get    },
};

const size_t systemd_n_routes = ELEMENTSOF(systemd_routes);
