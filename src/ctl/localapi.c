/* SPDX-License-Identifier: MIT */
#include <curl/curl.h>

#include "api.h"
#include "config.h"
#include "json-util.h"
#include "localapi.h"
#include "macro.h"
#include "paths.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(CURL *, curl_easy_cleanup);

static void peer_done(Peer *p) {
        free(p->hostname);
        free(p->dns_name);
        free(p->ip);
        for (size_t i = 0; i < p->n_tags; i++)
                free(p->tags[i]);
        free(p->tags);
}

void peer_list_done(PeerList *l) {
        for (size_t i = 0; i < l->n; i++)
                peer_done(&l->peers[i]);
        free(l->peers);
        free(l->self_hostname);
        free(l->backend_state);
        *l = (PeerList) {};
}

static char *dup_or_null(const char *s) {
        return s ? strdup(s) : NULL;
}

static int parse_peer(json_object *o, Peer *p) {
        json_object *ips = json_get(o, "TailscaleIPs"), *tags = json_get(o, "Tags");
        const char *dns = json_str(o, "DNSName");

        *p = (Peer) {};
        p->hostname = strdup(json_str(o, "HostName") ?: "");
        p->dns_name = strdup(dns ?: "");
        if (!p->hostname || !p->dns_name)
                return -ENOMEM;
        if (endswith(p->dns_name, "."))
                p->dns_name[strlen(p->dns_name) - 1] = 0;
        p->online = json_true(o, "Online");
        if (ips && json_object_is_type(ips, json_type_array)) {
                for (size_t i = 0; i < json_object_array_length(ips); i++) {
                        const char *ip = json_object_get_string(json_object_array_get_idx(ips, i));
                        if (!ip || !*ip)
                                continue;
                        if (!p->ip || (strchr(p->ip, ':') && !strchr(ip, ':'))) {
                                free(p->ip);
                                p->ip = strdup(ip);
                                if (!p->ip)
                                        return -ENOMEM;
                        }
                }
        }
        if (tags && json_object_is_type(tags, json_type_array)) {
                size_t n = json_object_array_length(tags);
                p->tags = calloc(n ?: 1, sizeof(char *));
                if (!p->tags)
                        return -ENOMEM;
                for (size_t i = 0; i < n; i++) {
                        const char *t = json_object_get_string(json_object_array_get_idx(tags, i));
                        if (t && !(p->tags[p->n_tags++] = strdup(t)))
                                return -ENOMEM;
                }
        }
        return 0;
}

static int peer_cmp(const void *a, const void *b) {
        return strcmp(((const Peer *) a)->hostname, ((const Peer *) b)->hostname);
}

int localapi_parse_status(const char *body, size_t len, PeerList *ret) {
        _cleanup_(json_object_putp_) json_object *root = NULL;
        _cleanup_(peer_list_done) PeerList l = {};
        json_object *peers;
        int r;

        r = json_parse_strict(body, len, &root);
        if (r < 0)
                return r;
        if (!json_object_is_type(root, json_type_object))
                return -EBADMSG;
        l.backend_state = dup_or_null(json_str(root, "BackendState"));
        l.self_hostname = dup_or_null(json_str(json_get(root, "Self"), "HostName"));
        peers = json_get(root, "Peer");
        if (peers && json_object_is_type(peers, json_type_object)) {
                l.peers = calloc(json_object_object_length(peers) ?: 1, sizeof(Peer));
                if (!l.peers)
                        return -ENOMEM;
                json_object_object_foreach(peers, key, v) {
                        (void) key;
                        if (!json_object_is_type(v, json_type_object))
                                continue;
                        r = parse_peer(v, &l.peers[l.n]);
                        l.n++;
                        if (r < 0)
                                return r;
                }
                qsort(l.peers, l.n, sizeof(Peer), peer_cmp);
        }
        *ret = l;
        l = (PeerList) {};
        return 0;
}

typedef struct Buf {
        char *data;
        size_t size;
        bool too_large;
} Buf;

static size_t on_write(char *data, size_t size, size_t nmemb, void *userdata) {
        Buf *b = userdata;
        size_t n = size * nmemb;
        char *nd;

        if (n > LOCALAPI_STATUS_MAX - b->size) {
                b->too_large = true;
                return 0;
        }
        nd = realloc(b->data, b->size + n + 1);
        if (!nd)
                return 0;
        b->data = nd;
        memcpy(b->data + b->size, data, n);
        b->size += n;
        b->data[b->size] = 0;
        return n;
}

int localapi_status(const char *socket_path, PeerList *ret, char **error) {
        _cleanup_(curl_easy_cleanupp) CURL *curl = NULL;
        _cleanup_free_ char *body = NULL;
        Buf b = {};
        long status = 0;
        CURLcode code;
        int r;

        *error = NULL;
        curl = curl_easy_init();
        if (!curl)
                return -ENOMEM;
        curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, socket_path);
        /* The LocalAPI answers only Host local-tailscaled.sock (reference §1.2). */
        curl_easy_setopt(curl, CURLOPT_URL, "http://local-tailscaled.sock/localapi/v0/status");
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, LOCALAPI_TIMEOUT_MS);
        curl_easy_setopt(curl, CURLOPT_PROXY, "");
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
        code = curl_easy_perform(curl);
        body = b.data;
        if (b.too_large)
                return asprintf(error, "the LocalAPI status is larger than %u bytes", LOCALAPI_STATUS_MAX) < 0
                        ? -ENOMEM : -EFBIG;
        if (code != CURLE_OK)
                return asprintf(error, "tailscaled's LocalAPI at %s: %s", socket_path, curl_easy_strerror(code)) < 0
                        ? -ENOMEM : -ECONNREFUSED;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        if (status != 200)
                return asprintf(error, "tailscaled's LocalAPI at %s answered HTTP %ld", socket_path, status) < 0
                        ? -ENOMEM : -EPROTO;
        r = localapi_parse_status(body ?: "", b.size, ret);
        if (r == -EBADMSG)
                return asprintf(error, "tailscaled's LocalAPI status is not the expected JSON") < 0 ? -ENOMEM : r;
        return r;
}

static bool dns_label_is(const char *dns, const char *name) {
        size_t n = strlen(name);
        return strncmp(dns, name, n) == 0 && (dns[n] == '.' || dns[n] == 0);
}

const Peer *peer_list_find(const PeerList *l, const char *name) {
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->peers[i].hostname, name) || dns_label_is(l->peers[i].dns_name, name))
                        return &l->peers[i];
        for (size_t i = 0; i < l->n; i++) {
                const char *rest = startswith(l->peers[i].hostname, "tailkitd-");
                if (rest && streq(rest, name))
                        return &l->peers[i];
        }
        return NULL;
}

char *localapi_default_socket(void) {
        DaemonConfig cfg = {};
        ConfigErrors errors = {};
        char *s;

        /* An unreadable or invalid tailkitd.conf still leaves the default. */
        (void) daemon_config_load(config_dir(), &cfg, &errors);
        s = strdup(cfg.tailscale_socket ?: "/var/run/tailscale/tailscaled.sock");
        daemon_config_done(&cfg);
        config_errors_done(&errors);
        return s;
}
