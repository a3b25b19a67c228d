/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "config-reader.h"
#include "config.h"
#include "macro.h"
#include "tests.h"
#include "config-fixtures.h"


static void dump_errors(const ConfigErrors *e) {
        for (size_t i = 0; i < e->n; i++)
                fprintf(stderr, "  error: %s\n", e->messages[i]);
}

static char *repeat(char c, size_t n) {
        char *s = malloc(n + 1);

        ASSERT_NOT_NULL(s);
        memset(s, c, n);
        s[n] = '\0';
        return s;
}

/* ---- the reader, with a schema that has every kind ---- */

static const ConfigKey test_section_keys[] = {
        { "b", CONFIG_BOOL },
        { "i", CONFIG_INT },
        { "s", CONFIG_STRING },
        { "v", CONFIG_STRV },
        { "size", CONFIG_SIZE },
        { "pct", CONFIG_PERCENT },
        {},
};

static const ConfigKey test_array_keys[] = {
        { "name", CONFIG_STRING },
        {},
};

static const ConfigKey test_path_keys[] = {
        { "read", CONFIG_BOOL },
        {},
};

static const ConfigTableSchema test_schema[] = {
        { "sec", CONFIG_TABLE_SECTION, test_section_keys },
        { "arr", CONFIG_TABLE_ARRAY, test_array_keys },
        { NULL, CONFIG_TABLE_PATH, test_path_keys },
        {},
};

/* Parses text as "t.toml"; returns the number of errors. */
static unsigned parse(const char *text, ConfigDocument *doc, ConfigErrors *errors) {
        ASSERT_OK(config_document_parse("t.toml", text, strlen(text), test_schema, doc, errors));
        ASSERT_INT_EQ(doc->n_errors, errors->n);
        return doc->n_errors;
}

/* The only error of text is want ("t.toml:LINE: message"). */
static void assert_parse_error(const char *text, const char *want) {
        _cleanup_(config_document_done) ConfigDocument doc = {};
        _cleanup_(config_errors_done) ConfigErrors errors = {};

        parse(text, &doc, &errors);
        if (errors.n != 1 || !streq(errors.messages[0], want)) {
                fprintf(stderr, "input:\n%s\n", text);
                dump_errors(&errors);
                FAIL_AT("expected exactly: %s", want);
        }
}

TEST(reader_constructs) {
        _cleanup_(config_document_done) ConfigDocument doc = {};
        _cleanup_(config_errors_done) ConfigErrors errors = {};
        const ConfigTable *t;
        const ConfigEntry *e;
        const char *text;

        /* ';' starts no comment in TOML: after a comment it is comment text,
         * after a value it is an error (inih would have cut it silently). */
        ASSERT_INT_EQ(parse("[sec]\nb = true # x ; y\n", &doc, &errors), 0);
        config_document_done(&doc);
        ASSERT_INT_EQ(parse("[sec]\npct = \"150%\"   ; comment?\n", &doc, &errors), 1);
        ASSERT_STREQ(errors.messages[0], "t.toml:2: unexpected text after the value of 'pct'");
        config_errors_done(&errors);
        config_document_done(&doc);

        text =
                "\xEF\xBB\xBF# a comment\n"
                "\n"
                "  [ sec ]   # trailing comment\r\n"
                "b = true   # comment\n"
                "    i = -42\n"
                "\ts = \"a ; b # c\"\n"
                "v = [\"x # y\", \"p;q\" ,\"z\",]\n"
                "size = \"256M\"\n"
                "pct = \"150%\"\n"
                "[[arr]]\n"
                "name = \"first\"\n"
                "[[ arr ]]\n"
                "[[\"/etc/nginx/conf.d/\"]]\n"
                "read = false\n"
                "[[\"/a/very/long/directory/name/that/is/longer/than/inih/section/names/\"]]\n"
                "read = true";
        ASSERT_INT_EQ(parse(text, &doc, &errors), 0);
        ASSERT_INT_EQ(doc.n_tables, 5);

        t = config_document_section(&doc, "sec");
        ASSERT_NOT_NULL(t);
        ASSERT_INT_EQ(t->line, 3);
        ASSERT_INT_EQ(t->n_entries, 6);
        ASSERT_TRUE(config_table_get_bool(t, "b", false));
        e = config_table_get(t, "b");
        ASSERT_INT_EQ(e->line, 4);
        e = config_table_get(t, "i");
        ASSERT_INT_EQ(e->integer, -42);
        ASSERT_INT_EQ(e->line, 5);
        ASSERT_STREQ(config_table_get_string(t, "s"), "a ; b # c");
        e = config_table_get(t, "v");
        ASSERT_INT_EQ(e->n_strv, 3);
        ASSERT_STREQ(e->strv[0], "x # y");
        ASSERT_STREQ(e->strv[1], "p;q");
        ASSERT_STREQ(e->strv[2], "z");
        ASSERT_NULL(e->strv[3]);
        ASSERT_INT_EQ(config_table_get(t, "size")->size, UINT64_C(256) << 20);
        ASSERT_INT_EQ(config_table_get(t, "pct")->percent, 150);

        ASSERT_TRUE(doc.tables[1].schema->kind == CONFIG_TABLE_ARRAY);
        ASSERT_STREQ(config_table_get_string(&doc.tables[1], "name"), "first");
        ASSERT_INT_EQ(doc.tables[2].n_entries, 0);
        ASSERT_INT_EQ(doc.tables[2].line, 12);
        ASSERT_STREQ(doc.tables[3].path, "/etc/nginx/conf.d/");
        ASSERT_FALSE(config_table_get_bool(&doc.tables[3], "read", true));
        ASSERT_STREQ(doc.tables[4].path, "/a/very/long/directory/name/that/is/longer/than/inih/section/names/");
        ASSERT_TRUE(config_table_get_bool(&doc.tables[4], "read", false));
        ASSERT_INT_EQ(config_table_get(&doc.tables[4], "read")->line, 16);
}

TEST(reader_values) {
        _cleanup_(config_document_done) ConfigDocument doc = {};
        _cleanup_(config_errors_done) ConfigErrors errors = {};
        const ConfigTable *t;

        ASSERT_INT_EQ(parse("[sec]\n"
                            "s = \"q\\\"b\\\\s\\n\\t\\r\\u00e9\\u003b\\U0001F600\"\n"
                            "v = []\n"
                            "i = 9223372036854775807\n"
                            "size = 1048576\n",
                            &doc, &errors), 0);
        t = config_document_section(&doc, "sec");
        ASSERT_STREQ(config_table_get_string(t, "s"), "q\"b\\s\n\t\r\xC3\xA9;\xF0\x9F\x98\x80");
        ASSERT_INT_EQ(config_table_get(t, "v")->n_strv, 0);
        ASSERT_INT_EQ(config_table_get(t, "i")->integer, INT64_MAX);
        ASSERT_INT_EQ(config_table_get(t, "size")->size, 1048576);
        config_document_done(&doc);

        ASSERT_INT_EQ(parse("[sec]\ni = -9223372036854775808\nb = false\nv = [ ]\ns = \"\"\n", &doc, &errors), 0);
        t = config_document_section(&doc, "sec");
        ASSERT_INT_EQ(config_table_get(t, "i")->integer, INT64_MIN);
        ASSERT_FALSE(config_table_get_bool(t, "b", true));
        ASSERT_STREQ(config_table_get_string(t, "s"), "");
        config_document_done(&doc);

        /* An empty file, and one of only comments. */
        ASSERT_INT_EQ(parse("", &doc, &errors), 0);
        ASSERT_INT_EQ(doc.n_tables, 0);
        config_document_done(&doc);
        ASSERT_INT_EQ(parse("# nothing\n\n   \n\t# still nothing", &doc, &errors), 0);
        ASSERT_INT_EQ(doc.n_tables, 0);
}

TEST(reader_errors) {
        assert_parse_error("[sec]\nbogus = 1\n", "t.toml:2: unknown key 'bogus' in [sec]");
        assert_parse_error("[arr]\n", "t.toml:1: 'arr' is an array of tables; write [[arr]]");
        assert_parse_error("[[sec]]\n", "t.toml:1: 'sec' is a single table; write [sec]");
        assert_parse_error("# x\n[nope]\nb = 1\n",
                           "t.toml:2: unknown section [nope]; expected [sec], [[arr]], [[\"/dir/\"]]");
        assert_parse_error("[[nope]]\n",
                           "t.toml:1: unknown section [[nope]]; expected [sec], [[arr]], [[\"/dir/\"]]");
        assert_parse_error("[\"/x/\"]\nread = true\n", "t.toml:1: a directory block needs double brackets: [[\"/x/\"]]");
        assert_parse_error("[[\"/x/\"]]\nwirte = true\n", "t.toml:2: unknown key 'wirte' in [[\"/x/\"]]");
        assert_parse_error("[sec]\n\n\nb = \"yes\"\n", "t.toml:4: 'b' must be a boolean (true or false)");
        assert_parse_error("[sec]\ni = \"1\"\n", "t.toml:2: 'i' must be an integer");
        assert_parse_error("[sec]\ns = 1\n", "t.toml:2: 's' must be a string in \"double quotes\"");
        assert_parse_error("[sec]\nv = \"a\"\n", "t.toml:2: 'v' must be an array of strings, like [\"a\", \"b\"]");
        assert_parse_error("[sec]\nsize = \"12Q\"\n",
                           "t.toml:2: 'size' must be a size: a number of bytes, or a string like \"512K\", \"256M\", \"1G\"");
        assert_parse_error("[sec]\nsize = -1\n",
                           "t.toml:2: 'size' must be a size: a number of bytes, or a string like \"512K\", \"256M\", \"1G\"");
        assert_parse_error("[sec]\npct = 50\n", "t.toml:2: 'pct' must be a percentage string like \"50%\"");
        assert_parse_error("[sec]\nbareword\n", "t.toml:2: expected 'key = value', found 'bareword'");
        assert_parse_error("[sec]\ntwo words # c\n", "t.toml:2: expected 'key = value', found 'two words'");
        assert_parse_error("[sec]\ns = \"open\n", "t.toml:2: unterminated string (missing closing '\"')");
        assert_parse_error("[sec]\ns = \"open\\\"\n", "t.toml:2: unterminated string (missing closing '\"')");
        assert_parse_error("[sec]\nv = [\"a\",\n  \"b\"]\n",
                           "t.toml:2: multi-line arrays are not supported (close the array with ']' on the same line)");
        assert_parse_error("[sec]\nv = [\"a\", # c ]\n",
                           "t.toml:2: multi-line arrays are not supported (close the array with ']' on the same line)");
        assert_parse_error("[sec]\ns = { a = 1 }\n", "t.toml:2: inline tables are not supported");
        assert_parse_error("[sec]\ni = 1.5\n", "t.toml:2: floating-point numbers are not supported");
        assert_parse_error("[sec]\ni = 1e3\n", "t.toml:2: floating-point numbers are not supported");
        assert_parse_error("[sec]\ni = inf\n", "t.toml:2: floating-point numbers are not supported");
        assert_parse_error("[sec]\ni = 1979-05-27\n", "t.toml:2: dates and times are not supported");
        assert_parse_error("[sec]\ni = 07:32:00\n", "t.toml:2: dates and times are not supported");
        assert_parse_error("[sec]\ni = 0x10\n", "t.toml:2: only decimal integers are supported");
        assert_parse_error("[sec]\ni = 1_000\n", "t.toml:2: underscores in numbers are not supported");
        assert_parse_error("[sec]\ni = 007\n", "t.toml:2: leading zeros are not allowed in integers");
        assert_parse_error("[sec]\ni = 9223372036854775808\n", "t.toml:2: integer 9223372036854775808 is out of range");
        assert_parse_error("[sec]\nb = True\n", "t.toml:2: invalid value 'True' (strings must be in \"double quotes\")");
        assert_parse_error("[sec]\ns = bare\n", "t.toml:2: invalid value 'bare' (strings must be in \"double quotes\")");
        assert_parse_error("[sec]\ns = 'single'\n",
                           "t.toml:2: single-quoted strings are not supported; use \"double quotes\"");
        assert_parse_error("[sec]\ns = \"\"\"multi\"\"\"\n", "t.toml:2: multi-line strings (\"\"\") are not supported");
        assert_parse_error("[sec]\ns = \"a\" \"b\"\n", "t.toml:2: unexpected text after the value of 's'");
        assert_parse_error("[sec]\nb = true false\n", "t.toml:2: unexpected text after the value of 'b'");
        assert_parse_error("[sec]\nb = true, \n", "t.toml:2: unexpected text after the value of 'b'");
        assert_parse_error("[sec]\ns = \"a\\qb\"\n",
                           "t.toml:2: invalid escape '\\q' in string (valid: \\\" \\\\ \\n \\t \\r \\uXXXX)");
        assert_parse_error("[sec]\ns = \"\\u12\"\n", "t.toml:2: invalid escape: \\u needs 4 hex digits");
        assert_parse_error("[sec]\ns = \"\\ud800\"\n", "t.toml:2: invalid Unicode escape \\ud800");
        assert_parse_error("[sec]\ns = \"\\u0000\"\n", "t.toml:2: \\u0000 is not allowed in strings");
        assert_parse_error("[sec]\nv = [[\"a\"]]\n", "t.toml:2: nested arrays are not supported");
        assert_parse_error("[sec]\nv = [1, 2]\n", "t.toml:2: arrays may only hold \"double-quoted strings\"");
        assert_parse_error("[sec]\nv = [\"a\" \"b\"]\n", "t.toml:2: expected ',' or ']' after an array element");
        assert_parse_error("[sec]\nv = [,]\n", "t.toml:2: empty array element");
        assert_parse_error("[sec]\nv = [\"a\",,]\n", "t.toml:2: empty array element");
        assert_parse_error("[sec]\na.b = 1\n", "t.toml:2: dotted keys are not supported");
        assert_parse_error("[sec]\n\"s\" = \"x\"\n", "t.toml:2: quoted keys are not supported");
        assert_parse_error("[sec]\n= 1\n", "t.toml:2: missing key before '='");
        assert_parse_error("[sec]\nb =   # nothing\n", "t.toml:2: missing value for 'b'");
        assert_parse_error("[sec]\nb = true\nb = false\n", "t.toml:3: duplicate key 'b' (first at line 2)");
        assert_parse_error("[sec]\n[sec]\n", "t.toml:2: duplicate section [sec] (first at line 1)");
        assert_parse_error("b = true\n[sec]\n", "t.toml:1: 'b' is outside of any table; put it under a [section]");
        assert_parse_error("[sec.sub]\n", "t.toml:1: dotted table names are not supported");
        assert_parse_error("[]\n", "t.toml:1: empty table name");
        assert_parse_error("[s c]\n", "t.toml:1: expected ']' to close the table header");
        assert_parse_error("[[arr]\n", "t.toml:1: expected ']]' to close the table header");
        assert_parse_error("[sec]]\n", "t.toml:1: unexpected text after the table header");
        assert_parse_error("[sec] x\n", "t.toml:1: unexpected text after the table header");
        assert_parse_error("[sec\n", "t.toml:1: expected ']' to close the table header");
        assert_parse_error("[sec]\nb = tr\x01ue\n", "t.toml:2: control character 0x01 is not allowed");
}

/* A NUL byte cannot be written in a C string literal test above: the parse
 * stops at strlen(). Test it with an explicit size. */
TEST(reader_nul_byte) {
        _cleanup_(config_document_done) ConfigDocument doc = {};
        _cleanup_(config_errors_done) ConfigErrors errors = {};
        static const char text[] = "[sec]\nb = true\nx\0y\ni = 1\n";

        ASSERT_OK(config_document_parse("t.toml", text, sizeof(text) - 1, test_schema, &doc, &errors));
        ASSERT_INT_EQ(errors.n, 1);
        ASSERT_STREQ(errors.messages[0], "t.toml:3: control character 0x00 is not allowed");
        ASSERT_INT_EQ(config_table_get(config_document_section(&doc, "sec"), "i")->line, 4);
}

TEST(reader_long_lines) {
        _cleanup_(config_document_done) ConfigDocument doc = {};
        _cleanup_(config_errors_done) ConfigErrors errors = {};
        _cleanup_free_ char *text = NULL, *long_value = repeat('x', 250 - 6), *fits = repeat('y', 198 - 6),
                *too_long = repeat('z', 199 - 6), *semis = repeat(';', 40);

        /* 's = "' + 244 x + '"' is 250 characters. */
        ASSERT_TRUE(asprintf(&text, "[sec]\n# before\ns = \"%s\"\nwhat = 1\nb = true\n", long_value) >= 0);
        ASSERT_INT_EQ(parse(text, &doc, &errors), 2);
        ASSERT_STREQ(errors.messages[0], "t.toml:3: line too long (250 characters, at most 198)");
        ASSERT_STREQ(errors.messages[1], "t.toml:4: unknown key 'what' in [sec]");
        ASSERT_INT_EQ(config_table_get(config_document_section(&doc, "sec"), "b")->line, 5);
        ASSERT_NULL(config_table_get(config_document_section(&doc, "sec"), "s"));
        ASSERT_TRUE(doc.tables[0].has_errors);
        config_document_done(&doc);
        config_errors_done(&errors);
        free(text);

        /* 198 characters fit, 199 do not. */
        ASSERT_TRUE(asprintf(&text, "[sec]\ns = \"%s\"\n", fits) >= 0);
        ASSERT_INT_EQ(parse(text, &doc, &errors), 0);
        ASSERT_INT_EQ(strlen(config_table_get_string(config_document_section(&doc, "sec"), "s")), 192);
        config_document_done(&doc);
        free(text);
        ASSERT_TRUE(asprintf(&text, "[sec]\ns = \"%s\"\r\nb = true\n", too_long) >= 0);
        ASSERT_INT_EQ(parse(text, &doc, &errors), 1);
        ASSERT_STREQ(errors.messages[0], "t.toml:2: line too long (199 characters, at most 198)");
        ASSERT_TRUE(config_table_get_bool(config_document_section(&doc, "sec"), "b", false));
        config_document_done(&doc);
        config_errors_done(&errors);
        free(text);

        /* A long table header closes the previous table: the keys after it are not
         * taken for [sec]'s (no duplicate-key error, no silent override). */
        free(long_value);
        long_value = repeat('d', 230);
        ASSERT_TRUE(asprintf(&text, "[sec]\nb = true\n[[\"/%s/\"]]\nb = false\n", long_value) >= 0);
        ASSERT_INT_EQ(parse(text, &doc, &errors), 1);
        ASSERT_STREQ(errors.messages[0], "t.toml:3: line too long (238 characters, at most 198)");
        ASSERT_TRUE(config_table_get_bool(config_document_section(&doc, "sec"), "b", false));
        config_document_done(&doc);
        config_errors_done(&errors);
        free(text);

        /* Escaping ';' for inih must not overflow its buffer silently either. */
        ASSERT_TRUE(asprintf(&text, "[sec]\ns = \"%s\"\n", semis) >= 0);
        ASSERT_INT_EQ(parse(text, &doc, &errors), 1);
        ASSERT_STREQ(errors.messages[0],
                     "t.toml:2: line too long once ';' and control characters are escaped (at most 199 characters)");
}

TEST(reader_recovers) {
        _cleanup_(config_document_done) ConfigDocument doc = {};
        _cleanup_(config_errors_done) ConfigErrors errors = {};
        _cleanup_free_ char *many = NULL;
        size_t size = 0;
        FILE *f;

        /* Every error is reported with its own line; keys under a rejected header
         * are not reported again. */
        ASSERT_INT_EQ(parse("[sec]\n"
                            "b = yes\n"
                            "i = 1\n"
                            "[unknown]\n"
                            "whatever = 1\n"
                            "also = \"x\"\n"
                            "[[arr]]\n"
                            "name = 'x'\n"
                            "name = \"ok\"\n",
                            &doc, &errors), 3);
        ASSERT_STREQ(errors.messages[0], "t.toml:2: invalid value 'yes' (strings must be in \"double quotes\")");
        ASSERT_CONTAINS(errors.messages[1], "t.toml:4: unknown section [unknown]");
        ASSERT_STREQ(errors.messages[2], "t.toml:8: single-quoted strings are not supported; use \"double quotes\"");
        ASSERT_TRUE(doc.tables[0].has_errors);
        ASSERT_INT_EQ(config_table_get(&doc.tables[0], "i")->integer, 1);
        ASSERT_STREQ(config_table_get_string(&doc.tables[1], "name"), "ok");
        config_document_done(&doc);
        config_errors_done(&errors);

        /* The rest of a multi-line array is skipped, once reported. */
        ASSERT_INT_EQ(parse("[sec]\n"
                            "v = [\n"
                            "  \"a\",  # first\n"
                            "\n"
                            "  \"b]\", \"c\"\n"
                            "]\n"
                            "bogus = 1\n"
                            "b = true\n",
                            &doc, &errors), 2);
        ASSERT_STREQ(errors.messages[0],
                     "t.toml:2: multi-line arrays are not supported (close the array with ']' on the same line)");
        ASSERT_STREQ(errors.messages[1], "t.toml:7: unknown key 'bogus' in [sec]");
        ASSERT_INT_EQ(config_table_get(&doc.tables[0], "b")->line, 8);
        config_document_done(&doc);
        config_errors_done(&errors);

        /* A file of garbage stops after CONFIG_ERRORS_MAX errors. */
        f = open_memstream(&many, &size);
        ASSERT_NOT_NULL(f);
        for (int i = 0; i < 500; i++)
                fputs("garbage\n", f);
        ASSERT_INT_EQ(fclose(f), 0);
        ASSERT_INT_EQ(parse(many, &doc, &errors), CONFIG_ERRORS_MAX + 1);
        ASSERT_STREQ(errors.messages[CONFIG_ERRORS_MAX], "t.toml: too many errors; the rest of the file was not read");
}

TEST(reader_bounds) {
        _cleanup_(config_document_done) ConfigDocument doc = {};
        _cleanup_(config_errors_done) ConfigErrors errors = {};
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&text, &size);
        ASSERT_NOT_NULL(f);
        for (int i = 0; i < CONFIG_TABLES_MAX + 1; i++)
                fputs("[[arr]]\n", f);
        ASSERT_INT_EQ(fclose(f), 0);
        ASSERT_INT_EQ(parse(text, &doc, &errors), 1);
        ASSERT_INT_EQ(doc.n_tables, CONFIG_TABLES_MAX);
        ASSERT_STREQ(errors.messages[0], "t.toml:1001: too many tables (at most 1000)");
}

/* Random lines must give errors, never an internal error or a crash. */
TEST(reader_random_lines) {
        static const char alphabet[] = "[]\"'#;=,. \t\\u0123abcdefsvibz{}-+:/\n";
        unsigned seed = 12345;

        for (int round = 0; round < 3000; round++) {
                _cleanup_(config_document_done) ConfigDocument doc = {};
                _cleanup_(config_errors_done) ConfigErrors errors = {};
                char text[400];
                size_t n = (size_t) (rand_r(&seed) % (sizeof(text) - 10));

                memcpy(text, "[sec]\n", 6);
                for (size_t i = 6; i < n + 6; i++)
                        text[i] = alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
                text[n + 6] = '\0';

                ASSERT_OK(config_document_parse("t.toml", text, strlen(text), test_schema, &doc, &errors));
                ASSERT_INT_EQ(doc.n_errors, errors.n);
                if (has_error_containing(&errors, "internal error")) {
                        fprintf(stderr, "input:\n%s\n", text);
                        dump_errors(&errors);
                        FAIL_AT("internal error");
                }
        }
}

TEST(parse_helpers) {
        uint64_t size;
        unsigned pct;

        ASSERT_OK(parse_size("1048576", &size));
        ASSERT_INT_EQ(size, 1048576);
        ASSERT_OK(parse_size("512K", &size));
        ASSERT_INT_EQ(size, 512 * 1024);
        ASSERT_OK(parse_size("256M", &size));
        ASSERT_INT_EQ(size, UINT64_C(256) << 20);
        ASSERT_OK(parse_size("1G", &size));
        ASSERT_INT_EQ(size, UINT64_C(1) << 30);
        ASSERT_OK(parse_size("0", &size));
        ASSERT_INT_EQ(size, 0);
        ASSERT_INT_EQ(parse_size("", &size), -EINVAL);
        ASSERT_INT_EQ(parse_size("-1", &size), -EINVAL);
        ASSERT_INT_EQ(parse_size(" 1", &size), -EINVAL);
        ASSERT_INT_EQ(parse_size("1KB", &size), -EINVAL);
        ASSERT_INT_EQ(parse_size("1k", &size), -EINVAL);
        ASSERT_INT_EQ(parse_size("1.5G", &size), -EINVAL);
        ASSERT_INT_EQ(parse_size("99999999999999999999", &size), -ERANGE);
        ASSERT_INT_EQ(parse_size("17179869184G", &size), -ERANGE);

        ASSERT_OK(parse_percent("50%", &pct));
        ASSERT_INT_EQ(pct, 50);
        ASSERT_OK(parse_percent("400%", &pct));
        ASSERT_INT_EQ(pct, 400);
        ASSERT_INT_EQ(parse_percent("50", &pct), -EINVAL);
        ASSERT_INT_EQ(parse_percent("%", &pct), -EINVAL);
        ASSERT_INT_EQ(parse_percent("-5%", &pct), -EINVAL);
        ASSERT_INT_EQ(parse_percent("5%%", &pct), -EINVAL);
        ASSERT_INT_EQ(parse_percent("99999999999%", &pct), -ERANGE);
}

TEST(document_files) {
        _cleanup_(config_document_done) ConfigDocument doc = {};
        _cleanup_(config_errors_done) ConfigErrors errors = {};
        const char *dir = new_config_dir();
        _cleanup_free_ char *big = repeat('#', CONFIG_FILE_MAX + 1), *path = file_path(dir, "big.toml"),
                *missing = file_path(dir, "missing.toml"), *sub = file_path(dir, "integrations");

        ASSERT_INT_EQ(config_document_load(missing, test_schema, &doc, &errors), -ENOENT);
        ASSERT_INT_EQ(errors.n, 0);

        ASSERT_INT_EQ(config_document_load(sub, test_schema, &doc, &errors), -EISDIR);
        ASSERT_INT_EQ(errors.n, 1);
        ASSERT_CONTAINS(errors.messages[0], "/integrations: not a regular file");

        write_file(dir, "big.toml", big);
        ASSERT_INT_EQ(config_document_load(path, test_schema, &doc, &errors), -EFBIG);
        ASSERT_INT_EQ(errors.n, 2);
        ASSERT_CONTAINS(errors.messages[1], "/big.toml: file too large (more than 1048576 bytes)");

        /* Exactly the limit is fine. */
        big[CONFIG_FILE_MAX] = '\0';
        write_file(dir, "big.toml", big);
        ASSERT_OK(config_document_load(path, test_schema, &doc, &errors));
        ASSERT_INT_EQ(doc.n_errors, 1);      /* it is one very long comment line */
}

/* ---- tailkitd.conf ---- */

TEST(daemon_defaults) {
        _cleanup_(daemon_config_done) DaemonConfig c = {};
        _cleanup_(config_errors_done) ConfigErrors errors = {};
        const char *dir = new_config_dir();

        ASSERT_OK(daemon_config_load(dir, &c, &errors));
        ASSERT_INT_EQ(errors.n, 0);
        ASSERT_STREQ(c.tailscale_socket, DEFAULT_TAILSCALE_SOCKET);
        ASSERT_INT_EQ(c.n_cap_domains, 1);
        ASSERT_STREQ(c.cap_domains[0], "tailscale.com");
        ASSERT_INT_EQ(c.idle_timeout_sec, DEFAULT_IDLE_TIMEOUT_SEC);
        ASSERT_INT_EQ(c.exec.memory_max, UINT64_C(512) << 20);
        ASSERT_INT_EQ(c.exec.tasks_max, 64);
        ASSERT_INT_EQ(c.exec.cpu_quota_percent, 100);
        ASSERT_INT_EQ(c.exec.max_jobs, 16);
        ASSERT_INT_EQ(c.exec.output_max, 1 << 20);
        daemon_config_done(&c);

        /* A file with only some keys keeps the other defaults. */
        write_file(dir, "tailkitd.conf", "[exec]\nmax_jobs = 4\n[server]\nidle_timeout = 0  # never exit\n");
        ASSERT_OK(daemon_config_load(dir, &c, &errors));
        ASSERT_INT_EQ(c.exec.max_jobs, 4);
        ASSERT_INT_EQ(c.exec.tasks_max, 64);
        ASSERT_INT_EQ(c.idle_timeout_sec, 0);
        ASSERT_STREQ(c.tailscale_socket, DEFAULT_TAILSCALE_SOCKET);
}

TEST(daemon_full) {
        _cleanup_(daemon_config_done) DaemonConfig c = {};
        _cleanup_(config_errors_done) ConfigErrors errors = {};
        const char *dir = new_config_dir();

        write_file(dir, "tailkitd.conf",
                   "[tailscale]\n"
                   "socket = \"/run/ts/tailscaled.sock\"\n"
                   "\n"
                   "[caps]\n"
                   "domains = [\"example.com\", \"tailscale.com\", \"corp.example.org\", \"Example.com\"]\n"
                   "\n"
                   "[server]\n"
                   "idle_timeout = 120\n"
                   "request_timeout = 10\n"
                   "min_upload_rate = \"1M\"\n"
                   "\n"
                   "[exec]\n"
                   "memory_max = \"256M\"\n"
                   "tasks_max  = 32\n"
                   "cpu_quota  = \"50%\"\n"
                   "max_jobs   = 8\n"
                   "output_max = 65536\n");
        ASSERT_OK(daemon_config_load(dir, &c, &errors));
        ASSERT_INT_EQ(errors.n, 0);
        ASSERT_STREQ(c.tailscale_socket, "/run/ts/tailscaled.sock");
        ASSERT_INT_EQ(c.n_cap_domains, 3);
        ASSERT_STREQ(c.cap_domains[0], "tailscale.com");
        ASSERT_STREQ(c.cap_domains[1], "example.com");
        ASSERT_STREQ(c.cap_domains[2], "corp.example.org");
        ASSERT_INT_EQ(c.idle_timeout_sec, 120);
        ASSERT_INT_EQ(c.request_timeout_sec, 10);
        ASSERT_INT_EQ(c.min_upload_rate, UINT64_C(1) << 20);
        ASSERT_INT_EQ(c.exec.memory_max, UINT64_C(256) << 20);
        ASSERT_INT_EQ(c.exec.tasks_max, 32);
        ASSERT_INT_EQ(c.exec.cpu_quota_percent, 50);
        ASSERT_INT_EQ(c.exec.max_jobs, 8);
        ASSERT_INT_EQ(c.exec.output_max, 65536);
}

TEST(daemon_request_deadline_errors) {
        _cleanup_(daemon_config_done) DaemonConfig c = {};
        _cleanup_(config_errors_done) ConfigErrors errors = {};
        const char *dir = new_config_dir();

        write_file(dir, "tailkitd.conf", "[server]\nrequest_timeout = 0\nmin_upload_rate = 0\n");
        ASSERT_INT_EQ(daemon_config_load(dir, &c, &errors), -EINVAL);
        ASSERT_INT_EQ(c.request_timeout_sec, DEFAULT_REQUEST_TIMEOUT_SEC);
        ASSERT_INT_EQ(c.min_upload_rate, DEFAULT_MIN_UPLOAD_RATE);
        assert_error(&errors, dir, "tailkitd.conf", "2: 'request_timeout' must be a number of seconds from 1 to 3600");
        assert_error(&errors, dir, "tailkitd.conf",
                     "3: 'min_upload_rate' must be a positive number of bytes per second (\"16K\")");
}

TEST(daemon_errors) {
        _cleanup_(daemon_config_done) DaemonConfig c = {};
        _cleanup_(config_errors_done) ConfigErrors errors = {};
        const char *dir = new_config_dir();

        write_file(dir, "tailkitd.conf",
                   "[tailscale]\n"
                   "socket = \"relative.sock\"\n"
                   "[caps]\n"
                   "domains = [\"https://example.com\", \"example.com/x\", \"\", \"a..b\", \"ok.example\"]\n"
                   "[server]\n"
                   "idle_timeout = -1\n"
                   "[exec]\n"
                   "memory_max = \"0\"\n"
                   "tasks_max = 0\n"
                   "cpu_quota = \"0%\"\n"
                   "max_jobs = 100000\n"
                   "output_max = \"2G\"\n"
                   "[extra]\n");
        /* (request_timeout and min_upload_rate: their own test below.) */
        ASSERT_INT_EQ(daemon_config_load(dir, &c, &errors), -EINVAL);
        /* The caller keeps running on the defaults, none of the bad values. */
        ASSERT_STREQ(c.tailscale_socket, DEFAULT_TAILSCALE_SOCKET);
        ASSERT_INT_EQ(c.n_cap_domains, 1);
        ASSERT_INT_EQ(c.idle_timeout_sec, DEFAULT_IDLE_TIMEOUT_SEC);
        ASSERT_INT_EQ(c.request_timeout_sec, DEFAULT_REQUEST_TIMEOUT_SEC);
        ASSERT_INT_EQ(c.min_upload_rate, DEFAULT_MIN_UPLOAD_RATE);
        ASSERT_INT_EQ(c.exec.max_jobs, 16);
        assert_error(&errors, dir, "tailkitd.conf", "2: 'socket' must be an absolute path");
        assert_error(&errors, dir, "tailkitd.conf",
                     "4: 'domains' entry \"https://example.com\" is not a plain domain name like example.com "
                     "(letters, digits, dots and dashes; no scheme, no slash)");
        ASSERT_TRUE(has_error_containing(&errors, "'domains' entry \"example.com/x\""));
        ASSERT_TRUE(has_error_containing(&errors, "'domains' entry \"\""));
        ASSERT_TRUE(has_error_containing(&errors, "'domains' entry \"a..b\""));
        assert_error(&errors, dir, "tailkitd.conf", "6: 'idle_timeout' must be a number of seconds, or 0 to never exit when idle");
        assert_error(&errors, dir, "tailkitd.conf", "8: 'memory_max' must be greater than 0");
        assert_error(&errors, dir, "tailkitd.conf", "9: 'tasks_max' must be a positive integer");
        assert_error(&errors, dir, "tailkitd.conf", "10: 'cpu_quota' must be greater than 0%");
        assert_error(&errors, dir, "tailkitd.conf", "11: 'max_jobs' must be between 1 and 4096");
        assert_error(&errors, dir, "tailkitd.conf", "12: 'output_max' must be between 1 and 1G");
        assert_error(&errors, dir, "tailkitd.conf",
                     "13: unknown section [extra]; expected [tailscale], [caps], [server], [exec]");
        ASSERT_INT_EQ(errors.n, 12);
        config_errors_done(&errors);
        daemon_config_done(&c);

        write_file(dir, "tailkitd.conf", "[exec]\ncpu_quota = 50\nmemory_max = \"lots\"\n");
        ASSERT_INT_EQ(daemon_config_load(dir, &c, &errors), -EINVAL);
        assert_error(&errors, dir, "tailkitd.conf", "2: 'cpu_quota' must be a percentage string like \"50%\"");
        assert_error(&errors, dir, "tailkitd.conf",
                     "3: 'memory_max' must be a size: a number of bytes, or a string like \"512K\", \"256M\", \"1G\"");
}

/* ---- vars.toml ---- */

TEST(vars_forms) {
        _cleanup_(vars_config_done) VarsConfig c = {};
        _cleanup_(config_errors_done) ConfigErrors errors = {};
        const char *dir = new_config_dir();

        write_file(dir, "vars.toml",
                   "[[scope]]\n"
                   "project = \"myapp\"\n"
                   "read    = true\n"
                   "write   = true\n"
                   "\n"
                   "[[scope]]\n"
                   "project = \"monitoring\"\n"
                   "read    = true\n"
                   "write   = false\n"
                   "\n"
                   "[[scope]]\n"
                   "project = \"myapp\"\n"
                   "env     = \"prod\"\n"
                   "allow   = [\"read\"]\n"
                   "\n"
                   "[[scope]]\n"
                   "project = \"0-tools_x\"\n");
        ASSERT_OK(vars_config_load(dir, &c, &errors));
        ASSERT_INT_EQ(errors.n, 0);
        ASSERT_INT_EQ(c.n_scopes, 4);
        ASSERT_STREQ(c.scopes[0].project, "myapp");
        ASSERT_NULL(c.scopes[0].env);
        ASSERT_TRUE(c.scopes[0].read && c.scopes[0].write);
        ASSERT_STREQ(c.scopes[1].project, "monitoring");
        ASSERT_TRUE(c.scopes[1].read);
        ASSERT_FALSE(c.scopes[1].write);
        ASSERT_INT_EQ(c.scopes[1].line, 6);
        ASSERT_STREQ(c.scopes[2].project, "myapp");
        ASSERT_STREQ(c.scopes[2].env, "prod");
        ASSERT_TRUE(c.scopes[2].read);
        ASSERT_FALSE(c.scopes[2].write);
        ASSERT_FALSE(c.scopes[3].read || c.scopes[3].write);
        vars_config_done(&c);

        write_file(dir, "vars.toml", "");
        ASSERT_OK(vars_config_load(dir, &c, &errors));
        ASSERT_INT_EQ(c.n_scopes, 0);
}

TEST(vars_errors) {
        _cleanup_(vars_config_done) VarsConfig c = {};
        _cleanup_(config_errors_done) ConfigErrors errors = {};
        const char *dir = new_config_dir();
        _cleanup_free_ char *text = NULL, *long_name = repeat('a', 65);

        ASSERT_TRUE(asprintf(&text,
                             "[[scope]]\n"                      /* 1 */
                             "project = \"myapp\"\n"
                             "read = true\n"
                             "allow = [\"write\"]\n"            /* 4: mixed */
                             "[[scope]]\n"                      /* 5 */
                             "project = \"MyApp\"\n"            /* 6 */
                             "[[scope]]\n"                      /* 7 */
                             "project = \"%s\"\n"               /* 8 */
                             "[[scope]]\n"                      /* 9 */
                             "read = true\n"
                             "[[scope]]\n"                      /* 11 */
                             "project = \"a\"\n"
                             "env = \"prod\"\n"
                             "[[scope]]\n"                      /* 14 */
                             "project = \"a\"\n"
                             "env = \"prod\"\n"
                             "allow = [\"read\"]\n"
                             "[[scope]]\n"                      /* 18 */
                             "project = \"a\"\n"
                             "env = \"-x\"\n"                   /* 20 */
                             "allow = [\"delete\"]\n"           /* 21 */
                             "[scope]\n"                        /* 22 */
                             "[[scope]]\n"                      /* 23 */
                             "project = \"b\"\n"
                             "[[scope]]\n"                      /* 25 */
                             "project = \"b\"\n",
                             long_name) >= 0);
        write_file(dir, "vars.toml", text);
        ASSERT_INT_EQ(vars_config_load(dir, &c, &errors), -EINVAL);
        assert_error(&errors, dir, "vars.toml",
                     "4: 'allow' cannot be combined with 'read'/'write' in one [[scope]]; use one form");
        assert_error(&errors, dir, "vars.toml",
                     "6: 'project' \"MyApp\" must be lower-case letters, digits, '_' and '-', starting with a letter "
                     "or digit (at most 64 characters)");
        ASSERT_TRUE(has_error_containing(&errors, "vars.toml:8: 'project' \"aaaa"));
        assert_error(&errors, dir, "vars.toml", "9: [[scope]] needs 'project'");
        assert_error(&errors, dir, "vars.toml", "14: duplicate scope for project \"a\" env \"prod\" (first at line 11)");
        ASSERT_TRUE(has_error_containing(&errors, "vars.toml:20: 'env' \"-x\" must be lower-case"));
        assert_error(&errors, dir, "vars.toml", "21: 'allow' has unknown value \"delete\"; valid values are: read, write");
        assert_error(&errors, dir, "vars.toml", "22: 'scope' is an array of tables; write [[scope]]");
        assert_error(&errors, dir, "vars.toml", "25: duplicate scope for project \"b\" (first at line 23)");
        ASSERT_INT_EQ(errors.n, 9);
}

/* ---- --check-config ---- */

TEST(check_all) {
        _cleanup_(config_errors_done) ConfigErrors errors = {};
        const char *dir = new_config_dir();

        /* Nothing configured: nothing wrong. */
        ASSERT_INT_EQ(config_check_all(dir, &errors), 0);
        ASSERT_INT_EQ(errors.n, 0);

        write_file(dir, "tailkitd.conf", "[server]\nidle_timeout = \"30s\"\n");
        write_file(dir, "files.toml", "[[\"/opt/\"]]\nread = true\n");
        write_file(dir, "vars.toml", "[[scope]]\nproject = \"x\"\nwrite = maybe\n");
        ASSERT_INT_EQ(config_check_all(dir, &errors), 2);
        assert_error(&errors, dir, "tailkitd.conf", "2: 'idle_timeout' must be an integer");
        assert_error(&errors, dir, "vars.toml", "3: invalid value 'maybe' (strings must be in \"double quotes\")");
        ASSERT_INT_EQ(errors.n, 2);
        config_errors_done(&errors);

        /* An unreadable file counts as invalid too (a directory here, since tests may run as root). */
        write_file(dir, "tailkitd.conf", "");
        {
                _cleanup_free_ char *p = file_path(dir, "vars.toml");
                ASSERT_OK(unlink(p));
                ASSERT_OK(mkdir(p, 0755));
        }
        ASSERT_INT_EQ(config_check_all(dir, &errors), 1);
        ASSERT_TRUE(has_error_containing(&errors, "vars.toml: not a regular file"));
}

int main(void) {
        RUN(reader_constructs);
        RUN(reader_values);
        RUN(reader_errors);
        RUN(reader_nul_byte);
        RUN(reader_long_lines);
        RUN(reader_recovers);
        RUN(reader_bounds);
        RUN(reader_random_lines);
        RUN(parse_helpers);
        RUN(document_files);
        RUN(daemon_defaults);
        RUN(daemon_full);
        RUN(daemon_errors);
        RUN(daemon_request_deadline_errors);
        RUN(vars_forms);
        RUN(vars_errors);
        RUN(check_all);
        remove_dirs();
        return 0;
}
