/* SPDX-License-Identifier: MIT */
/* Compose projects, found from the labels compose puts on every container
 * (com.docker.compose.project, ….config_files, ….working_dir): listing needs
 * no CLI. A project is {"name","status","config_files","working_dir"} with
 * status as `docker compose ls` writes it ("running(2)", "exited(1),
 * running(1)"); GET /compose/{name} adds its containers (container.Summary). */

#include <stdio.h>

#include "docker.h"
#include "json-util.h"
#include "macro.h"

#define LABEL_PROJECT "com.docker.compose.project"
#define LABEL_CONFIG_FILES "com.docker.compose.project.config_files"
#define LABEL_WORKING_DIR "com.docker.compose.project.working_dir"
#define STATES_MAX 16

/* The containers carrying the project label (of one project, if name). */
int compose_list_project(Request *r, const char *name, json_object **ret) {
        _cleanup_(engine_call_freep) EngineCall *c = NULL;
        _cleanup_free_ char *filters = NULL, *escaped = NULL, *path = NULL, *body = NULL;
        size_t size;
        int k;

        if (name)
                k = asprintf(&filters, "{\"label\":[\"" LABEL_PROJECT "=%s\"]}", name);
        else
                k = asprintf(&filters, "{\"label\":[\"" LABEL_PROJECT "\"]}");
        if (k < 0)
                return -ENOMEM;
        escaped = query_escape(filters);
        if (!escaped || asprintf(&path, "/containers/json?all=1&filters=%s", escaped) < 0)
                return -ENOMEM;
        k = docker_open(r, "GET", path, NULL, 0, DOCKER_READ_TIMEOUT_MS, &c);
        if (k <= 0)
                return k;
        if (engine_call_status(c) >= 300) {
                k = docker_reply_engine_error(r, c);
                return k < 0 ? k : 0;
        }
        k = engine_read_all(c, DOCKER_LIST_MAX, &body, &size);
        if (k == -ENOMEM)
                return k;
        if (k < 0 || json_parse_strict(body, size, ret) < 0 || !json_object_is_type(*ret, json_type_array)) {
                json_object_put(*ret);
                *ret = NULL;
                reply_error(r, 502, "bad answer from the docker daemon",
                            k == -EFBIG ? "the container list is larger than tailkitd reads" : NULL);
                return 0;
        }
        return 1;
}

static const char *label(json_object *container, const char *key) {
        json_object *labels, *v;

        if (!json_object_object_get_ex(container, "Labels", &labels) || !json_object_object_get_ex(labels, key, &v) ||
            !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

typedef struct Project {
        const char *name;
        const char *config_files;
        const char *working_dir;
        struct {
                const char *state;
                unsigned n;
        } states[STATES_MAX];
        size_t n_states;
        json_object *containers;        /* only for one project */
} Project;

static void project_count(Project *p, json_object *container) {
        json_object *v;
        const char *state = "unknown";

        if (json_object_object_get_ex(container, "State", &v) && json_object_is_type(v, json_type_string))
                state = json_object_get_string(v);
        for (size_t i = 0; i < p->n_states; i++)
                if (streq(p->states[i].state, state)) {
                        p->states[i].n++;
                        return;
                }
        if (p->n_states < STATES_MAX)
                p->states[p->n_states++] = (typeof(p->states[0])) { state, 1 };
}

static int compare_state(const void *a, const void *b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static json_object *project_json(Project *p) {
        json_object *o = json_object_new_object();
        char status[1024] = "";

        if (!o)
                return NULL;
        /* Sorted by state name, as compose does. */
        qsort(p->states, p->n_states, sizeof(p->states[0]), compare_state);
        for (size_t i = 0; i < p->n_states; i++) {
                size_t l = strlen(status);
                snprintf(status + l, sizeof(status) - l, "%s%s(%u)", i > 0 ? ", " : "", p->states[i].state,
                         p->states[i].n);
        }
        json_object_object_add(o, "name", json_object_new_string(p->name));
        json_object_object_add(o, "status", json_object_new_string(status));
        json_object_object_add(o, "config_files", json_object_new_string(strempty(p->config_files)));
        json_object_object_add(o, "working_dir", json_object_new_string(strempty(p->working_dir)));
        if (p->containers)
                json_object_object_add(o, "containers", json_object_get(p->containers));
        return o;
}

static int compare_name(const void *a, const void *b) {
        return strcmp(((const Project *) a)->name, ((const Project *) b)->name);
}

int compose_list_get(Request *r) {
        _cleanup_(json_object_putp_) json_object *list = NULL;
        _cleanup_free_ char *path = NULL;
        _cleanup_free_ Project *projects = NULL;
        size_t n = 0, len;
        json_object *out;
        int k;

        k = docker_prepare(r, "", &path);
        if (k <= 0)
                return k;
        k = compose_list_project(r, NULL, &list);
        if (k <= 0)
                return k;
        len = json_object_array_length(list);
        projects = calloc(len + 1, sizeof(Project));
        if (!projects)
                return -ENOMEM;
        for (size_t i = 0; i < len; i++) {
                json_object *c = json_object_array_get_idx(list, i);
                const char *name = label(c, LABEL_PROJECT);
                Project *p = NULL;

                if (isempty(name))
                        continue;
                for (size_t j = 0; j < n && !p; j++)
                        if (streq(projects[j].name, name))
                                p = &projects[j];
                if (!p) {
                        p = &projects[n++];
                        p->name = name;
                        p->config_files = label(c, LABEL_CONFIG_FILES);
                        p->working_dir = label(c, LABEL_WORKING_DIR);
                }
                project_count(p, c);
        }
        qsort(projects, n, sizeof(Project), compare_name);
        out = json_object_new_array();
        if (!out)
                return -ENOMEM;
        for (size_t j = 0; j < n; j++) {
                json_object *o = project_json(&projects[j]);
                if (!o || json_object_array_add(out, o) < 0) {
                        json_object_put(o);
                        json_object_put(out);
                        return -ENOMEM;
                }
        }
        return reply_json(r, 200, out);
}

int compose_project_get(Request *r) {
        _cleanup_(json_object_putp_) json_object *list = NULL;
        _cleanup_free_ char *path = NULL;
        Project p = { .name = r->args[0] };
        size_t len;
        json_object *o;
        int k;

        k = docker_prepare(r, "", &path);
        if (k <= 0)
                return k;
        k = compose_list_project(r, r->args[0], &list);
        if (k <= 0)
                return k;
        len = json_object_array_length(list);
        if (len == 0)
                return reply_errorf(r, 404, "GET /integrations/docker/compose/ lists the projects on this node",
                                    "compose project not found: %s", r->args[0]);
        for (size_t i = 0; i < len; i++) {
                json_object *c = json_object_array_get_idx(list, i);
                if (!p.config_files)
                        p.config_files = label(c, LABEL_CONFIG_FILES);
                if (!p.working_dir)
                        p.working_dir = label(c, LABEL_WORKING_DIR);
                project_count(&p, c);
        }
        p.containers = list;
        o = project_json(&p);
        if (!o)
                return -ENOMEM;
        return reply_json(r, 200, o);
}
