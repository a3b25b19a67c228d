/* SPDX-License-Identifier: MIT */
/* tailkitd: the administrator's command. The daemon itself is socket
 * activated (tailkitd.socket); this checks the configuration it will read. */

#include <getopt.h>

#include "config.h"
#include "docker-config.h"
#include "files-config.h"
#include "log.h"
#include "macro.h"
#include "metrics-config.h"
#include "paths.h"
#include "systemd-config.h"
#include "toolfile.h"

static const char *arg_root = NULL;
static bool arg_check_config = false;

static void help(void) {
        printf("tailkitd [OPTIONS]\n\n"
               "tailkitd is a socket-activated node daemon for Tailscale tailnets:\n"
               "  systemctl enable --now tailkitd.socket\n\n"
               "  -h --help          Show this help\n"
               "     --version       Show the version\n"
               "     --check-config  Validate every file under %s and list each error\n"
               "     --root DIR      Check DIR%s instead (an image or a staged tree)\n",
               TAILKITD_CONFIG_DIR, TAILKITD_CONFIG_DIR);
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_CHECK_CONFIG, ARG_ROOT };
        static const struct option options[] = {
                { "help",         no_argument,       NULL, 'h'              },
                { "version",      no_argument,       NULL, ARG_VERSION      },
                { "check-config", no_argument,       NULL, ARG_CHECK_CONFIG },
                { "root",         required_argument, NULL, ARG_ROOT         },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("tailkitd %s\n", TAILKITD_VERSION);
                        return 0;
                case ARG_CHECK_CONFIG:
                        arg_check_config = true;
                        break;
                case ARG_ROOT:
                        arg_root = optarg;
                        break;
                default:
                        return -EINVAL;
                }
        if (optind < argc) {
                fprintf(stderr, "Unexpected argument '%s'; see --help.\n", argv[optind]);
                return -EINVAL;
        }
        if (!arg_check_config) {
                fprintf(stderr, "Nothing to do; see --help. The daemon is started by tailkitd.socket.\n");
                return -EINVAL;
        }
        return 1;
}

typedef struct ToolErrors {
        ConfigErrors *errors;
        unsigned files;
} ToolErrors;

/* Tool errors read "line N: message"; print them as "path:N: message". */
static void on_broken_tool(const char *path, const char *error, void *userdata) {
        ToolErrors *te = userdata;
        unsigned line;
        int consumed = 0;

        te->files++;
        if (sscanf(error, "line %u: %n", &line, &consumed) == 1 && consumed > 0)
                config_errors_add(te->errors, "%s:%u: %s", path, line, error + consumed);
        else
                config_errors_add(te->errors, "%s: %s", path, error);
}

/* Each returns 1 when its file is invalid (errors added), 0 when valid or
 * absent, -ENOMEM. */
static int (*const integration_checks[])(const char *config_dir, ConfigErrors *errors) = {
        metrics_config_check,
        files_config_check,
        systemd_config_check,
        docker_config_check,
};

static int check_config(void) {
        _cleanup_free_ char *dir = NULL, *tools = NULL;
        ConfigErrors errors = {};
        ToolErrors te = { .errors = &errors };
        ToolList l = {};
        int bad, r;

        if (arg_root) {
                if (asprintf(&dir, "%s%s", arg_root, TAILKITD_CONFIG_DIR) < 0)
                        return log_oom();
        } else if (!(dir = strdup(config_dir())))
                return log_oom();

        bad = config_check_all(dir, &errors);
        /* Integrations whose schema lives in their own folder. */
        for (size_t i = 0; i < ELEMENTSOF(integration_checks); i++) {
                r = integration_checks[i](dir, &errors);
                if (r < 0)
                        return log_oom();
                bad += r;
        }
        if (asprintf(&tools, "%s/tools", dir) < 0)
                return log_oom();
        r = tool_list_load(tools, &l, on_broken_tool, &te);
        if (r < 0)
                config_errors_add(&errors, "%s: cannot read: %s", tools, strerror(-r));
        bad += (int) te.files + (r < 0);

        for (size_t i = 0; i < errors.n; i++)
                fprintf(stderr, "%s\n", errors.messages[i]);
        if (errors.n > 0)
                fprintf(stderr, "%zu error%s in %d file%s under %s.\n", errors.n, errors.n == 1 ? "" : "s",
                        bad, bad == 1 ? "" : "s", dir);
        else
                printf("%s: configuration is valid (%zu tool%s installed).\n", dir, l.n, l.n == 1 ? "" : "s");
        tool_list_done(&l);
        r = errors.n > 0 ? 1 : 0;
        config_errors_done(&errors);
        return r;
}

int main(int argc, char *argv[]) {
        int r;

        log_setup("tailkitd");
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? 2 : 0;
        return check_config();
}
