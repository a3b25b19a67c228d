/* SPDX-License-Identifier: MIT */
#include <limits.h>

#include "config-reader.h"
#include "files-config.h"
#include "hook-ref.h"
#include "macro.h"
#include "toolfile.h"

/* files.toml: which directories may be read and written, and the commands to
 * run after a file is received. The README writes one [["/dir/"]] block per
 * directory; the Go code read [[path]] dir = "/dir/" allow = [...]. Both are
 * accepted, also in one file. */

static const ConfigKey readme_rule_keys[] = {
        { "read", CONFIG_BOOL },
        { "write", CONFIG_BOOL },
        { "max_size", CONFIG_SIZE },
        { "post_recv", CONFIG_STRV },
        {},
};

static const ConfigKey go_rule_keys[] = {
        { "dir", CONFIG_STRING },
        { "allow", CONFIG_STRV },
        { "max_size", CONFIG_SIZE },
        { "post_recv", CONFIG_STRV },
        {},
};

static const ConfigTableSchema files_schema[] = {
        { NULL, CONFIG_TABLE_PATH, readme_rule_keys },
        { "path", CONFIG_TABLE_ARRAY, go_rule_keys },
        {},
};

#define COMMAND_REF_MAX 255

void files_config_done(FilesConfig *c) {
        for (size_t i = 0; i < c->n_rules; i++) {
                free(c->rules[i].dir);
                strv_free(c->rules[i].post_recv, c->rules[i].n_post_recv);
        }
        free(c->rules);
        *c = (FilesConfig) {};
}

static void files_rule_done(FilesRule *r) {
        free(r->dir);
        strv_free(r->post_recv, r->n_post_recv);
        *r = (FilesRule) {};
}

/* What is wrong with a rule's directory, or NULL. */
static const char *dir_problem(const char *dir) {
        size_t n = strlen(dir);

        if (dir[0] != '/')
                return "must be an absolute path";
        if (dir[n - 1] != '/')
                return "must end with \"/\"";
        if (n >= PATH_MAX)
                return "is too long";
        if (strstr(dir, "//"))
                return "must not contain \"//\"";
        if (strstr(dir, "/./") || strstr(dir, "/../"))
                return "must not contain \".\" or \"..\" segments";
        for (const char *p = dir; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7F)
                        return "must not contain control characters";
        return NULL;
}

static bool is_name_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* ^[a-zA-Z0-9_-]+(/[a-zA-Z0-9_-]+)?$ */
static bool command_ref_is_valid(const char *s) {
        size_t a, b;

        if (strlen(s) > COMMAND_REF_MAX)
                return false;
        for (a = 0; is_name_char(s[a]); a++)
                ;
        if (a == 0)
                return false;
        if (s[a] == '\0')
                return true;
        if (s[a] != '/')
                return false;
        for (b = a + 1; is_name_char(s[b]); b++)
                ;
        return b > a + 1 && s[b] == '\0';
}

/* Checks and copies post_recv; write_hint says how to allow writing in this form. */
static int rule_set_post_recv(FilesRule *rule, ConfigDocument *doc, const ConfigTable *t, ConfigErrors *errors,
                              const char *write_hint) {
        const ConfigEntry *e = config_table_get(t, "post_recv");
        bool ok = true;
        int r;

        if (!e)
                return 0;
        for (size_t i = 0; i < e->n_strv; i++) {
                if (isempty(e->strv[i])) {
                        config_document_error(doc, errors, e->line, "'post_recv' entries must not be empty");
                        ok = false;
                } else if (!command_ref_is_valid(e->strv[i])) {
                        config_document_error(doc, errors, e->line,
                                              "'post_recv' entry \"%s\" must be \"command\" or \"tool/command\" "
                                              "(letters, digits, '_' and '-')", e->strv[i]);
                        ok = false;
                }
        }
        if (e->n_strv > 0 && !rule->write) {
                config_document_error(doc, errors, e->line, "'post_recv' needs %s: hooks run after a file is written",
                                      write_hint);
                ok = false;
        }
        if (!ok)
                return 0;

        r = strv_copy(e->strv, e->n_strv, &rule->post_recv);
        if (r < 0)
                return r;
        rule->n_post_recv = e->n_strv;
        return 0;
}

static void rule_set_max_size(FilesRule *rule, ConfigDocument *doc, const ConfigTable *t, ConfigErrors *errors) {
        const ConfigEntry *e = config_table_get(t, "max_size");

        rule->max_size = FILES_MAX_SIZE_DEFAULT;
        if (!e)
                return;
        if (e->size == 0 || e->size > FILES_MAX_SIZE_MAX) {
                config_document_error(doc, errors, e->line, "'max_size' must be between 1 and 1T bytes");
                return;
        }
        rule->max_size = e->size;
}

/* [["/dir/"]] read = … write = … max_size = … post_recv = […] */
static int rule_from_readme_table(FilesRule *rule, ConfigDocument *doc, const ConfigTable *t, ConfigErrors *errors) {
        const char *problem = dir_problem(t->path);

        if (problem)
                config_document_error(doc, errors, t->line, "directory \"%s\" %s", t->path, problem);

        rule->read = config_table_get_bool(t, "read", false);
        rule->write = config_table_get_bool(t, "write", false);
        rule->line = t->line;
        rule_set_max_size(rule, doc, t, errors);
        rule->dir = strdup(t->path);
        if (!rule->dir)
                return -ENOMEM;
        return rule_set_post_recv(rule, doc, t, errors, "write = true");
}

/* [[path]] dir = "/dir/" allow = ["read", "write"] max_size = … post_recv = […] */
static int rule_from_go_table(FilesRule *rule, ConfigDocument *doc, const ConfigTable *t, ConfigErrors *errors) {
        const ConfigEntry *dir = config_table_get(t, "dir"), *allow = config_table_get(t, "allow");
        const char *problem;

        rule->line = t->line;
        if (!dir) {
                config_document_error(doc, errors, t->line, "[[path]] needs 'dir'");
                return 0;
        }
        problem = dir_problem(dir->string);
        if (problem)
                config_document_error(doc, errors, dir->line, "'dir' \"%s\" %s", dir->string, problem);

        if (!allow)
                config_document_error(doc, errors, t->line, "[[path]] needs 'allow' (\"read\", \"write\" or both)");
        else if (allow->n_strv == 0)
                config_document_error(doc, errors, allow->line, "'allow' must not be empty; valid values are: read, write");
        else
                for (size_t i = 0; i < allow->n_strv; i++) {
                        if (streq(allow->strv[i], "read"))
                                rule->read = true;
                        else if (streq(allow->strv[i], "write"))
                                rule->write = true;
                        else
                                config_document_error(doc, errors, allow->line,
                                                      "'allow' has unknown value \"%s\"; valid values are: read, write",
                                                      allow->strv[i]);
                }

        rule_set_max_size(rule, doc, t, errors);
        rule->dir = strdup(dir->string);
        if (!rule->dir)
                return -ENOMEM;
        return rule_set_post_recv(rule, doc, t, errors, "\"write\" in 'allow'");
}

int files_config_load(const char *config_dir, FilesConfig *ret, ConfigErrors *errors) {
        _cleanup_(config_document_done) ConfigDocument doc = {};
        _cleanup_(files_config_done) FilesConfig c = {};
        _cleanup_free_ char *path = NULL;
        int r;

        r = config_file_path(config_dir, "files.toml", &path);
        if (r < 0)
                return r;
        r = config_document_load(path, files_schema, &doc, errors);
        if (r < 0)
                return r;

        c.rules = calloc(MAX(doc.n_tables, (size_t) 1), sizeof(FilesRule));
        if (!c.rules)
                return -ENOMEM;

        for (size_t i = 0; i < doc.n_tables; i++) {
                _cleanup_(files_rule_done) FilesRule rule = {};
                const ConfigTable *t = &doc.tables[i];
                bool duplicate = false;

                if (t->has_errors)
                        continue;       /* already reported; its other checks would mislead */

                if (t->schema->kind == CONFIG_TABLE_PATH)
                        r = rule_from_readme_table(&rule, &doc, t, errors);
                else
                        r = rule_from_go_table(&rule, &doc, t, errors);
                if (r < 0)
                        return r;
                if (!rule.dir)
                        continue;

                for (size_t j = 0; j < c.n_rules && !duplicate; j++)
                        if (streq(c.rules[j].dir, rule.dir)) {
                                config_document_error(&doc, errors, rule.line, "duplicate directory \"%s\" (first at line %u)",
                                                      rule.dir, c.rules[j].line);
                                duplicate = true;
                        }
                if (!duplicate) {
                        c.rules[c.n_rules++] = rule;
                        rule = (FilesRule) {};
                }
        }

        if (doc.n_errors > 0)
                return -EINVAL;
        *ret = c;
        c = (FilesConfig) {};
        return 0;
}

const FilesRule *files_config_match(const FilesConfig *c, const char *path) {
        const FilesRule *best = NULL;
        size_t plen = strlen(path), best_len = 0;

        for (size_t i = 0; i < c->n_rules; i++) {
                const char *d = c->rules[i].dir;
                size_t dl = strlen(d);

                /* "/srv/app/…" and "/srv/app" itself; never "/srv/app2". */
                if (!(plen >= dl && memcmp(path, d, dl) == 0) &&
                    !(plen == dl - 1 && memcmp(path, d, plen) == 0))
                        continue;
                if (dl > best_len) {
                        best = &c->rules[i];
                        best_len = dl;
                }
        }
        return best;
}

int files_config_check(const char *config_dir, ConfigErrors *errors) {
        _cleanup_(files_config_done) FilesConfig c = {};
        _cleanup_free_ char *tools = NULL, *filename = NULL;
        ToolList l = {};
        int r, bad = 0;

        r = files_config_load(config_dir, &c, errors);
        if (r == -ENOMEM)
                return r;
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return 1;

        if (asprintf(&tools, "%s/tools", config_dir) < 0 || config_file_path(config_dir, "files.toml", &filename) < 0)
                return -ENOMEM;
        /* Broken tool files are --check-config's own finding; here they just hold no command. */
        r = tool_list_load(tools, &l, NULL, NULL);
        if (r == -ENOMEM)
                return r;
        for (size_t i = 0; i < c.n_rules; i++)
                for (size_t j = 0; j < c.rules[i].n_post_recv; j++) {
                        _cleanup_free_ char *why = NULL;

                        if (files_hook_resolve(&l, c.rules[i].post_recv[j], NULL, NULL, &why) >= 0)
                                continue;
                        config_errors_add(errors, "%s:%u: 'post_recv' entry \"%s\": %s", filename, c.rules[i].line,
                                          c.rules[i].post_recv[j], strna(why));
                        bad = 1;
                }
        tool_list_done(&l);
        return bad;
}
