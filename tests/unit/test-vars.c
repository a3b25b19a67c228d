/* SPDX-License-Identifier: MIT */
/* The vars worker's pieces: names, values, the env file format (checked by
 * sourcing it with /bin/sh), and the store under concurrent writers. */

#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "envfile.h"
#include "macro.h"
#include "store.h"
#include "tests.h"
#include "vars-names.h"

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
        "h\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80", "", "\\\n", "'\"'\"'", "${X:-y}", "a=b c=d",
};

TEST(envfile_round_trips_through_sh) {
        char dir[] = "/tmp/test-vars-XXXXXX", path[64], out[64], cmd[256];
        json_object *scope = json_object_new_object();
        char name[16];
        FILE *f;

        ASSERT_NOT_NULL(mkdtemp(dir));
        for (size_t i = 0; i < ELEMENTSOF(hostile); i++) {
                snprintf(name, sizeof(name), "V%zu", i);
                json_object_object_add(scope, name, json_object_new_string(hostile[i]));
        }
        json_object_object_add(scope, "_updated_by", json_object_new_string("must-not-appear"));

        snprintf(path, sizeof(path), "%s/env", dir);
        f = fopen(path, "w");
        ASSERT_NOT_NULL(f);
        ASSERT_OK(envfile_write(f, scope));
        fclose(f);

        /* Each variable is printed by the shell itself, NUL-separated. */
        snprintf(out, sizeof(out), "%s/out", dir);
        snprintf(cmd, sizeof(cmd),
                 "set -a; . '%s'; for i in $(seq 0 %zu); do eval \"printf '%%s\\\\0' \\\"\\$V$i\\\"\"; done > '%s'; "
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

        json_object_put(scope);
        unlink(path);
        unlink(out);
        rmdir(dir);
}

TEST(envfile_is_sorted) {
        json_object *scope = json_object_new_object();
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        json_object_object_add(scope, "B", json_object_new_string("2"));
        json_object_object_add(scope, "A", json_object_new_string("1"));
        json_object_object_add(scope, "_updated_at", json_object_new_string("x"));
        ASSERT_OK(envfile_write(f, scope));
        fclose(f);
        ASSERT_STREQ(buf, "A=\"1\"\nB=\"2\"\n");
        free(buf);
        json_object_put(scope);
}

typedef struct Put {
        const char *key;
        const char *value;
} Put;

static int edit_put(json_object *scope, void *userdata) {
        Put *p = userdata;
        json_object_object_add(scope, p->key, json_object_new_string(p->value));
        return 0;
}

static int edit_refuse(json_object *scope, void *userdata) {
        json_object_object_add(scope, "NEVER", json_object_new_string("x"));
        return -EDQUOT;
}

static void *writer(void *arg) {
        int id = (int) (intptr_t) arg;
        for (int i = 0; i < 25; i++) {
                char key[32];
                snprintf(key, sizeof(key), "T%d_%d", id, i);
                Put p = { key, key };
                if (store_update("proj", "env", "tester", edit_put, &p) < 0)
                        abort();
        }
        return NULL;
}

TEST(store) {
        char dir[] = "/tmp/test-vars-store-XXXXXX", path[128];
        json_object *scope = NULL, *v;
        pthread_t t[8];
        struct stat st;
        char **envs = NULL;

        ASSERT_NOT_NULL(mkdtemp(dir));
        setenv("STATE_DIRECTORY", dir, 1);

        ASSERT_OK(store_read("proj", "env", &scope));
        ASSERT_INT_EQ(json_object_object_length(scope), 0);
        json_object_put(scope);

        /* Eight threads, each with its own lock description: no update lost. */
        for (int i = 0; i < 8; i++)
                ASSERT_INT_EQ(pthread_create(&t[i], NULL, writer, (void *) (intptr_t) i), 0);
        for (int i = 0; i < 8; i++)
                pthread_join(t[i], NULL);
        ASSERT_OK(store_read("proj", "env", &scope));
        ASSERT_INT_EQ(json_object_object_length(scope), 8 * 25 + 2);
        ASSERT_TRUE(json_object_object_get_ex(scope, "_updated_by", &v));
        ASSERT_STREQ(json_object_get_string(v), "tester");
        ASSERT_TRUE(json_object_object_get_ex(scope, "_updated_at", &v));
        ASSERT_INT_EQ(strlen(json_object_get_string(v)), strlen("2026-01-01T00:00:00Z"));
        json_object_put(scope);

        /* An edit that refuses leaves the file as it was. */
        ASSERT_INT_EQ(store_update("proj", "env", "tester", edit_refuse, NULL), -EDQUOT);
        ASSERT_OK(store_read("proj", "env", &scope));
        ASSERT_FALSE(json_object_object_get_ex(scope, "NEVER", NULL));
        json_object_put(scope);

        /* A stale temp file of a killed writer is removed by the next writer. */
        snprintf(path, sizeof(path), "%s/vars/proj/.env.json.tmp-dead", dir);
        FILE *f = fopen(path, "w");
        ASSERT_NOT_NULL(f);
        fputs("{partial", f);
        fclose(f);
        Put p = { "AFTER", "1" };
        ASSERT_OK(store_update("proj", "env", "tester", edit_put, &p));
        ASSERT_TRUE(stat(path, &st) < 0 && errno == ENOENT);

        snprintf(path, sizeof(path), "%s/vars/proj/env.json", dir);
        ASSERT_OK(stat(path, &st));
        ASSERT_INT_EQ(st.st_mode & 0777, 0640);

        ASSERT_OK(store_list_envs("proj", &envs));
        ASSERT_STREQ(envs[0], "env");
        ASSERT_NULL(envs[1]);
        free(envs[0]);
        free(envs);

        /* A corrupt file is reported, never overwritten. */
        f = fopen(path, "w");
        fputs("{\"A\":", f);
        fclose(f);
        ASSERT_INT_EQ(store_read("proj", "env", &scope), -EBADMSG);
        ASSERT_INT_EQ(store_update("proj", "env", "tester", edit_put, &p), -EBADMSG);

        ASSERT_OK(store_delete("proj", "env"));
        ASSERT_OK(store_delete("proj", "env"));
        ASSERT_OK(store_delete("other", "env"));
        ASSERT_OK(store_read("proj", "env", &scope));
        ASSERT_INT_EQ(json_object_object_length(scope), 0);
        json_object_put(scope);

        char rm[160];
        snprintf(rm, sizeof(rm), "rm -rf '%s'", dir);
        ASSERT_INT_EQ(system(rm), 0);
}

int main(void) {
        RUN(names);
        RUN(keys);
        RUN(values);
        RUN(envfile_round_trips_through_sh);
        RUN(envfile_is_sorted);
        RUN(store);
        return 0;
}
