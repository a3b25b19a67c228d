/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "fileio.h"
#include "macro.h"
#include "toolfile.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);
DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir);

static void strv_free_n(char **v, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

static void command_done(ToolCommand *c) {
        free(c->name);
        free(c->description);
        free(c->acl_cap);
        strv_free_n(c->exec_parts, c->n_exec_parts);
        for (size_t i = 0; i < c->n_args; i++) {
                free(c->args[i].name);
                free(c->args[i].pattern);
        }
        free(c->args);
}

Tool *tool_free(Tool *t) {
        if (!t)
                return NULL;
        free(t->name);
        free(t->version);
        free(t->tsnet_host);
        for (size_t i = 0; i < t->n_commands; i++)
                command_done(&t->commands[i]);
        free(t->commands);
        free(t->filename);
        free(t);
        return NULL;
}

bool tool_name_is_valid(const char *s) {
        size_t n = 0;

        if (isempty(s))
                return false;
        for (; s[n]; n++)
                if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
                      (s[n] >= '0' && s[n] <= '9') || s[n] == '_' || s[n] == '-'))
                        return false;
        return n <= 64;
}

/* Field readers: absent or null keeps the default; a wrong type is an error. */
static int get_string(json_object *o, const char *key, bool required, char **ret, char **error) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !v) {
                if (required)
                        return asprintf(error, "\"%s\" is missing", key) < 0 ? -ENOMEM : -EBADMSG;
                return 0;
        }
        if (!json_object_is_type(v, json_type_string))
                return asprintf(error, "\"%s\" must be a string", key) < 0 ? -ENOMEM : -EBADMSG;
        *ret = strdup(json_object_get_string(v));
        return *ret ? 0 : -ENOMEM;
}

static int get_array(json_object *o, const char *key, size_t max, json_object **ret, char **error) {
        json_object *v;

        *ret = NULL;
        if (!json_object_object_get_ex(o, key, &v) || !v)
                return 0;
        if (!json_object_is_type(v, json_type_array))
                return asprintf(error, "\"%s\" must be an array", key) < 0 ? -ENOMEM : -EBADMSG;
        if (json_object_array_length(v) > max)
                return asprintf(error, "\"%s\" has more than %zu entries", key, max) < 0 ? -ENOMEM : -EBADMSG;
        *ret = v;
        return 0;
}

static int parse_arg(json_object *o, ToolArg *a, const char *where, char **error) {
        _cleanup_free_ char *type = NULL;
        json_object *v;
        int r;

        if (!json_object_is_type(o, json_type_object))
                return asprintf(error, "%s: each arg must be an object", where) < 0 ? -ENOMEM : -EBADMSG;
        r = get_string(o, "name", true, &a->name, error);
        if (r < 0)
                return r;
        if (!tool_name_is_valid(a->name))
                return asprintf(error, "%s: arg name \"%s\" must match ^[a-zA-Z0-9_-]+$", where, a->name) < 0 ? -ENOMEM : -EBADMSG;
        r = get_string(o, "type", false, &type, error);
        if (r < 0)
                return r;
        if (isempty(type) || streq(type, "string"))
                a->type = TOOL_ARG_STRING;
        else if (streq(type, "int"))
                a->type = TOOL_ARG_INT;
        else if (streq(type, "bool"))
                a->type = TOOL_ARG_BOOL;
        else
                return asprintf(error, "%s: arg \"%s\" has unknown type \"%s\" (string, int or bool)",
                                where, a->name, type) < 0 ? -ENOMEM : -EBADMSG;
        if (json_object_object_get_ex(o, "required", &v) && v) {
                if (!json_object_is_type(v, json_type_boolean))
                        return asprintf(error, "%s: arg \"%s\": \"required\" must be a boolean", where, a->name) < 0 ? -ENOMEM : -EBADMSG;
                a->required = json_object_get_boolean(v);
        }
        r = get_string(o, "pattern", false, &a->pattern, error);
        if (r < 0)
                return r;
        if (a->pattern && !*a->pattern) {
                free(a->pattern);
                a->pattern = NULL;
        }
        return 0;
}

static int parse_command(json_object *o, ToolCommand *c, size_t index, char **error) {
        json_object *parts, *args, *v;
        char where[96];
        int r;

        snprintf(where, sizeof(where), "commands[%zu]", index);
        if (!json_object_is_type(o, json_type_object))
                return asprintf(error, "%s must be an object", where) < 0 ? -ENOMEM : -EBADMSG;
        r = get_string(o, "name", true, &c->name, error);
        if (r < 0)
                return r;
        if (!tool_name_is_valid(c->name))
                return asprintf(error, "%s: name \"%s\" must match ^[a-zA-Z0-9_-]+$", where, c->name) < 0 ? -ENOMEM : -EBADMSG;
        snprintf(where, sizeof(where), "command \"%s\"", c->name);

        if ((r = get_string(o, "description", false, &c->description, error)) < 0 ||
            (r = get_string(o, "acl_cap", false, &c->acl_cap, error)) < 0)
                return r;

        r = get_array(o, "exec_parts", TOOL_EXEC_PARTS_MAX, &parts, error);
        if (r < 0)
                return r;
        if (!parts || json_object_array_length(parts) == 0)
                return asprintf(error, "%s: \"exec_parts\" must be a non-empty array", where) < 0 ? -ENOMEM : -EBADMSG;
        c->exec_parts = calloc(json_object_array_length(parts), sizeof(char *));
        if (!c->exec_parts)
                return -ENOMEM;
        for (size_t i = 0; i < json_object_array_length(parts); i++) {
                json_object *p = json_object_array_get_idx(parts, i);
                if (!p || !json_object_is_type(p, json_type_string))
                        return asprintf(error, "%s: exec_parts[%zu] must be a string", where, i) < 0 ? -ENOMEM : -EBADMSG;
                c->exec_parts[i] = strdup(json_object_get_string(p));
                if (!c->exec_parts[i])
                        return -ENOMEM;
                c->n_exec_parts++;
        }
        if (isempty(c->exec_parts[0]))
                return asprintf(error, "%s: exec_parts[0] must not be empty", where) < 0 ? -ENOMEM : -EBADMSG;

        /* time.Duration is an integer number of nanoseconds. */
        if (!json_object_object_get_ex(o, "timeout", &v) || !v ||
            !json_object_is_type(v, json_type_int) || json_object_get_int64(v) <= 0 ||
            json_object_get_uint64(v) > (uint64_t) INT64_MAX)    /* get_int64 would clamp it */
                return asprintf(error, "%s: \"timeout\" must be a positive integer (nanoseconds)", where) < 0 ? -ENOMEM : -EBADMSG;
        c->timeout_ns = (uint64_t) json_object_get_int64(v);

        r = get_array(o, "args", TOOL_ARGS_MAX, &args, error);
        if (r < 0)
                return r;
        if (args && json_object_array_length(args) > 0) {
                c->args = calloc(json_object_array_length(args), sizeof(ToolArg));
                if (!c->args)
                        return -ENOMEM;
                for (size_t i = 0; i < json_object_array_length(args); i++) {
                        r = parse_arg(json_object_array_get_idx(args, i), &c->args[i], where, error);
                        c->n_args++;
                        if (r < 0)
                                return r;
                        for (size_t k = 0; k < i; k++)
                                if (streq(c->args[k].name, c->args[i].name))
                                        return asprintf(error, "%s: arg \"%s\" is declared twice", where,
                                                        c->args[i].name) < 0 ? -ENOMEM : -EBADMSG;
                }
        }
        return 0;
}

static unsigned line_of_offset(const char *data, size_t offset) {
        unsigned line = 1;
        for (size_t i = 0; i < offset; i++)
                if (data[i] == '\n')
                        line++;
        return line;
}

int tool_parse(const char *data, size_t size, Tool **ret, char **error) {
        _cleanup_(json_object_putp) json_object *root = NULL;
        _cleanup_(tool_freep) Tool *t = NULL;
        json_tokener *tok;
        json_object *commands;
        enum json_tokener_error jerr;
        size_t end;
        int r;

        *error = NULL;
        tok = json_tokener_new_ex(64);
        if (!tok)
                return -ENOMEM;
        /* Go's decoder refuses comments, single quotes, trailing commas: so do we. */
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        root = json_tokener_parse_ex(tok, data, (int) size);
        jerr = json_tokener_get_error(tok);
        end = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
        if (!root || jerr != json_tokener_success) {
                if (jerr == json_tokener_continue)
                        return asprintf(error, "line %u: unexpected end of JSON", line_of_offset(data, size)) < 0 ? -ENOMEM : -EBADMSG;
                return asprintf(error, "line %u: invalid JSON: %s", line_of_offset(data, MIN(end, size)),
                                json_tokener_error_desc(jerr)) < 0 ? -ENOMEM : -EBADMSG;
        }
        for (size_t i = end; i < size; i++)
                if (!strchr(" \t\r\n", data[i]))
                        return asprintf(error, "line %u: trailing data after the JSON object",
                                        line_of_offset(data, i)) < 0 ? -ENOMEM : -EBADMSG;
        if (!json_object_is_type(root, json_type_object))
                return asprintf(error, "the file must hold a JSON object") < 0 ? -ENOMEM : -EBADMSG;

        t = calloc(1, sizeof(Tool));
        if (!t)
                return -ENOMEM;
        r = get_string(root, "name", true, &t->name, error);
        if (r < 0)
                return r;
        if (!tool_name_is_valid(t->name))
                return asprintf(error, "tool name \"%s\" must match ^[a-zA-Z0-9_-]+$", t->name) < 0 ? -ENOMEM : -EBADMSG;
        if ((r = get_string(root, "version", false, &t->version, error)) < 0 ||
            (r = get_string(root, "tsnet_host", false, &t->tsnet_host, error)) < 0)
                return r;

        r = get_array(root, "commands", TOOL_COMMANDS_MAX, &commands, error);
        if (r < 0)
                return r;
        if (commands && json_object_array_length(commands) > 0) {
                t->commands = calloc(json_object_array_length(commands), sizeof(ToolCommand));
                if (!t->commands)
                        return -ENOMEM;
                for (size_t i = 0; i < json_object_array_length(commands); i++) {
                        r = parse_command(json_object_array_get_idx(commands, i), &t->commands[i], i, error);
                        t->n_commands++;
                        if (r < 0)
                                return r;
                        for (size_t k = 0; k < i; k++)
                                if (streq(t->commands[k].name, t->commands[i].name))
                                        return asprintf(error, "command \"%s\" is declared twice",
                                                        t->commands[i].name) < 0 ? -ENOMEM : -EBADMSG;
                }
        }

        *ret = TAKE_PTR(t);
        return 0;
}

int tool_check_install(const Tool *t, char **error) {
        *error = NULL;
        if (isempty(t->version))
                return asprintf(error, "tool \"%s\": \"version\" must not be empty", t->name) < 0 ? -ENOMEM : -EBADMSG;
        if (isempty(t->tsnet_host))
                return asprintf(error, "tool \"%s\": \"tsnet_host\" must not be empty", t->name) < 0 ? -ENOMEM : -EBADMSG;
        for (size_t i = 0; i < t->n_commands; i++) {
                const ToolCommand *c = &t->commands[i];
                if (isempty(c->acl_cap))
                        return asprintf(error, "command \"%s\": \"acl_cap\" must not be empty", c->name) < 0
                                ? -ENOMEM : -EBADMSG;
                if (c->timeout_ns == 0)
                        return asprintf(error, "command \"%s\": \"timeout\" must be positive (nanoseconds)", c->name) < 0
                                ? -ENOMEM : -EBADMSG;
        }
        return 0;
}

int tool_load(int dir_fd, const char *filename, Tool **ret, char **error) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *data = NULL;
        struct stat st;
        size_t done = 0;
        int r;

        *error = NULL;
        fd = openat(dir_fd, filename, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                r = negative_errno();
                return asprintf(error, "cannot open: %s", strerror(-r)) < 0 ? -ENOMEM : r;
        }
        if (fstat(fd, &st) < 0) {
                r = negative_errno();
                return asprintf(error, "cannot stat: %s", strerror(-r)) < 0 ? -ENOMEM : r;
        }
        if (!S_ISREG(st.st_mode))
                return asprintf(error, "not a regular file") < 0 ? -ENOMEM : -EBADMSG;
        if (st.st_size > TOOL_FILE_MAX)
                return asprintf(error, "larger than %d bytes", TOOL_FILE_MAX) < 0 ? -ENOMEM : -EFBIG;

        r = read_full_fd(fd, TOOL_FILE_MAX, &data, &done);
        if (r == -EFBIG)
                return asprintf(error, "larger than %d bytes", TOOL_FILE_MAX) < 0 ? -ENOMEM : r;
        if (r < 0)
                return asprintf(error, "read failed: %s", strerror(-r)) < 0 ? -ENOMEM : r;

        r = tool_parse(data, done, ret, error);
        if (r < 0)
                return r;
        (*ret)->filename = strdup(filename);
        if (!(*ret)->filename) {
                *ret = tool_free(*ret);
                return -ENOMEM;
        }
        return 0;
}

void tool_list_done(ToolList *l) {
        for (size_t i = 0; i < l->n; i++)
                tool_free(l->tools[i]);
        free(l->tools);
        *l = (ToolList) {};
}

static int cmp_names(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int tool_list_load(const char *dir, ToolList *ret,
                   void (*on_broken)(const char *path, const char *error, void *userdata),
                   void *userdata) {
        _cleanup_(closedirp) DIR *d = NULL;
        char **names = NULL;
        size_t n_names = 0;
        ToolList l = {};
        struct dirent *de;
        int r = 0;

        *ret = (ToolList) {};
        d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : negative_errno();

        while ((de = readdir(d))) {
                size_t len = strlen(de->d_name);
                char **p;

                if (de->d_name[0] == '.' || de->d_type == DT_DIR || len <= 5 || !streq(de->d_name + len - 5, ".json"))
                        continue;
                if (n_names >= TOOL_FILES_MAX) {
                        if (on_broken)
                                on_broken(dir, "more than 1000 tool files; ignoring the rest", userdata);
                        break;
                }
                p = realloc(names, (n_names + 1) * sizeof(char *));
                if (!p) {
                        r = -ENOMEM;
                        break;
                }
                names = p;
                names[n_names] = strdup(de->d_name);
                if (!names[n_names]) {
                        r = -ENOMEM;
                        break;
                }
                n_names++;
        }
        if (r < 0) {
                strv_free_n(names, n_names);
                return r;
        }
        if (n_names > 0)
                qsort(names, n_names, sizeof(char *), cmp_names);

        l.tools = calloc(MAX(n_names, 1), sizeof(Tool *));
        if (!l.tools) {
                strv_free_n(names, n_names);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n_names; i++) {
                _cleanup_free_ char *error = NULL;
                Tool *t = NULL;

                r = tool_load(dirfd(d), names[i], &t, &error);
                if (r == -ENOMEM) {
                        strv_free_n(names, n_names);
                        tool_list_done(&l);
                        return r;
                }
                if (r < 0) {
                        if (on_broken) {
                                _cleanup_free_ char *path = NULL;
                                if (asprintf(&path, "%s/%s", dir, names[i]) >= 0)
                                        on_broken(path, strna(error), userdata);
                        }
                        continue;
                }
                l.tools[l.n++] = t;
        }
        strv_free_n(names, n_names);
        *ret = l;
        return 0;
}

const Tool *tool_list_find(const ToolList *l, const char *name) {
        for (size_t i = l->n; i > 0; i--)
                if (streq(l->tools[i - 1]->name, name))
                        return l->tools[i - 1];
        return NULL;
}

static json_object *string_or_empty(const char *s) {
        return json_object_new_string(strempty(s));
}

json_object *tool_to_json(const Tool *t) {
        json_object *o = json_object_new_object(), *commands;

        if (!o)
                return NULL;
        json_object_object_add(o, "name", string_or_empty(t->name));
        json_object_object_add(o, "version", string_or_empty(t->version));
        json_object_object_add(o, "tsnet_host", string_or_empty(t->tsnet_host));
        commands = json_object_new_array();
        for (size_t i = 0; i < t->n_commands; i++) {
                const ToolCommand *c = &t->commands[i];
                json_object *co = json_object_new_object(), *parts = json_object_new_array();

                json_object_object_add(co, "name", string_or_empty(c->name));
                json_object_object_add(co, "description", string_or_empty(c->description));
                json_object_object_add(co, "acl_cap", string_or_empty(c->acl_cap));
                for (size_t k = 0; k < c->n_exec_parts; k++)
                        json_object_array_add(parts, json_object_new_string(c->exec_parts[k]));
                json_object_object_add(co, "exec_parts", parts);
                json_object_object_add(co, "timeout", json_object_new_int64((int64_t) c->timeout_ns));
                if (c->n_args > 0) {
                        json_object *args = json_object_new_array();
                        for (size_t k = 0; k < c->n_args; k++) {
                                static const char *const types[] = { "string", "int", "bool" };
                                json_object *a = json_object_new_object();
                                json_object_object_add(a, "name", json_object_new_string(c->args[k].name));
                                json_object_object_add(a, "type", json_object_new_string(types[c->args[k].type]));
                                json_object_object_add(a, "required", json_object_new_boolean(c->args[k].required));
                                if (c->args[k].pattern)
                                        json_object_object_add(a, "pattern", json_object_new_string(c->args[k].pattern));
                                json_object_array_add(args, a);
                        }
                        json_object_object_add(co, "args", args);
                }
                json_object_array_add(commands, co);
        }
        json_object_object_add(o, "commands", commands);
        return o;
}
