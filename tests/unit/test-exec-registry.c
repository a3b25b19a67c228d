/* SPDX-License-Identifier: MIT */
/* The exec registry (src/exec/registry.c, args.c): reloading the tools
 * directory, load-time refusals, argv building and arg validation. */

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "log.h"
#include "registry.h"
#include "tests.h"
#include "toolfile.h"

#ifndef ELEMENTSOF
#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#endif

/* ---- helpers ---- */

/* One tool with the given commands (JSON fragments). */
#define TOOL(name, cmds) "{\"name\":\"" name "\",\"version\":\"1.0.0\",\"tsnet_host\":\"h\",\"commands\":[" cmds "]}"
#define CMD(name, parts, args) \
        "{\"name\":\"" name "\",\"acl_cap\":\"x\",\"exec_parts\":[" parts "],\"timeout\":1000000000,\"args\":[" args "]}"
#define ARG(name, type, req, pattern) \
        "{\"name\":\"" name "\",\"type\":\"" type "\",\"required\":" req ",\"pattern\":\"" pattern "\"}"

static char *make_tmpdir(void) {
        char *d = strdup("/tmp/test-exec-registry-XXXXXX");
        ASSERT_NOT_NULL(d);
        ASSERT_NOT_NULL(mkdtemp(d));
        return d;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) flag;
        (void) ftw;
        return remove(path);
}

static void rm_rf(const char *path) {
        (void) nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char *path_join(const char *dir, const char *name) {
        char *p;
        ASSERT_TRUE(asprintf(&p, "%s/%s", dir, name) >= 0);
        return p;
}

/* As tailkit.Install does: a temp file renamed over the target. */
static void install_file(const char *dir, const char *name, const char *content) {
        char *tmp = path_join(dir, ".tailkit-tmp-1"), *dst = path_join(dir, name);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        ASSERT_TRUE(fd >= 0);
        ASSERT_INT_EQ(write(fd, content, strlen(content)), (ssize_t) strlen(content));
        ASSERT_OK(close(fd));
        ASSERT_OK(rename(tmp, dst));
        free(tmp);
        free(dst);
}

/* An edit in place: same inode, the directory's mtime does not move. */
static void edit_in_place(const char *dir, const char *name, const char *content) {
        char *p = path_join(dir, name);
        int fd = open(p, O_WRONLY | O_TRUNC | O_CLOEXEC);

        ASSERT_TRUE(fd >= 0);
        ASSERT_INT_EQ(write(fd, content, strlen(content)), (ssize_t) strlen(content));
        ASSERT_OK(close(fd));
        free(p);
}

static void remove_file(const char *dir, const char *name) {
        char *p = path_join(dir, name);
        ASSERT_OK(unlink(p));
        free(p);
}

static bool has(Registry *r, const char *tool, const char *command) {
        ToolCommand *c = NULL;
        int e = registry_find(r, tool, command, &c);

        if (e == -ENOENT) {
                ASSERT_NULL(c);
                return false;
        }
        ASSERT_OK(e);
        ASSERT_NOT_NULL(c);
        ASSERT_STREQ(c->name, command);
        tool_command_free(c);
        return true;
}

static Tool *parse_tool(const char *json) {
        Tool *t = NULL;
        char *error = NULL;

        if (tool_parse(json, strlen(json), &t, &error) < 0)
                FAIL_AT("tool_parse: %s", error);
        return t;
}

/* command_check() on the first command of a one-tool JSON document. */
static int check_json(const char *json, char **error) {
        Tool *t = parse_tool(json);
        int r;

        ASSERT_TRUE(t->n_commands >= 1);
        r = command_check(&t->commands[0], error);
        tool_free(t);
        return r;
}

static json_object *J(const char *s) {
        json_object *o = json_tokener_parse(s);
        ASSERT_NOT_NULL(o);
        return o;
}

/* Builds the argv of the first command of json with args_json (NULL: no body). */
static int build(const char *json, const char *args_json, char ***argv, char **error) {
        Tool *t = parse_tool(json);
        json_object *args = args_json ? J(args_json) : NULL;
        char *why = NULL;
        int r;

        if (command_check(&t->commands[0], &why) < 0)
                FAIL_AT("command_check: %s", why);
        r = command_build_argv(&t->commands[0], args, argv, error);
        json_object_put(args);
        tool_free(t);
        if (r < 0)
                ASSERT_NULL(*argv);
        else
                ASSERT_NULL(*error);
        return r;
}

static void expect_error(const char *json, const char *args_json, const char *message) {
        char **argv = NULL, *error = NULL;
        int r = build(json, args_json, &argv, &error);

        if (r != -EINVAL)
                FAIL_AT("expected -EINVAL with \"%s\" for %.200s, got %d", message, args_json ? args_json : "(no body)", r);
        ASSERT_CONTAINS(error, message);
        free(error);
}

static char **expect_argv(const char *json, const char *args_json, size_t n) {
        char **argv = NULL, *error = NULL;
        size_t k = 0;

        if (build(json, args_json, &argv, &error) < 0)
                FAIL_AT("command_build_argv(%.200s): %s", args_json ? args_json : "(no body)", error);
        while (argv[k])
                k++;
        ASSERT_INT_EQ(k, n);
        return argv;
}

static double now_s(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* ---- the registry ---- */

static const char devbox_v1[] =
        TOOL("devbox", CMD("reload", "\"/usr/bin/systemctl\",\"reload\",\"nginx\"", ""));
static const char devbox_v2[] =
        TOOL("devbox", CMD("reload", "\"/usr/bin/systemctl\",\"reload\",\"nginx\"", "") ","
                       CMD("restart", "\"/usr/bin/docker\",\"restart\",\"{{.container}}\"",
                           ARG("container", "string", "true", "^[a-zA-Z0-9_-]+$")));

TEST(directory_created_later) {
        char *base = make_tmpdir(), *dir = path_join(base, "tools");
        Registry *r = registry_new(dir);

        ASSERT_NOT_NULL(r);
        ASSERT_FALSE(has(r, "devbox", "reload"));       /* never refreshed */
        ASSERT_OK(registry_refresh(r));
        ASSERT_FALSE(has(r, "devbox", "reload"));

        ASSERT_OK(mkdir(dir, 0755));
        install_file(dir, "devbox.json", devbox_v1);
        ASSERT_INT_EQ(registry_refresh(r), 1);
        ASSERT_TRUE(has(r, "devbox", "reload"));
        ASSERT_FALSE(has(r, "devbox", "restart"));
        ASSERT_FALSE(has(r, "nope", "reload"));

        /* The directory disappearing takes its tools with it. */
        rm_rf(dir);
        ASSERT_OK(registry_refresh(r));
        ASSERT_FALSE(has(r, "devbox", "reload"));

        /* Not a directory: an error (logged once), and nothing runs. */
        install_file(base, "tools", devbox_v1);
        ASSERT_INT_EQ(registry_refresh(r), -ENOTDIR);
        ASSERT_INT_EQ(registry_refresh(r), -ENOTDIR);
        ASSERT_FALSE(has(r, "devbox", "reload"));
        rm_rf(dir);
        ASSERT_OK(mkdir(dir, 0755));
        install_file(dir, "devbox.json", devbox_v1);
        ASSERT_INT_EQ(registry_refresh(r), 1);
        ASSERT_TRUE(has(r, "devbox", "reload"));

        registry_free(r);
        rm_rf(base);
        free(dir);
        free(base);
}

TEST(install_edit_remove) {
        char *dir = make_tmpdir();
        Registry *r = registry_new(dir);

        ASSERT_OK(registry_refresh(r));
        ASSERT_FALSE(has(r, "devbox", "reload"));

        install_file(dir, "devbox.json", devbox_v1);
        ASSERT_OK(registry_refresh(r));
        ASSERT_TRUE(has(r, "devbox", "reload"));
        ASSERT_FALSE(has(r, "devbox", "restart"));

        edit_in_place(dir, "devbox.json", devbox_v2);
        ASSERT_OK(registry_refresh(r));
        ASSERT_TRUE(has(r, "devbox", "restart"));

        edit_in_place(dir, "devbox.json", devbox_v1);
        ASSERT_OK(registry_refresh(r));
        ASSERT_FALSE(has(r, "devbox", "restart"));

        /* Another file, then a removal. */
        install_file(dir, "other.json", TOOL("other", CMD("run", "\"/bin/true\"", "")));
        ASSERT_OK(registry_refresh(r));
        ASSERT_TRUE(has(r, "other", "run"));
        ASSERT_TRUE(has(r, "devbox", "reload"));
        remove_file(dir, "devbox.json");
        ASSERT_OK(registry_refresh(r));
        ASSERT_FALSE(has(r, "devbox", "reload"));
        ASSERT_TRUE(has(r, "other", "run"));

        /* Not *.json, hidden, a directory: ignored. */
        install_file(dir, "x.json.bak", TOOL("bak", CMD("run", "\"/bin/true\"", "")));
        install_file(dir, ".hidden.json", TOOL("hidden", CMD("run", "\"/bin/true\"", "")));
        ASSERT_OK(registry_refresh(r));
        ASSERT_FALSE(has(r, "bak", "run"));
        ASSERT_FALSE(has(r, "hidden", "run"));

        registry_free(r);
        rm_rf(dir);
        free(dir);
}

/* Once the files are older than the racy window, an unchanged directory is
 * not re-read, and an edit in place is still seen even when it keeps the size
 * and the mtime. */
TEST(stable_and_sneaky_edits) {
        char *dir = make_tmpdir(), *p = path_join(dir, "a.json");
        static const char v1[] = TOOL("sneaky", CMD("one", "\"/bin/true\"", ""));
        static const char v2[] = TOOL("sneaky", CMD("two", "\"/bin/true\"", ""));
        struct timespec times[2] = { { .tv_sec = 1000000000 }, { .tv_sec = 1000000000 } };
        Registry *r = registry_new(dir);

        install_file(dir, "a.json", v1);
        install_file(dir, "broken.json", "{\"name\":");
        ASSERT_OK(utimensat(AT_FDCWD, p, times, 0));
        usleep(2100 * 1000);

        ASSERT_INT_EQ(registry_refresh(r), 1);
        ASSERT_INT_EQ(registry_refresh(r), 0);
        ASSERT_INT_EQ(registry_refresh(r), 0);
        ASSERT_TRUE(has(r, "sneaky", "one"));

        edit_in_place(dir, "a.json", v2);                /* same size */
        ASSERT_OK(utimensat(AT_FDCWD, p, times, 0));     /* same mtime */
        ASSERT_INT_EQ(registry_refresh(r), 1);
        ASSERT_FALSE(has(r, "sneaky", "one"));
        ASSERT_TRUE(has(r, "sneaky", "two"));

        /* A broken file fixed in place. */
        edit_in_place(dir, "broken.json", TOOL("fixed", CMD("run", "\"/bin/true\"", "")));
        ASSERT_INT_EQ(registry_refresh(r), 1);
        ASSERT_TRUE(has(r, "fixed", "run"));

        registry_free(r);
        rm_rf(dir);
        free(p);
        free(dir);
}

TEST(duplicate_tool_names) {
        char *dir = make_tmpdir();
        Registry *r = registry_new(dir);

        install_file(dir, "a.json", TOOL("dup", CMD("first", "\"/bin/true\"", "")));
        install_file(dir, "b.json", TOOL("dup", CMD("second", "\"/bin/false\"", "")));
        ASSERT_OK(registry_refresh(r));
        ASSERT_TRUE(has(r, "dup", "second"));
        ASSERT_FALSE(has(r, "dup", "first"));            /* the later file wins as a whole */

        /* A refused later file does not hide the earlier one. */
        install_file(dir, "c.json", TOOL("dup", CMD("third", "\"bin/false\"", "")));
        ASSERT_OK(registry_refresh(r));
        ASSERT_TRUE(has(r, "dup", "second"));
        ASSERT_FALSE(has(r, "dup", "third"));

        registry_free(r);
        rm_rf(dir);
        free(dir);
}

TEST(find_copy_survives_refresh) {
        char *dir = make_tmpdir();
        Registry *r = registry_new(dir);
        ToolCommand *c = NULL;

        install_file(dir, "devbox.json", devbox_v2);
        ASSERT_OK(registry_refresh(r));
        ASSERT_OK(registry_find(r, "devbox", "restart", &c));
        ASSERT_NOT_NULL(c);
        ASSERT_INT_EQ(registry_find(r, "devbox", "nope", &(ToolCommand *) { NULL }), -ENOENT);

        remove_file(dir, "devbox.json");
        ASSERT_OK(registry_refresh(r));
        ASSERT_FALSE(has(r, "devbox", "restart"));
        registry_free(r);

        /* Still ours, every field. */
        ASSERT_STREQ(c->name, "restart");
        ASSERT_STREQ(c->acl_cap, "x");
        ASSERT_INT_EQ(c->n_exec_parts, 3);
        ASSERT_STREQ(c->exec_parts[0], "/usr/bin/docker");
        ASSERT_STREQ(c->exec_parts[2], "{{.container}}");
        ASSERT_INT_EQ(c->timeout_ns, 1000000000);
        ASSERT_INT_EQ(c->n_args, 1);
        ASSERT_STREQ(c->args[0].name, "container");
        ASSERT_STREQ(c->args[0].pattern, "^[a-zA-Z0-9_-]+$");
        ASSERT_TRUE(c->args[0].required);
        {
                char **argv = NULL, *error = NULL;
                json_object *args = J("{\"container\":\"web\"}");
                ASSERT_OK(command_build_argv(c, args, &argv, &error));
                ASSERT_STREQ(argv[2], "web");
                strv_free_null(argv);
                json_object_put(args);
        }
        tool_command_free(c);
        tool_command_free(NULL);
        strv_free_null(NULL);
        rm_rf(dir);
        free(dir);
}

/* ---- load-time refusals ---- */

#define ONE_ARG_CMD(part) TOOL("t", CMD("c", "\"/bin/echo\",\"" part "\"", ARG("a", "string", "false", "")))

TEST(refusals_command_check) {
        static const struct {
                const char *json;
                const char *why;
        } bad[] = {
                { TOOL("t", CMD("c", "\"echo\",\"x\"", "")), "exec_parts[0] must be an absolute path" },
                { TOOL("t", CMD("c", "\"./echo\"", "")), "absolute path" },
                { TOOL("t", CMD("c", "\"/bin/{{.a}}\"", ARG("a", "string", "true", ""))), "exec_parts[0] must not hold a template" },
                { ONE_ARG_CMD("{{.a | printf}}"), "unsupported template" },
                { ONE_ARG_CMD("{{printf .a}}"), "unsupported template" },
                { ONE_ARG_CMD("{{if .a}}x{{end}}"), "unsupported template" },
                { ONE_ARG_CMD("{{.a"), "unsupported template" },
                { ONE_ARG_CMD("x{{.a}"), "unsupported template" },
                { ONE_ARG_CMD("{{ .a }}{{"), "unsupported template at byte 8" },
                { ONE_ARG_CMD("{{  .a}}"), "unsupported template" },
                { ONE_ARG_CMD("{{.a  }}"), "unsupported template" },
                { ONE_ARG_CMD("{{- .a}}"), "unsupported template" },
                { ONE_ARG_CMD("{{.a -}}"), "unsupported template" },
                { ONE_ARG_CMD("{{/* c */}}"), "unsupported template" },
                { ONE_ARG_CMD("{{.}}"), "unsupported template" },
                { ONE_ARG_CMD("{{$x := .a}}"), "unsupported template" },
                { ONE_ARG_CMD("{{.a.b}}"), "unsupported template" },
                { ONE_ARG_CMD("{{\\t.a}}"), "unsupported template" },
                { ONE_ARG_CMD("{{{.a}}}"), "unsupported template" },
                { ONE_ARG_CMD("{{.undeclared}}"), "undeclared arg \"undeclared\"" },
                { ONE_ARG_CMD("{{.A}}"), "undeclared arg \"A\"" },
                { TOOL("t", CMD("c", "\"/bin/echo\"", ARG("a", "string", "false", "("))), "pattern does not compile" },
                { TOOL("t", CMD("c", "\"/bin/echo\"", ARG("a", "string", "false", "[z-a]"))), "arg \"a\": pattern does not compile" },
                { TOOL("t", CMD("c", "\"/bin/echo\"", ARG("a", "string", "false", "\\\\C"))), "pattern does not compile" },
        };
        static const char *const good[] = {
                ONE_ARG_CMD("{{.a}}"),
                ONE_ARG_CMD("{{ .a }}"),
                ONE_ARG_CMD("{{ .a}}"),
                ONE_ARG_CMD("{{.a }}"),
                ONE_ARG_CMD("--x={{.a}},{{ .a }}"),
                ONE_ARG_CMD("}}{.a}}"),
                ONE_ARG_CMD("{ {.a}}"),
                TOOL("t", CMD("c", "\"/bin/echo\"", ARG("a", "string", "false", "^\\\\d+$"))),
                TOOL("t", CMD("c", "\"/bin/echo\"", ARG("a", "string", "false", "^(/[a-zA-Z0-9_./-]+)+$"))),
                TOOL("t", CMD("c", "\"/bin/echo\"", ARG("a", "string", "false", "^(?P<x>\\\\pL+)$"))),
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char *error = NULL;
                int r = check_json(bad[i].json, &error);
                if (r != -EBADMSG)
                        FAIL_AT("bad[%zu] (%s) was accepted: %d", i, bad[i].json, r);
                ASSERT_CONTAINS(error, bad[i].why);
                free(error);
        }
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                char *error = NULL;
                int r = check_json(good[i], &error);
                if (r < 0)
                        FAIL_AT("good[%zu] (%s) was refused: %s", i, good[i], error);
                ASSERT_NULL(error);
        }
}

TEST(refused_files_skipped) {
        char *dir = make_tmpdir();
        Registry *r = registry_new(dir);

        install_file(dir, "good.json", TOOL("good", CMD("run", "\"/bin/echo\",\"{{ .a }}\"", ARG("a", "string", "false", ""))));
        install_file(dir, "relative.json", TOOL("relative", CMD("run", "\"echo\"", "")));
        install_file(dir, "pipe.json", ONE_ARG_CMD("{{.a | printf}}"));
        install_file(dir, "undeclared.json", TOOL("undeclared", CMD("run", "\"/bin/echo\",\"{{.x}}\"", "")));
        install_file(dir, "pattern.json", TOOL("pattern", CMD("run", "\"/bin/echo\"", ARG("a", "string", "false", "(a"))));
        /* One bad command refuses its good sibling too. */
        install_file(dir, "mixed.json", TOOL("mixed", CMD("ok", "\"/bin/true\"", "") "," CMD("bad", "\"true\"", "")));
        install_file(dir, "syntax.json", "{ not json");

        ASSERT_OK(registry_refresh(r));
        ASSERT_TRUE(has(r, "good", "run"));
        ASSERT_FALSE(has(r, "relative", "run"));
        ASSERT_FALSE(has(r, "t", "c"));
        ASSERT_FALSE(has(r, "undeclared", "run"));
        ASSERT_FALSE(has(r, "pattern", "run"));
        ASSERT_FALSE(has(r, "mixed", "ok"));
        ASSERT_FALSE(has(r, "mixed", "bad"));

        /* Fixing the refused file brings it in. */
        install_file(dir, "relative.json", TOOL("relative", CMD("run", "\"/bin/echo\"", "")));
        ASSERT_OK(registry_refresh(r));
        ASSERT_TRUE(has(r, "relative", "run"));
        ASSERT_TRUE(has(r, "good", "run"));

        registry_free(r);
        rm_rf(dir);
        free(dir);
}

/* ---- argv building ---- */

static const char echo_x[] =
        TOOL("t", CMD("c", "\"/bin/echo\",\"--\",\"{{.x}}\"", ARG("x", "string", "true", "")));

TEST(hostile_values_stay_one_element) {
        static const char *const values[] = {
                "a b", "\\\"'", ";rm -rf /", "$(id)", "`id`", "-rf", "--help", "héllo wörld ✓ 日本",
                "a\\nb", "{{.x}}", "*", "~", "> /etc/passwd", "|| true", "", " ",
        };
        static const char *const expected[] = {
                "a b", "\"'", ";rm -rf /", "$(id)", "`id`", "-rf", "--help", "héllo wörld ✓ 日本",
                "a\nb", "{{.x}}", "*", "~", "> /etc/passwd", "|| true", "", " ",
        };
        const char *optional = TOOL("t", CMD("c", "\"/bin/echo\",\"--\",\"{{.x}}\"", ARG("x", "string", "false", "")));

        for (size_t i = 0; i < ELEMENTSOF(values); i++) {
                char *args, **argv;

                ASSERT_TRUE(asprintf(&args, "{\"x\":\"%s\"}", values[i]) >= 0);
                if (!*expected[i]) {    /* a required arg given as "" is missing, as in Go */
                        expect_error(echo_x, args, "missing required arg \"x\"");
                        argv = expect_argv(optional, args, 3);
                } else
                        argv = expect_argv(echo_x, args, 3);
                ASSERT_STREQ(argv[0], "/bin/echo");
                ASSERT_STREQ(argv[1], "--");
                ASSERT_STREQ(argv[2], expected[i]);
                ASSERT_NULL(argv[3]);
                strv_free_null(argv);
                free(args);
        }
}

TEST(template_forms) {
        const char *json = TOOL("t", CMD("c",
                "\"/usr/bin/env\",\"{{.a}}\",\"{{ .a }}\",\"{{ .a}}\",\"--x={{.a}}:{{ .b }}/{{.a}}\",\"}}{{.b}}{\",\"plain\",\"{{.opt}}\"",
                ARG("a", "string", "true", "") "," ARG("b", "int", "true", "") "," ARG("opt", "string", "false", "")));
        char **argv = expect_argv(json, "{\"a\":\"A {{.b}}\",\"b\":\"-7\"}", 8);

        ASSERT_STREQ(argv[0], "/usr/bin/env");
        ASSERT_STREQ(argv[1], "A {{.b}}");       /* values are never re-expanded */
        ASSERT_STREQ(argv[2], "A {{.b}}");
        ASSERT_STREQ(argv[3], "A {{.b}}");
        ASSERT_STREQ(argv[4], "--x=A {{.b}}:-7/A {{.b}}");
        ASSERT_STREQ(argv[5], "}}-7{");
        ASSERT_STREQ(argv[6], "plain");
        ASSERT_STREQ(argv[7], "");              /* absent optional arg */
        strv_free_null(argv);

        /* No args at all, no body. */
        argv = expect_argv(TOOL("t", CMD("c", "\"/bin/true\"", "")), NULL, 1);
        ASSERT_STREQ(argv[0], "/bin/true");
        strv_free_null(argv);
        argv = expect_argv(TOOL("t", CMD("c", "\"/bin/true\"", "")), "{}", 1);
        strv_free_null(argv);
        argv = expect_argv(TOOL("t", CMD("c", "\"/bin/echo\",\"[{{.o}}]\"", ARG("o", "string", "false", ""))), NULL, 2);
        ASSERT_STREQ(argv[1], "[]");
        strv_free_null(argv);
}

#define INT_CMD TOOL("t", CMD("c", "\"/bin/echo\",\"{{.n}}\"", ARG("n", "int", "false", "")))
#define BOOL_CMD TOOL("t", CMD("c", "\"/bin/echo\",\"{{.b}}\"", ARG("b", "bool", "false", "")))
#define STR_CMD TOOL("t", CMD("c", "\"/bin/echo\",\"{{.s}}\"", ARG("s", "string", "false", "")))

static void expect_value(const char *json, const char *args, const char *value) {
        char **argv = expect_argv(json, args, 2);
        ASSERT_STREQ(argv[1], value);
        strv_free_null(argv);
}

TEST(types) {
        expect_value(INT_CMD, "{\"n\":\"12\"}", "12");
        expect_value(INT_CMD, "{\"n\":\"-3\"}", "-3");
        expect_value(INT_CMD, "{\"n\":\"007\"}", "007");
        expect_value(INT_CMD, "{\"n\":7}", "7");
        expect_value(INT_CMD, "{\"n\":-42}", "-42");
        expect_value(INT_CMD, "{\"n\":\"9223372036854775807\"}", "9223372036854775807");
        expect_value(INT_CMD, "{\"n\":\"-9223372036854775808\"}", "-9223372036854775808");
        expect_error(INT_CMD, "{\"n\":\"9223372036854775808\"}", "arg \"n\" must be an int");
        expect_error(INT_CMD, "{\"n\":18446744073709551615}", "arg \"n\" must be an int");
        expect_error(INT_CMD, "{\"n\":\"1.5\"}", "arg \"n\" must be an int");
        expect_error(INT_CMD, "{\"n\":\"1e3\"}", "arg \"n\" must be an int");
        expect_error(INT_CMD, "{\"n\":1.5}", "arg \"n\" must be an int");
        expect_error(INT_CMD, "{\"n\":1e3}", "arg \"n\" must be an int");
        expect_error(INT_CMD, "{\"n\":\"+1\"}", "arg \"n\" must be an int");
        expect_error(INT_CMD, "{\"n\":\" 1\"}", "arg \"n\" must be an int");
        expect_error(INT_CMD, "{\"n\":\"-\"}", "arg \"n\" must be an int");
        expect_error(INT_CMD, "{\"n\":\"\"}", "arg \"n\" must be an int");
        expect_error(INT_CMD, "{\"n\":\"0x10\"}", "arg \"n\" must be an int");
        expect_error(INT_CMD, "{\"n\":true}", "arg \"n\" must be an int");
        expect_error(INT_CMD, "{\"n\":[1]}", "arg \"n\" must be an int");
        expect_error(INT_CMD, "{\"n\":{}}", "arg \"n\" must be an int");

        expect_value(BOOL_CMD, "{\"b\":true}", "true");
        expect_value(BOOL_CMD, "{\"b\":false}", "false");
        expect_value(BOOL_CMD, "{\"b\":\"true\"}", "true");
        expect_value(BOOL_CMD, "{\"b\":\"false\"}", "false");
        expect_error(BOOL_CMD, "{\"b\":\"yes\"}", "arg \"b\" must be true or false");
        expect_error(BOOL_CMD, "{\"b\":\"True\"}", "arg \"b\" must be true or false");
        expect_error(BOOL_CMD, "{\"b\":\"1\"}", "arg \"b\" must be true or false");
        expect_error(BOOL_CMD, "{\"b\":1}", "arg \"b\" must be true or false");

        expect_value(STR_CMD, "{\"s\":\"7\"}", "7");
        expect_error(STR_CMD, "{\"s\":7}", "arg \"s\" must be a string");
        expect_error(STR_CMD, "{\"s\":true}", "arg \"s\" must be a string");
        expect_error(STR_CMD, "{\"s\":[\"a\"]}", "arg \"s\" must be a string");
        expect_value(STR_CMD, "{\"s\":null}", "");      /* null reads as absent */
}

TEST(arg_errors) {
        const char *json = TOOL("t", CMD("c", "\"/usr/bin/docker\",\"restart\",\"{{.container}}\"",
                                         ARG("container", "string", "true", "") "," ARG("opt", "string", "false", "")));
        char *big = malloc(EXEC_ARG_VALUE_MAX + 32), *args;
        char **argv;

        expect_error(json, NULL, "missing required arg \"container\"");
        expect_error(json, "{}", "missing required arg \"container\"");
        expect_error(json, "{\"container\":null}", "missing required arg \"container\"");
        expect_error(json, "{\"opt\":\"x\"}", "missing required arg \"container\"");
        expect_error(json, "{\"container\":\"web\",\"x\":\"1\"}", "unknown arg \"x\"");
        expect_error(json, "{\"x\":\"1\"}", "unknown arg \"x\"");      /* unknown names come first */
        expect_error(json, "{\"container\":\"web\",\"a b;$(id)\":\"1\"}", "unknown arg (arg names match");
        expect_error(json, "[\"web\"]", "args must be a JSON object");
        expect_error(json, "\"web\"", "args must be a JSON object");
        expect_error(json, "{\"container\":\"a\\u0000b\"}", "arg \"container\" contains a NUL byte");

        /* EXEC_ARG_VALUE_MAX bytes pass, one more does not. */
        memset(big, 'v', EXEC_ARG_VALUE_MAX);
        big[EXEC_ARG_VALUE_MAX] = 0;
        ASSERT_TRUE(asprintf(&args, "{\"container\":\"%s\"}", big) >= 0);
        argv = expect_argv(json, args, 3);
        ASSERT_INT_EQ(strlen(argv[2]), EXEC_ARG_VALUE_MAX);
        strv_free_null(argv);
        free(args);
        strcpy(big + EXEC_ARG_VALUE_MAX, "w");
        ASSERT_TRUE(asprintf(&args, "{\"container\":\"%s\"}", big) >= 0);
        expect_error(json, args, "arg \"container\" is longer than 4096 bytes");
        free(args);
        free(big);
}

#define PAT_CMD(pattern) TOOL("t", CMD("c", "\"/bin/echo\",\"{{.v}}\"", ARG("v", "string", "false", pattern)))

TEST(patterns) {
        char **argv, *error = NULL;
        double t0;
        int r;

        /* Unanchored unless the pattern anchors itself, as RE2's MatchString. */
        expect_value(PAT_CMD("[0-9]"), "{\"v\":\"a1b\"}", "a1b");
        expect_error(PAT_CMD("[0-9]"), "{\"v\":\"abc\"}", "arg \"v\" does not match [0-9]");
        expect_error(PAT_CMD("^[0-9]+$"), "{\"v\":\"a1\"}", "arg \"v\" does not match ^[0-9]+$");
        expect_value(PAT_CMD("^[0-9]+$"), "{\"v\":\"123\"}", "123");
        /* RE2's \d; digest §4 PatternIP, PatternPath, PatternSemver. */
        expect_value(PAT_CMD("^(\\\\d{1,3}\\\\.){3}\\\\d{1,3}$"), "{\"v\":\"100.64.0.1\"}", "100.64.0.1");
        expect_error(PAT_CMD("^(\\\\d{1,3}\\\\.){3}\\\\d{1,3}$"), "{\"v\":\"100.64.0\"}", "does not match");
        expect_error(PAT_CMD("^\\\\d+$"), "{\"v\":\"١٢٣\"}", "does not match");        /* \d is ASCII in RE2 */
        expect_value(PAT_CMD("^(/[a-zA-Z0-9_./-]+)+$"), "{\"v\":\"/etc/nginx/conf.d/a.conf\"}", "/etc/nginx/conf.d/a.conf");
        expect_value(PAT_CMD("^v?[0-9]+\\\\.[0-9]+\\\\.[0-9]+$"), "{\"v\":\"v1.2.3\"}", "v1.2.3");
        expect_value(PAT_CMD("^\\\\pL+$"), "{\"v\":\"héllo\"}", "héllo");
        /* RE2's $ is the end of the text, never "before a final newline". */
        expect_error(PAT_CMD("^[a-z]+$"), "{\"v\":\"abc\\n\"}", "arg \"v\" does not match");
        expect_error(PAT_CMD("^[a-z]+$"), "{\"v\":\"abc\\ndef\"}", "arg \"v\" does not match");
        expect_error(PAT_CMD("^a.c$"), "{\"v\":\"a\\nc\"}", "does not match");
        expect_value(PAT_CMD("^a.c$"), "{\"v\":\"a\\rc\"}", "a\rc");
        /* Patterns apply to the text of numbers too. */
        expect_value(TOOL("t", CMD("c", "\"/bin/echo\",\"{{.n}}\"", ARG("n", "int", "true", "^[1-9][0-9]{0,4}$"))), "{\"n\":8080}", "8080");
        expect_error(TOOL("t", CMD("c", "\"/bin/echo\",\"{{.n}}\"", ARG("n", "int", "true", "^[1-9][0-9]{0,4}$"))), "{\"n\":0}",
                     "arg \"n\" does not match");
        /* Invalid UTF-8 cannot be matched. */
        expect_error(PAT_CMD("."), "{\"v\":\"\xff\xfe\"}", "arg \"v\" is not valid UTF-8");

        /* Catastrophic backtracking ends in an error, quickly. */
        t0 = now_s();
        r = build(PAT_CMD("^(a+)+$"), "{\"v\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\"}", &argv, &error);
        ASSERT_INT_EQ(r, -EINVAL);
        ASSERT_TRUE(now_s() - t0 < 1.0);
        fprintf(stderr, "   ^(a+)+$: %s (%.3f s)\n", error, now_s() - t0);
        ASSERT_TRUE(strstr(error, "pattern check exceeded its limits") || strstr(error, "does not match"));
        ASSERT_FALSE(strstr(error, "aaaa"));
        free(error);
        error = NULL;

        t0 = now_s();
        r = build(PAT_CMD("^(([a-z])+.)+[A-Z]([a-z])+$"),
                  "{\"v\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\"}",
                  &argv, &error);
        ASSERT_INT_EQ(r, -EINVAL);
        ASSERT_TRUE(now_s() - t0 < 1.0);
        fprintf(stderr, "   nested: %s (%.3f s)\n", error, now_s() - t0);
        free(error);
        error = NULL;

        /* A long legitimate value against the path pattern stays within the limits. */
        {
                char *v = malloc(EXEC_ARG_VALUE_MAX + 1), *args;
                for (size_t i = 0; i < EXEC_ARG_VALUE_MAX; i++)
                        v[i] = i % 8 == 0 ? '/' : 'a';
                v[EXEC_ARG_VALUE_MAX] = 0;
                ASSERT_TRUE(asprintf(&args, "{\"v\":\"%s\"}", v) >= 0);
                argv = expect_argv(PAT_CMD("^(/[a-zA-Z0-9_./-]+)+$"), args, 2);
                strv_free_null(argv);
                free(args);
                memset(v, 'b', EXEC_ARG_VALUE_MAX);
                ASSERT_TRUE(asprintf(&args, "{\"v\":\"%s\"}", v) >= 0);
                argv = expect_argv(PAT_CMD("^[a-zA-Z0-9_-]+$"), args, 2);
                strv_free_null(argv);
                argv = expect_argv(PAT_CMD("^(b|c)*$"), args, 2);
                strv_free_null(argv);
                argv = expect_argv(PAT_CMD("^((b|c))*$"), args, 2);
                strv_free_null(argv);
                free(args);
                for (size_t i = 0; i < EXEC_ARG_VALUE_MAX; i++)
                        v[i] = i % 2 ? ',' : 'x';
                v[EXEC_ARG_VALUE_MAX - 1] = 'x';
                ASSERT_TRUE(asprintf(&args, "{\"v\":\"%s\"}", v) >= 0);
                argv = expect_argv(PAT_CMD("^([a-z]+,)*[a-z]+$"), args, 2);
                strv_free_null(argv);
                free(args);
                free(v);
        }
}

/* Errors name the arg and never carry the value. */
TEST(errors_do_not_echo_values) {
        static const char secret[] = "s3cr3t-VALUE";
        const char *cases[][2] = {
                { PAT_CMD("^[0-9]+$"), "{\"v\":\"s3cr3t-VALUE\"}" },
                { INT_CMD, "{\"n\":\"s3cr3t-VALUE\"}" },
                { BOOL_CMD, "{\"b\":\"s3cr3t-VALUE\"}" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char **argv = NULL, *error = NULL;
                ASSERT_INT_EQ(build(cases[i][0], cases[i][1], &argv, &error), -EINVAL);
                ASSERT_FALSE(strstr(error, secret));
                ASSERT_CONTAINS(error, "arg \"");
                free(error);
        }
}

/* ---- threads ---- */

typedef struct Shared {
        Registry *r;
        bool stop;
        unsigned found;
} Shared;

static void *reader(void *userdata) {
        Shared *s = userdata;

        while (!__atomic_load_n(&s->stop, __ATOMIC_RELAXED)) {
                ToolCommand *c = NULL;

                ASSERT_OK(registry_refresh(s->r));
                if (registry_find(s->r, "devbox", "reload", &c) == 0) {
                        ASSERT_STREQ(c->exec_parts[0], "/usr/bin/systemctl");
                        tool_command_free(c);
                        __atomic_add_fetch(&s->found, 1, __ATOMIC_RELAXED);
                }
        }
        return NULL;
}

TEST(threads) {
        char *dir = make_tmpdir();
        Shared s = { .r = registry_new(dir) };
        pthread_t t[4];

        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                ASSERT_INT_EQ(pthread_create(&t[i], NULL, reader, &s), 0);
        for (int i = 0; i < 200; i++) {
                if (i % 3 == 0)
                        install_file(dir, "devbox.json", i % 2 ? devbox_v1 : devbox_v2);
                else if (i % 3 == 1)
                        edit_in_place(dir, "devbox.json", i % 2 ? devbox_v2 : devbox_v1);
                else
                        remove_file(dir, "devbox.json");
                usleep(500);
        }
        install_file(dir, "devbox.json", devbox_v1);
        usleep(20 * 1000);
        __atomic_store_n(&s.stop, true, __ATOMIC_RELAXED);
        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                ASSERT_INT_EQ(pthread_join(t[i], NULL), 0);
        ASSERT_OK(registry_refresh(s.r));
        ASSERT_TRUE(has(s.r, "devbox", "reload"));
        ASSERT_TRUE(s.found > 0);

        registry_free(s.r);
        rm_rf(dir);
        free(dir);
}

int main(void) {
        /* Warnings about refused files go to stderr as JSON lines. */
        setenv("TAILKITD_LOG", "json", 1);
        log_setup("test-exec-registry");
        RUN(directory_created_later);
        RUN(install_edit_remove);
        RUN(stable_and_sneaky_edits);
        RUN(duplicate_tool_names);
        RUN(find_copy_survives_refresh);
        RUN(refusals_command_check);
        RUN(refused_files_skipped);
        RUN(hostile_values_stay_one_element);
        RUN(template_forms);
        RUN(types);
        RUN(arg_errors);
        RUN(patterns);
        RUN(errors_do_not_echo_values);
        RUN(threads);
        return 0;
}
