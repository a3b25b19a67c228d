/* SPDX-License-Identifier: MIT */
/* The command table: names, usage lines and help texts (tailkitctl(1) says
 * the same at length). */

#include <stdarg.h>

#include "ctl.h"
#include "macro.h"

const Command commands[] = {
        { "health", cmd_health, true, "health",
          "Checks that the node's tailkitd answers and resolves you: GET /health." },
        { "tools", cmd_tools, true, "tools [NAME]",
          "Lists the installed tools and their commands (GET /tools), or one tool's commands." },
        { "exec", cmd_exec, true, "exec TOOL CMD [NAME=VALUE…] [--wait]",
          "Runs a registered command (POST /exec/TOOL/CMD) and prints its job id; with --wait,\n"
          "polls the job until it ends and prints its output (exit 10 if it failed or was cancelled)." },
        { "job", cmd_job, true, "job ID [--cancel] [--wait]",
          "Shows a job (GET /exec/jobs/ID), waits for it to end, or cancels it (DELETE)." },
        { "vars", cmd_vars, true, "vars list | get PROJECT ENV [KEY] | set PROJECT ENV KEY VALUE|- | delete PROJECT ENV [KEY] | env PROJECT ENV",
          "The per-project env var store. \"set … -\" reads the value from standard input;\n"
          "\"env\" prints KEY=\"value\" lines for `set -a; . FILE` or EnvironmentFile=." },
        { "files", cmd_files, true, "files send LOCAL REMOTE | get REMOTE [LOCAL] | ls DIR",
          "Sends a file (POST /files, streamed), reads one (to LOCAL or standard output), or\n"
          "lists a directory. Transfers show a progress bar when stderr is a terminal." },
        { "units", cmd_units, true, "units [list] | status UNIT | file UNIT | start|stop|restart|reload|enable|disable UNIT [--wait]",
          "systemd units on the node: list, one unit's properties, its unit file, or an action\n"
          "(a job; --wait polls it to the end)." },
        { "journal", cmd_journal, true, "journal [UNIT] [-n LINES] [-p PRIORITY] [-f]",
          "The node's journal, or one unit's: the last LINES entries at PRIORITY or more\n"
          "important; -f keeps following new entries." },
        { "docker", cmd_docker, true, "docker ps | inspect ID | start|stop|restart ID [--wait] | rm ID | logs ID [-n N] | stats ID |\n"
          "       images | rmi IMAGE | pull IMAGE [--wait] | networks | volumes | info |\n"
          "       compose [ls | show NAME | up NAME [-f FILE] | down|pull|restart|build NAME] [--wait] | swarm info|nodes|services|tasks",
          "Docker and Compose on the node through tailkitd's docker integration." },
        { "metrics", cmd_metrics, true, "metrics [all|host|cpu|memory|disk|network|processes]",
          "Host metrics (gopsutil field names in --json)." },
        { "install-tool", cmd_install_tool, false, "install-tool FILE.json [--dir DIR]",
          "Validates a tool file as tailkit.Install() and the exec worker do and writes it atomically\n"
          "to /etc/tailkitd/tools/NAME.json (or DIR); the exec worker picks it up without a restart." },
        { "uninstall-tool", cmd_uninstall_tool, false, "uninstall-tool NAME [--dir DIR]",
          "Removes /etc/tailkitd/tools/NAME.json (a missing file is not an error)." },
        { "peers", cmd_peers, false, "peers",
          "Lists the local tailscaled's peers, the candidates of --all (with --tag/--match applied)." },
        { "sd", cmd_sd, false, "sd [--port PORT] [--tag TAG] [--match GLOB]",
          "Prints the online peers as Prometheus service discovery JSON (file_sd_configs or\n"
          "http_sd_configs): one target group per node, metrics path and tailnet labels set." },
};
const size_t n_commands = ELEMENTSOF(commands);

const Command *command_find(const char *name) {
        for (size_t i = 0; i < n_commands; i++)
                if (streq(commands[i].name, name))
                        return &commands[i];
        return NULL;
}

bool command_wants_help(const Ctx *c, const char *name, int argc, char **argv) {
        const Command *cmd = command_find(name);

        for (int i = 1; i < argc; i++) {
                if (streq(argv[i], "--"))
                        break;
                if (streq(argv[i], "--help") || streq(argv[i], "-h")) {
                        fprintf(c->out, "usage: tailkitctl [OPTIONS] %s\n\n%s\n", cmd->usage, cmd->help);
                        return true;
                }
        }
        return false;
}

int command_usage_error(const Ctx *c, const char *name, const char *fmt, ...) {
        const Command *cmd = command_find(name);
        va_list ap;

        fprintf(c->err, "tailkitctl %s: ", name);
        va_start(ap, fmt);
        vfprintf(c->err, fmt, ap);
        va_end(ap);
        fprintf(c->err, "\nusage: tailkitctl %s\n", cmd ? cmd->usage : name);
        return EXIT_USAGE;
}
