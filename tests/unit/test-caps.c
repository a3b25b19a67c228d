/* SPDX-License-Identifier: MIT */
/* Tailscale app-capability evaluation (caps.c), against tailscale-localapi.md §3. */

#include <errno.h>

#include <json-c/json.h>

#include "caps.h"
#include "tests.h"

/* Parses literal JSON; "null" gives NULL (json-c's representation of null). */
static json_object *parse(const char *s) {
        enum json_tokener_error err = json_tokener_success;
        json_object *o = json_tokener_parse_verbose(s, &err);

        if (err != json_tokener_success)
                FAIL_AT("test JSON does not parse: %s: %s", s, json_tokener_error_desc(err));
        return o;
}

/* cap_value_allows on a literal value. */
static int value_allows(const char *json, CapAccess access) {
        json_object *v = parse(json);
        int r = cap_value_allows(v, access);

        json_object_put(v);
        return r;
}

static char *const default_domains[] = { (char *) "tailscale.com" };
static char *const custom_domains[] = { (char *) "tailscale.com", (char *) "example.com" };

/* caps_allow on a literal CapMap with the default domain list. */
static bool map_allows(const char *capmap, const char *feature, CapAccess access) {
        json_object *m = parse(capmap);
        bool r = caps_allow(m, default_domains, 1, feature, access, NULL);

        json_object_put(m);
        return r;
}

TEST(single_grant) {
        ASSERT_INT_EQ(value_allows("[{\"read\":true}]", CAP_READ), 1);
        ASSERT_INT_EQ(value_allows("[{\"read\":true}]", CAP_WRITE), 0);
        ASSERT_INT_EQ(value_allows("[{\"write\":true}]", CAP_WRITE), 1);
        /* write does not imply read (SPEC §1.3 checks the flag of the kind). */
        ASSERT_INT_EQ(value_allows("[{\"write\":true}]", CAP_READ), 0);
        ASSERT_INT_EQ(value_allows("[{\"read\":true,\"write\":true}]", CAP_READ), 1);
        ASSERT_INT_EQ(value_allows("[{\"read\":true,\"write\":true}]", CAP_WRITE), 1);
        ASSERT_INT_EQ(value_allows("[{\"read\":false,\"write\":false}]", CAP_READ), 0);
        ASSERT_INT_EQ(value_allows("[{\"read\":false,\"write\":false}]", CAP_WRITE), 0);
        ASSERT_INT_EQ(value_allows("[{}]", CAP_READ), 0);
        ASSERT_INT_EQ(value_allows("[{}]", CAP_WRITE), 0);
        /* A JSON null flag is Go's zero value: false, not an error. */
        ASSERT_INT_EQ(value_allows("[{\"read\":null}]", CAP_READ), 0);
        ASSERT_INT_EQ(value_allows("[{\"read\":null},{\"read\":true}]", CAP_READ), 1);
}

TEST(concatenated_grants) {
        /* Two grants' arrays concatenated: each element is evaluated alone, ORed. */
        const char *v = "[{\"read\":true},{\"write\":true}]";

        ASSERT_INT_EQ(value_allows(v, CAP_READ), 1);
        ASSERT_INT_EQ(value_allows(v, CAP_WRITE), 1);
        ASSERT_INT_EQ(value_allows("[{\"read\":true},{\"write\":false}]", CAP_WRITE), 0);
        ASSERT_INT_EQ(value_allows("[{\"write\":false},{\"read\":false},{\"write\":true}]", CAP_WRITE), 1);
}

TEST(order_and_duplicates) {
        static const char *const allow_write[] = {
                "[{\"read\":true},{\"write\":true}]",
                "[{\"write\":true},{\"read\":true}]",
                "[{\"write\":true},{\"write\":true}]",
                "[{\"read\":true},{\"read\":true},{\"write\":true},{\"write\":true}]",
                "[{\"write\":false},{\"write\":true},{\"write\":false}]",
                "[{\"write\":true},{\"write\":false},{\"write\":false}]",
                "[{\"write\":false},{\"write\":false},{\"write\":true}]",
                "[null,{\"write\":true}]",
                "[{\"write\":true},null]",
        };
        static const char *const deny_write[] = {
                "[{\"read\":true},{\"read\":true}]",
                "[{\"write\":false},{\"write\":false}]",
                "[{\"write\":false},{\"read\":true}]",
                "[{\"read\":true},{\"write\":false}]",
        };

        for (size_t i = 0; i < sizeof(allow_write) / sizeof(allow_write[0]); i++) {
                fprintf(stderr, "   %s\n", allow_write[i]);
                ASSERT_INT_EQ(value_allows(allow_write[i], CAP_WRITE), 1);
        }
        for (size_t i = 0; i < sizeof(deny_write) / sizeof(deny_write[0]); i++) {
                fprintf(stderr, "   %s\n", deny_write[i]);
                ASSERT_INT_EQ(value_allows(deny_write[i], CAP_WRITE), 0);
        }
}

TEST(empty_and_null) {
        /* Absent value, JSON null value, empty array, null elements: present
         * without parameters, which grants nothing. */
        ASSERT_INT_EQ(cap_value_allows(NULL, CAP_READ), 0);
        ASSERT_INT_EQ(cap_value_allows(NULL, CAP_WRITE), 0);
        ASSERT_INT_EQ(value_allows("null", CAP_READ), 0);
        ASSERT_INT_EQ(value_allows("[]", CAP_READ), 0);
        ASSERT_INT_EQ(value_allows("[]", CAP_WRITE), 0);
        ASSERT_INT_EQ(value_allows("[null]", CAP_READ), 0);
        ASSERT_INT_EQ(value_allows("[null,null]", CAP_WRITE), 0);
}

TEST(non_object_element_denies_all) {
        static const char *const bad[] = {
                "[\"read\"]",
                "[42]",
                "[true]",
                "[[{\"read\":true}]]",
                "[\"x\",{\"read\":true}]",
                "[{\"read\":true},\"x\"]",
                "[{\"read\":true},1]",
                "[1.5,{\"read\":true}]",
                "[{\"read\":true},[]]",
                "[{\"read\":true},{\"write\":true},false]",
                "[{\"read\":true},null,[{\"read\":true}]]",
        };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                fprintf(stderr, "   %s\n", bad[i]);
                ASSERT_INT_EQ(value_allows(bad[i], CAP_READ), -EBADMSG);
                ASSERT_INT_EQ(value_allows(bad[i], CAP_WRITE), -EBADMSG);
        }

        /* The value itself must be an array. */
        ASSERT_INT_EQ(value_allows("{\"read\":true}", CAP_READ), -EBADMSG);
        ASSERT_INT_EQ(value_allows("\"read\"", CAP_READ), -EBADMSG);
        ASSERT_INT_EQ(value_allows("true", CAP_READ), -EBADMSG);
        ASSERT_INT_EQ(value_allows("1", CAP_READ), -EBADMSG);

        /* And through caps_allow: the malformed cap denies. */
        ASSERT_FALSE(map_allows("{\"tailscale.com/cap/tailkitd-tools\":[{\"read\":true},\"x\"]}",
                                "tools", CAP_READ));
        ASSERT_FALSE(map_allows("{\"tailscale.com/cap/tailkitd-tools\":{\"read\":true}}",
                                "tools", CAP_READ));
}

TEST(wrong_flag_type) {
        static const char *const bad[] = {
                "[{\"read\":\"yes\"}]",
                "[{\"read\":\"true\"}]",
                "[{\"read\":1}]",
                "[{\"read\":{}}]",
                "[{\"read\":[true]}]",
                "[{\"write\":\"yes\"},{\"read\":true}]",
                "[{\"read\":true},{\"write\":0}]",
                /* A wrong-typed field fails Go's Unmarshal even when it is
                 * not the flag being asked about. */
                "[{\"read\":true,\"write\":\"no\"}]",
        };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                fprintf(stderr, "   %s\n", bad[i]);
                ASSERT_INT_EQ(value_allows(bad[i], CAP_READ), -EBADMSG);
                ASSERT_INT_EQ(value_allows(bad[i], CAP_WRITE), -EBADMSG);
        }
        ASSERT_FALSE(map_allows("{\"tailscale.com/cap/tailkitd-vars\":[{\"read\":\"yes\"}]}",
                                "vars", CAP_READ));
}

TEST(case_insensitive_keys) {
        ASSERT_INT_EQ(value_allows("[{\"Read\":true}]", CAP_READ), 1);
        ASSERT_INT_EQ(value_allows("[{\"READ\":true}]", CAP_READ), 1);
        ASSERT_INT_EQ(value_allows("[{\"wRiTe\":true}]", CAP_WRITE), 1);
        ASSERT_INT_EQ(value_allows("[{\"Write\":true}]", CAP_READ), 0);
        ASSERT_INT_EQ(value_allows("[{\"Read\":\"yes\"}]", CAP_READ), -EBADMSG);
        ASSERT_TRUE(map_allows("{\"tailscale.com/cap/tailkitd-files\":[{\"Write\":true}]}",
                               "files", CAP_WRITE));
}

TEST(unknown_keys_ignored) {
        ASSERT_INT_EQ(value_allows("[{\"paths\":[\"/ci/*\"],\"write\":true}]", CAP_WRITE), 1);
        ASSERT_INT_EQ(value_allows("[{\"admin\":true}]", CAP_READ), 0);
        ASSERT_INT_EQ(value_allows("[{\"admin\":true}]", CAP_WRITE), 0);
        /* Unknown keys of any type, including odd ones, do not matter. */
        ASSERT_INT_EQ(value_allows("[{\"x\":\"yes\",\"n\":1,\"o\":{\"read\":\"no\"},\"a\":[1],\"z\":null,"
                                   "\"read\":true}]", CAP_READ), 1);
        ASSERT_INT_EQ(value_allows("[{\"readonly\":true}]", CAP_READ), 0);
        ASSERT_INT_EQ(value_allows("[{\"reads\":\"x\",\"read\":true}]", CAP_READ), 1);
}

TEST(escaped_strings_in_values) {
        /* Go HTML-escapes < > & inside cap values; that must not matter. */
        ASSERT_INT_EQ(value_allows("[{\"note\":\"\\u003cb\\u003e \\u0026 \\u2028\",\"read\":true}]", CAP_READ), 1);
        ASSERT_INT_EQ(value_allows("[{\"paths\":[\"/a\\u003cb\"],\"write\":true}]", CAP_WRITE), 1);
        ASSERT_TRUE(map_allows("{\"tailscale.com/cap/tailkitd-files\":"
                               "[{\"paths\":[\"\\u003c\\u003e\"],\"read\":true}]}",
                               "files", CAP_READ));
}

TEST(cap_none_always_allowed) {
        json_object *m = parse("{}");

        ASSERT_TRUE(caps_allow(NULL, default_domains, 1, "tools", CAP_NONE, NULL));
        ASSERT_TRUE(caps_allow(m, default_domains, 1, "tools", CAP_NONE, NULL));
        ASSERT_TRUE(caps_allow(m, NULL, 0, "tools", CAP_NONE, NULL));
        ASSERT_FALSE(caps_allow(m, default_domains, 1, "tools", CAP_READ, NULL));
        json_object_put(m);
}

TEST(caps_allow_basic) {
        const char *map = "{"
                "\"tailscale.com/cap/tailkitd-tools\":[{\"read\":true}],"
                "\"tailscale.com/cap/tailkitd-exec\":[{\"read\":true},{\"write\":true}],"
                "\"https://tailscale.com/cap/file-send\":null"
                "}";

        ASSERT_TRUE(map_allows(map, "tools", CAP_READ));
        ASSERT_FALSE(map_allows(map, "tools", CAP_WRITE));
        ASSERT_TRUE(map_allows(map, "exec", CAP_READ));
        ASSERT_TRUE(map_allows(map, "exec", CAP_WRITE));
        ASSERT_FALSE(map_allows(map, "files", CAP_READ));
        ASSERT_FALSE(map_allows(map, "vars", CAP_WRITE));
        /* No prefix matching: "tool" is not "tools". */
        ASSERT_FALSE(map_allows(map, "tool", CAP_READ));

        /* Null cap value, [] and null elements deny. */
        ASSERT_FALSE(map_allows("{\"tailscale.com/cap/tailkitd-tools\":null}", "tools", CAP_READ));
        ASSERT_FALSE(map_allows("{\"tailscale.com/cap/tailkitd-tools\":[]}", "tools", CAP_READ));
        ASSERT_FALSE(map_allows("{\"tailscale.com/cap/tailkitd-tools\":[null]}", "tools", CAP_READ));

        /* The example.com-only cap is not honoured with the default list. */
        ASSERT_FALSE(map_allows("{\"example.com/cap/tailkitd-tools\":[{\"read\":true}]}", "tools", CAP_READ));
}

TEST(capmap_null_or_absent) {
        json_object *m;

        ASSERT_FALSE(caps_allow(NULL, default_domains, 1, "tools", CAP_READ, NULL));
        ASSERT_FALSE(caps_allow(NULL, default_domains, 1, "tools", CAP_WRITE, NULL));
        m = parse("{}");
        ASSERT_FALSE(caps_allow(m, default_domains, 1, "tools", CAP_READ, NULL));
        json_object_put(m);
        /* A CapMap that is not an object (malformed) denies. */
        m = parse("[{\"read\":true}]");
        ASSERT_FALSE(caps_allow(m, default_domains, 1, "tools", CAP_READ, NULL));
        json_object_put(m);
        /* No domains at all: nothing can match. */
        m = parse("{\"tailscale.com/cap/tailkitd-tools\":[{\"read\":true}]}");
        ASSERT_FALSE(caps_allow(m, NULL, 0, "tools", CAP_READ, NULL));
        json_object_put(m);
}

TEST(custom_domains) {
        json_object *only_example = parse("{\"example.com/cap/tailkitd-vars\":[{\"read\":true,\"write\":true}]}");
        json_object *both = parse("{"
                "\"example.com/cap/tailkitd-vars\":[{\"write\":true}],"
                "\"tailscale.com/cap/tailkitd-vars\":[{\"read\":true}]"
                "}");
        json_object *one_bad = parse("{"
                "\"example.com/cap/tailkitd-vars\":[{\"write\":\"yes\"}],"
                "\"tailscale.com/cap/tailkitd-vars\":[{\"read\":true}]"
                "}");
        char *const only_tailscale[] = { (char *) "tailscale.com" };
        char *const other[] = { (char *) "tailscale.com", (char *) "example.org" };
        char *const example_first[] = { (char *) "example.com", (char *) "tailscale.com" };

        ASSERT_TRUE(caps_allow(only_example, custom_domains, 2, "vars", CAP_READ, NULL));
        ASSERT_TRUE(caps_allow(only_example, custom_domains, 2, "vars", CAP_WRITE, NULL));
        ASSERT_TRUE(caps_allow(only_example, example_first, 2, "vars", CAP_WRITE, NULL));
        ASSERT_FALSE(caps_allow(only_example, only_tailscale, 1, "vars", CAP_READ, NULL));
        ASSERT_FALSE(caps_allow(only_example, other, 2, "vars", CAP_READ, NULL));
        ASSERT_FALSE(caps_allow(only_example, custom_domains, 2, "files", CAP_READ, NULL));

        /* Caps under several accepted domains are ORed. */
        ASSERT_TRUE(caps_allow(both, custom_domains, 2, "vars", CAP_READ, NULL));
        ASSERT_TRUE(caps_allow(both, custom_domains, 2, "vars", CAP_WRITE, NULL));
        ASSERT_TRUE(caps_allow(both, only_tailscale, 1, "vars", CAP_READ, NULL));
        ASSERT_FALSE(caps_allow(both, only_tailscale, 1, "vars", CAP_WRITE, NULL));

        /* A malformed cap under one domain does not poison a valid one under
         * another (they are different caps); it only grants nothing itself. */
        ASSERT_TRUE(caps_allow(one_bad, custom_domains, 2, "vars", CAP_READ, NULL));
        ASSERT_FALSE(caps_allow(one_bad, custom_domains, 2, "vars", CAP_WRITE, NULL));

        json_object_put(only_example);
        json_object_put(both);
        json_object_put(one_bad);
}

/* The malformed cap is reported to the caller (which logs it once per
 * request), the first one met when several domains hold one. */
TEST(malformed_reported_not_logged) {
        json_object *m = parse("{"
                "\"tailscale.com/cap/tailkitd-vars\":[{\"read\":true},\"x\"],"
                "\"example.com/cap/tailkitd-vars\":[7],"
                "\"example.com/cap/tailkitd-tools\":[{\"read\":true}]"
                "}");
        char *bad = (char *) "unset";

        ASSERT_FALSE(caps_allow(m, custom_domains, 2, "vars", CAP_READ, &bad));
        ASSERT_STREQ(bad, "tailscale.com/cap/tailkitd-vars");
        free(bad);

        bad = (char *) "unset";
        ASSERT_TRUE(caps_allow(m, custom_domains, 2, "tools", CAP_READ, &bad));
        ASSERT_NULL(bad);

        /* Nothing looked at for CAP_NONE: nothing malformed either. */
        bad = (char *) "unset";
        ASSERT_TRUE(caps_allow(m, custom_domains, 2, "vars", CAP_NONE, &bad));
        ASSERT_NULL(bad);

        json_object_put(m);
}

TEST(caps_has) {
        json_object *m = parse("{"
                "\"tailscale.com/cap/devbox\":null,"
                "\"example.com/cap/empty\":[],"
                "\"example.com/cap/full\":[{\"x\":1}],"
                "\"example.com/cap/bad\":\"not an array\""
                "}");
        json_object *empty = parse("{}");
        json_object *arr = parse("[]");

        ASSERT_TRUE(caps_has(m, "tailscale.com/cap/devbox"));
        ASSERT_TRUE(caps_has(m, "example.com/cap/empty"));
        ASSERT_TRUE(caps_has(m, "example.com/cap/full"));
        ASSERT_TRUE(caps_has(m, "example.com/cap/bad"));
        ASSERT_FALSE(caps_has(m, "example.com/cap/missing"));
        ASSERT_FALSE(caps_has(m, "tailscale.com/cap/Devbox"));
        ASSERT_FALSE(caps_has(m, "tailscale.com/cap/devbo"));
        ASSERT_FALSE(caps_has(m, ""));
        ASSERT_FALSE(caps_has(empty, "tailscale.com/cap/devbox"));
        ASSERT_FALSE(caps_has(arr, "tailscale.com/cap/devbox"));
        ASSERT_FALSE(caps_has(NULL, "tailscale.com/cap/devbox"));

        json_object_put(m);
        json_object_put(empty);
        json_object_put(arr);
}

int main(void) {
        RUN(single_grant);
        RUN(concatenated_grants);
        RUN(order_and_duplicates);
        RUN(empty_and_null);
        RUN(non_object_element_denies_all);
        RUN(wrong_flag_type);
        RUN(case_insensitive_keys);
        RUN(unknown_keys_ignored);
        RUN(escaped_strings_in_values);
        RUN(cap_none_always_allowed);
        RUN(caps_allow_basic);
        RUN(capmap_null_or_absent);
        RUN(custom_domains);
        RUN(malformed_reported_not_logged);
        RUN(caps_has);
        return 0;
}
