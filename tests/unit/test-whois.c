/* SPDX-License-Identifier: MIT */
/* whois.c: parsing LocalAPI whois bodies (tailscale-localapi.md §2) and the
 * HTTP request it makes, against a tiny in-test LocalAPI on a unix socket. */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "tests.h"
#include "whois.h"

/* §2.6, byte for byte (tab-indented, no trailing newline). */
static const char example_tagged[] =
        "{\n"
        "\t\"Node\": {\n"
        "\t\t\"ID\": 6213894027134562,\n"
        "\t\t\"StableID\": \"nQ4wT7pX2k11CNTRL\",\n"
        "\t\t\"Name\": \"ci-runner-3.tail9f2c1.ts.net.\",\n"
        "\t\t\"User\": 4873201945510,\n"
        "\t\t\"Key\": \"nodekey:7d3f0c5b1a9e48d2c6b0f1e3a5d7c9b2e4f6a8c0d2e4f6a8b0c2d4e6f8a0b2c4\",\n"
        "\t\t\"Machine\": \"mkey:2b4d6f8a0c2e4a6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c\",\n"
        "\t\t\"DiscoKey\": \"discokey:9e1c3a5b7d9f1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a5c7e9b1d\",\n"
        "\t\t\"Addresses\": [\n"
        "\t\t\t\"100.87.12.45/32\",\n"
        "\t\t\t\"fd7a:115c:a1e0::e001:c2d/128\"\n"
        "\t\t],\n"
        "\t\t\"AllowedIPs\": [\n"
        "\t\t\t\"100.87.12.45/32\",\n"
        "\t\t\t\"fd7a:115c:a1e0::e001:c2d/128\"\n"
        "\t\t],\n"
        "\t\t\"Endpoints\": [\n"
        "\t\t\t\"198.51.100.23:41641\",\n"
        "\t\t\t\"10.20.0.14:41641\"\n"
        "\t\t],\n"
        "\t\t\"HomeDERP\": 2,\n"
        "\t\t\"Hostinfo\": {\n"
        "\t\t\t\"OS\": \"linux\",\n"
        "\t\t\t\"Hostname\": \"ci-runner-3\",\n"
        "\t\t\t\"Services\": [\n"
        "\t\t\t\t{\n"
        "\t\t\t\t\t\"Proto\": \"peerapi4\",\n"
        "\t\t\t\t\t\"Port\": 51821\n"
        "\t\t\t\t},\n"
        "\t\t\t\t{\n"
        "\t\t\t\t\t\"Proto\": \"peerapi6\",\n"
        "\t\t\t\t\t\"Port\": 51821\n"
        "\t\t\t\t},\n"
        "\t\t\t\t{\n"
        "\t\t\t\t\t\"Proto\": \"peerapi-dns-proxy\",\n"
        "\t\t\t\t\t\"Port\": 1\n"
        "\t\t\t\t}\n"
        "\t\t\t]\n"
        "\t\t},\n"
        "\t\t\"Created\": \"2025-09-02T14:07:31.52814Z\",\n"
        "\t\t\"Cap\": 130,\n"
        "\t\t\"Tags\": [\n"
        "\t\t\t\"tag:ci\"\n"
        "\t\t],\n"
        "\t\t\"Online\": true,\n"
        "\t\t\"MachineAuthorized\": true,\n"
        "\t\t\"ComputedName\": \"ci-runner-3\",\n"
        "\t\t\"ComputedNameWithHost\": \"ci-runner-3\"\n"
        "\t},\n"
        "\t\"UserProfile\": {\n"
        "\t\t\"ID\": 4873201945510,\n"
        "\t\t\"LoginName\": \"tagged-devices\",\n"
        "\t\t\"DisplayName\": \"Tagged Devices\"\n"
        "\t},\n"
        "\t\"CapMap\": {\n"
        "\t\t\"example.com/cap/artifactd\": [\n"
        "\t\t\t{\n"
        "\t\t\t\t\"paths\": [\n"
        "\t\t\t\t\t\"/ci/*\"\n"
        "\t\t\t\t],\n"
        "\t\t\t\t\"write\": true\n"
        "\t\t\t},\n"
        "\t\t\t{\n"
        "\t\t\t\t\"paths\": [\n"
        "\t\t\t\t\t\"/releases/*\"\n"
        "\t\t\t\t],\n"
        "\t\t\t\t\"write\": false\n"
        "\t\t\t}\n"
        "\t\t]\n"
        "\t}\n"
        "}";

/* §2.7: a user-owned node; also a cap whose value is null. */
static const char example_user[] =
        "{\n"
        "\t\"Node\": {\n"
        "\t\t\"ID\": 3370164282519804,\n"
        "\t\t\"StableID\": \"nZ7bH4cJ9t11CNTRL\",\n"
        "\t\t\"Name\": \"alice-laptop.tail9f2c1.ts.net.\",\n"
        "\t\t\"User\": 6042118830271,\n"
        "\t\t\"Key\": \"nodekey:e4a1c7f3b9d5e1a7c3f9b5d1e7a3c9f5b1d7e3a9c5f1b7d3e9a5c1f7b3d9e5a1\",\n"
        "\t\t\"KeyExpiry\": \"2026-12-18T10:42:09Z\",\n"
        "\t\t\"Machine\": \"mkey:6f2a8c4e0b6d2f8a4c0e6b2d8f4a0c6e2b8d4f0a6c2e8b4d0f6a2c8e4b0d6f2a\",\n"
        "\t\t\"DiscoKey\": \"discokey:1b7d3f9a5c1e7b3d9f5a1c7e3b9d5f1a7c3e9b5d1f7a3c9e5b1d7f3a9c5e1b7d\",\n"
        "\t\t\"Addresses\": [\n"
        "\t\t\t\"100.72.210.9/32\",\n"
        "\t\t\t\"fd7a:115c:a1e0::6a01:d209/128\"\n"
        "\t\t],\n"
        "\t\t\"AllowedIPs\": [\n"
        "\t\t\t\"100.72.210.9/32\",\n"
        "\t\t\t\"fd7a:115c:a1e0::6a01:d209/128\"\n"
        "\t\t],\n"
        "\t\t\"Endpoints\": [\n"
        "\t\t\t\"192.0.2.77:41641\",\n"
        "\t\t\t\"192.168.1.23:41641\"\n"
        "\t\t],\n"
        "\t\t\"HomeDERP\": 4,\n"
        "\t\t\"Hostinfo\": {\n"
        "\t\t\t\"OS\": \"macOS\",\n"
        "\t\t\t\"Hostname\": \"Alices-MacBook-Pro\",\n"
        "\t\t\t\"Services\": [\n"
        "\t\t\t\t{\n"
        "\t\t\t\t\t\"Proto\": \"peerapi4\",\n"
        "\t\t\t\t\t\"Port\": 60112\n"
        "\t\t\t\t},\n"
        "\t\t\t\t{\n"
        "\t\t\t\t\t\"Proto\": \"peerapi6\",\n"
        "\t\t\t\t\t\"Port\": 60112\n"
        "\t\t\t\t}\n"
        "\t\t\t]\n"
        "\t\t},\n"
        "\t\t\"Created\": \"2024-11-04T18:22:10.481392Z\",\n"
        "\t\t\"Cap\": 125,\n"
        "\t\t\"Online\": true,\n"
        "\t\t\"MachineAuthorized\": true,\n"
        "\t\t\"ComputedName\": \"alice-laptop\",\n"
        "\t\t\"ComputedNameWithHost\": \"alice-laptop (alices-macbook-pro)\"\n"
        "\t},\n"
        "\t\"UserProfile\": {\n"
        "\t\t\"ID\": 6042118830271,\n"
        "\t\t\"LoginName\": \"alice@example.com\",\n"
        "\t\t\"DisplayName\": \"Alice Example\",\n"
        "\t\t\"ProfilePicURL\": \"https://lh3.googleusercontent.com/a/ACg8ocJ-example=s96-c\"\n"
        "\t},\n"
        "\t\"CapMap\": {\n"
        "\t\t\"example.com/cap/artifactd\": [\n"
        "\t\t\t{\n"
        "\t\t\t\t\"paths\": [\n"
        "\t\t\t\t\t\"/releases/*\"\n"
        "\t\t\t\t],\n"
        "\t\t\t\t\"write\": false\n"
        "\t\t\t},\n"
        "\t\t\t{\n"
        "\t\t\t\t\"paths\": [\n"
        "\t\t\t\t\t\"/releases/alice/*\"\n"
        "\t\t\t\t],\n"
        "\t\t\t\t\"write\": true\n"
        "\t\t\t}\n"
        "\t\t],\n"
        "\t\t\"https://tailscale.com/cap/file-send\": null\n"
        "\t}\n"
        "}";

/* Parses a NUL-less heap copy of exactly len bytes, so ASan catches any read
 * past the end. */
static int parse_n(const char *body, size_t len, Whois **ret) {
        char *copy = malloc(len ? len : 1);
        int r;

        ASSERT_NOT_NULL(copy);
        memcpy(copy, body, len);
        r = whois_parse(copy, len, ret);
        free(copy);
        return r;
}

static int parse(const char *body, Whois **ret) {
        return parse_n(body, strlen(body), ret);
}

/* Asserts the body parses and returns the result. */
static Whois *parse_ok(const char *body) {
        Whois *w = NULL;
        int r = parse(body, &w);

        if (r < 0)
                FAIL_AT("whois_parse failed (%d) on: %s", r, body);
        ASSERT_NOT_NULL(w);
        return w;
}

static void assert_parse_fails(const char *body) {
        Whois *w = NULL;
        int r = parse(body, &w);

        if (r != -EBADMSG)
                FAIL_AT("whois_parse returned %d, expected -EBADMSG, on: %s", r, body);
        ASSERT_NULL(w);
}

/* ------------------------------------------------------------------ */
/* whois_parse                                                         */

TEST(parse_example_tagged) {
        Whois *w = parse_ok(example_tagged);
        json_object *v, *e, *write;

        ASSERT_INT_EQ(strlen(example_tagged), 1427);
        ASSERT_STREQ(w->name, "ci-runner-3");
        ASSERT_STREQ(w->login, "tagged-devices");
        ASSERT_STREQ(w->stable_id, "nQ4wT7pX2k11CNTRL");
        ASSERT_STREQ(w->tags, "tag:ci");
        ASSERT_NOT_NULL(w->capmap);
        ASSERT_TRUE(json_object_is_type(w->capmap, json_type_object));
        ASSERT_INT_EQ(json_object_object_length(w->capmap), 1);
        ASSERT_TRUE(json_object_object_get_ex(w->capmap, "example.com/cap/artifactd", &v));
        ASSERT_TRUE(json_object_is_type(v, json_type_array));
        ASSERT_INT_EQ(json_object_array_length(v), 2);
        e = json_object_array_get_idx(v, 0);
        ASSERT_TRUE(json_object_object_get_ex(e, "write", &write));
        ASSERT_TRUE(json_object_get_boolean(write));
        e = json_object_array_get_idx(v, 1);
        ASSERT_TRUE(json_object_object_get_ex(e, "write", &write));
        ASSERT_FALSE(json_object_get_boolean(write));
        whois_free(w);
}

TEST(parse_example_user) {
        Whois *w = parse_ok(example_user);
        json_object *v = (json_object *) 1;

        ASSERT_STREQ(w->name, "alice-laptop");
        ASSERT_STREQ(w->login, "alice@example.com");
        ASSERT_STREQ(w->stable_id, "nZ7bH4cJ9t11CNTRL");
        ASSERT_NULL(w->tags);        /* not tagged: no "Tags" key */
        ASSERT_NOT_NULL(w->capmap);
        ASSERT_INT_EQ(json_object_object_length(w->capmap), 2);
        /* Present with a null value. */
        ASSERT_TRUE(json_object_object_get_ex(w->capmap, "https://tailscale.com/cap/file-send", &v));
        ASSERT_NULL(v);
        ASSERT_TRUE(json_object_object_get_ex(w->capmap, "example.com/cap/artifactd", &v));
        ASSERT_INT_EQ(json_object_array_length(v), 2);
        whois_free(w);
}

TEST(parse_capmap_null_or_absent) {
        Whois *w;

        w = parse_ok("{\n\t\"Node\": {\n\t\t\"ID\": 1,\n\t\t\"StableID\": \"nA\",\n"
                     "\t\t\"Name\": \"a.tail.ts.net.\",\n\t\t\"ComputedName\": \"a\"\n\t},\n"
                     "\t\"UserProfile\": {\n\t\t\"ID\": 2,\n\t\t\"LoginName\": \"bob@example.com\",\n"
                     "\t\t\"DisplayName\": \"Bob\"\n\t},\n\t\"CapMap\": null\n}");
        ASSERT_STREQ(w->name, "a");
        ASSERT_STREQ(w->login, "bob@example.com");
        ASSERT_NULL(w->capmap);
        whois_free(w);

        w = parse_ok("{\"Node\":{\"ComputedName\":\"a\"},\"UserProfile\":{\"LoginName\":\"bob@example.com\"}}");
        ASSERT_NULL(w->capmap);
        whois_free(w);

        /* {} is a CapMap with no caps, not an error. */
        w = parse_ok("{\"Node\":{\"ComputedName\":\"a\"},\"CapMap\":{}}");
        ASSERT_NOT_NULL(w->capmap);
        ASSERT_INT_EQ(json_object_object_length(w->capmap), 0);
        whois_free(w);

        /* A CapMap that is not an object is malformed. */
        assert_parse_fails("{\"Node\":{\"ComputedName\":\"a\"},\"CapMap\":[]}");
        assert_parse_fails("{\"Node\":{\"ComputedName\":\"a\"},\"CapMap\":\"x\"}");
}

TEST(parse_unknown_keys) {
        Whois *w = parse_ok(
                "{\n"
                "\t\"Future\": {\"x\": [1, 2, {\"y\": null}]},\n"
                "\t\"Node\": {\n"
                "\t\t\"ID\": 5,\n"
                "\t\t\"NewThing\": [\"a\", {\"b\": true}],\n"
                "\t\t\"StableID\": \"nS\",\n"
                "\t\t\"Name\": \"host.tail.ts.net.\",\n"
                "\t\t\"IsJailed\": true,\n"
                "\t\t\"ExitNodeDNSResolvers\": [{\"Addr\": \"1.1.1.1\"}],\n"
                "\t\t\"Hostinfo\": {\"OS\": \"linux\", \"Hostname\": \"h\", \"Location\": {\"Country\": \"X\"}},\n"
                "\t\t\"Tags\": [\"tag:a\"],\n"
                "\t\t\"ComputedName\": \"host\"\n"
                "\t},\n"
                "\t\"UserProfile\": {\"ID\": 9, \"LoginName\": \"tagged-devices\", \"Groups\": [\"g\"], \"Extra\": 1},\n"
                "\t\"CapMap\": {\"tailscale.com/cap/drive\": [{\"shares\": [\"*\"], \"access\": \"rw\"}]},\n"
                "\t\"Trailer\": null\n"
                "}");

        ASSERT_STREQ(w->name, "host");
        ASSERT_STREQ(w->stable_id, "nS");
        ASSERT_STREQ(w->login, "tagged-devices");
        ASSERT_STREQ(w->tags, "tag:a");
        ASSERT_NOT_NULL(w->capmap);
        whois_free(w);
}

TEST(parse_nulls) {
        Whois *w;

        /* Hostinfo null, Tags null, UserProfile fields null. */
        w = parse_ok("{\"Node\":{\"ID\":null,\"StableID\":\"nX\",\"Name\":\"x.t.ts.net.\",\"User\":null,"
                     "\"Key\":null,\"KeyExpiry\":null,\"Addresses\":null,\"AllowedIPs\":null,"
                     "\"Endpoints\":null,\"Hostinfo\":null,\"Created\":null,\"Tags\":null,"
                     "\"Online\":null,\"CapMap\":null,\"ComputedName\":\"x\"},"
                     "\"UserProfile\":{\"ID\":null,\"LoginName\":null,\"DisplayName\":null},"
                     "\"CapMap\":null}");
        ASSERT_STREQ(w->name, "x");
        ASSERT_STREQ(w->stable_id, "nX");
        ASSERT_NULL(w->login);
        ASSERT_NULL(w->tags);
        ASSERT_NULL(w->capmap);
        whois_free(w);

        /* UserProfile null, StableID null, ComputedName null, Hostinfo null:
         * the name falls back to Node.Name. */
        w = parse_ok("{\"Node\":{\"StableID\":null,\"Name\":\"y.t.ts.net.\",\"ComputedName\":null,"
                     "\"Hostinfo\":null,\"Tags\":null},\"UserProfile\":null,\"CapMap\":null}");
        ASSERT_STREQ(w->name, "y.t.ts.net");
        ASSERT_NULL(w->stable_id);
        ASSERT_NULL(w->login);
        ASSERT_NULL(w->tags);
        whois_free(w);

        /* Hostinfo with a null Hostname. */
        w = parse_ok("{\"Node\":{\"Name\":\"z.t.ts.net.\",\"ComputedName\":\"\","
                     "\"Hostinfo\":{\"Hostname\":null}}}");
        ASSERT_STREQ(w->name, "z.t.ts.net");
        whois_free(w);

        /* Node null is the same as Node missing. */
        assert_parse_fails("{\"Node\":null,\"UserProfile\":{\"LoginName\":\"a@b\"},\"CapMap\":null}");
}

TEST(parse_old_format) {
        /* Pre-v1.92 (and pre-v1.80): zero KeyExpiry, zero keys, "DERP",
         * Hostinfo always present, "Roles": [] in the profile. */
        Whois *w = parse_ok(
                "{\n"
                "\t\"Node\": {\n"
                "\t\t\"ID\": 3370164282519804,\n"
                "\t\t\"StableID\": \"nOLD1CNTRL\",\n"
                "\t\t\"Name\": \"old-box.tail9f2c1.ts.net.\",\n"
                "\t\t\"User\": 6042118830271,\n"
                "\t\t\"Sharer\": 0,\n"
                "\t\t\"Key\": \"nodekey:0000000000000000000000000000000000000000000000000000000000000000\",\n"
                "\t\t\"KeyExpiry\": \"0001-01-01T00:00:00Z\",\n"
                "\t\t\"Machine\": \"mkey:0000000000000000000000000000000000000000000000000000000000000000\",\n"
                "\t\t\"DiscoKey\": \"discokey:0000000000000000000000000000000000000000000000000000000000000000\",\n"
                "\t\t\"Addresses\": [\n\t\t\t\"100.72.210.9/32\"\n\t\t],\n"
                "\t\t\"AllowedIPs\": [\n\t\t\t\"100.72.210.9/32\"\n\t\t],\n"
                "\t\t\"Endpoints\": null,\n"
                "\t\t\"DERP\": \"127.3.3.40:4\",\n"
                "\t\t\"Hostinfo\": {},\n"
                "\t\t\"Created\": \"0001-01-01T00:00:00Z\",\n"
                "\t\t\"Cap\": 0,\n"
                "\t\t\"PrimaryRoutes\": null,\n"
                "\t\t\"MachineAuthorized\": true,\n"
                "\t\t\"Capabilities\": null,\n"
                "\t\t\"UnsignedPeerAPIOnly\": false,\n"
                "\t\t\"ComputedName\": \"old-box\",\n"
                "\t\t\"computedHostIfDifferent\": \"\",\n"
                "\t\t\"ComputedNameWithHost\": \"old-box\"\n"
                "\t},\n"
                "\t\"UserProfile\": {\n"
                "\t\t\"ID\": 6042118830271,\n"
                "\t\t\"LoginName\": \"alice@example.com\",\n"
                "\t\t\"DisplayName\": \"Alice Example\",\n"
                "\t\t\"ProfilePicURL\": \"\",\n"
                "\t\t\"Roles\": []\n"
                "\t},\n"
                "\t\"CapMap\": null\n"
                "}");

        ASSERT_STREQ(w->name, "old-box");
        ASSERT_STREQ(w->login, "alice@example.com");
        ASSERT_STREQ(w->stable_id, "nOLD1CNTRL");
        ASSERT_NULL(w->tags);
        ASSERT_NULL(w->capmap);
        whois_free(w);

        /* v1.47 and older: "Caps" instead of "CapMap". */
        w = parse_ok("{\"Node\":{\"ComputedName\":\"ancient\"},\"UserProfile\":{\"LoginName\":\"a@b\",\"Roles\":[]},"
                     "\"Caps\":[\"https://tailscale.com/cap/file-sharing\"]}");
        ASSERT_STREQ(w->name, "ancient");
        ASSERT_NULL(w->capmap);
        whois_free(w);
}

TEST(parse_name_fallbacks) {
        Whois *w;

        /* ComputedName empty → Hostinfo.Hostname. */
        w = parse_ok("{\"Node\":{\"Name\":\"laptop.tail.ts.net.\",\"ComputedName\":\"\","
                     "\"Hostinfo\":{\"Hostname\":\"Alices-MacBook-Pro\"}}}");
        ASSERT_STREQ(w->name, "Alices-MacBook-Pro");
        whois_free(w);

        /* ComputedName absent → Hostinfo.Hostname. */
        w = parse_ok("{\"Node\":{\"Name\":\"laptop.tail.ts.net.\",\"Hostinfo\":{\"Hostname\":\"hn\"}}}");
        ASSERT_STREQ(w->name, "hn");
        whois_free(w);

        /* Both empty → Node.Name without the trailing dot. */
        w = parse_ok("{\"Node\":{\"Name\":\"laptop.tail9f2c1.ts.net.\",\"ComputedName\":\"\","
                     "\"Hostinfo\":{\"Hostname\":\"\"}}}");
        ASSERT_STREQ(w->name, "laptop.tail9f2c1.ts.net");
        whois_free(w);

        /* A Name without a trailing dot is taken as is. */
        w = parse_ok("{\"Node\":{\"Name\":\"laptop\",\"ComputedName\":\"\"}}");
        ASSERT_STREQ(w->name, "laptop");
        whois_free(w);

        /* ComputedName wins over everything. */
        w = parse_ok("{\"Node\":{\"Name\":\"n.t.ts.net.\",\"ComputedName\":\"cn\",\"Hostinfo\":{\"Hostname\":\"hn\"}}}");
        ASSERT_STREQ(w->name, "cn");
        whois_free(w);

        /* Wrong types are treated as absent. */
        w = parse_ok("{\"Node\":{\"Name\":\"n.t.ts.net.\",\"ComputedName\":7,\"Hostinfo\":\"x\"}}");
        ASSERT_STREQ(w->name, "n.t.ts.net");
        whois_free(w);

        /* No name at all. */
        assert_parse_fails("{\"Node\":{\"Name\":\"\",\"ComputedName\":\"\",\"Hostinfo\":{\"Hostname\":\"\"}}}");
        assert_parse_fails("{\"Node\":{}}");
}

TEST(parse_errors) {
        /* Missing Node. */
        assert_parse_fails("{\"UserProfile\":{\"LoginName\":\"a@b\"},\"CapMap\":null}");
        assert_parse_fails("{}");
        /* Node not an object. */
        assert_parse_fails("{\"Node\":[]}");
        assert_parse_fails("{\"Node\":\"x\"}");
        /* Not an object at all. */
        assert_parse_fails("");
        assert_parse_fails("   ");
        assert_parse_fails("null");
        assert_parse_fails("[]");
        assert_parse_fails("[{\"Node\":{\"ComputedName\":\"a\"}}]");
        assert_parse_fails("\"Node\"");
        assert_parse_fails("42");
        /* Invalid JSON. */
        assert_parse_fails("{\"Node\":{\"ComputedName\":\"a\",}}x");
        assert_parse_fails("{\"Node\":{\"ComputedName\":\"a\" \"b\"}}");
        assert_parse_fails("{\"Node\":{\"ComputedName\":a}}");
        assert_parse_fails("no match for IP:port\n");
        assert_parse_fails("<html>");
}

TEST(parse_truncated) {
        /* Every proper prefix of a real body is invalid. */
        size_t len = strlen(example_tagged);

        for (size_t n = 0; n < len; n++) {
                Whois *w = NULL;
                int r = parse_n(example_tagged, n, &w);
                if (r != -EBADMSG)
                        FAIL_AT("prefix of %zu bytes: whois_parse returned %d", n, r);
                ASSERT_NULL(w);
        }
        len = strlen(example_user);
        for (size_t n = 0; n < len; n += 7) {
                Whois *w = NULL;
                ASSERT_INT_EQ(parse_n(example_user, n, &w), -EBADMSG);
                ASSERT_NULL(w);
        }
}

static char *concat(const char *a, const char *b) {
        char *s = malloc(strlen(a) + strlen(b) + 1);

        ASSERT_NOT_NULL(s);
        strcpy(s, a);
        strcat(s, b);
        return s;
}

TEST(parse_trailing) {
        static const char *const garbage[] = { "x", "}", " {}", "\n{}", "\n\n0", ",", "\n\tnull", "\x01" };
        static const char *const fine[] = { "\n", "\r\n", " \t\n ", "\n\n\n" };

        for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
                char *s = concat(example_tagged, garbage[i]);
                assert_parse_fails(s);
                free(s);
        }
        for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
                char *s = concat(example_user, fine[i]);
                Whois *w = parse_ok(s);
                ASSERT_STREQ(w->name, "alice-laptop");
                whois_free(w);
                free(s);
        }
        /* Leading whitespace is fine too. */
        {
                char *s = concat("\n  ", example_tagged);
                Whois *w = parse_ok(s);
                ASSERT_STREQ(w->name, "ci-runner-3");
                whois_free(w);
                free(s);
        }
}

TEST(parse_big_ids) {
        static const char *const ids[] = {
                "9007199254740993",           /* 2^53 + 1 */
                "9223372036854775807",        /* INT64_MAX */
                "-9223372036854775808",       /* INT64_MIN */
                "18446744073709551615",       /* UINT64_MAX: not an int64, still no crash */
                "1e300",
        };

        for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
                char body[512];
                Whois *w;

                snprintf(body, sizeof(body),
                         "{\"Node\":{\"ID\":%s,\"StableID\":\"nBig\",\"User\":%s,\"Name\":\"b.t.ts.net.\","
                         "\"ComputedName\":\"big\"},\"UserProfile\":{\"ID\":%s,\"LoginName\":\"big@example.com\"},"
                         "\"CapMap\":null}", ids[i], ids[i], ids[i]);
                w = parse_ok(body);
                ASSERT_STREQ(w->name, "big");
                ASSERT_STREQ(w->stable_id, "nBig");
                ASSERT_STREQ(w->login, "big@example.com");
                whois_free(w);
        }
}

TEST(parse_tags) {
        Whois *w;

        w = parse_ok("{\"Node\":{\"ComputedName\":\"t\",\"Tags\":[\"tag:a\",\"tag:b\",\"tag:ci-runner\"]}}");
        ASSERT_STREQ(w->tags, "tag:a,tag:b,tag:ci-runner");
        whois_free(w);

        w = parse_ok("{\"Node\":{\"ComputedName\":\"t\",\"Tags\":[\"tag:only\"]}}");
        ASSERT_STREQ(w->tags, "tag:only");
        whois_free(w);

        /* Empty: not tagged. */
        w = parse_ok("{\"Node\":{\"ComputedName\":\"t\",\"Tags\":[]}}");
        ASSERT_NULL(w->tags);
        whois_free(w);

        /* The Node's own (nodeAttrs) CapMap is not the grants CapMap. */
        w = parse_ok("{\"Node\":{\"ComputedName\":\"t\",\"CapMap\":{\"funnel\":null}},\"CapMap\":null}");
        ASSERT_NULL(w->capmap);
        whois_free(w);
}

TEST(free_null) {
        ASSERT_NULL(whois_free(NULL));
}

/* ------------------------------------------------------------------ */
/* whois_format_addr                                                   */

TEST(format_addr) {
        struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons(4242) };
        struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons(443) };
        struct sockaddr_un su = { .sun_family = AF_UNIX };
        char buf[64];

        ASSERT_INT_EQ(inet_pton(AF_INET, "100.64.1.2", &s4.sin_addr), 1);
        ASSERT_OK(whois_format_addr((struct sockaddr *) &s4, sizeof(s4), buf, sizeof(buf)));
        ASSERT_STREQ(buf, "100.64.1.2:4242");

        ASSERT_INT_EQ(inet_pton(AF_INET6, "fd7a:115c:a1e0::e001:c2d", &s6.sin6_addr), 1);
        ASSERT_OK(whois_format_addr((struct sockaddr *) &s6, sizeof(s6), buf, sizeof(buf)));
        ASSERT_STREQ(buf, "[fd7a:115c:a1e0::e001:c2d]:443");

        /* IPv4-mapped IPv6 is unmapped (tailscaled < 1.102 would 404 it). */
        ASSERT_INT_EQ(inet_pton(AF_INET6, "::ffff:100.64.1.2", &s6.sin6_addr), 1);
        s6.sin6_port = htons(53122);
        ASSERT_OK(whois_format_addr((struct sockaddr *) &s6, sizeof(s6), buf, sizeof(buf)));
        ASSERT_STREQ(buf, "100.64.1.2:53122");

        /* Loopback v6 stays v6. */
        ASSERT_INT_EQ(inet_pton(AF_INET6, "::1", &s6.sin6_addr), 1);
        s6.sin6_port = htons(1);
        ASSERT_OK(whois_format_addr((struct sockaddr *) &s6, sizeof(s6), buf, sizeof(buf)));
        ASSERT_STREQ(buf, "[::1]:1");

        /* Port 0 and 65535. */
        s4.sin_port = htons(0);
        ASSERT_OK(whois_format_addr((struct sockaddr *) &s4, sizeof(s4), buf, sizeof(buf)));
        ASSERT_STREQ(buf, "100.64.1.2:0");
        s4.sin_port = htons(65535);
        ASSERT_OK(whois_format_addr((struct sockaddr *) &s4, sizeof(s4), buf, sizeof(buf)));
        ASSERT_STREQ(buf, "100.64.1.2:65535");

        /* Exactly fitting buffer, and one byte short. */
        ASSERT_INT_EQ(inet_pton(AF_INET, "1.2.3.4", &s4.sin_addr), 1);
        s4.sin_port = htons(5);
        ASSERT_OK(whois_format_addr((struct sockaddr *) &s4, sizeof(s4), buf, 10));
        ASSERT_STREQ(buf, "1.2.3.4:5");
        ASSERT_INT_EQ(whois_format_addr((struct sockaddr *) &s4, sizeof(s4), buf, 9), -ENOBUFS);

        /* Unsupported family, short sockaddr. */
        ASSERT_INT_EQ(whois_format_addr((struct sockaddr *) &su, sizeof(su), buf, sizeof(buf)), -EAFNOSUPPORT);
        ASSERT_INT_EQ(whois_format_addr((struct sockaddr *) &s4, sizeof(s4) - 1, buf, sizeof(buf)), -EAFNOSUPPORT);
        ASSERT_INT_EQ(whois_format_addr((struct sockaddr *) &s6, sizeof(s6) - 1, buf, sizeof(buf)), -EAFNOSUPPORT);
}

/* ------------------------------------------------------------------ */
/* whois_lookup against a fake LocalAPI                                */

typedef struct FakeServer {
        char dir[64];
        char path[128];
        int listen_fd;
        pthread_t thread;
        /* What to answer; NULL = never answer (hold the connection). */
        const char *response;
        size_t response_len;
        /* What the client sent (headers only). */
        char request[16384];
        size_t request_len;
} FakeServer;

static int64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *server_thread(void *userdata) {
        FakeServer *s = userdata;
        struct pollfd p;
        int fd;

        p = (struct pollfd) { .fd = s->listen_fd, .events = POLLIN };
        if (poll(&p, 1, 10000) <= 0)
                return NULL;
        fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
                return NULL;

        /* Read up to the end of the headers (a GET has no body). */
        while (s->request_len < sizeof(s->request) - 1) {
                ssize_t n;

                p = (struct pollfd) { .fd = fd, .events = POLLIN };
                if (poll(&p, 1, 5000) <= 0)
                        break;
                n = recv(fd, s->request + s->request_len, sizeof(s->request) - 1 - s->request_len, 0);
                if (n <= 0)
                        break;
                s->request_len += (size_t) n;
                s->request[s->request_len] = 0;
                if (strstr(s->request, "\r\n\r\n"))
                        break;
        }

        if (s->response) {
                size_t done = 0;
                while (done < s->response_len) {
                        ssize_t n = send(fd, s->response + done, s->response_len - done, MSG_NOSIGNAL);
                        if (n <= 0)
                                break;   /* the client may give up (e.g. body too large) */
                        done += (size_t) n;
                }
        } else {
                /* Never answer: wait until the client gives up and closes. */
                char buf[256];
                p = (struct pollfd) { .fd = fd, .events = POLLIN };
                while (poll(&p, 1, 10000) > 0 && recv(fd, buf, sizeof(buf), 0) > 0)
                        ;
        }
        close(fd);
        return NULL;
}

static void server_start(FakeServer *s, const char *response, size_t response_len) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        memset(s, 0, sizeof(*s));
        strcpy(s->dir, "/tmp/test-whois-XXXXXX");
        ASSERT_NOT_NULL(mkdtemp(s->dir));
        snprintf(s->path, sizeof(s->path), "%s/tailscaled.sock", s->dir);
        strcpy(sa.sun_path, s->path);

        s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ASSERT_TRUE(s->listen_fd >= 0);
        ASSERT_OK(bind(s->listen_fd, (struct sockaddr *) &sa, sizeof(sa)));
        ASSERT_OK(listen(s->listen_fd, 4));
        s->response = response;
        s->response_len = response_len;
        ASSERT_INT_EQ(pthread_create(&s->thread, NULL, server_thread, s), 0);
}

static void server_stop(FakeServer *s) {
        ASSERT_INT_EQ(pthread_join(s->thread, NULL), 0);
        close(s->listen_fd);
        ASSERT_OK(unlink(s->path));
        ASSERT_OK(rmdir(s->dir));
}

/* Builds a whole HTTP response with Content-Length. */
static char *http_response(int status, const char *reason, const char *content_type, const char *body) {
        char *r = NULL;

        ASSERT_TRUE(asprintf(&r,
                             "HTTP/1.1 %d %s\r\n"
                             "Content-Security-Policy: default-src 'none'\r\n"
                             "Content-Type: %s\r\n"
                             "Tailscale-Cap: 145\r\n"
                             "Tailscale-Version: 1.102.3-t7f2a9c41e-g3b5d1e0a2\r\n"
                             "X-Content-Type-Options: nosniff\r\n"
                             "X-Frame-Options: DENY\r\n"
                             "Date: Mon, 01 Sep 2025 12:00:00 GMT\r\n"
                             "Content-Length: %zu\r\n"
                             "\r\n%s",
                             status, reason, content_type, strlen(body), body) >= 0);
        return r;
}

/* The value of header name (case-insensitive) in a recorded request, or NULL
 * if absent; asserts it appears at most once. Returns a static buffer. */
static const char *request_header(const FakeServer *s, const char *name) {
        static char value[1024];
        const char *line = strstr(s->request, "\r\n");
        const char *found = NULL;
        size_t nl = strlen(name);

        while (line && line[2] != '\r' && line[2] != 0) {
                const char *start = line + 2, *end = strstr(start, "\r\n");
                if (!end)
                        break;
                if ((size_t) (end - start) > nl && strncasecmp(start, name, nl) == 0 && start[nl] == ':') {
                        const char *v = start + nl + 1;
                        if (found)
                                FAIL_AT("header %s sent twice", name);
                        while (*v == ' ' || *v == '\t')
                                v++;
                        ASSERT_TRUE((size_t) (end - v) < sizeof(value));
                        memcpy(value, v, (size_t) (end - v));
                        value[end - v] = 0;
                        found = value;
                }
                line = end;
        }
        return found;
}

static void assert_request_ok(const FakeServer *s) {
        static const char expected_line[] = "GET /localapi/v0/whois?addr=127.0.0.2%3A4242 HTTP/1.1\r\n";

        fprintf(stderr, "   request:\n%s", s->request);
        ASSERT_TRUE(strncmp(s->request, expected_line, strlen(expected_line)) == 0);
        ASSERT_NOT_NULL(strstr(s->request, "\r\n\r\n"));
        ASSERT_STREQ(request_header(s, "Host"), "local-tailscaled.sock");
        ASSERT_NULL(request_header(s, "Referer"));
        ASSERT_NULL(request_header(s, "Origin"));
        /* A GET without a body. */
        ASSERT_NULL(request_header(s, "Content-Length"));
        ASSERT_NULL(request_header(s, "Transfer-Encoding"));
}

TEST(lookup_200) {
        FakeServer s;
        char *resp = http_response(200, "OK", "application/json", example_tagged);
        char *detail = NULL;
        Whois *w = NULL;
        int r;

        server_start(&s, resp, strlen(resp));
        r = whois_lookup(s.path, "127.0.0.2:4242", &w, &detail);
        server_stop(&s);
        if (r < 0)
                FAIL_AT("whois_lookup: %d (%s)", r, detail ? detail : "no detail");
        assert_request_ok(&s);
        ASSERT_NOT_NULL(w);
        ASSERT_STREQ(w->name, "ci-runner-3");
        ASSERT_STREQ(w->login, "tagged-devices");
        ASSERT_STREQ(w->tags, "tag:ci");
        ASSERT_NOT_NULL(w->capmap);
        whois_free(w);
        free(detail);
        free(resp);
}

TEST(lookup_200_chunked) {
        /* Go sends larger bodies with Transfer-Encoding: chunked. */
        FakeServer s;
        size_t len = strlen(example_user), half = len / 2;
        char *resp = NULL, *detail = NULL;
        Whois *w = NULL;
        int r;

        ASSERT_TRUE(asprintf(&resp,
                             "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             "Transfer-Encoding: chunked\r\n\r\n"
                             "%zx\r\n%.*s\r\n%zx\r\n%s\r\n0\r\n\r\n",
                             half, (int) half, example_user, len - half, example_user + half) >= 0);
        server_start(&s, resp, strlen(resp));
        r = whois_lookup(s.path, "127.0.0.2:4242", &w, &detail);
        server_stop(&s);
        if (r < 0)
                FAIL_AT("whois_lookup: %d (%s)", r, detail ? detail : "no detail");
        assert_request_ok(&s);
        ASSERT_STREQ(w->name, "alice-laptop");
        ASSERT_STREQ(w->login, "alice@example.com");
        whois_free(w);
        free(detail);
        free(resp);
}

TEST(lookup_404) {
        FakeServer s;
        char *resp = http_response(404, "Not Found", "text/plain; charset=utf-8", "no match for IP:port\n");
        char *detail = NULL;
        Whois *w = NULL;

        server_start(&s, resp, strlen(resp));
        ASSERT_INT_EQ(whois_lookup(s.path, "127.0.0.2:4242", &w, &detail), -ENXIO);
        server_stop(&s);
        assert_request_ok(&s);
        ASSERT_NULL(w);
        free(detail);
        free(resp);
}

TEST(lookup_500) {
        FakeServer s;
        char *resp = http_response(500, "Internal Server Error", "text/plain; charset=utf-8",
                                   "server has no local backend\n");
        char *detail = NULL;
        Whois *w = NULL;

        server_start(&s, resp, strlen(resp));
        ASSERT_INT_EQ(whois_lookup(s.path, "127.0.0.2:4242", &w, &detail), -EPROTO);
        server_stop(&s);
        assert_request_ok(&s);
        ASSERT_NULL(w);
        ASSERT_NOT_NULL(detail);
        fprintf(stderr, "   detail: %s\n", detail);
        ASSERT_CONTAINS(detail, "server has no local backend");
        ASSERT_CONTAINS(detail, "500");
        ASSERT_NULL(strchr(detail, '\n'));
        free(detail);
        free(resp);
}

TEST(lookup_403) {
        FakeServer s;
        char *resp = http_response(403, "Forbidden", "text/plain; charset=utf-8", "invalid localapi request\n");
        char *detail = NULL;
        Whois *w = NULL;

        server_start(&s, resp, strlen(resp));
        ASSERT_INT_EQ(whois_lookup(s.path, "127.0.0.2:4242", &w, &detail), -EPROTO);
        server_stop(&s);
        ASSERT_NULL(w);
        ASSERT_CONTAINS(detail, "invalid localapi request");
        free(detail);
        free(resp);
}

TEST(lookup_200_malformed) {
        FakeServer s;
        char *resp = http_response(200, "OK", "application/json", "{\"Node\":");
        char *detail = NULL;
        Whois *w = NULL;

        server_start(&s, resp, strlen(resp));
        ASSERT_INT_EQ(whois_lookup(s.path, "127.0.0.2:4242", &w, &detail), -EBADMSG);
        server_stop(&s);
        ASSERT_NULL(w);
        ASSERT_NOT_NULL(detail);
        free(detail);
        free(resp);
}

TEST(lookup_body_too_large) {
        FakeServer s;
        size_t body_len = WHOIS_BODY_MAX + 4096;
        char *body = malloc(body_len + 1), *resp, *detail = NULL;
        Whois *w = NULL;

        ASSERT_NOT_NULL(body);
        memset(body, ' ', body_len);
        body[0] = '{';
        body[body_len] = 0;
        resp = http_response(200, "OK", "application/json", body);
        server_start(&s, resp, strlen(resp));
        ASSERT_INT_EQ(whois_lookup(s.path, "127.0.0.2:4242", &w, &detail), -EBADMSG);
        server_stop(&s);
        ASSERT_NULL(w);
        ASSERT_NOT_NULL(detail);
        free(detail);
        free(resp);
        free(body);
}

TEST(lookup_timeout) {
        FakeServer s;
        char *detail = NULL;
        Whois *w = NULL;
        int64_t start, elapsed;
        int r;

        server_start(&s, NULL, 0);
        start = now_ms();
        r = whois_lookup(s.path, "127.0.0.2:4242", &w, &detail);
        elapsed = now_ms() - start;
        server_stop(&s);
        fprintf(stderr, "   gave up after %" PRId64 " ms: %s\n", elapsed, detail ? detail : "(no detail)");
        ASSERT_INT_EQ(r, -ETIMEDOUT);
        ASSERT_TRUE(elapsed >= WHOIS_TIMEOUT_MS - 100);
        ASSERT_TRUE(elapsed < 2750);
        ASSERT_NULL(w);
        ASSERT_NOT_NULL(detail);
        assert_request_ok(&s);
        free(detail);
}

TEST(lookup_missing_socket) {
        char dir[] = "/tmp/test-whois-XXXXXX", path[128];
        char *detail = NULL;
        Whois *w = NULL;
        int r;

        ASSERT_NOT_NULL(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/missing.sock", dir);
        r = whois_lookup(path, "127.0.0.2:4242", &w, &detail);
        fprintf(stderr, "   %d: %s\n", r, detail ? detail : "(no detail)");
        ASSERT_TRUE(r < 0);
        ASSERT_TRUE(r != -ENXIO);   /* never "not a peer": the LocalAPI is unusable */
        ASSERT_NULL(w);
        ASSERT_NOT_NULL(detail);
        ASSERT_TRUE(detail[0] != 0);
        free(detail);
        ASSERT_OK(rmdir(dir));
}

TEST(lookup_stale_socket) {
        /* A socket file nobody listens on (tailscaled died): connection refused. */
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char dir[] = "/tmp/test-whois-XXXXXX";
        char *detail = NULL;
        Whois *w = NULL;
        int fd, r;

        ASSERT_NOT_NULL(mkdtemp(dir));
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/stale.sock", dir);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(bind(fd, (struct sockaddr *) &sa, sizeof(sa)));
        close(fd);
        r = whois_lookup(sa.sun_path, "127.0.0.2:4242", &w, &detail);
        fprintf(stderr, "   %d: %s\n", r, detail ? detail : "(no detail)");
        ASSERT_INT_EQ(r, -ECONNREFUSED);
        ASSERT_NULL(w);
        ASSERT_NOT_NULL(detail);
        free(detail);
        ASSERT_OK(unlink(sa.sun_path));
        ASSERT_OK(rmdir(dir));
}

TEST(lookup_ipv6_escaped) {
        /* Brackets and colons are percent-encoded like Go's url.QueryEscape. */
        FakeServer s;
        char *resp = http_response(404, "Not Found", "text/plain; charset=utf-8", "no match for IP:port\n");
        char *detail = NULL;
        Whois *w = NULL;

        server_start(&s, resp, strlen(resp));
        ASSERT_INT_EQ(whois_lookup(s.path, "[fd7a:115c:a1e0::1]:80", &w, &detail), -ENXIO);
        server_stop(&s);
        fprintf(stderr, "   request:\n%s", s.request);
        ASSERT_TRUE(strncmp(s.request,
                            "GET /localapi/v0/whois?addr=%5Bfd7a%3A115c%3Aa1e0%3A%3A1%5D%3A80 HTTP/1.1\r\n",
                            strlen("GET /localapi/v0/whois?addr=%5Bfd7a%3A115c%3Aa1e0%3A%3A1%5D%3A80 HTTP/1.1\r\n")) == 0);
        free(detail);
        free(resp);
}

int main(void) {
        signal(SIGPIPE, SIG_IGN);
        ASSERT_OK(whois_global_init());

        RUN(parse_example_tagged);
        RUN(parse_example_user);
        RUN(parse_capmap_null_or_absent);
        RUN(parse_unknown_keys);
        RUN(parse_nulls);
        RUN(parse_old_format);
        RUN(parse_name_fallbacks);
        RUN(parse_errors);
        RUN(parse_truncated);
        RUN(parse_trailing);
        RUN(parse_big_ids);
        RUN(parse_tags);
        RUN(free_null);
        RUN(format_addr);
        RUN(lookup_200);
        RUN(lookup_200_chunked);
        RUN(lookup_404);
        RUN(lookup_500);
        RUN(lookup_403);
        RUN(lookup_200_malformed);
        RUN(lookup_body_too_large);
        RUN(lookup_timeout);
        RUN(lookup_missing_socket);
        RUN(lookup_stale_socket);
        RUN(lookup_ipv6_escaped);
        return 0;
}
