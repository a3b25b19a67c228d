/* SPDX-License-Identifier: MIT */
#include "config-reader.h"
#include "macro.h"

/* vars.toml: which projects' (and environments') variables may be read and
 * written. README form: [[scope]] project= read= write=; Go form: env= and
 * allow=[…]. One scope uses one form. */

#define SCOPE_NAME_MAX 64

static const ConfigKey scope_keys[] = {
        { "project", CONFIG_STRING },
        { "env", CONFIG_STRING },
        { "read", CONFIG_BOOL },
        { "write", CONFIG_BOOL },
        { "allow", CONFIG_STRV },
        {},
};

static const ConfigTableSchema vars_schema[] = {
        { "scope", CONFIG_TABLE_ARRAY, scope_keys },
        {},
};

void vars_config_done(VarsConfig *c) {
        for (size_t i = 0; i < c->n_scopes; i++) {
                free(c->scopes[i].project);
                free(c->scopes[i].env);
        }
        free(c->scopes);
        *c = (VarsConfig) {};
}

static void vars_scope_done(VarsScope *s) {
        free(s->project);
        free(s->env);
        *s = (VarsScope) {};
}

/* ^[a-z0-9][a-z0-9_-]*$, at most SCOPE_NAME_MAX characters: safe as a path component. */
static bool scope_name_is_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > SCOPE_NAME_MAX)
                return false;
        if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
                        return false;
        return true;
}

static bool scope_name_check(ConfigDocument *doc, ConfigErrors *errors, const ConfigEntry *e) {
        if (scope_name_is_valid(e->string))
                return true;
        config_document_error(doc, errors, e->line,
                              "'%s' \"%s\" must be lower-case letters, digits, '_' and '-', starting with a letter "
                              "or digit (at most %d characters)", e->key->name, e->string, SCOPE_NAME_MAX);
        return false;
}

static int scope_from_table(VarsScope *scope, ConfigDocument *doc, const ConfigTable *t, ConfigErrors *errors) {
        const ConfigEntry *project = config_table_get(t, "project"), *env = config_table_get(t, "env"),
                *allow = config_table_get(t, "allow"), *read = config_table_get(t, "read"),
                *write = config_table_get(t, "write");
        bool ok = true;

        scope->line = t->line;
        if (!project) {
                config_document_error(doc, errors, t->line, "[[scope]] needs 'project'");
                ok = false;
        } else if (!scope_name_check(doc, errors, project))
                ok = false;
        if (env && !scope_name_check(doc, errors, env))
                ok = false;

        if (allow && (read || write)) {
                config_document_error(doc, errors, allow->line,
                                      "'allow' cannot be combined with 'read'/'write' in one [[scope]]; use one form");
                ok = false;
        } else if (allow) {
                if (allow->n_strv == 0) {
                        config_document_error(doc, errors, allow->line, "'allow' must not be empty; valid values are: read, write");
                        ok = false;
                }
                for (size_t i = 0; i < allow->n_strv; i++) {
                        if (streq(allow->strv[i], "read"))
                                scope->read = true;
                        else if (streq(allow->strv[i], "write"))
                                scope->write = true;
                        else {
                                config_document_error(doc, errors, allow->line,
                                                      "'allow' has unknown value \"%s\"; valid values are: read, write",
                                                      allow->strv[i]);
                                ok = false;
                        }
                }
        } else {
                scope->read = read && read->boolean;
                scope->write = write && write->boolean;
        }
        if (!ok)
                return 0;

        scope->project = strdup(project->string);
        if (!scope->project)
                return -ENOMEM;
        if (env) {
                scope->env = strdup(env->string);
                if (!scope->env)
                        return -ENOMEM;
        }
        return 0;
}

int vars_config_load(const char *config_dir, VarsConfig *ret, ConfigErrors *errors) {
        _cleanup_(config_document_done) ConfigDocument doc = {};
        _cleanup_(vars_config_done) VarsConfig c = {};
        _cleanup_free_ char *path = NULL;
        int r;

        r = config_file_path(config_dir, "vars.toml", &path);
        if (r < 0)
                return r;
        r = config_document_load(path, vars_schema, &doc, errors);
        if (r < 0)
                return r;

        c.scopes = calloc(MAX(doc.n_tables, (size_t) 1), sizeof(VarsScope));
        if (!c.scopes)
                return -ENOMEM;

        for (size_t i = 0; i < doc.n_tables; i++) {
                _cleanup_(vars_scope_done) VarsScope scope = {};
                bool duplicate = false;

                if (doc.tables[i].has_errors)
                        continue;       /* already reported */
                r = scope_from_table(&scope, &doc, &doc.tables[i], errors);
                if (r < 0)
                        return r;
                if (!scope.project)
                        continue;

                for (size_t j = 0; j < c.n_scopes && !duplicate; j++)
                        if (streq(c.scopes[j].project, scope.project) && streq_ptr(c.scopes[j].env, scope.env)) {
                                if (scope.env)
                                        config_document_error(&doc, errors, scope.line,
                                                              "duplicate scope for project \"%s\" env \"%s\" (first at line %u)",
                                                              scope.project, scope.env, c.scopes[j].line);
                                else
                                        config_document_error(&doc, errors, scope.line,
                                                              "duplicate scope for project \"%s\" (first at line %u)",
                                                              scope.project, c.scopes[j].line);
                                duplicate = true;
                        }
                if (!duplicate) {
                        c.scopes[c.n_scopes++] = scope;
                        scope = (VarsScope) {};
                }
        }

        if (doc.n_errors > 0)
                return -EINVAL;
        *ret = c;
        c = (VarsConfig) {};
        return 0;
}
