/* SPDX-License-Identifier: MIT */
/* src/docker: what may reach an Engine URL (params.c), the API version pick
 * (engine.c) and log demultiplexing (demux.c). */

#include "demux.h"
#include "engine.h"
#include "macro.h"
#include "params.h"
#include "tests.h"

TEST(names) {
        ASSERT_TRUE(docker_name_is_valid("web"));
        ASSERT_TRUE(docker_name_is_valid("3a12fa1da4c7"));
        ASSERT_TRUE(docker_name_is_valid("my_app.web-1"));
        ASSERT_FALSE(docker_name_is_valid(""));
        ASSERT_FALSE(docker_name_is_valid(".."));
        ASSERT_FALSE(docker_name_is_valid("a..b"));
        ASSERT_FALSE(docker_name_is_valid(".hidden"));
        ASSERT_FALSE(docker_name_is_valid("-x"));
        ASSERT_FALSE(docker_name_is_valid("a/b"));
        ASSERT_FALSE(docker_name_is_valid("a%2Fb"));
        ASSERT_FALSE(docker_name_is_valid("a?b"));
        ASSERT_FALSE(docker_name_is_valid("a b"));
        ASSERT_FALSE(docker_name_is_valid("a\nb"));
        char long_name[DOCKER_NAME_MAX + 2];
        memset(long_name, 'a', sizeof(long_name) - 1);
        long_name[sizeof(long_name) - 1] = 0;
        ASSERT_FALSE(docker_name_is_valid(long_name));
        long_name[DOCKER_NAME_MAX] = 0;
        ASSERT_TRUE(docker_name_is_valid(long_name));
}

TEST(image_refs) {
        ASSERT_TRUE(docker_image_ref_is_valid("busybox"));
        ASSERT_TRUE(docker_image_ref_is_valid("local/busybox:latest"));
        ASSERT_TRUE(docker_image_ref_is_valid("registry.example.com:5000/a/b:1.2"));
        ASSERT_TRUE(docker_image_ref_is_valid("sha256:64e2e56271ff75eab6eb2bcfaa22a402e9c525538e0c976b7e9f52f00fb0201f"));
        ASSERT_TRUE(docker_image_ref_is_valid("busybox@sha256:64e2e56271ff"));
        ASSERT_FALSE(docker_image_ref_is_valid("../containers/x"));
        ASSERT_FALSE(docker_image_ref_is_valid("a/../b"));
        ASSERT_FALSE(docker_image_ref_is_valid("a//b"));
        ASSERT_FALSE(docker_image_ref_is_valid("a/"));
        ASSERT_FALSE(docker_image_ref_is_valid("/a"));
        ASSERT_FALSE(docker_image_ref_is_valid("a/.b"));
        ASSERT_FALSE(docker_image_ref_is_valid("a?b"));
        ASSERT_FALSE(docker_image_ref_is_valid("a%2e"));
        ASSERT_FALSE(docker_image_ref_is_valid(""));
}

TEST(compose_projects) {
        ASSERT_TRUE(compose_project_is_valid("demo"));
        ASSERT_TRUE(compose_project_is_valid("my-app_2"));
        ASSERT_FALSE(compose_project_is_valid("Demo"));
        ASSERT_FALSE(compose_project_is_valid("a.b"));
        ASSERT_FALSE(compose_project_is_valid("_a"));
        ASSERT_FALSE(compose_project_is_valid(""));
}

static const QueryParam params[] = {
        { .name = "all", .type = QUERY_BOOL, .def = "1" },
        { .name = "limit", .type = QUERY_UINT, .max = 100 },
        { .name = "tail", .type = QUERY_TAIL, .max = 1000 },
        { .name = "since", .type = QUERY_TIMESTAMP },
        { .name = "filters", .type = QUERY_FILTERS },
        { .name = NULL },
};

/* The query built from pairs, or NULL with *error. */
static char *build(const QueryPair *pairs, size_t n, const char *fixed, char **error) {
        char *q = NULL;
        int r = query_build(params, pairs, n, fixed, &q, error);

        if (r < 0) {
                ASSERT_INT_EQ(r, -EINVAL);
                ASSERT_NOT_NULL(*error);
                return NULL;
        }
        ASSERT_NULL(*error);
        return q;
}

TEST(query) {
        char *q, *error = NULL;

        q = build(NULL, 0, NULL, &error);
        ASSERT_STREQ(q, "all=1");
        free(q);

        q = build((QueryPair[]) { { "limit", "5" }, { "all", "false" } }, 2, "stream=false", &error);
        ASSERT_STREQ(q, "all=0&limit=5&stream=false");
        free(q);

        q = build((QueryPair[]) { { "tail", "all" }, { "since", "1700000000.25" } }, 2, NULL, &error);
        ASSERT_STREQ(q, "all=1&tail=all&since=1700000000.25");
        free(q);

        q = build((QueryPair[]) { { "filters", "{ \"label\" : [\"a=b\", \"c\"] }" } }, 1, NULL, &error);
        ASSERT_STREQ(q, "all=1&filters=%7B%22label%22%3A%5B%22a%3Db%22%2C%22c%22%5D%7D");
        free(q);

        static const struct {
                QueryPair pair;
                const char *message;
        } bad[] = {
                { { "evil", "1" }, "unknown query parameter 'evil': this endpoint takes all, limit, tail, since, filters" },
                { { "all", "yes" }, "'all' must be true or false (1 or 0)" },
                { { "all", NULL }, "query parameter 'all' needs a value" },
                { { "limit", "101" }, "'limit' must be an integer from 0 to 100" },
                { { "limit", "-1" }, "'limit' must be an integer from 0 to 100" },
                { { "limit", "1e3" }, "'limit' must be an integer from 0 to 100" },
                { { "limit", "" }, "'limit' must be an integer from 0 to 100" },
                { { "limit", "99999999999" }, "'limit' must be an integer from 0 to 100" },
                { { "tail", "some" }, "'tail' must be \"all\" or an integer from 0 to 1000" },
                { { "since", "1.2.3" }, "'since' must be a Unix time in seconds, like 1700000000 or 1700000000.5" },
                { { "since", "-5" }, "'since' must be a Unix time in seconds, like 1700000000 or 1700000000.5" },
                { { "filters", "notjson" }, "'filters' must be a JSON object like {\"label\":[\"app=web\"]}" },
                { { "filters", "[]" }, "'filters' must be a JSON object like {\"label\":[\"app=web\"]}" },
                { { "filters", "{} {}" }, "'filters' must be a JSON object like {\"label\":[\"app=web\"]}" },
                { { "filters", "{\"label\":1}" }, "'filters' key \"label\" must map to an array of strings" },
                { { "filters", "{\"label\":[1]}" }, "'filters' values of \"label\" must be strings without control characters" },
                { { "filters", "{\"label\":[\"a\\nb\"]}" }, "'filters' values of \"label\" must be strings without control characters" },
                { { "filters", "{\"la bel\":[\"a\"]}" }, "'filters' key \"la bel\" is not a filter name" },
                { { "filters", "{\"label\":{\"a\":1}}" }, "'filters' key \"label\" must map to an array of strings" },
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                q = build(&bad[i].pair, 1, NULL, &error);
                ASSERT_NULL(q);
                ASSERT_STREQ(error, bad[i].message);
                free(error);
                error = NULL;
        }

        q = build((QueryPair[]) { { "all", "1" }, { "all", "0" } }, 2, NULL, &error);
        ASSERT_NULL(q);
        ASSERT_STREQ(error, "query parameter 'all' given more than once");
        free(error);
        error = NULL;

        ASSERT_INT_EQ(query_build((QueryParam[]) { { .name = NULL } }, (QueryPair[]) { { "x", "1" } }, 1, NULL, &q, &error),
                      -EINVAL);
        ASSERT_STREQ(error, "unknown query parameter 'x': this endpoint takes none");
        free(error);
}

TEST(filters_bounds) {
        char *out = NULL, *error = NULL, big[FILTERS_MAX + 16];

        ASSERT_OK(filters_normalize("{\"label\":{\"a=b\":true}}", &out, &error));
        ASSERT_STREQ(out, "{\"label\":{\"a=b\":true}}");
        free(out);
        memset(big, ' ', sizeof(big) - 1);
        big[0] = '{';
        big[sizeof(big) - 2] = '}';
        big[sizeof(big) - 1] = 0;
        ASSERT_INT_EQ(filters_normalize(big, &out, &error), -EINVAL);
        ASSERT_CONTAINS(error, "longer than");
        free(error);
}

TEST(escape) {
        char *e = query_escape("a b/c?d=e&f%g~h_i.j-k");
        ASSERT_STREQ(e, "a%20b%2Fc%3Fd%3De%26f%25g~h_i.j-k");
        free(e);
}

TEST(versions) {
        char v[ENGINE_VERSION_MAX];

        ASSERT_OK(engine_pick_version("1.41", v));
        ASSERT_STREQ(v, "1.41");
        ASSERT_OK(engine_pick_version("1.47", v));
        ASSERT_STREQ(v, "1.45");
        ASSERT_OK(engine_pick_version("2.3", v));
        ASSERT_STREQ(v, "1.45");
        ASSERT_OK(engine_pick_version(NULL, v));
        ASSERT_STREQ(v, "1.24");
        ASSERT_INT_EQ(engine_pick_version("1.12", v), -EPROTONOSUPPORT);
        ASSERT_INT_EQ(engine_pick_version("1.x", v), -EPROTO);
        ASSERT_INT_EQ(engine_pick_version("1.", v), -EPROTO);
        ASSERT_INT_EQ(engine_pick_version("141", v), -EPROTO);
        ASSERT_INT_EQ(engine_pick_version("1.41 ", v), -EPROTO);
}

typedef struct Collected {
        char data[256];
        size_t size;
        unsigned streams;       /* bit per stream seen */
        size_t stop_after;
} Collected;

static int collect(void *userdata, unsigned stream, const char *p, size_t n) {
        Collected *c = userdata;

        ASSERT_TRUE(c->size + n < sizeof(c->data));
        memcpy(c->data + c->size, p, n);
        c->size += n;
        c->streams |= 1U << stream;
        return c->stop_after && c->size >= c->stop_after ? -EFBIG : 0;
}

TEST(demux) {
        static const char stream[] =
                "\x01\0\0\0\0\0\0\x06" "out-1\n"
                "\x02\0\0\0\0\0\0\x06" "err-1\n"
                "\x01\0\0\0\0\0\0\0"                    /* an empty frame */
                "\x01\0\0\0\0\0\0\x03" "abc";
        size_t len = sizeof(stream) - 1;

        /* Whole, and one byte at a time: the same payload. */
        for (size_t step = 1; step <= len; step = step == 1 ? len : len + 1) {
                Demux d = {};
                Collected c = {};

                for (size_t i = 0; i < len; i += step)
                        ASSERT_OK(demux_feed(&d, stream + i, MIN(step, len - i), collect, &c));
                ASSERT_TRUE(demux_complete(&d));
                ASSERT_INT_EQ(c.size, 15);
                ASSERT_TRUE(memcmp(c.data, "out-1\nerr-1\nabc", 15) == 0);
                ASSERT_INT_EQ(c.streams, 6);
        }

        /* Cut inside a frame: not complete. */
        Demux d = {};
        Collected c = {};
        ASSERT_OK(demux_feed(&d, stream, 10, collect, &c));
        ASSERT_FALSE(demux_complete(&d));

        /* A bad header (a TTY stream read as multiplexed). */
        Demux bad = {};
        Collected c2 = {};
        ASSERT_INT_EQ(demux_feed(&bad, "hello world\n", 12, collect, &c2), -EBADMSG);
        ASSERT_INT_EQ(demux_feed(&(Demux) {}, "\x01\0\x01\0\0\0\0\x01x", 9, collect, &c2), -EBADMSG);

        /* The sink stops it. */
        Demux d3 = {};
        Collected c3 = { .stop_after = 3 };
        ASSERT_INT_EQ(demux_feed(&d3, stream, len, collect, &c3), -EFBIG);
        ASSERT_INT_EQ(c3.size, 6);
}

int main(void) {
        RUN(names);
        RUN(image_refs);
        RUN(compose_projects);
        RUN(query);
        RUN(filters_bounds);
        RUN(escape);
        RUN(versions);
        RUN(demux);
        return 0;
}
