/* SPDX-License-Identifier: MIT */
/* files.toml (src/files/files-config.c): both forms, max_size, every error,
 * rule matching, and --check-config's post_recv check against tool files. */
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files-config.h"
#include "hook-ref.h"
#include "macro.h"
#include "tests.h"
#include "config-fixtures.h"

/* ---- files.toml ---- */

TEST(files_readme_form) {
        _cleanup_(files_config_done) FilesConfig c = {};
        _cleanup_(config_errors_done) ConfigErrors errors = {};
        const char *dir = new_config_dir();

        /* The README's example, verbatim. */
        write_file(dir, "files.toml",
                   "[[\"/etc/nginx/conf.d/\"]]\n"
                   "read      = true\n"
                   "write     = true\n"
                   "post_recv = [\"reload-nginx\"]\n"
                   "\n"
                   "[[\"/etc/systemd/system/\"]]\n"
                   "read      = true\n"
                   "write     = true\n"
                   "post_recv = [\"daemon-reload\"]\n"
                   "\n"
                   "[[\"/opt/\"]]\n"
                   "read      = true\n"
                   "write     = true\n"
                   "post_recv = []\n"
                   "\n"
                   "[[\"/srv/drop/\"]]\n"
                   "write = true   # read defaults to false\n"
                   "post_recv = [\"devbox/reload-nginx\"]\n");
        ASSERT_OK(files_config_load(dir, &c, &errors));
        ASSERT_INT_EQ(errors.n, 0);
        ASSERT_INT_EQ(c.n_rules, 4);
        ASSERT_STREQ(c.rules[0].dir, "/etc/nginx/conf.d/");
        ASSERT_TRUE(c.rules[0].read);
        ASSERT_TRUE(c.rules[0].write);
        ASSERT_INT_EQ(c.rules[0].n_post_recv, 1);
        ASSERT_STREQ(c.rules[0].post_recv[0], "reload-nginx");
        ASSERT_INT_EQ(c.rules[0].line, 1);
        ASSERT_STREQ(c.rules[1].dir, "/etc/systemd/system/");
        ASSERT_STREQ(c.rules[1].post_recv[0], "daemon-reload");
        ASSERT_INT_EQ(c.rules[1].line, 6);
        ASSERT_STREQ(c.rules[2].dir, "/opt/");
        ASSERT_INT_EQ(c.rules[2].n_post_recv, 0);
        ASSERT_STREQ(c.rules[3].dir, "/srv/drop/");
        ASSERT_FALSE(c.rules[3].read);
        ASSERT_TRUE(c.rules[3].write);
        ASSERT_STREQ(c.rules[3].post_recv[0], "devbox/reload-nginx");
}

TEST(files_go_form_and_mixed) {
        _cleanup_(files_config_done) FilesConfig c = {};
        _cleanup_(config_errors_done) ConfigErrors errors = {};
        const char *dir = new_config_dir();

        write_file(dir, "files.toml",
                   "[[path]]\n"
                   "dir       = \"/var/lib/tailkitd/recv/\"   # absolute, MUST end with \"/\"\n"
                   "allow     = [\"read\", \"write\"]\n"
                   "post_recv = [\"devbox/reload-nginx\"]\n"
                   "\n"
                   "[[path]]\n"
                   "dir   = \"/srv/ro/\"\n"
                   "allow = [\"read\"]\n"
                   "\n"
                   "[[\"/opt/\"]]\n"
                   "read = true\n");
        ASSERT_OK(files_config_load(dir, &c, &errors));
        ASSERT_INT_EQ(c.n_rules, 3);
        ASSERT_STREQ(c.rules[0].dir, "/var/lib/tailkitd/recv/");
        ASSERT_TRUE(c.rules[0].read && c.rules[0].write);
        ASSERT_STREQ(c.rules[0].post_recv[0], "devbox/reload-nginx");
        ASSERT_STREQ(c.rules[1].dir, "/srv/ro/");
        ASSERT_TRUE(c.rules[1].read);
        ASSERT_FALSE(c.rules[1].write);
        ASSERT_INT_EQ(c.rules[1].line, 6);
        ASSERT_STREQ(c.rules[2].dir, "/opt/");
        files_config_done(&c);

        /* An empty file is valid: no rules. */
        write_file(dir, "files.toml", "# nothing shared yet\n");
        ASSERT_OK(files_config_load(dir, &c, &errors));
        ASSERT_INT_EQ(c.n_rules, 0);
        files_config_done(&c);

        ASSERT_INT_EQ(files_config_load(new_config_dir(), &c, &errors), -ENOENT);
        ASSERT_INT_EQ(errors.n, 0);
}

TEST(files_errors) {
        _cleanup_(files_config_done) FilesConfig c = {};
        _cleanup_(config_errors_done) ConfigErrors errors = {};
        const char *dir = new_config_dir();

        write_file(dir, "files.toml",
                   "[[\"/opt/\"]]\n"                             /* 1 */
                   "read = true\n"
                   "wirte = true\n"                              /* 3: unknown key */
                   "[[\"relative/\"]]\n"                         /* 4 */
                   "[[\"/no-slash\"]]\n"                         /* 5 */
                   "[[\"/a//b/\"]]\n"                            /* 6 */
                   "[[\"/a/../b/\"]]\n"                          /* 7 */
                   "[[\"/a/./\"]]\n"                             /* 8 */
                   "[[\"/srv/\"]]\n"                             /* 9 */
                   "read = \"yes\"\n"                            /* 10: wrong type */
                   "[[\"/hooks/\"]]\n"                           /* 11 */
                   "read = true\n"
                   "post_recv = [\"reload\"]\n"                  /* 13: no write */
                   "[[\"/bad-hooks/\"]]\n"                       /* 14 */
                   "write = true\n"
                   "post_recv = [\"\", \"a/b/c\", \"sp ace\", \"ok\"]\n" /* 16 */
                   "[[path]]\n"                                  /* 17 */
                   "dir = \"/hooks/\"\n"                         /* 18: duplicate of line 11 */
                   "allow = [\"read\"]\n"
                   "[[path]]\n"                                  /* 20: no dir */
                   "allow = [\"read\"]\n"
                   "[[path]]\n"                                  /* 22 */
                   "dir = \"/x/\"\n"
                   "allow = [\"read\", \"exec\"]\n"              /* 24 */
                   "[[path]]\n"                                  /* 25 */
                   "dir = \"/y/\"\n"
                   "allow = []\n"                                /* 27 */
                   "[[path]]\n"                                  /* 28: no allow */
                   "dir = \"/z/\"\n"
                   "[[path]]\n"                                  /* 30 */
                   "dir = \"/w/\"\n"
                   "allow = [\"read\"]\n"
                   "post_recv = [\"hook\"]\n"                    /* 33: no write */
                   "[[path]]\n"                                  /* 34 */
                   "dir = \"/v/\"\n"
                   "read = true\n"                               /* 36: README key in Go form */
                   "[[\"/etc/nginx/conf.d/\"]]\n"               /* 37 */
                   "[[\"/etc/nginx/conf.d/\"]]\n");              /* 38: duplicate */
        ASSERT_INT_EQ(files_config_load(dir, &c, &errors), -EINVAL);
        ASSERT_INT_EQ(c.n_rules, 0);
        assert_error(&errors, dir, "files.toml", "3: unknown key 'wirte' in [[\"/opt/\"]]");
        assert_error(&errors, dir, "files.toml", "4: directory \"relative/\" must be an absolute path");
        assert_error(&errors, dir, "files.toml", "5: directory \"/no-slash\" must end with \"/\"");
        assert_error(&errors, dir, "files.toml", "6: directory \"/a//b/\" must not contain \"//\"");
        assert_error(&errors, dir, "files.toml", "7: directory \"/a/../b/\" must not contain \".\" or \"..\" segments");
        assert_error(&errors, dir, "files.toml", "8: directory \"/a/./\" must not contain \".\" or \"..\" segments");
        assert_error(&errors, dir, "files.toml", "10: 'read' must be a boolean (true or false)");
        assert_error(&errors, dir, "files.toml", "13: 'post_recv' needs write = true: hooks run after a file is written");
        assert_error(&errors, dir, "files.toml", "16: 'post_recv' entries must not be empty");
        assert_error(&errors, dir, "files.toml",
                     "16: 'post_recv' entry \"a/b/c\" must be \"command\" or \"tool/command\" (letters, digits, '_' and '-')");
        assert_error(&errors, dir, "files.toml",
                     "16: 'post_recv' entry \"sp ace\" must be \"command\" or \"tool/command\" (letters, digits, '_' and '-')");
        assert_error(&errors, dir, "files.toml", "17: duplicate directory \"/hooks/\" (first at line 11)");
        assert_error(&errors, dir, "files.toml", "20: [[path]] needs 'dir'");
        assert_error(&errors, dir, "files.toml", "24: 'allow' has unknown value \"exec\"; valid values are: read, write");
        assert_error(&errors, dir, "files.toml", "27: 'allow' must not be empty; valid values are: read, write");
        assert_error(&errors, dir, "files.toml", "28: [[path]] needs 'allow' (\"read\", \"write\" or both)");
        assert_error(&errors, dir, "files.toml",
                     "33: 'post_recv' needs \"write\" in 'allow': hooks run after a file is written");
        assert_error(&errors, dir, "files.toml", "36: unknown key 'read' in [[path]]");
        assert_error(&errors, dir, "files.toml", "38: duplicate directory \"/etc/nginx/conf.d/\" (first at line 37)");
        ASSERT_INT_EQ(errors.n, 19);
}


TEST(files_max_size) {
        _cleanup_(files_config_done) FilesConfig c = {};
        _cleanup_(config_errors_done) ConfigErrors errors = {};
        const char *dir = new_config_dir();

        write_file(dir, "files.toml",
                   "[[\"/a/\"]]\nwrite = true\n"
                   "[[\"/b/\"]]\nwrite = true\nmax_size = \"64M\"\n"
                   "[[path]]\ndir = \"/c/\"\nallow = [\"write\"]\nmax_size = 4096\n");
        ASSERT_OK(files_config_load(dir, &c, &errors));
        ASSERT_INT_EQ(c.n_rules, 3);
        ASSERT_TRUE(c.rules[0].max_size == FILES_MAX_SIZE_DEFAULT);
        ASSERT_TRUE(c.rules[1].max_size == 64 * 1024 * 1024);
        ASSERT_TRUE(c.rules[2].max_size == 4096);
        files_config_done(&c);

        write_file(dir, "files.toml",
                   "[[\"/a/\"]]\nmax_size = 0\n"
                   "[[\"/b/\"]]\nmax_size = \"2T\"\n"
                   "[[\"/c/\"]]\nmax_size = \"lots\"\n");
        ASSERT_INT_EQ(files_config_load(dir, &c, &errors), -EINVAL);
        assert_error(&errors, dir, "files.toml", "2: 'max_size' must be between 1 and 1T bytes");
        assert_error(&errors, dir, "files.toml", "4: 'max_size' must be between 1 and 1T bytes");
        ASSERT_INT_EQ(errors.n, 3);
}

TEST(files_match) {
        _cleanup_(files_config_done) FilesConfig c = {};
        _cleanup_(config_errors_done) ConfigErrors errors = {};
        const char *dir = new_config_dir();

        write_file(dir, "files.toml",
                   "[[\"/srv/app/\"]]\nread = true\n"
                   "[[\"/srv/app/conf/\"]]\nwrite = true\n"
                   "[[\"/\"]]\nread = false\n");
        ASSERT_OK(files_config_load(dir, &c, &errors));
        ASSERT_STREQ(files_config_match(&c, "/srv/app/x")->dir, "/srv/app/");
        ASSERT_STREQ(files_config_match(&c, "/srv/app/")->dir, "/srv/app/");
        ASSERT_STREQ(files_config_match(&c, "/srv/app")->dir, "/srv/app/");
        ASSERT_STREQ(files_config_match(&c, "/srv/app/conf/x.conf")->dir, "/srv/app/conf/");
        ASSERT_STREQ(files_config_match(&c, "/srv/app/conf")->dir, "/srv/app/conf/");
        ASSERT_STREQ(files_config_match(&c, "/srv/app/config")->dir, "/srv/app/");
        /* The sibling of a rule's directory is not under it. */
        ASSERT_STREQ(files_config_match(&c, "/srv/app2/x")->dir, "/");
        ASSERT_STREQ(files_config_match(&c, "/etc/passwd")->dir, "/");
        files_config_done(&c);

        write_file(dir, "files.toml", "[[\"/srv/app/\"]]\nread = true\n");
        ASSERT_OK(files_config_load(dir, &c, &errors));
        ASSERT_NULL(files_config_match(&c, "/srv/app2/x"));
        ASSERT_NULL(files_config_match(&c, "/srv/ap"));
        ASSERT_NULL(files_config_match(&c, "/srv/"));
        ASSERT_NULL(files_config_match(&c, ""));
}

static void write_tool(const char *dir, const char *name, const char *commands) {
        _cleanup_free_ char *file = NULL, *content = NULL;

        ASSERT_TRUE(asprintf(&file, "tools/%s.json", name) >= 0);
        ASSERT_TRUE(asprintf(&content,
                             "{\"name\":\"%s\",\"version\":\"1.0.0\",\"tsnet_host\":\"h\",\"commands\":[%s]}",
                             name, commands) >= 0);
        write_file(dir, file, content);
}

#define COMMAND(n) "{\"name\":\"" n "\",\"description\":\"d\",\"acl_cap\":\"x/cap/y\"," \
                   "\"exec_parts\":[\"/bin/true\"],\"timeout\":1000000000}"

TEST(files_check_hooks) {
        _cleanup_(config_errors_done) ConfigErrors errors = {};
        const char *dir = new_config_dir();
        _cleanup_free_ char *tools = NULL;

        ASSERT_TRUE(asprintf(&tools, "%s/tools", dir) >= 0);
        ASSERT_OK(mkdir(tools, 0755));
        ASSERT_INT_EQ(files_config_check(dir, &errors), 0);      /* no files.toml */

        write_tool(dir, "devbox", COMMAND("reload-nginx") "," COMMAND("restart"));
        write_tool(dir, "other", COMMAND("restart"));
        write_file(dir, "files.toml",
                   "[[\"/etc/nginx/\"]]\n"
                   "write = true\n"
                   "post_recv = [\"reload-nginx\", \"devbox/restart\", \"other/restart\"]\n");
        ASSERT_INT_EQ(files_config_check(dir, &errors), 0);
        ASSERT_INT_EQ(errors.n, 0);

        write_file(dir, "files.toml",
                   "[[\"/etc/nginx/\"]]\n"
                   "write = true\n"
                   "post_recv = [\"restart\", \"gone\", \"nope/reload-nginx\", \"devbox/gone\"]\n");
        ASSERT_INT_EQ(files_config_check(dir, &errors), 1);
        assert_error(&errors, dir, "files.toml",
                     "1: 'post_recv' entry \"restart\": 2 installed tools have a command \"restart\"; write \"tool/restart\"");
        assert_error(&errors, dir, "files.toml", "1: 'post_recv' entry \"gone\": no installed tool has a command \"gone\"");
        assert_error(&errors, dir, "files.toml",
                     "1: 'post_recv' entry \"nope/reload-nginx\": no tool \"nope\" is installed (command \"reload-nginx\")");
        assert_error(&errors, dir, "files.toml", "1: 'post_recv' entry \"devbox/gone\": tool \"devbox\" has no command \"gone\"");
        ASSERT_INT_EQ(errors.n, 4);
        config_errors_done(&errors);

        /* An invalid files.toml is reported by the loader, once. */
        write_file(dir, "files.toml", "[[\"/x/\"]]\nread = 1\n");
        ASSERT_INT_EQ(files_config_check(dir, &errors), 1);
        ASSERT_INT_EQ(errors.n, 1);
}

int main(void) {
        RUN(files_readme_form);
        RUN(files_go_form_and_mixed);
        RUN(files_errors);
        RUN(files_max_size);
        RUN(files_match);
        RUN(files_check_hooks);
        remove_dirs();
        return 0;
}
