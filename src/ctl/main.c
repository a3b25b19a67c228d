/* SPDX-License-Identifier: MIT */
/* tailkitctl: global options, node selection, one command per API area. */

#include <getopt.h>
#include <signal.h>

#include "ctl.h"
#include "fleet.h"
#include "http.h"
#include "localapi-status.h"
#include "macro.h"
#include "node.h"

#define TAGS_MAX 32

static void help(void) {
        printf("usage: tailkitctl [OPTIONS] COMMAND [ARGS…]\n\n"
               "The command-line client of tailkitd, the node daemon of a tailnet.\n\n"
               "Options (before the command):\n"
               "  --node NAME|IP[:PORT]  the node (default: $TAILKITCTL_NODE, else 127.0.0.1)\n"
               "  --port PORT            the port of tailkitd (default 80)\n"
               "  --json                 print the API's JSON instead of tables\n"
               "  --proxy URL            connect through a proxy (socks5h://127.0.0.1:1055 for a\n"
               "                         userspace-networking tailscaled)\n"
               "  --source ADDR          the local address to connect from\n"
               "  --timeout SECONDS      per request, or per node with --all (default: none; --all: 10)\n"
               "  --socket PATH          tailscaled's LocalAPI socket, for names and --all\n"
               "  --all                  run the command on every online peer running tailkitd\n"
               "  --tag TAG              with --all: only peers with this tag (repeatable)\n"
               "  --match GLOB           with --all: only peers whose name matches\n"
               "  --parallel N           with --all: at most N nodes at once (default 10)\n"
               "  --quiet                no progress bars\n"
               "  --help, --version\n\nCommands:\n");
        for (size_t i = 0; i < n_commands; i++)
                printf("  %s\n", commands[i].usage);
        printf("\n`tailkitctl COMMAND --help` explains one command; tailkitctl(1) has the exit codes:\n"
               "0 ok, 1 local error, 2 usage, 3 node unreachable, 4 HTTP 401, 5 HTTP 403, 6 HTTP 404,\n"
               "7 HTTP 503, 8 other HTTP error, 9 not the API, 10 job failed, 11 some nodes failed.\n");
}

enum {
        ARG_NODE = 0x100, ARG_PORT, ARG_JSON, ARG_PROXY, ARG_SOURCE, ARG_TIMEOUT, ARG_SOCKET,
        ARG_ALL, ARG_TAG, ARG_MATCH, ARG_PARALLEL, ARG_QUIET, ARG_VERSION,
};

static int parse_unsigned(const char *what, const char *s, unsigned min, unsigned max, unsigned *ret) {
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (!*s || *end || errno || *s == '-' || v < min || v > max) {
                fprintf(stderr, "tailkitctl: %s must be a number from %u to %u\n", what, min, max);
                return -EINVAL;
        }
        *ret = (unsigned) v;
        return 0;
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "node", required_argument, NULL, ARG_NODE },
                { "port", required_argument, NULL, ARG_PORT },
                { "json", no_argument, NULL, ARG_JSON },
                { "proxy", required_argument, NULL, ARG_PROXY },
                { "source", required_argument, NULL, ARG_SOURCE },
                { "timeout", required_argument, NULL, ARG_TIMEOUT },
                { "socket", required_argument, NULL, ARG_SOCKET },
                { "all", no_argument, NULL, ARG_ALL },
                { "tag", required_argument, NULL, ARG_TAG },
                { "match", required_argument, NULL, ARG_MATCH },
                { "parallel", required_argument, NULL, ARG_PARALLEL },
                { "quiet", no_argument, NULL, ARG_QUIET },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {}
        };
        static const char *tags[TAGS_MAX];
        _cleanup_free_ char *default_socket = NULL;
        Options opt = { .port = 80, .parallel = FLEET_PARALLEL_DEFAULT, .tags = tags };
        unsigned timeout_s = 0;
        bool timeout_set = false;
        const Command *cmd;
        Target target = {};
        int c, r;

        signal(SIGPIPE, SIG_IGN);
        /* "+": options end at the command, whose own flags follow it. */
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0) {
                switch (c) {
                case ARG_NODE: opt.node = optarg; break;
                case ARG_PORT:
                        if (parse_unsigned("--port", optarg, 1, 65535, &opt.port) < 0)
                                return EXIT_USAGE;
                        break;
                case ARG_JSON: opt.json = true; break;
                case ARG_PROXY: opt.proxy = optarg; break;
                case ARG_SOURCE: opt.source = optarg; break;
                case ARG_TIMEOUT:
                        if (parse_unsigned("--timeout", optarg, 1, 86400, &timeout_s) < 0)
                                return EXIT_USAGE;
                        timeout_set = true;
                        break;
                case ARG_SOCKET: opt.socket = optarg; break;
                case ARG_ALL: opt.all = true; break;
                case ARG_TAG:
                        if (opt.n_tags == TAGS_MAX) {
                                fprintf(stderr, "tailkitctl: at most %d --tag\n", TAGS_MAX);
                                return EXIT_USAGE;
                        }
                        tags[opt.n_tags++] = optarg;
                        break;
                case ARG_MATCH: opt.match = optarg; break;
                case ARG_PARALLEL:
                        if (parse_unsigned("--parallel", optarg, 1, 256, &opt.parallel) < 0)
                                return EXIT_USAGE;
                        break;
                case ARG_QUIET: opt.quiet = true; break;
                case 'h': help(); return EXIT_OK;
                case ARG_VERSION: printf("tailkitctl %s\n", TAILKITD_VERSION); return EXIT_OK;
                default: return EXIT_USAGE;
                }
        }
        if (optind >= argc) {
                help();
                return EXIT_USAGE;
        }
        cmd = command_find(argv[optind]);
        if (!cmd) {
                fprintf(stderr, "tailkitctl: unknown command \"%s\" (tailkitctl --help lists them)\n", argv[optind]);
                return EXIT_USAGE;
        }
        if ((opt.n_tags > 0 || opt.match) && !opt.all && cmd->func != cmd_peers && cmd->func != cmd_sd) {
                fprintf(stderr, "tailkitctl: --tag and --match select nodes for --all\n");
                return EXIT_USAGE;
        }
        if (opt.all && opt.node) {
                fprintf(stderr, "tailkitctl: --all and --node exclude each other\n");
                return EXIT_USAGE;
        }
        if (opt.all && !cmd->remote) {
                fprintf(stderr, "tailkitctl: %s runs locally, not with --all\n", cmd->name);
                return EXIT_USAGE;
        }
        opt.timeout_ms = timeout_set ? timeout_s * 1000 : opt.all ? FLEET_TIMEOUT_MS_DEFAULT : 0;
        if (!opt.socket) {
                default_socket = localapi_default_socket();
                if (!default_socket)
                        return EXIT_FAILURE_LOCAL;
                opt.socket = default_socket;
        }

        Ctx ctx = { .opt = &opt, .out = stdout, .err = stderr, .target = &target };
        if (command_wants_help(&ctx, cmd->name, argc - optind, argv + optind))
                return EXIT_OK;
        if (http_global_init() < 0) {
                fprintf(stderr, "tailkitctl: libcurl failed to initialise\n");
                return EXIT_FAILURE_LOCAL;
        }
        if (opt.all)
                return fleet_run(&opt, cmd, argc - optind, argv + optind);

        if (cmd->remote) {
                r = target_resolve(&opt, &target);
                if (r != 0)
                        return r;
        }
        ctx.tty = isatty(STDERR_FILENO) && !opt.quiet;
        r = cmd->func(&ctx, argc - optind, argv + optind);
        target_done(&target);
        if (fflush(stdout) != 0 && r == 0) {
                fprintf(stderr, "tailkitctl: writing the output failed: %m\n");
                r = EXIT_FAILURE_LOCAL;
        }
        return r;
}
