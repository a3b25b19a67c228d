/* SPDX-License-Identifier: MIT */
/* The vars worker's pieces: names, values, the JSON string codec, the
 * streamed answers (the env format checked by sourcing it with /bin/sh), the
 * store under concurrent writers, its limits, and that it makes the
 * directories it creates durable (fsync and mkdirat are interposed below). */

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <json-c/json.h>

#include "budget.h"
#include "jstring.h"
#include "macro.h"
#include "render.h"
#include "scopefile.h"
#include "store.h"
#include "tests.h"
#include "vars-names.h"

/* ---- a trace of the directory operations the store makes ---- */

static bool tracing;
static char trace[8192];

static void trace_add(const char *op, int fd, const char *name) {
        char proc[64], path[PATH_MAX];
        ssize_t n;

        if (!tracing)
                return;
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        n = readlink(proc, path, sizeof(path) - 1);
        path[n < 0 ? 0 : n] = 0;
        snprintf(trace + strlen(trace), sizeof(trace) - strlen(trace), "%s %s%s%s\n",
                 op, path, name ? "/" : "", name ?: "");
}

/* These replace libc's for the whole test binary, the store included. */
int fsync(int fd) {
        trace_add("fsync", fd, NULL);
        return (int) syscall(SYS_fsync, fd);
}

int mkdirat(int dir_fd, const char *name, mode_t mode) {
        int r = (int) syscall(SYS_mkdirat, dir_fd, name, mode);
        if (r == 0)
                trace_add("mkdirat", dir_fd, name);
        return r;
}

TEST(names) {
        ASSERT_TRUE(vars_name_is_valid("myapp"));
        ASSERT_TRUE(vars_name_is_valid("0prod_eu-1"));
        ASSERT_FALSE(vars_name_is_valid(""));
        ASSERT_FALSE(vars_name_is_valid("-x"));
        ASSERT_FALSE(vars_name_is_valid("_x"));
        ASSERT_FALSE(vars_name_is_valid("My"));
        ASSERT_FALSE(vars_name_is_valid(".."));
        ASSERT_FALSE(vars_name_is_valid("a/b"));
        ASSERT_FALSE(vars_name_is_valid("a.json"));
        char long_name[80];
        memset(long_name, 'a', 65);
        long_name[65] = 0;
        ASSERT_FALSE(vars_name_is_valid(long_name));
        long_name[64] = 0;
        ASSERT_TRUE(vars_name_is_valid(long_name));
}

TEST(keys) {
        ASSERT_TRUE(vars_key_is_valid("API_KEY"));
        ASSERT_TRUE(vars_key_is_valid("A1"));
        ASSERT_FALSE(vars_key_is_valid("api_key"));
        ASSERT_FALSE(vars_key_is_valid("1A"));
        ASSERT_FALSE(vars_key_is_valid("A-B"));
        ASSERT_FALSE(vars_key_is_valid("A.B"));
        ASSERT_FALSE(vars_key_is_valid(""));
        ASSERT_FALSE(vars_key_is_valid("_X"));
        ASSERT_TRUE(vars_key_is_reserved("_updated_at"));
        ASSERT_FALSE(vars_key_is_reserved("X_"));
}

TEST(values) {
        ASSERT_TRUE(vars_value_is_valid("", 0));
        ASSERT_TRUE(vars_value_is_valid("h\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80", 12));
        ASSERT_FALSE(vars_value_is_valid("a\0b", 3));
        ASSERT_FALSE(vars_value_is_valid("\xc3", 1));            /* truncated */
        ASSERT_FALSE(vars_value_is_valid("\xc0\xaf", 2));        /* overlong '/' */
        ASSERT_FALSE(vars_value_is_valid("\xed\xa0\x80", 3));    /* surrogate */
        ASSERT_FALSE(vars_value_is_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
        ASSERT_FALSE(vars_value_is_valid("\xff", 1));
        ASSERT_FALSE(vars_value_is_valid("\xe4\xb8", 2));
}

static const char *const hostile[] = {
        "it's", "\"double\"", "$HOME", "$(id)", "`id`", "back\\slash", "trail\\",
        "two\\nchars", "line1\nline2\n", "\n", "cr\rlf", "tab\tx", "  spaces  ", "#hash ;semi",
        "h\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80", "", "\\\n", "'\"'\"'", "${X:-y}", "a=b c=d", "\x01\x1f\x7f",
};

/* Decodes a whole string body (without quotes); NULL when it is refused. */
static char *decode(const char *raw) {
        JStrDecoder d = JSTR_DECODER_INIT;
        static char out[256];
        size_t len = 0;

        for (const char *p = raw; *p; p++) {
                int n = jstr_feed(&d, (unsigned char) *p, out + len);
                if (n < 0 || n == JSTR_END)
                        return NULL;
                len += (size_t) n;
        }
        if (!jstr_at_boundary(&d))
                return NULL;
        out[len] = 0;
        return out;
}

TEST(jstring) {
        char out[64];
        JStrDecoder d = JSTR_DECODER_INIT;

        ASSERT_STREQ(decode("plain"), "plain");
        ASSERT_STREQ(decode("\\\"\\\\\\/\\b\\f\\n\\r\\t"), "\"\\/\b\f\n\r\t");
        ASSERT_STREQ(decode("\\u00e9\\u4E2D"), "\xc3\xa9\xe4\xb8\xad");
        ASSERT_STREQ(decode("\\ud83d\\ude00"), "\xf0\x9f\x98\x80");
        ASSERT_STREQ(decode("h\xc3\xa9"), "h\xc3\xa9");
        ASSERT_NULL(decode("\\u0000"));           /* NUL */
        ASSERT_NULL(decode("\\ud83d"));           /* lone high surrogate */
        ASSERT_NULL(decode("\\ud83dx"));
        ASSERT_NULL(decode("\\ude00"));           /* lone low surrogate */
        ASSERT_NULL(decode("\\ud83d\\u0041"));
        ASSERT_NULL(decode("\\u12g4"));
        ASSERT_NULL(decode("\\x"));
        ASSERT_NULL(decode("\\"));
        ASSERT_NULL(decode("tab\there"));         /* raw control byte */
        ASSERT_NULL(decode("\xff"));
        ASSERT_NULL(decode("\xc3"));              /* truncated */
        ASSERT_NULL(decode("\xc3\\n"));           /* escape inside a sequence */
        ASSERT_NULL(decode("\xc0\xaf"));          /* overlong */
        ASSERT_NULL(decode("\xed\xa0\x80"));      /* surrogate as UTF-8 */
        ASSERT_NULL(decode("\xf4\x90\x80\x80"));  /* past U+10FFFF */
        ASSERT_INT_EQ(jstr_feed(&d, '"', out), JSTR_END);

        ASSERT_INT_EQ(jstr_escape("a\"\\\n\x01/\xc3\xa9", 8, out), 16);
        out[16] = 0;
        ASSERT_STREQ(out, "a\\\"\\\\\\n\\u0001/\xc3\xa9");
        ASSERT_INT_EQ(jstr_escaped_len("\x01\x1f", 2), 12);
}

/* A scope file holding the hostile values, written by the store. */
static void setup_state(char *dir) {
        ASSERT_NOT_NULL(mkdtemp(dir));
        setenv("STATE_DIRECTORY", dir, 1);
}

static void cleanup_state(const char *dir) {
        char rm[160];
        snprintf(rm, sizeof(rm), "rm -rf '%s'", dir);
        ASSERT_INT_EQ(system(rm), 0);
}

static char *render_all(const char *project, const char *env, RenderFormat format, const char *key) {
        ScopeRender *r;
        ScopeFile *f;
        char *buf = NULL, chunk[7];   /* small reads: pieces cross every boundary */
        size_t size = 0;
        FILE *m = open_memstream(&buf, &size);
        ssize_t n;

        ASSERT_OK(store_open(project, env, &f));
        ASSERT_OK(scope_render_new(f, format, key ? scope_file_find(f, key) : NULL, &r));
        while ((n = scope_render_read(r, chunk, sizeof(chunk))) > 0)
                fwrite(chunk, 1, (size_t) n, m);
        ASSERT_INT_EQ(n, 0);
        scope_render_free(r);
        fclose(m);
        return buf;
}

TEST(render_env_round_trips_through_sh) {
        char dir[] = "/tmp/test-vars-XXXXXX", path[64], out[64], cmd[256], name[16];
        char *env;
        FILE *f;

        setup_state(dir);
        for (size_t i = 0; i < ELEMENTSOF(hostile); i++) {
                snprintf(name, sizeof(name), "V%02zu", i);
                ASSERT_OK(store_put("p", "e", "must-not-appear", name, hostile[i], strlen(hostile[i])));
        }
        env = render_all("p", "e", RENDER_ENV, NULL);
        snprintf(path, sizeof(path), "%s/env", dir);
        f = fopen(path, "w");
        ASSERT_NOT_NULL(f);
        fputs(env, f);
        fclose(f);
        ASSERT_TRUE(strstr(env, "must-not-appear") == NULL);
        free(env);

        /* Each variable is printed by the shell itself, NUL-separated. */
        snprintf(out, sizeof(out), "%s/out", dir);
        snprintf(cmd, sizeof(cmd),
                 "set -a; . '%s'; for i in $(seq -w 0 %zu); do eval \"printf '%%s\\\\0' \\\"\\$V$i\\\"\"; done > '%s'; "
                 "[ -z \"${_updated_by+x}\" ]",
                 path, ELEMENTSOF(hostile) - 1, out);
        ASSERT_INT_EQ(system(cmd), 0);

        char buf[4096];
        f = fopen(out, "r");
        ASSERT_NOT_NULL(f);
        size_t n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        size_t off = 0;
        for (size_t i = 0; i < ELEMENTSOF(hostile); i++) {
                ASSERT_TRUE(off < n);
                ASSERT_STREQ(buf + off, hostile[i]);
                off += strlen(buf + off) + 1;
        }
        ASSERT_INT_EQ(off, n);
        cleanup_state(dir);
}

TEST(render_json_and_key) {
        char dir[] = "/tmp/test-vars-XXXXXX";
        json_object *o, *v;
        char *s, name[16];

        setup_state(dir);
        s = render_all("p", "none", RENDER_JSON, NULL);
        ASSERT_STREQ(s, "{}\n");
        free(s);
        s = render_all("p", "none", RENDER_ENV, NULL);
        ASSERT_STREQ(s, "");
        free(s);

        for (size_t i = 0; i < ELEMENTSOF(hostile); i++) {
                snprintf(name, sizeof(name), "V%02zu", i);
                ASSERT_OK(store_put("p", "e", "tester", name, hostile[i], strlen(hostile[i])));
        }
        s = render_all("p", "e", RENDER_JSON, NULL);
        o = json_tokener_parse(s);
        ASSERT_NOT_NULL(o);
        ASSERT_INT_EQ(json_object_object_length(o), ELEMENTSOF(hostile));
        for (size_t i = 0; i < ELEMENTSOF(hostile); i++) {
                snprintf(name, sizeof(name), "V%02zu", i);
                ASSERT_TRUE(json_object_object_get_ex(o, name, &v));
                ASSERT_STREQ(json_object_get_string(v), hostile[i]);
        }
        json_object_put(o);
        free(s);

        s = render_all("p", "e", RENDER_KEY, "V01");
        ASSERT_STREQ(s, "{\"key\":\"V01\",\"value\":\"\\\"double\\\"\"}\n");
        free(s);
        cleanup_state(dir);
}

static void *writer(void *arg) {
        int id = (int) (intptr_t) arg;
        for (int i = 0; i < 25; i++) {
                char key[32];
                snprintf(key, sizeof(key), "T%d_%d", id, i);
                if (store_put("proj", "env", "tester", key, key, strlen(key)) < 0)
                        abort();
        }
        return NULL;
}

static void write_file(const char *path, const char *content) {
        FILE *f = fopen(path, "w");
        ASSERT_NOT_NULL(f);
        fputs(content, f);
        fclose(f);
}

static size_t count_dir(const char *path) {
        DIR *d = opendir(path);
        size_t n = 0;

        if (!d)
                return 0;
        while (readdir(d))
                n++;
        closedir(d);
        return n;
}

TEST(store) {
        char dir[] = "/tmp/test-vars-store-XXXXXX", path[128], proj[128];
        ScopeFile *scope = NULL;
        const ScopeEntry *e;
        pthread_t t[8];
        struct stat st;
        char **envs = NULL;

        setup_state(dir);
        ASSERT_OK(store_open("proj", "env", &scope));
        ASSERT_INT_EQ(scope->n, 0);
        scope = scope_file_free(scope);

        /* Eight threads, each with its own lock description: no update lost. */
        for (int i = 0; i < 8; i++)
                ASSERT_INT_EQ(pthread_create(&t[i], NULL, writer, (void *) (intptr_t) i), 0);
        for (int i = 0; i < 8; i++)
                pthread_join(t[i], NULL);
        ASSERT_OK(store_open("proj", "env", &scope));
        ASSERT_INT_EQ(scope->n, 8 * 25 + 2);
        ASSERT_INT_EQ(scope->n_visible, 8 * 25);
        ASSERT_NOT_NULL(scope_file_find(scope, "_updated_by"));
        ASSERT_NOT_NULL(e = scope_file_find(scope, "_updated_at"));
        ASSERT_INT_EQ(e->len, strlen("2026-01-01T00:00:00Z"));
        ASSERT_FALSE(scope_file_find(scope, "_updated_at")->visible);
        ASSERT_TRUE(scope_file_find(scope, "T3_4")->visible);
        scope = scope_file_free(scope);

        /* A stale temp file of a killed writer is removed by the next writer. */
        snprintf(path, sizeof(path), "%s/vars/proj/.env.json.tmp-dead", dir);
        write_file(path, "{partial");
        ASSERT_OK(store_put("proj", "env", "tester", "AFTER", "1", 1));
        ASSERT_TRUE(stat(path, &st) < 0 && errno == ENOENT);

        snprintf(path, sizeof(path), "%s/vars/proj/env.json", dir);
        ASSERT_OK(stat(path, &st));
        ASSERT_INT_EQ(st.st_mode & 0777, 0640);

        ASSERT_OK(store_list_envs("proj", &envs));
        ASSERT_STREQ(envs[0], "env");
        ASSERT_NULL(envs[1]);
        free(envs[0]);
        free(envs);

        /* Removing a key that is not there writes nothing. */
        ASSERT_OK(stat(path, &st));
        ino_t ino = st.st_ino;
        ASSERT_OK(store_unset("proj", "env", "tester", "NEVER"));
        ASSERT_OK(store_unset("proj", "other", "tester", "NEVER"));
        ASSERT_OK(store_unset("nothere", "env", "tester", "NEVER"));
        ASSERT_OK(store_delete("proj", "other"));
        ASSERT_OK(store_delete("nothere", "env"));
        ASSERT_OK(stat(path, &st));
        ASSERT_INT_EQ(st.st_ino, ino);
        snprintf(proj, sizeof(proj), "%s/vars/proj", dir);
        ASSERT_INT_EQ(count_dir(proj), 5);   /* . .. env.json .env.lock .lock */
        snprintf(proj, sizeof(proj), "%s/vars/nothere", dir);
        ASSERT_TRUE(stat(proj, &st) < 0 && errno == ENOENT);
        ASSERT_OK(store_unset("proj", "env", "tester", "AFTER"));
        ASSERT_OK(store_open("proj", "env", &scope));
        ASSERT_NULL(scope_file_find(scope, "AFTER"));
        scope = scope_file_free(scope);

        /* A corrupt file is reported, never overwritten. */
        write_file(path, "{\"A\":\"1\"} x");
        ASSERT_INT_EQ(store_open("proj", "env", &scope), -EBADMSG);
        ASSERT_INT_EQ(store_put("proj", "env", "tester", "B", "1", 1), -EBADMSG);
        ASSERT_INT_EQ(store_unset("proj", "env", "tester", "A"), -EBADMSG);
        write_file(path, "{\"A\":\"1\",\"A\":\"2\"}");
        ASSERT_INT_EQ(store_open("proj", "env", &scope), -EBADMSG);

        ASSERT_OK(store_delete("proj", "env"));
        ASSERT_OK(store_delete("proj", "env"));
        ASSERT_OK(store_open("proj", "env", &scope));
        ASSERT_INT_EQ(scope->n, 0);
        scope = scope_file_free(scope);
        ASSERT_INT_EQ(atomic_load(&index_budget.used), 0);
        cleanup_state(dir);
}

TEST(store_limits) {
        char dir[] = "/tmp/test-vars-limits-XXXXXX", env[16];
        static char big[VARS_VALUE_MAX];

        setup_state(dir);
        for (int i = 0; i < VARS_ENVS_MAX; i++) {
                snprintf(env, sizeof(env), "e%d", i);
                ASSERT_OK(store_put("p", env, "t", "K", "v", 1));
        }
        ASSERT_INT_EQ(store_put("p", "one-more", "t", "K", "v", 1), -EMLINK);
        ASSERT_OK(store_put("p", "e0", "t", "K2", "v", 1));
        ASSERT_OK(store_delete("p", "e0"));
        ASSERT_OK(store_put("p", "one-more", "t", "K", "v", 1));

        /* 1 MiB values escaped 6-fold: five fit in 32 MiB, six do not. */
        memset(big, 1, sizeof(big));
        for (int i = 0; i < 5; i++) {
                snprintf(env, sizeof(env), "B%d", i);
                ASSERT_OK(store_put("q", "big", "t", env, big, sizeof(big)));
        }
        ASSERT_INT_EQ(store_put("q", "big", "t", "B5", big, sizeof(big)), -EFBIG);
        cleanup_state(dir);
}

TEST(new_directories_are_durable) {
        char dir[] = "/tmp/test-vars-durable-XXXXXX", want[1024];
        const char *a, *b, *c, *d;

        setup_state(dir);
        trace[0] = 0;
        tracing = true;
        ASSERT_OK(store_put("proj", "env", "t", "K", "v", 1));
        tracing = false;
        fprintf(stderr, "%s", trace);

        /* Each mkdirat is followed by an fsync of the directory it wrote to. */
        snprintf(want, sizeof(want), "mkdirat %s/vars\n", dir);
        ASSERT_NOT_NULL(a = strstr(trace, want));
        snprintf(want, sizeof(want), "fsync %s\n", dir);
        ASSERT_NOT_NULL(b = strstr(a, want));
        snprintf(want, sizeof(want), "mkdirat %s/vars/proj\n", dir);
        ASSERT_NOT_NULL(c = strstr(b, want));
        snprintf(want, sizeof(want), "fsync %s/vars\n", dir);
        ASSERT_NOT_NULL(d = strstr(c, want));
        /* ... and the scope's rename by an fsync of the project directory. */
        snprintf(want, sizeof(want), "fsync %s/vars/proj\n", dir);
        ASSERT_NOT_NULL(strstr(d, want));

        /* Existing directories cost no extra fsync. */
        trace[0] = 0;
        tracing = true;
        ASSERT_OK(store_put("proj", "env", "t", "K", "w", 1));
        tracing = false;
        snprintf(want, sizeof(want), "fsync %s\n", dir);
        ASSERT_NULL(strstr(trace, want));
        ASSERT_NULL(strstr(trace, "mkdirat"));
        cleanup_state(dir);
}

TEST(budget) {
        Budget b = { .max = 100 };

        ASSERT_TRUE(budget_take(&b, 60));
        ASSERT_FALSE(budget_take(&b, 41));
        ASSERT_TRUE(budget_take(&b, 40));
        ASSERT_FALSE(budget_take(&b, 1));
        budget_give(&b, 60);
        ASSERT_TRUE(budget_take(&b, 60));
        ASSERT_TRUE(budget_take(&b, 0));
}

int main(void) {
        RUN(names);
        RUN(keys);
        RUN(values);
        RUN(jstring);
        RUN(render_env_round_trips_through_sh);
        RUN(render_json_and_key);
        RUN(store);
        RUN(store_limits);
        RUN(new_directories_are_durable);
        RUN(budget);
        return 0;
}
