/* SPDX-License-Identifier: MIT */
/* Tool files (toolfile.c): parsing, directory loading, the wire form. */

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "tests.h"
#include "toolfile.h"

/* seed-code-digest §4: /etc/tailkitd/tools/devbox.json as tailkit.Install
 * writes it (2-space MarshalIndent, no trailing newline). */
static const char devbox_json[] =
        "{\n"
        "  \"name\": \"devbox\",\n"
        "  \"version\": \"1.2.0\",\n"
        "  \"tsnet_host\": \"devbox\",\n"
        "  \"commands\": [\n"
        "    {\n"
        "      \"name\": \"reload-nginx\",\n"
        "      \"description\": \"Reloads nginx after a config push\",\n"
        "      \"acl_cap\": \"tailscale.com/cap/devbox\",\n"
        "      \"exec_parts\": [\n"
        "        \"/usr/bin/systemctl\",\n"
        "        \"reload\",\n"
        "        \"nginx\"\n"
        "      ],\n"
        "      \"timeout\": 30000000000\n"
        "    },\n"
        "    {\n"
        "      \"name\": \"restart-container\",\n"
        "      \"description\": \"Restarts a named Docker container\",\n"
        "      \"acl_cap\": \"tailscale.com/cap/devbox\",\n"
        "      \"exec_parts\": [\n"
        "        \"/usr/bin/docker\",\n"
        "        \"restart\",\n"
        "        \"{{.container}}\"\n"
        "      ],\n"
        "      \"timeout\": 60000000000,\n"
        "      \"args\": [\n"
        "        {\n"
        "          \"name\": \"container\",\n"
        "          \"type\": \"string\",\n"
        "          \"required\": true,\n"
        "          \"pattern\": \"^[a-zA-Z0-9_-]+$\"\n"
        "        }\n"
        "      ]\n"
        "    }\n"
        "  ]\n"
        "}";

/* A tool with one command built from the given command fields. */
#define TOOL1(cmd) \
        "{\"name\":\"t\",\"version\":\"1.0.0\",\"tsnet_host\":\"h\",\"commands\":[{" cmd "}]}"
#define CMD_NAME "\"name\":\"c\""
#define CMD_PARTS "\"exec_parts\":[\"/bin/true\"]"
#define CMD_TIMEOUT "\"timeout\":1000000000"
#define CMD_OK CMD_NAME "," CMD_PARTS "," CMD_TIMEOUT
#define ARG1(arg) TOOL1(CMD_OK ",\"args\":[{" arg "}]")

/* tool_parse on an exact-length heap copy (ASan catches reads past size). */
static int parse_n(const char *data, size_t size, Tool **ret, char **error) {
        char *copy = malloc(size ? size : 1);
        int r;

        ASSERT_NOT_NULL(copy);
        memcpy(copy, data, size);
        r = tool_parse(copy, size, ret, error);
        free(copy);
        return r;
}

static Tool *parse_ok(const char *json) {
        Tool *t = NULL;
        char *error = NULL;
        int r = parse_n(json, strlen(json), &t, &error);

        if (r < 0)
                FAIL_AT("tool_parse failed (%d): %s\non: %s", r, error ? error : "(no error)", json);
        ASSERT_NULL(error);
        ASSERT_NOT_NULL(t);
        return t;
}

static void expect_error(const char *json, const char *needle) {
        Tool *t = NULL;
        char *error = NULL;
        int r = parse_n(json, strlen(json), &t, &error);

        if (r != -EBADMSG)
                FAIL_AT("tool_parse returned %d, expected -EBADMSG, on: %s", r, json);
        ASSERT_NULL(t);
        ASSERT_NOT_NULL(error);
        fprintf(stderr, "   %s\n", error);
        ASSERT_CONTAINS(error, needle);
        free(error);
}

static void assert_devbox(const Tool *t) {
        const ToolCommand *c;

        ASSERT_STREQ(t->name, "devbox");
        ASSERT_STREQ(t->version, "1.2.0");
        ASSERT_STREQ(t->tsnet_host, "devbox");
        ASSERT_INT_EQ(t->n_commands, 2);

        c = &t->commands[0];
        ASSERT_STREQ(c->name, "reload-nginx");
        ASSERT_STREQ(c->description, "Reloads nginx after a config push");
        ASSERT_STREQ(c->acl_cap, "tailscale.com/cap/devbox");
        ASSERT_INT_EQ(c->n_exec_parts, 3);
        ASSERT_STREQ(c->exec_parts[0], "/usr/bin/systemctl");
        ASSERT_STREQ(c->exec_parts[1], "reload");
        ASSERT_STREQ(c->exec_parts[2], "nginx");
        ASSERT_TRUE(c->timeout_ns == UINT64_C(30000000000));
        ASSERT_INT_EQ(c->n_args, 0);
        ASSERT_NULL(c->args);

        c = &t->commands[1];
        ASSERT_STREQ(c->name, "restart-container");
        ASSERT_STREQ(c->description, "Restarts a named Docker container");
        ASSERT_STREQ(c->acl_cap, "tailscale.com/cap/devbox");
        ASSERT_INT_EQ(c->n_exec_parts, 3);
        ASSERT_STREQ(c->exec_parts[0], "/usr/bin/docker");
        ASSERT_STREQ(c->exec_parts[1], "restart");
        ASSERT_STREQ(c->exec_parts[2], "{{.container}}");
        ASSERT_TRUE(c->timeout_ns == UINT64_C(60000000000));
        ASSERT_INT_EQ(c->n_args, 1);
        ASSERT_STREQ(c->args[0].name, "container");
        ASSERT_INT_EQ(c->args[0].type, TOOL_ARG_STRING);
        ASSERT_TRUE(c->args[0].required);
        ASSERT_STREQ(c->args[0].pattern, "^[a-zA-Z0-9_-]+$");
}

/* ------------------------------------------------------------------ */

TEST(parse_devbox) {
        Tool *t = parse_ok(devbox_json);

        assert_devbox(t);
        ASSERT_NULL(t->filename);        /* only tool_load sets it */
        tool_free(t);
}

TEST(parse_commands_null) {
        Tool *t;

        /* A Go nil slice. */
        t = parse_ok("{\n  \"name\": \"empty\",\n  \"version\": \"0.1.0\",\n  \"tsnet_host\": \"e\",\n"
                     "  \"commands\": null\n}");
        ASSERT_STREQ(t->name, "empty");
        ASSERT_INT_EQ(t->n_commands, 0);
        tool_free(t);

        t = parse_ok("{\"name\":\"empty\",\"commands\":[]}");
        ASSERT_INT_EQ(t->n_commands, 0);
        tool_free(t);

        /* Only the name is essential. */
        t = parse_ok("{\"name\":\"bare\"}");
        ASSERT_STREQ(t->name, "bare");
        ASSERT_NULL(t->version);
        ASSERT_NULL(t->tsnet_host);
        ASSERT_INT_EQ(t->n_commands, 0);
        tool_free(t);

        /* Optional strings may be null. */
        t = parse_ok("{\"name\":\"n\",\"version\":null,\"tsnet_host\":null,\"commands\":[{"
                     CMD_OK ",\"description\":null,\"acl_cap\":null,\"args\":null}]}");
        ASSERT_NULL(t->version);
        ASSERT_NULL(t->commands[0].description);
        ASSERT_NULL(t->commands[0].acl_cap);
        ASSERT_INT_EQ(t->commands[0].n_args, 0);
        tool_free(t);
}

TEST(parse_unknown_keys) {
        Tool *t = parse_ok(
                "{\"name\":\"u\",\"future\":{\"a\":[1,2,{\"b\":null}]},\"version\":\"1.0.0\",\"x\":1,"
                "\"commands\":[{" CMD_OK ",\"env\":[\"A=1\"],\"retries\":3,"
                "\"args\":[{\"name\":\"a\",\"type\":\"int\",\"required\":false,\"help\":\"h\",\"default\":5}]}]}");

        ASSERT_STREQ(t->name, "u");
        ASSERT_INT_EQ(t->n_commands, 1);
        ASSERT_STREQ(t->commands[0].name, "c");
        ASSERT_INT_EQ(t->commands[0].n_args, 1);
        ASSERT_STREQ(t->commands[0].args[0].name, "a");
        ASSERT_INT_EQ(t->commands[0].args[0].type, TOOL_ARG_INT);
        ASSERT_FALSE(t->commands[0].args[0].required);
        ASSERT_NULL(t->commands[0].args[0].pattern);
        tool_free(t);
}

TEST(parse_args) {
        Tool *t = parse_ok(TOOL1(CMD_OK ",\"args\":["
                                 "{\"name\":\"s\"},"
                                 "{\"name\":\"i\",\"type\":\"int\",\"required\":true},"
                                 "{\"name\":\"b\",\"type\":\"bool\",\"pattern\":\"\"},"
                                 "{\"name\":\"S_2-x\",\"type\":\"string\",\"required\":null,\"pattern\":\"^\\\\d+$\"}]"));
        const ToolCommand *c = &t->commands[0];

        ASSERT_INT_EQ(c->n_args, 4);
        ASSERT_STREQ(c->args[0].name, "s");
        ASSERT_INT_EQ(c->args[0].type, TOOL_ARG_STRING);  /* type omitted → string */
        ASSERT_FALSE(c->args[0].required);
        ASSERT_INT_EQ(c->args[1].type, TOOL_ARG_INT);
        ASSERT_TRUE(c->args[1].required);
        ASSERT_INT_EQ(c->args[2].type, TOOL_ARG_BOOL);
        ASSERT_NULL(c->args[2].pattern);                  /* "" is unset (omitempty) */
        ASSERT_STREQ(c->args[3].name, "S_2-x");
        ASSERT_FALSE(c->args[3].required);
        ASSERT_STREQ(c->args[3].pattern, "^\\d+$");
        tool_free(t);
}

TEST(parse_whitespace_and_escapes) {
        Tool *t;

        t = parse_ok("\n\t {\"name\":\"w\"} \r\n\t\n");
        ASSERT_STREQ(t->name, "w");
        tool_free(t);

        t = parse_ok(TOOL1(CMD_NAME "," CMD_TIMEOUT ",\"exec_parts\":[\"/bin/echo\",\"a\\u00e9\\n\\\"q\\\"\",\"\"]"));
        ASSERT_INT_EQ(t->commands[0].n_exec_parts, 3);
        ASSERT_STREQ(t->commands[0].exec_parts[1], "a\xc3\xa9\n\"q\"");
        ASSERT_STREQ(t->commands[0].exec_parts[2], "");   /* later parts may be empty */
        tool_free(t);
}

TEST(invalid_json) {
        /* Missing comma at the end of line 3: the error is found on line 4. */
        expect_error("{\n"
                     "  \"name\": \"devbox\",\n"
                     "  \"version\": \"1.2.0\"\n"
                     "  \"tsnet_host\": \"devbox\"\n"
                     "}", "line 4");
        expect_error("{\"name\": }", "line 1:");
        expect_error("{\n\n\n\n\n\n  \"name\": tru\n}", "line 7");
        expect_error("{\n  \"name\": \"a\",\n  \"commands\": [\n    {\"name\": x}\n  ]\n}", "line 4");
        /* Truncated file: the last line. */
        expect_error("{\n  \"name\": \"devbox\",\n  \"commands\": [", "line 3");
        expect_error("", "line 1");
        expect_error("   \n", "line");
        expect_error("{\"name\" \"x\"}", "line 1");
        /* Errors say what is wrong. */
        expect_error("{\"name\": }", "invalid JSON");
        expect_error("{\n  \"name\": \"devbox\",\n  \"commands\": [", "end");
        /* Deeply nested junk is rejected, not recursed into. */
        {
                char deep[512];
                size_t n = 0;
                n += (size_t) snprintf(deep, sizeof(deep), "{\"name\":\"d\",\"x\":");
                for (int i = 0; i < 100; i++)
                        deep[n++] = '[';
                for (int i = 0; i < 100; i++)
                        deep[n++] = ']';
                deep[n++] = '}';
                deep[n] = 0;
                expect_error(deep, "line 1");
        }
        /* Not an object. */
        expect_error("[]", "object");
        expect_error("\"devbox\"", "object");
        expect_error("null", "line 1");   /* json-c: "unexpected end" */
        expect_error("42", "line 1");
}

TEST(invalid_line_number_of_devbox) {
        /* Break the real file on a known line and check the number. */
        char *copy = strdup(devbox_json), *p;
        size_t line = 1;

        ASSERT_NOT_NULL(copy);
        p = strstr(copy, "\"timeout\": 60000000000");
        ASSERT_NOT_NULL(p);
        for (const char *q = copy; q < p; q++)
                line += *q == '\n';
        p[strlen("\"timeout\": ")] = 'x';   /* "timeout": x0000000000 */
        {
                char needle[32];
                snprintf(needle, sizeof(needle), "line %zu:", line);
                ASSERT_INT_EQ(line, 26);
                expect_error(copy, needle);
        }
        free(copy);
}

TEST(wrong_types) {
        /* Tool level. */
        expect_error("{\"name\":7}", "\"name\" must be a string");
        expect_error("{\"name\":[\"x\"]}", "\"name\" must be a string");
        expect_error("{\"name\":true}", "\"name\" must be a string");
        expect_error("{\"name\":\"a\",\"version\":1.2}", "\"version\" must be a string");
        expect_error("{\"name\":\"a\",\"tsnet_host\":{}}", "\"tsnet_host\" must be a string");
        expect_error("{\"name\":\"a\",\"commands\":{}}", "\"commands\" must be an array");
        expect_error("{\"name\":\"a\",\"commands\":\"x\"}", "\"commands\" must be an array");
        expect_error("{\"name\":\"a\",\"commands\":[\"x\"]}", "commands[0] must be an object");
        expect_error("{\"name\":\"a\",\"commands\":[null]}", "commands[0] must be an object");

        /* Command level. */
        expect_error(TOOL1("\"name\":5," CMD_PARTS "," CMD_TIMEOUT), "\"name\" must be a string");
        expect_error(TOOL1(CMD_OK ",\"description\":1"), "\"description\" must be a string");
        expect_error(TOOL1(CMD_OK ",\"acl_cap\":[]"), "\"acl_cap\" must be a string");
        expect_error(TOOL1(CMD_NAME "," CMD_TIMEOUT ",\"exec_parts\":\"/bin/true\""),
                     "\"exec_parts\" must be an array");
        expect_error(TOOL1(CMD_NAME "," CMD_TIMEOUT ",\"exec_parts\":{}"),
                     "\"exec_parts\" must be an array");
        expect_error(TOOL1(CMD_NAME "," CMD_TIMEOUT ",\"exec_parts\":[\"/bin/echo\",1]"),
                     "exec_parts[1] must be a string");
        expect_error(TOOL1(CMD_NAME "," CMD_TIMEOUT ",\"exec_parts\":[\"/bin/echo\",null]"),
                     "exec_parts[1] must be a string");
        expect_error(TOOL1(CMD_NAME "," CMD_TIMEOUT ",\"exec_parts\":[[\"/bin/echo\"]]"),
                     "exec_parts[0] must be a string");

        /* Timeouts. */
        expect_error(TOOL1(CMD_NAME "," CMD_PARTS ",\"timeout\":\"30s\""), "\"timeout\" must be a positive integer");
        expect_error(TOOL1(CMD_NAME "," CMD_PARTS ",\"timeout\":\"30000000000\""), "\"timeout\"");
        expect_error(TOOL1(CMD_NAME "," CMD_PARTS ",\"timeout\":-1"), "\"timeout\" must be a positive integer");
        expect_error(TOOL1(CMD_NAME "," CMD_PARTS ",\"timeout\":0"), "\"timeout\" must be a positive integer");
        expect_error(TOOL1(CMD_NAME "," CMD_PARTS), "\"timeout\" must be a positive integer");
        expect_error(TOOL1(CMD_NAME "," CMD_PARTS ",\"timeout\":null"), "\"timeout\"");
        expect_error(TOOL1(CMD_NAME "," CMD_PARTS ",\"timeout\":1.5"), "\"timeout\"");
        expect_error(TOOL1(CMD_NAME "," CMD_PARTS ",\"timeout\":true"), "\"timeout\"");
        /* ...and the error names the command. */
        expect_error(TOOL1(CMD_NAME "," CMD_PARTS ",\"timeout\":0"), "command \"c\"");

        /* Args. */
        expect_error(TOOL1(CMD_OK ",\"args\":{}"), "\"args\" must be an array");
        expect_error(TOOL1(CMD_OK ",\"args\":[\"container\"]"), "each arg must be an object");
        expect_error(TOOL1(CMD_OK ",\"args\":[null]"), "each arg must be an object");
        expect_error(TOOL1(CMD_OK ",\"args\":[{\"name\":\"a\"},3]"), "each arg must be an object");
        expect_error(ARG1("\"name\":\"a\",\"type\":\"float\""), "unknown type \"float\"");
        expect_error(ARG1("\"name\":\"a\",\"type\":\"String\""), "unknown type \"String\"");
        expect_error(ARG1("\"name\":\"a\",\"type\":1"), "\"type\" must be a string");
        expect_error(ARG1("\"name\":\"a\",\"required\":\"true\""), "\"required\" must be a boolean");
        expect_error(ARG1("\"name\":\"a\",\"required\":1"), "\"required\" must be a boolean");
        expect_error(ARG1("\"name\":\"a\",\"pattern\":1"), "\"pattern\" must be a string");
        expect_error(ARG1("\"name\":1"), "\"name\" must be a string");
        expect_error(ARG1("\"type\":\"string\""), "\"name\" is missing");
}

TEST(invalid_names) {
        expect_error("{\"version\":\"1\"}", "\"name\" is missing");
        expect_error("{\"name\":null}", "\"name\" is missing");
        expect_error("{\"name\":\"\"}", "tool name \"\" must match");
        expect_error("{\"name\":\"dev box\"}", "tool name \"dev box\" must match");
        expect_error("{\"name\":\"../etc\"}", "must match");
        expect_error("{\"name\":\"a.b\"}", "must match");
        expect_error("{\"name\":\"caf\\u00e9\"}", "must match");
        expect_error("{\"name\":\"a\\nb\"}", "must match");
        {
                /* 65 characters is one too many; 64 is fine. */
                char json[128];
                Tool *t;
                snprintf(json, sizeof(json), "{\"name\":\"%.64s\"}",
                         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
                t = parse_ok(json);
                tool_free(t);
                snprintf(json, sizeof(json), "{\"name\":\"%.65s\"}",
                         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
                expect_error(json, "must match");
        }

        expect_error(TOOL1("\"name\":\"re load\"," CMD_PARTS "," CMD_TIMEOUT), "name \"re load\" must match");
        expect_error(TOOL1("\"name\":\"\"," CMD_PARTS "," CMD_TIMEOUT), "commands[0]: name \"\" must match");
        expect_error(TOOL1("\"name\":\"a/b\"," CMD_PARTS "," CMD_TIMEOUT), "must match");
        expect_error(TOOL1(CMD_PARTS "," CMD_TIMEOUT), "\"name\" is missing");

        expect_error(ARG1("\"name\":\"con tainer\""), "arg name \"con tainer\" must match");
        expect_error(ARG1("\"name\":\"\""), "arg name \"\" must match");
        expect_error(ARG1("\"name\":\".x\""), "arg name \".x\" must match");

        ASSERT_TRUE(tool_name_is_valid("devbox"));
        ASSERT_TRUE(tool_name_is_valid("A-Z_0-9"));
        ASSERT_TRUE(tool_name_is_valid("-"));
        ASSERT_FALSE(tool_name_is_valid(""));
        ASSERT_FALSE(tool_name_is_valid(NULL));
        ASSERT_FALSE(tool_name_is_valid("a b"));
        ASSERT_FALSE(tool_name_is_valid("a.json"));
}

TEST(duplicates_and_empty) {
        expect_error("{\"name\":\"t\",\"commands\":["
                     "{" CMD_OK "},"
                     "{\"name\":\"d\"," CMD_PARTS "," CMD_TIMEOUT "},"
                     "{" CMD_OK "}]}", "command \"c\" is declared twice");
        expect_error(TOOL1(CMD_OK ",\"args\":[{\"name\":\"x\"},{\"name\":\"y\"},{\"name\":\"x\",\"type\":\"int\"}]"),
                     "arg \"x\" is declared twice");
        /* Names are case-sensitive: "X" and "x" are different. */
        {
                Tool *t = parse_ok(TOOL1(CMD_OK ",\"args\":[{\"name\":\"x\"},{\"name\":\"X\"}]"));
                ASSERT_INT_EQ(t->commands[0].n_args, 2);
                tool_free(t);
        }

        expect_error(TOOL1(CMD_NAME "," CMD_TIMEOUT ",\"exec_parts\":[]"), "\"exec_parts\" must be a non-empty array");
        expect_error(TOOL1(CMD_NAME "," CMD_TIMEOUT ",\"exec_parts\":null"), "\"exec_parts\" must be a non-empty array");
        expect_error(TOOL1(CMD_NAME "," CMD_TIMEOUT), "\"exec_parts\" must be a non-empty array");
        expect_error(TOOL1(CMD_NAME "," CMD_TIMEOUT ",\"exec_parts\":[\"\",\"x\"]"), "exec_parts[0] must not be empty");
}

TEST(trailing_data) {
        expect_error("{\"name\":\"t\"}x", "line 1");
        expect_error("{\"name\":\"t\"}{\"name\":\"u\"}", "line 1");
        expect_error("{\"name\":\"t\"}\n\n,", "line 3");
        expect_error("{\"name\":\"t\"}\n]", "line 2");
        {
                /* devbox.json with a stray byte after the object. */
                size_t n = strlen(devbox_json);
                char *s = malloc(n + 3);
                ASSERT_NOT_NULL(s);
                memcpy(s, devbox_json, n);
                memcpy(s + n, "\n}", 3);
                unsigned lines = 2;
                for (size_t i = 0; i < n; i++)
                        lines += devbox_json[i] == '\n';
                char needle[32];
                snprintf(needle, sizeof(needle), "line %u:", lines);
                expect_error(s, needle);
                free(s);
        }
}

TEST(limits) {
        /* More args than TOOL_ARGS_MAX. */
        size_t size = 64 * (TOOL_ARGS_MAX + 2) + 256, n = 0;
        char *json = malloc(size);

        ASSERT_NOT_NULL(json);
        n += (size_t) snprintf(json + n, size - n, "{\"name\":\"t\",\"commands\":[{" CMD_OK ",\"args\":[");
        for (int i = 0; i <= TOOL_ARGS_MAX; i++)
                n += (size_t) snprintf(json + n, size - n, "%s{\"name\":\"a%d\"}", i ? "," : "", i);
        n += (size_t) snprintf(json + n, size - n, "]}]}");
        ASSERT_TRUE(n < size);
        expect_error(json, "\"args\" has more than");
        free(json);
}

/* ------------------------------------------------------------------ */
/* Directories                                                         */

static void write_file(const char *dir, const char *name, const char *content) {
        char path[512];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "we");
        ASSERT_NOT_NULL(f);
        ASSERT_INT_EQ(fwrite(content, 1, strlen(content), f), strlen(content));
        ASSERT_INT_EQ(fclose(f), 0);
}

static void remove_file(const char *dir, const char *name) {
        char path[512];

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        ASSERT_OK(unlink(path));
}

typedef struct Broken {
        unsigned count;
        char path[512];
        char error[512];
} Broken;

static void on_broken(const char *path, const char *error, void *userdata) {
        Broken *b = userdata;

        fprintf(stderr, "   broken: %s: %s\n", path, error);
        b->count++;
        snprintf(b->path, sizeof(b->path), "%s", path);
        snprintf(b->error, sizeof(b->error), "%s", error);
}

TEST(list_load) {
        char dir[] = "/tmp/test-toolfile-XXXXXX", sub[512], expected[512];
        ToolList l = { (Tool **) 1, 99 };
        Broken b = {};

        ASSERT_NOT_NULL(mkdtemp(dir));
        write_file(dir, "devbox.json", devbox_json);
        write_file(dir, "broken.json", "{\n  \"name\": \"broken\",\n  \"commands\": [");
        write_file(dir, ".hidden.json", "{\"name\":\"hidden\"}");
        write_file(dir, ".tailkit-tmp-123", "{\"name\":\"tmp\"}");
        write_file(dir, "notjson.txt", "{\"name\":\"txt\"}");
        write_file(dir, "devbox.json~", "{\"name\":\"backup\"}");
        snprintf(sub, sizeof(sub), "%s/x.json", dir);
        ASSERT_OK(mkdir(sub, 0755));

        ASSERT_OK(tool_list_load(dir, &l, on_broken, &b));
        ASSERT_INT_EQ(l.n, 1);
        assert_devbox(l.tools[0]);
        ASSERT_STREQ(l.tools[0]->filename, "devbox.json");
        ASSERT_INT_EQ(b.count, 1);
        snprintf(expected, sizeof(expected), "%s/broken.json", dir);
        ASSERT_STREQ(b.path, expected);
        ASSERT_CONTAINS(b.error, "line 3");

        ASSERT_NOT_NULL(tool_list_find(&l, "devbox"));
        ASSERT_TRUE(tool_list_find(&l, "devbox") == l.tools[0]);
        ASSERT_NULL(tool_list_find(&l, "broken"));
        ASSERT_NULL(tool_list_find(&l, "hidden"));
        ASSERT_NULL(tool_list_find(&l, "txt"));
        ASSERT_NULL(tool_list_find(&l, "x"));
        tool_list_done(&l);
        ASSERT_INT_EQ(l.n, 0);
        ASSERT_NULL(l.tools);

        /* Without a callback. */
        ASSERT_OK(tool_list_load(dir, &l, NULL, NULL));
        ASSERT_INT_EQ(l.n, 1);
        tool_list_done(&l);

        ASSERT_OK(rmdir(sub));
        remove_file(dir, "devbox.json");
        remove_file(dir, "broken.json");
        remove_file(dir, ".hidden.json");
        remove_file(dir, ".tailkit-tmp-123");
        remove_file(dir, "notjson.txt");
        remove_file(dir, "devbox.json~");

        /* Empty directory. */
        b = (Broken) {};
        ASSERT_OK(tool_list_load(dir, &l, on_broken, &b));
        ASSERT_INT_EQ(l.n, 0);
        ASSERT_INT_EQ(b.count, 0);
        tool_list_done(&l);

        ASSERT_OK(rmdir(dir));
}

TEST(list_missing_dir) {
        ToolList l = { (Tool **) 1, 99 };
        Broken b = {};

        ASSERT_INT_EQ(tool_list_load("/tmp/test-toolfile-does-not-exist/tools", &l, on_broken, &b), 0);
        ASSERT_INT_EQ(l.n, 0);
        ASSERT_INT_EQ(b.count, 0);
        ASSERT_NULL(tool_list_find(&l, "devbox"));
        tool_list_done(&l);
}

TEST(list_duplicates_later_wins) {
        char dir[] = "/tmp/test-toolfile-XXXXXX";
        ToolList l = {};
        const Tool *t;

        ASSERT_NOT_NULL(mkdtemp(dir));
        /* The JSON name decides the tool, not the file name; name order wins. */
        write_file(dir, "b-second.json", "{\"name\":\"dup\",\"version\":\"2.0.0\"}");
        write_file(dir, "a-first.json", "{\"name\":\"dup\",\"version\":\"1.0.0\"}");
        write_file(dir, "c-other.json", "{\"name\":\"other\",\"version\":\"3.0.0\"}");

        ASSERT_OK(tool_list_load(dir, &l, NULL, NULL));
        ASSERT_INT_EQ(l.n, 3);
        ASSERT_STREQ(l.tools[0]->filename, "a-first.json");
        ASSERT_STREQ(l.tools[1]->filename, "b-second.json");
        ASSERT_STREQ(l.tools[2]->filename, "c-other.json");

        t = tool_list_find(&l, "dup");
        ASSERT_NOT_NULL(t);
        ASSERT_STREQ(t->version, "2.0.0");
        ASSERT_STREQ(t->filename, "b-second.json");
        t = tool_list_find(&l, "other");
        ASSERT_NOT_NULL(t);
        ASSERT_STREQ(t->version, "3.0.0");
        ASSERT_NULL(tool_list_find(&l, "Dup"));
        ASSERT_NULL(tool_list_find(&l, "a-first"));
        tool_list_done(&l);

        remove_file(dir, "a-first.json");
        remove_file(dir, "b-second.json");
        remove_file(dir, "c-other.json");
        ASSERT_OK(rmdir(dir));
}

TEST(load_single) {
        char dir[] = "/tmp/test-toolfile-XXXXXX";
        char *error = NULL;
        Tool *t = NULL;
        int dfd;

        ASSERT_NOT_NULL(mkdtemp(dir));
        write_file(dir, "devbox.json", devbox_json);
        write_file(dir, "bad.json", "{\"name\":7}");
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_OK(dfd);

        ASSERT_OK(tool_load(dfd, "devbox.json", &t, &error));
        ASSERT_NULL(error);
        assert_devbox(t);
        ASSERT_STREQ(t->filename, "devbox.json");
        t = tool_free(t);

        ASSERT_INT_EQ(tool_load(dfd, "bad.json", &t, &error), -EBADMSG);
        ASSERT_NULL(t);
        ASSERT_CONTAINS(error, "\"name\" must be a string");
        free(error);
        error = NULL;

        ASSERT_INT_EQ(tool_load(dfd, "missing.json", &t, &error), -ENOENT);
        ASSERT_NULL(t);
        ASSERT_CONTAINS(error, "cannot open");
        free(error);

        close(dfd);
        remove_file(dir, "devbox.json");
        remove_file(dir, "bad.json");
        ASSERT_OK(rmdir(dir));
}

/* ------------------------------------------------------------------ */
/* Wire form                                                           */

static void assert_same_tool(const Tool *a, const Tool *b) {
        ASSERT_STREQ(a->name, b->name);
        ASSERT_STREQ(a->version ? a->version : "", b->version ? b->version : "");
        ASSERT_STREQ(a->tsnet_host ? a->tsnet_host : "", b->tsnet_host ? b->tsnet_host : "");
        ASSERT_INT_EQ(a->n_commands, b->n_commands);
        for (size_t i = 0; i < a->n_commands; i++) {
                const ToolCommand *x = &a->commands[i], *y = &b->commands[i];
                ASSERT_STREQ(x->name, y->name);
                ASSERT_STREQ(x->description ? x->description : "", y->description ? y->description : "");
                ASSERT_STREQ(x->acl_cap ? x->acl_cap : "", y->acl_cap ? y->acl_cap : "");
                ASSERT_INT_EQ(x->n_exec_parts, y->n_exec_parts);
                for (size_t k = 0; k < x->n_exec_parts; k++)
                        ASSERT_STREQ(x->exec_parts[k], y->exec_parts[k]);
                ASSERT_TRUE(x->timeout_ns == y->timeout_ns);
                ASSERT_INT_EQ(x->n_args, y->n_args);
                for (size_t k = 0; k < x->n_args; k++) {
                        ASSERT_STREQ(x->args[k].name, y->args[k].name);
                        ASSERT_INT_EQ(x->args[k].type, y->args[k].type);
                        ASSERT_INT_EQ(x->args[k].required, y->args[k].required);
                        if (x->args[k].pattern || y->args[k].pattern)
                                ASSERT_STREQ(x->args[k].pattern, y->args[k].pattern);
                }
        }
}

static void round_trip(const char *json) {
        Tool *a = parse_ok(json), *b;
        json_object *o = tool_to_json(a);
        const char *s;

        ASSERT_NOT_NULL(o);
        s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        ASSERT_NOT_NULL(s);
        b = parse_ok(s);
        assert_same_tool(a, b);
        json_object_put(o);
        tool_free(a);
        tool_free(b);
}

TEST(to_json) {
        Tool *t = parse_ok(devbox_json);
        json_object *o = tool_to_json(t), *v, *c, *a;

        ASSERT_NOT_NULL(o);
        /* The Go client's keys. */
        ASSERT_TRUE(json_object_object_get_ex(o, "name", &v));
        ASSERT_STREQ(json_object_get_string(v), "devbox");
        ASSERT_TRUE(json_object_object_get_ex(o, "version", &v));
        ASSERT_TRUE(json_object_object_get_ex(o, "tsnet_host", &v));
        ASSERT_TRUE(json_object_object_get_ex(o, "commands", &v));
        ASSERT_INT_EQ(json_object_array_length(v), 2);
        c = json_object_array_get_idx(v, 0);
        ASSERT_TRUE(json_object_object_get_ex(c, "timeout", &v));
        ASSERT_TRUE(json_object_is_type(v, json_type_int));
        ASSERT_TRUE(json_object_get_int64(v) == INT64_C(30000000000));
        ASSERT_TRUE(json_object_object_get_ex(c, "acl_cap", &v));
        ASSERT_STREQ(json_object_get_string(v), "tailscale.com/cap/devbox");
        ASSERT_TRUE(json_object_object_get_ex(c, "exec_parts", &v));
        ASSERT_INT_EQ(json_object_array_length(v), 3);
        ASSERT_FALSE(json_object_object_get_ex(c, "args", NULL));   /* omitempty */
        c = json_object_array_get_idx(json_object_object_get(o, "commands"), 1);
        ASSERT_TRUE(json_object_object_get_ex(c, "args", &v));
        a = json_object_array_get_idx(v, 0);
        ASSERT_STREQ(json_object_get_string(json_object_object_get(a, "type")), "string");
        ASSERT_TRUE(json_object_get_boolean(json_object_object_get(a, "required")));
        ASSERT_STREQ(json_object_get_string(json_object_object_get(a, "pattern")), "^[a-zA-Z0-9_-]+$");
        ASSERT_FALSE(json_object_object_get_ex(o, "filename", NULL)); /* not part of the wire form */
        json_object_put(o);
        tool_free(t);

        /* No commands: an empty array, never null. */
        t = parse_ok("{\"name\":\"e\",\"commands\":null}");
        o = tool_to_json(t);
        ASSERT_TRUE(json_object_object_get_ex(o, "commands", &v));
        ASSERT_NOT_NULL(v);
        ASSERT_TRUE(json_object_is_type(v, json_type_array));
        ASSERT_INT_EQ(json_object_array_length(v), 0);
        json_object_put(o);
        tool_free(t);
}

TEST(round_trips) {
        round_trip(devbox_json);
        round_trip("{\"name\":\"bare\"}");
        round_trip("{\"name\":\"e\",\"commands\":null}");
        round_trip(TOOL1(CMD_OK ",\"args\":["
                         "{\"name\":\"s\"},"
                         "{\"name\":\"i\",\"type\":\"int\",\"required\":true},"
                         "{\"name\":\"b\",\"type\":\"bool\",\"pattern\":\"^(true|false)$\"}]"));
        round_trip(TOOL1(CMD_NAME ",\"timeout\":9223372036854775807,"
                         "\"exec_parts\":[\"/bin/sh\",\"-c\",\"echo \\\"$1\\\" </dev/null & \\\\\",\"\\u00e9\\/\"],"
                         "\"description\":\"quotes \\\" and \\\\ and\\nnewline\""));
}

/* tool_check_install: a file tailkitd loads may still be one Install() refuses. */
static void expect_install_error(const char *json, const char *needle) {
        Tool *t = parse_ok(json);
        char *error = (char *) "sentinel";

        ASSERT_INT_EQ(tool_check_install(t, &error), -EBADMSG);
        ASSERT_NOT_NULL(error);
        fprintf(stderr, "   %s\n", error);
        ASSERT_CONTAINS(error, needle);
        free(error);
        tool_free(t);
}

#define CMD_CAP "\"acl_cap\":\"tailscale.com/cap/devbox\""

TEST(check_install) {
        Tool *t = parse_ok(devbox_json);
        char *error = (char *) "sentinel";

        ASSERT_INT_EQ(tool_check_install(t, &error), 0);
        ASSERT_NULL(error);
        /* Built in memory (not from JSON): a zero timeout is caught too. */
        t->commands[1].timeout_ns = 0;
        ASSERT_INT_EQ(tool_check_install(t, &error), -EBADMSG);
        ASSERT_CONTAINS(error, "command \"restart-container\": \"timeout\" must be positive");
        free(error);
        tool_free(t);

        /* No commands at all is still installable (Go's "commands": null). */
        t = parse_ok("{\"name\":\"t\",\"version\":\"1\",\"tsnet_host\":\"h\",\"commands\":null}");
        ASSERT_INT_EQ(tool_check_install(t, &error), 0);
        tool_free(t);

        expect_install_error("{\"name\":\"t\",\"tsnet_host\":\"h\",\"commands\":[{" CMD_OK "," CMD_CAP "}]}",
                             "tool \"t\": \"version\" must not be empty");
        expect_install_error("{\"name\":\"t\",\"version\":\"\",\"tsnet_host\":\"h\",\"commands\":[]}",
                             "\"version\" must not be empty");
        expect_install_error("{\"name\":\"t\",\"version\":\"1\",\"commands\":[]}",
                             "tool \"t\": \"tsnet_host\" must not be empty");
        expect_install_error(TOOL1(CMD_OK), "command \"c\": \"acl_cap\" must not be empty");
        expect_install_error(TOOL1(CMD_OK ",\"acl_cap\":\"\""), "\"acl_cap\" must not be empty");
        /* The first offending command is named. */
        expect_install_error("{\"name\":\"t\",\"version\":\"1\",\"tsnet_host\":\"h\",\"commands\":["
                             "{" CMD_OK "," CMD_CAP "},{\"name\":\"d\"," CMD_PARTS "," CMD_TIMEOUT "}]}",
                             "command \"d\": \"acl_cap\"");
}

int main(void) {
        RUN(parse_devbox);
        RUN(parse_commands_null);
        RUN(parse_unknown_keys);
        RUN(parse_args);
        RUN(parse_whitespace_and_escapes);
        RUN(invalid_json);
        RUN(invalid_line_number_of_devbox);
        RUN(wrong_types);
        RUN(invalid_names);
        RUN(duplicates_and_empty);
        RUN(trailing_data);
        RUN(limits);
        RUN(list_load);
        RUN(list_missing_dir);
        RUN(list_duplicates_later_wins);
        RUN(load_single);
        RUN(to_json);
        RUN(round_trips);
        RUN(check_install);
        return 0;
}
