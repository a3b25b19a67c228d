/* SPDX-License-Identifier: MIT */
/* The LocalAPI peer list (localapi-status.c) and the shared transport's
 * errors (localapi.c); whois's lookups over it are in test-whois.c. */

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <curl/curl.h>

#include "fileio.h"
#include "localapi-status.h"
#include "localapi.h"
#include "tests.h"

static const char status_json[] =
        "{\"BackendState\":\"Running\",\"Self\":{\"HostName\":\"me\"},\"Peer\":{"
        "\"k1\":{\"HostName\":\"tailkitd-web\",\"DNSName\":\"tailkitd-web.t.ts.net.\","
        "\"TailscaleIPs\":[\"fd7a::1\",\"100.64.0.1\"],\"Tags\":[\"tag:web\",\"tag:x\"],\"Online\":true},"
        "\"k2\":{\"HostName\":\"laptop\",\"DNSName\":\"laptop.t.ts.net.\",\"TailscaleIPs\":[\"fd7a::2\"],"
        "\"Tags\":null,\"Online\":false},"
        "\"k3\":{\"HostName\":7,\"Online\":\"yes\"},"
        "\"k4\":\"not an object\"}}\n";

TEST(parse) {
        PeerList l = {};

        ASSERT_INT_EQ(localapi_parse_status(status_json, strlen(status_json), &l), 0);
        ASSERT_STREQ(l.backend_state, "Running");
        ASSERT_STREQ(l.self_hostname, "me");
        ASSERT_INT_EQ(l.n, 3);
        /* Sorted by hostname; a wrong type reads as absent. */
        ASSERT_STREQ(l.peers[0].hostname, "");
        ASSERT_FALSE(l.peers[0].online);
        ASSERT_NULL(l.peers[0].ip);
        ASSERT_STREQ(l.peers[1].hostname, "laptop");
        ASSERT_STREQ(l.peers[1].ip, "fd7a::2");
        ASSERT_INT_EQ(l.peers[1].n_tags, 0);
        ASSERT_STREQ(l.peers[2].hostname, "tailkitd-web");
        ASSERT_STREQ(l.peers[2].dns_name, "tailkitd-web.t.ts.net");
        ASSERT_STREQ(l.peers[2].ip, "100.64.0.1");   /* IPv4 first */
        ASSERT_INT_EQ(l.peers[2].n_tags, 2);
        ASSERT_STREQ(l.peers[2].tags[1], "tag:x");
        ASSERT_TRUE(l.peers[2].online);

        ASSERT_TRUE(peer_list_find(&l, "tailkitd-web") == &l.peers[2]);
        ASSERT_TRUE(peer_list_find(&l, "web") == &l.peers[2]);        /* the Go client's tailkitd-NAME */
        ASSERT_TRUE(peer_list_find(&l, "laptop") == &l.peers[1]);
        ASSERT_NULL(peer_list_find(&l, "lap"));
        ASSERT_NULL(peer_list_find(&l, "tailkitd"));
        peer_list_done(&l);
        ASSERT_NULL(l.peers);

        ASSERT_INT_EQ(localapi_parse_status("[]", 2, &l), -EBADMSG);
        ASSERT_INT_EQ(localapi_parse_status("{} x", 4, &l), -EBADMSG);
        ASSERT_INT_EQ(localapi_parse_status("{}", 2, &l), 0);
        ASSERT_INT_EQ(l.n, 0);
        peer_list_done(&l);
}

TEST(fleet_fixture) {
        char *data = NULL;
        size_t size = 0;
        PeerList l = {};
        int fd = open(FIXTURES "/status-fleet.json", O_RDONLY | O_CLOEXEC);

        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(read_full_fd(fd, LOCALAPI_STATUS_MAX, &data, &size));
        close(fd);
        ASSERT_INT_EQ(localapi_parse_status(data, size, &l), 0);
        ASSERT_INT_EQ(l.n, 5);
        ASSERT_STREQ(l.peers[0].hostname, "laptop");
        ASSERT_STREQ(l.peers[1].hostname, "tailkitd-alpha");
        ASSERT_STREQ(l.peers[1].ip, "127.0.0.1");
        ASSERT_FALSE(peer_list_find(&l, "delta")->online);
        peer_list_done(&l);
        free(data);
}

TEST(transport_errors) {
        char dir[] = "/tmp/test-localapi-XXXXXX", path[128];
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        LocalApiReply reply = {};
        PeerList l = {};
        char *detail = NULL, *error = NULL;
        int fd;

        ASSERT_NOT_NULL(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/missing.sock", dir);
        ASSERT_INT_EQ(localapi_get(path, "/localapi/v0/status", 1000, 1024, &reply, &detail), -ENOENT);
        ASSERT_CONTAINS(detail, "cannot connect");
        free(detail);
        ASSERT_INT_EQ(localapi_status(path, &l, &error), -ENOENT);
        fprintf(stderr, "   %s\n", error);
        ASSERT_CONTAINS(error, "tailscaled's LocalAPI at ");
        ASSERT_CONTAINS(error, "missing.sock: cannot connect");
        free(error);

        /* A socket nobody listens on: refused. */
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s/stale.sock", dir);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(bind(fd, (struct sockaddr *) &sa, sizeof sa));
        close(fd);
        ASSERT_INT_EQ(localapi_get(sa.sun_path, "/localapi/v0/status", 1000, 1024, &reply, &detail), -ECONNREFUSED);
        free(detail);
        ASSERT_OK(unlink(sa.sun_path));
        ASSERT_OK(rmdir(dir));
}

int main(void) {
        ASSERT_TRUE(curl_global_init(CURL_GLOBAL_NOTHING) == CURLE_OK);
        RUN(parse);
        RUN(fleet_fixture);
        RUN(transport_errors);
        curl_global_cleanup();
        return 0;
}
