/* SPDX-License-Identifier: MIT */
/* GET /tools and GET /tools/{name}: the tools tailkit.Install() registered.
 * The directory is read on every request (it is small and changes under us);
 * a broken file is skipped with a warning, never fatal. */

#include "log.h"
#include "macro.h"
#include "paths.h"
#include "toolfile.h"
#include "tools.h"

static void on_broken(const char *path, const char *error, void *userdata) {
        log_struct(LOG_WARNING, ((LogField[]) { { "FILE", path }, {} }),
                   "Skipping broken tool file %s: %s", path, error);
}

static int load(Request *r, ToolList *l) {
        _cleanup_free_ char *dir = NULL;
        int e;

        if (asprintf(&dir, "%s/tools", config_dir()) < 0)
                return -ENOMEM;
        e = tool_list_load(dir, l, on_broken, NULL);
        if (e < 0) {
                log_error_errno(e, "Cannot read %s: %m", dir);
                reply_errorf(r, 500, NULL, "cannot read the tools directory %s: %s", dir, strerror(-e));
        }
        return e;
}

int tools_list(Request *r) {
        ToolList l = {};
        json_object *a;
        int e;

        e = load(r, &l);
        if (e < 0)
                return e;
        a = json_object_new_array();    /* never null, even with no tools */
        for (size_t i = 0; a && i < l.n; i++)
                json_object_array_add(a, tool_to_json(l.tools[i]));
        tool_list_done(&l);
        if (!a)
                return -ENOMEM;
        return reply_json(r, 200, a);
}

int tools_get(Request *r) {
        const char *name = r->args[0];
        ToolList l = {};
        const Tool *t;
        int e;

        if (!tool_name_is_valid(name))
                return reply_error(r, 400, "invalid tool name", "tool names match ^[a-zA-Z0-9_-]+$");
        e = load(r, &l);
        if (e < 0)
                return e;
        t = tool_list_find(&l, name);
        if (!t)
                e = reply_errorf(r, 404, "GET /tools lists the installed tools", "tool \"%s\" is not installed", name);
        else
                e = reply_json(r, 200, tool_to_json(t));
        tool_list_done(&l);
        return e;
}
