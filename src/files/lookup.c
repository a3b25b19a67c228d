/* SPDX-License-Identifier: MIT */
/* The steps every read and listing takes before touching a file: the path
 * string, the rule (read must be allowed), the rule's directory. */

#include "files-errors.h"
#include "files-path.h"
#include "files.h"
#include "log.h"
#include "macro.h"
#include "paths.h"

int files_lookup(Request *r, const char *path, FilesOp op, const FilesRule **ret_rule) {
        FilesRequest *f = files_request(r);
        const FilesRule *rule;
        const char *why = NULL;
        char hint[512];
        int fd;

        if (files_path_check(path, strlen(path), &why) < 0)
                return reply_errorf(r, MHD_HTTP_BAD_REQUEST,
                                    "send an absolute path without empty, \".\" or \"..\" segments",
                                    "invalid path: %s", why) ?: -1;
        rule = files_config_match(&f->cfg, path);
        if (!rule) {
                snprintf(hint, sizeof(hint), "add a [[\"/dir/\"]] block with read = true to %s/files.toml", config_dir());
                return reply_error(r, MHD_HTTP_FORBIDDEN, "no rule in files.toml covers this path", hint) ?: -1;
        }
        if (!rule->read) {
                snprintf(hint, sizeof(hint), "the rule [[\"%s\"]] in files.toml has no read = true", rule->dir);
                return reply_error(r, MHD_HTTP_FORBIDDEN, "read permission denied for this path", hint) ?: -1;
        }
        fd = files_open_rule_dir(rule);
        if (fd < 0) {
                log_warning_errno(fd, "Cannot open the directory of files.toml rule %s: %m", rule->dir);
                snprintf(hint, sizeof(hint), "create %s on the node, or fix its rule in files.toml", rule->dir);
                return reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "the rule's directory cannot be opened", hint) ?: -1;
        }
        *ret_rule = rule;
        return fd;
}

int files_reply_errno(Request *r, int e, FilesOp op, const FilesRule *rule) {
        FilesErrorText t;

        files_describe_errno(e, op, rule, &t);
        if (t.status >= 500)
                log_warning_errno(e, "Files %s failed: %m", op == FILES_OP_LIST ? "listing" : "read");
        return reply_error(r, t.status, t.error, t.hint[0] ? t.hint : NULL);
}
