/* SPDX-License-Identifier: MIT */
#include "json-util.h"
#include "localapi-status.h"
#include "localapi.h"
#include "macro.h"

/* Lenient getters: a missing key or another type reads as absent. */
static json_object *get(json_object *o, const char *key) {
        json_object *v = NULL;
        if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v))
                return NULL;
        return v;
}

static const char *get_str(json_object *o, const char *key) {
        json_object *v = get(o, key);
        return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static bool get_true(json_object *o, const char *key) {
        json_object *v = get(o, key);
        return v && json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

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
        json_object *ips = get(o, "TailscaleIPs"), *tags = get(o, "Tags");
        const char *dns = get_str(o, "DNSName");

        *p = (Peer) {};
        p->hostname = strdup(get_str(o, "HostName") ?: "");
        p->dns_name = strdup(dns ?: "");
        if (!p->hostname || !p->dns_name)
                return -ENOMEM;
        if (endswith(p->dns_name, "."))
                p->dns_name[strlen(p->dns_name) - 1] = 0;
        p->online = get_true(o, "Online");
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
        l.backend_state = dup_or_null(get_str(root, "BackendState"));
        l.self_hostname = dup_or_null(get_str(get(root, "Self"), "HostName"));
        peers = get(root, "Peer");
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

int localapi_status(const char *socket_path, PeerList *ret, char **error) {
        _cleanup_(localapi_reply_done) LocalApiReply reply = {};
        _cleanup_free_ char *detail = NULL;
        int r;

        *error = NULL;
        r = localapi_get(socket_path, "/localapi/v0/status", LOCALAPI_TIMEOUT_MS, LOCALAPI_STATUS_MAX, &reply, &detail);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return asprintf(error, "tailscaled's LocalAPI at %s: %s", socket_path, strna(detail)) < 0 ? -ENOMEM : r;
        if (reply.status != 200)
                return asprintf(error, "tailscaled's LocalAPI at %s answered HTTP %ld", socket_path, reply.status) < 0
                        ? -ENOMEM : -EPROTO;
        r = localapi_parse_status(strempty(reply.body), reply.size, ret);
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
