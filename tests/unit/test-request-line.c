/* SPDX-License-Identifier: MIT */
/* The dispatcher's request-line parser and path → integration routing. */

#include <stdbool.h>
#include <stdint.h>

#include "request-line.h"
#include "prefix-routes.h"
#include "tests.h"

static const char *result_name(RequestLineResult r) {
        switch (r) {
        case REQUEST_LINE_INCOMPLETE: return "INCOMPLETE";
        case REQUEST_LINE_OK:         return "OK";
        case REQUEST_LINE_BAD:        return "BAD";
        case REQUEST_LINE_TOO_LONG:   return "TOO_LONG";
        }
        return "?";
}

/* Parses a heap copy of exactly len bytes, so ASan catches reads past len. */
static RequestLineResult parse_n(const void *data, size_t len, RequestLine *ret) {
        char *copy = malloc(len ? len : 1);
        RequestLineResult r;

        ASSERT_NOT_NULL(copy);
        memcpy(copy, data, len);
        r = request_line_parse(copy, len, ret);
        if (r == REQUEST_LINE_OK) {
                /* Point the results into the caller's buffer before freeing. */
                ASSERT_TRUE(ret->method >= copy && ret->method + ret->method_len <= copy + len);
                ASSERT_TRUE(ret->path >= copy && ret->path + ret->path_len <= copy + len);
                ret->method = (const char *) data + (ret->method - copy);
                ret->path = (const char *) data + (ret->path - copy);
        }
        free(copy);
        return r;
}

static void expect(const char *s, RequestLineResult expected) {
        RequestLine rl = {};
        RequestLineResult r = parse_n(s, strlen(s), &rl);

        if (r != expected)
                FAIL_AT("\"%s\": %s, expected %s", s, result_name(r), result_name(expected));
}

static void expect_ok(const char *s, const char *method, const char *path) {
        RequestLine rl = {};
        RequestLineResult r = parse_n(s, strlen(s), &rl);

        if (r != REQUEST_LINE_OK)
                FAIL_AT("\"%s\": %s, expected OK", s, result_name(r));
        ASSERT_INT_EQ(rl.method_len, strlen(method));
        ASSERT_TRUE(memcmp(rl.method, method, rl.method_len) == 0);
        ASSERT_INT_EQ(rl.path_len, strlen(path));
        ASSERT_TRUE(memcmp(rl.path, path, rl.path_len) == 0);
        ASSERT_TRUE(rl.method == s);
        ASSERT_TRUE(rl.path == s + strlen(method) + 1);
}

TEST(ok) {
        expect_ok("GET /tools HTTP/1.1\r\n", "GET", "/tools");
        expect_ok("GET /tools HTTP/1.1\r\nHost: x\r\n\r\n", "GET", "/tools");
        expect_ok("GET /tools HTTP/1.0\r\n", "GET", "/tools");
        expect_ok("GET /tools HTTP/1.1\n", "GET", "/tools");
        expect_ok("GET /tools HTTP/1.0\nHost: x\n\n", "GET", "/tools");
        expect_ok("GET / HTTP/1.1\r\n", "GET", "/");
        expect_ok("POST /exec/devbox/reload-nginx HTTP/1.1\r\n", "POST", "/exec/devbox/reload-nginx");
        expect_ok("DELETE /exec/jobs/01J0000000000000000000000 HTTP/1.1\r\n", "DELETE",
                  "/exec/jobs/01J0000000000000000000000");
        expect_ok("PUT /vars/p/e/KEY HTTP/1.1\r\n", "PUT", "/vars/p/e/KEY");
        /* Query and fragment stripped. */
        expect_ok("GET /files?path=/etc/x&y=1 HTTP/1.1\r\n", "GET", "/files");
        expect_ok("GET /files?path=/a?b HTTP/1.1\r\n", "GET", "/files");
        expect_ok("GET /tools#frag HTTP/1.1\r\n", "GET", "/tools");
        expect_ok("GET /tools?#x HTTP/1.1\r\n", "GET", "/tools");
        expect_ok("GET /?x=1 HTTP/1.1\r\n", "GET", "/");
        expect_ok("GET /a%20b HTTP/1.1\r\n", "GET", "/a%20b");
        /* Every visible ASCII character is allowed in the target. */
        expect_ok("GET /!\"$%&'()*+,-./0-9:;<=>@[\\]^_`{|}~ HTTP/1.1\r\n", "GET",
                  "/!\"$%&'()*+,-./0-9:;<=>@[\\]^_`{|}~");
        /* The longest method (16 upper-case letters). */
        expect_ok("ABCDEFGHIJKLMNOP / HTTP/1.1\r\n", "ABCDEFGHIJKLMNOP", "/");
        /* Whatever follows the line is not looked at. */
        expect_ok("GET /x HTTP/1.1\n\x01\xff garbage", "GET", "/x");
}

TEST(incomplete_prefixes) {
        static const char *const lines[] = {
                "GET /tools HTTP/1.1\r\n",
                "GET /tools HTTP/1.0\n",
                "POST /exec/devbox/reload-nginx?x=1#f HTTP/1.1\r\n",
                "DELETE / HTTP/1.1\r\n",
        };

        for (size_t k = 0; k < sizeof(lines) / sizeof(lines[0]); k++) {
                size_t len = strlen(lines[k]);
                for (size_t n = 0; n < len; n++) {
                        RequestLine rl = {};
                        RequestLineResult r = parse_n(lines[k], n, &rl);
                        if (r != REQUEST_LINE_INCOMPLETE)
                                FAIL_AT("prefix %zu of \"%s\": %s", n, lines[k], result_name(r));
                }
        }
}

TEST(bad) {
        expect("get /tools HTTP/1.1\r\n", REQUEST_LINE_BAD);
        expect("Get /tools HTTP/1.1\r\n", REQUEST_LINE_BAD);
        expect("get", REQUEST_LINE_BAD);
        expect("GET/tools HTTP/1.1\r\n", REQUEST_LINE_BAD);
        expect("GET\r\n", REQUEST_LINE_BAD);
        expect("GET /tools\r\n", REQUEST_LINE_BAD);          /* HTTP/0.9 */
        expect("GET /tools HTTP/1.1", REQUEST_LINE_INCOMPLETE);
        expect("GET /toolsHTTP/1.1\r\n", REQUEST_LINE_BAD);
        expect("GET  /tools HTTP/1.1\r\n", REQUEST_LINE_BAD);
        expect("GET /tools  HTTP/1.1\r\n", REQUEST_LINE_BAD);
        expect(" GET /tools HTTP/1.1\r\n", REQUEST_LINE_BAD);
        expect("GET /tools HTTP/1.1 \r\n", REQUEST_LINE_BAD);
        expect("GET /tools HTTP/1.1\r\r\n", REQUEST_LINE_BAD);
        expect("GET /tools HTTP/1.1\rx", REQUEST_LINE_BAD);
        expect("GET /tools HTTP/1.1x", REQUEST_LINE_BAD);
        expect("GET /tools HTTP/1.\r\n", REQUEST_LINE_BAD);
        expect("GET /tools HTTP/1\r\n", REQUEST_LINE_BAD);
        expect("GET /tools HTTP/\r\n", REQUEST_LINE_BAD);
        expect("GET /tools \r\n", REQUEST_LINE_BAD);
        expect("GET / \r\n", REQUEST_LINE_BAD);
        /* Absolute-form and other non-origin targets. */
        expect("GET http://x/ HTTP/1.1\r\n", REQUEST_LINE_BAD);
        expect("GET http", REQUEST_LINE_BAD);
        expect("CONNECT x:443 HTTP/1.1\r\n", REQUEST_LINE_BAD);
        expect("OPTIONS * HTTP/1.1\r\n", REQUEST_LINE_BAD);
        expect("GET tools HTTP/1.1\r\n", REQUEST_LINE_BAD);
        /* Other versions. */
        expect("GET / HTTP/2.0\r\n", REQUEST_LINE_BAD);
        expect("GET / HTTP/2", REQUEST_LINE_BAD);
        expect("GET / HTTP/1.2\r\n", REQUEST_LINE_BAD);
        expect("GET / HTTP/1.10\r\n", REQUEST_LINE_BAD);
        expect("GET / http/1.1\r\n", REQUEST_LINE_BAD);
        expect("GET / HTTPS/1.1\r\n", REQUEST_LINE_BAD);
        expect("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", REQUEST_LINE_BAD);
        /* Control characters and non-ASCII in the target. */
        expect("GET /a\tb HTTP/1.1\r\n", REQUEST_LINE_BAD);
        expect("GET /a\x01 HTTP/1.1\r\n", REQUEST_LINE_BAD);
        expect("GET /a\x7f HTTP/1.1\r\n", REQUEST_LINE_BAD);
        expect("GET /\x80 HTTP/1.1\r\n", REQUEST_LINE_BAD);
        expect("GET /\xc3\xa9 HTTP/1.1\r\n", REQUEST_LINE_BAD);
        expect("GET /a\rb HTTP/1.1\r\n", REQUEST_LINE_BAD);
        expect("GET /a\r\n", REQUEST_LINE_BAD);
        expect("GET /a\n", REQUEST_LINE_BAD);
        /* Leading empty lines (RFC 9112 allows skipping them; we don't). */
        expect("\r\nGET / HTTP/1.1\r\n", REQUEST_LINE_BAD);
        expect("\nGET / HTTP/1.1\r\n", REQUEST_LINE_BAD);
        expect("\r\n", REQUEST_LINE_BAD);
        expect("\n", REQUEST_LINE_BAD);
        expect("\r", REQUEST_LINE_BAD);
        /* Methods: too long, empty, non-letters. */
        expect("ABCDEFGHIJKLMNOPQ / HTTP/1.1\r\n", REQUEST_LINE_BAD);
        expect("ABCDEFGHIJKLMNOPQ", REQUEST_LINE_BAD);
        expect(" / HTTP/1.1\r\n", REQUEST_LINE_BAD);
        expect("G3T / HTTP/1.1\r\n", REQUEST_LINE_BAD);
        expect("M-SEARCH / HTTP/1.1\r\n", REQUEST_LINE_BAD);
        /* TLS ClientHello to the plain-HTTP port. */
        expect("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", REQUEST_LINE_BAD);
        /* Binary with an embedded NUL. */
        {
                static const char nul[] = "GET /a\0b HTTP/1.1\r\n";
                RequestLine rl;
                ASSERT_INT_EQ(parse_n(nul, sizeof(nul) - 1, &rl), REQUEST_LINE_BAD);
                ASSERT_INT_EQ(parse_n("\0", 1, &rl), REQUEST_LINE_BAD);
        }
}

/* Independent model of a valid first line: METHOD SP /target SP HTTP/1.[01]
 * (CR)LF within the first REQUEST_LINE_MAX bytes. */
static bool model_valid(const unsigned char *buf, size_t len, size_t *method_len, size_t *path_len) {
        const unsigned char *nl;
        size_t line, i = 0, m, t0;

        if (len > REQUEST_LINE_MAX)
                len = REQUEST_LINE_MAX;
        nl = memchr(buf, '\n', len);
        if (!nl)
                return false;
        line = (size_t) (nl - buf);
        if (line > 0 && buf[line - 1] == '\r')
                line--;
        while (i < line && buf[i] >= 'A' && buf[i] <= 'Z')
                i++;
        m = i;
        if (m == 0 || m > 16 || i >= line || buf[i] != ' ')
                return false;
        i++;
        if (i >= line || buf[i] != '/')
                return false;
        t0 = i;
        while (i < line && buf[i] > 0x20 && buf[i] < 0x7f)
                i++;
        if (line - i != 9 || buf[i] != ' ')
                return false;
        if (memcmp(buf + i + 1, "HTTP/1.", 7) != 0 || (buf[i + 8] != '0' && buf[i + 8] != '1'))
                return false;
        *method_len = m;
        *path_len = 0;
        while (t0 + *path_len < i && buf[t0 + *path_len] != '?' && buf[t0 + *path_len] != '#')
                (*path_len)++;
        return true;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(void) {
        /* xorshift64*: deterministic across runs. */
        rng_state ^= rng_state >> 12;
        rng_state ^= rng_state << 25;
        rng_state ^= rng_state >> 27;
        return (uint32_t) ((rng_state * 0x2545f4914f6cdd1dULL) >> 32);
}

/* Checks one buffer: OK exactly when the model says valid, with the same
 * fields; and every shorter prefix is consistent (once BAD, always BAD
 * until a line end makes it OK/BAD for good). */
static void check_buffer(const unsigned char *buf, size_t len) {
        size_t ml = 0, pl = 0;
        bool valid = model_valid(buf, len, &ml, &pl);
        RequestLine rl = {};
        RequestLineResult r = parse_n(buf, len, &rl);

        if ((r == REQUEST_LINE_OK) != valid) {
                fprintf(stderr, "buffer (%zu):", len);
                for (size_t i = 0; i < len && i < 80; i++)
                        fprintf(stderr, " %02x", buf[i]);
                FAIL_AT("\nparser says %s, model says %s", result_name(r), valid ? "valid" : "invalid");
        }
        if (valid) {
                ASSERT_INT_EQ(rl.method_len, ml);
                ASSERT_INT_EQ(rl.path_len, pl);
                ASSERT_TRUE(rl.method == (const char *) buf);
                ASSERT_TRUE(rl.path == (const char *) buf + ml + 1);
        }
        if (len < REQUEST_LINE_MAX && r == REQUEST_LINE_TOO_LONG)
                FAIL_AT("TOO_LONG for a %zu-byte buffer", len);
}

static void check_prefix_consistency(const unsigned char *buf, size_t len) {
        RequestLineResult prev = REQUEST_LINE_INCOMPLETE;
        RequestLine rl;

        for (size_t n = 0; n <= len; n++) {
                RequestLineResult r = parse_n(buf, n, &rl);
                if (prev != REQUEST_LINE_INCOMPLETE && r != prev)
                        FAIL_AT("prefix %zu: %s after %s", n, result_name(r), result_name(prev));
                prev = r;
        }
}

TEST(random_bytes) {
        unsigned char buf[256];

        for (int iter = 0; iter < 500; iter++) {
                size_t len = rnd() % sizeof(buf);
                for (size_t i = 0; i < len; i++)
                        buf[i] = (unsigned char) rnd();
                check_buffer(buf, len);
                if (iter % 10 == 0)
                        check_prefix_consistency(buf, len);
        }
}

TEST(random_mutations) {
        /* Random bytes almost never make a valid line, so also mutate valid
         * ones with bytes that matter to the grammar. */
        static const char *const seeds[] = {
                "GET /tools HTTP/1.1\r\n",
                "POST /exec/a/b?x=1 HTTP/1.0\n",
                "DELETE /vars/p/e/K#f HTTP/1.1\r\nHost: x\r\n",
        };
        static const char alphabet[] = " \r\n\t/?#HTP.01AZaz\x7f\x80\x00";
        unsigned char buf[128];

        for (int iter = 0; iter < 3000; iter++) {
                const char *seed = seeds[rnd() % 3];
                size_t len = strlen(seed), edits = 1 + rnd() % 3;

                memcpy(buf, seed, len);
                for (size_t e = 0; e < edits; e++) {
                        size_t pos = rnd() % (len + 1);
                        unsigned char c = (unsigned char) alphabet[rnd() % (sizeof(alphabet) - 1)];
                        switch (rnd() % 3) {
                        case 0:         /* replace */
                                if (pos < len)
                                        buf[pos] = c;
                                break;
                        case 1:         /* insert */
                                if (len + 1 < sizeof(buf)) {
                                        memmove(buf + pos + 1, buf + pos, len - pos);
                                        buf[pos] = c;
                                        len++;
                                }
                                break;
                        default:        /* delete */
                                if (pos < len) {
                                        memmove(buf + pos, buf + pos + 1, len - pos - 1);
                                        len--;
                                }
                                break;
                        }
                }
                check_buffer(buf, len);
                if (iter % 5 == 0)
                        check_prefix_consistency(buf, len);
        }
}

TEST(too_long) {
        size_t big = REQUEST_LINE_MAX * 2;
        char *buf = malloc(big + 64);
        RequestLine rl;

        ASSERT_NOT_NULL(buf);

        /* 8192 bytes, no newline, a valid prefix (long target). */
        memcpy(buf, "GET /", 5);
        memset(buf + 5, 'a', REQUEST_LINE_MAX - 5);
        ASSERT_INT_EQ(parse_n(buf, REQUEST_LINE_MAX, &rl), REQUEST_LINE_TOO_LONG);
        /* One byte less: still waiting. */
        ASSERT_INT_EQ(parse_n(buf, REQUEST_LINE_MAX - 1, &rl), REQUEST_LINE_INCOMPLETE);

        /* A valid line longer than 8192 bytes, all of it in the buffer. */
        memset(buf + 5, 'a', big - 5);
        memcpy(buf + big, " HTTP/1.1\r\n", 11);
        ASSERT_INT_EQ(parse_n(buf, big + 11, &rl), REQUEST_LINE_TOO_LONG);

        /* Line end exactly at the limit: the '\n' is byte 8192 (index 8191) → OK. */
        memset(buf + 5, 'a', REQUEST_LINE_MAX - 5);
        memcpy(buf + REQUEST_LINE_MAX - 11, " HTTP/1.1\r\n", 11);
        ASSERT_INT_EQ(parse_n(buf, REQUEST_LINE_MAX, &rl), REQUEST_LINE_OK);
        ASSERT_INT_EQ(rl.path_len, REQUEST_LINE_MAX - 11 - 4);
        ASSERT_INT_EQ(parse_n(buf, REQUEST_LINE_MAX + 100, &rl), REQUEST_LINE_OK);

        /* One byte further: the '\n' is byte 8193 → too long. */
        memset(buf + 5, 'a', REQUEST_LINE_MAX - 5);
        memcpy(buf + REQUEST_LINE_MAX - 10, " HTTP/1.1\r\n", 11);
        ASSERT_INT_EQ(parse_n(buf, REQUEST_LINE_MAX + 1, &rl), REQUEST_LINE_TOO_LONG);

        /* A long buffer that is not a valid prefix is BAD, not TOO_LONG. */
        memset(buf, 'a', big);
        ASSERT_INT_EQ(parse_n(buf, big, &rl), REQUEST_LINE_BAD);
        memset(buf, 'A', big);
        ASSERT_INT_EQ(parse_n(buf, big, &rl), REQUEST_LINE_BAD);
        memcpy(buf, "GET /", 5);
        buf[100] = 0x01;
        ASSERT_INT_EQ(parse_n(buf, big, &rl), REQUEST_LINE_BAD);

        free(buf);
}

/* ------------------------------------------------------------------ */

static void expect_route(const char *path, const char *integration) {
        /* Exact-length heap copy: the path is not NUL-terminated for the callee. */
        size_t len = strlen(path);
        char *copy = malloc(len ? len : 1);
        const char *r;

        ASSERT_NOT_NULL(copy);
        memcpy(copy, path, len);
        r = route_integration(copy, len);
        free(copy);
        if (!integration) {
                if (r)
                        FAIL_AT("\"%s\" → %s, expected NULL", path, r);
        } else
                ASSERT_STREQ(r, integration);
}

TEST(routes) {
        expect_route("/tools", "tools");
        expect_route("/tools/", "tools");
        expect_route("/tools/x", "tools");
        expect_route("/tools/devbox", "tools");
        expect_route("/health", "tools");
        expect_route("/health/", "tools");
        expect_route("/toolsx", NULL);
        expect_route("/tool", NULL);
        expect_route("/healthz", NULL);
        expect_route("/exec", "exec");
        expect_route("/exec/jobs/1", "exec");
        expect_route("/exec/devbox/reload-nginx", "exec");
        expect_route("/executor", NULL);
        expect_route("/receive", "files");
        expect_route("/files", "files");
        expect_route("/files/", "files");
        expect_route("/filesystem", NULL);
        expect_route("/vars", "vars");
        expect_route("/vars/a/b", "vars");
        expect_route("/vars/a/b/KEY", "vars");
        expect_route("/variables", NULL);
        expect_route("/integrations/docker/containers", "docker");
        expect_route("/integrations/docker", "docker");
        expect_route("/integrations/docker/available", "docker");
        expect_route("/integrations/dockerx", NULL);
        expect_route("/integrations/systemd", "systemd");
        expect_route("/integrations/systemd/units", "systemd");
        expect_route("/integrations/metrics/", "metrics");
        expect_route("/integrations/metrics/cpu", "metrics");
        expect_route("/integrations", NULL);
        expect_route("/integrations/", NULL);
        expect_route("/integrations/other", NULL);
        expect_route("/", NULL);
        expect_route("", NULL);
        expect_route("tools", NULL);
        expect_route("//tools", NULL);
        expect_route("/Tools", NULL);
        expect_route("/TOOLS", NULL);

        /* The length is honoured: a longer buffer cut to "/tools". */
        ASSERT_STREQ(route_integration("/toolsx", 6), "tools");
        ASSERT_NULL(route_integration("/tools", 5));
        ASSERT_NULL(route_integration("/tools", 0));

        ASSERT_CONTAINS(route_prefix_list, "/tools");
        ASSERT_CONTAINS(route_prefix_list, "/integrations/metrics");
}

TEST(request_line_then_route) {
        /* What the dispatcher does: parse, then route the path. */
        static const struct {
                const char *req;
                const char *integration;
        } cases[] = {
                { "GET /tools HTTP/1.1\r\n", "tools" },
                { "GET /tools?x=1 HTTP/1.1\r\n", "tools" },
                { "GET /tools#x HTTP/1.1\r\n", "tools" },
                { "GET /toolsx?y HTTP/1.1\r\n", NULL },
                { "GET /exec/jobs/01J HTTP/1.1\r\n", "exec" },
                { "GET /files?path=/etc/hosts HTTP/1.1\r\n", "files" },
                { "GET /integrations/docker?all=1 HTTP/1.1\r\n", "docker" },
                { "GET /?tools HTTP/1.1\r\n", NULL },
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                RequestLine rl;
                const char *r;

                ASSERT_INT_EQ(request_line_parse(cases[i].req, strlen(cases[i].req), &rl), REQUEST_LINE_OK);
                r = route_integration(rl.path, rl.path_len);
                if (!cases[i].integration)
                        ASSERT_NULL(r);
                else
                        ASSERT_STREQ(r, cases[i].integration);
        }
}

int main(void) {
        RUN(ok);
        RUN(incomplete_prefixes);
        RUN(bad);
        RUN(random_bytes);
        RUN(random_mutations);
        RUN(too_long);
        RUN(routes);
        RUN(request_line_then_route);
        return 0;
}
