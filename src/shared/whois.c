/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <curl/curl.h>

#include "localapi.h"
#include "macro.h"
#include "whois.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);

Whois *whois_free(Whois *w) {
        if (!w)
                return NULL;
        free(w->name);
        free(w->login);
        free(w->stable_id);
        free(w->tags);
        json_object_put(w->capmap);
        free(w);
        return NULL;
}

static const char *get_string(json_object *o, const char *key) {
        json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

static json_object *get_object(json_object *o, const char *key) {
        json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_object))
                return NULL;
        return v;
}

static char *dup_nonempty(const char *s) {
        return isempty(s) ? NULL : strdup(s);
}

int whois_parse(const char *body, size_t len, Whois **ret) {
        _cleanup_(json_object_putp) json_object *root = NULL;
        _cleanup_(whois_freep) Whois *w = NULL;
        json_tokener *tok;
        json_object *node, *v;
        const char *name;

        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        root = json_tokener_parse_ex(tok, body, (int) len);
        if (!root || json_tokener_get_error(tok) != json_tokener_success ||
            (size_t) json_tokener_get_parse_end(tok) != len) {
                /* Trailing whitespace after the object is fine. */
                size_t end = root ? json_tokener_get_parse_end(tok) : 0;
                bool only_ws = root != NULL;
                for (size_t i = end; only_ws && i < len; i++)
                        if (body[i] != ' ' && body[i] != '\n' && body[i] != '\r' && body[i] != '\t')
                                only_ws = false;
                if (!only_ws) {
                        json_tokener_free(tok);
                        return -EBADMSG;
                }
        }
        json_tokener_free(tok);

        if (!json_object_is_type(root, json_type_object))
                return -EBADMSG;
        node = get_object(root, "Node");
        if (!node)
                return -EBADMSG;

        w = calloc(1, sizeof(Whois));
        if (!w)
                return -ENOMEM;

        name = get_string(node, "ComputedName");
        if (isempty(name))
                name = get_string(get_object(node, "Hostinfo"), "Hostname");
        if (!isempty(name))
                w->name = strdup(name);
        else {
                /* Last resort: the MagicDNS FQDN without its trailing dot. */
                name = get_string(node, "Name");
                if (isempty(name))
                        return -EBADMSG;
                w->name = strndup(name, strlen(name) - (name[strlen(name) - 1] == '.'));
        }
        if (!w->name)
                return -ENOMEM;

        w->login = dup_nonempty(get_string(get_object(root, "UserProfile"), "LoginName"));
        w->stable_id = dup_nonempty(get_string(node, "StableID"));

        if (json_object_object_get_ex(node, "Tags", &v) && json_object_is_type(v, json_type_array)) {
                size_t n = json_object_array_length(v), total = 0;
                for (size_t i = 0; i < n; i++) {
                        json_object *t = json_object_array_get_idx(v, i);
                        if (t && json_object_is_type(t, json_type_string))
                                total += (size_t) json_object_get_string_len(t) + 1;
                }
                if (total > 0) {
                        w->tags = calloc(1, total);
                        if (!w->tags)
                                return -ENOMEM;
                        for (size_t i = 0; i < n; i++) {
                                json_object *t = json_object_array_get_idx(v, i);
                                if (!t || !json_object_is_type(t, json_type_string))
                                        continue;
                                if (w->tags[0])
                                        strcat(w->tags, ",");
                                strcat(w->tags, json_object_get_string(t));
                        }
                }
        }

        if (json_object_object_get_ex(root, "CapMap", &v) && v) {
                if (!json_object_is_type(v, json_type_object))
                        return -EBADMSG;
                w->capmap = json_object_get(v);
        }

        *ret = TAKE_PTR(w);
        return 0;
}

int whois_format_addr(const struct sockaddr *sa, socklen_t len, char *buf, size_t size) {
        char ip[INET6_ADDRSTRLEN];
        int n;

        if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
                const struct sockaddr_in *s4 = (const struct sockaddr_in *) sa;
                inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
                n = snprintf(buf, size, "%s:%u", ip, ntohs(s4->sin_port));
        } else if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
                const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *) sa;
                if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
                        /* tailscaled before v1.102 does not unmap ::ffff:a.b.c.d itself. */
                        inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], ip, sizeof(ip));
                        n = snprintf(buf, size, "%s:%u", ip, ntohs(s6->sin6_port));
                } else {
                        inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
                        n = snprintf(buf, size, "[%s]:%u", ip, ntohs(s6->sin6_port));
                }
        } else
                return -EAFNOSUPPORT;

        return n > 0 && (size_t) n < size ? 0 : -ENOBUFS;
}

int whois_global_init(void) {
        return curl_global_init(CURL_GLOBAL_NOTHING) == CURLE_OK ? 0 : -EIO;
}

int whois_lookup(const char *socket_path, const char *addr, Whois **ret, char **detail) {
        _cleanup_(localapi_reply_done) LocalApiReply reply = {};
        _cleanup_free_ char *path = NULL;
        char *escaped;
        int r;

        *detail = NULL;
        escaped = curl_easy_escape(NULL, addr, 0);
        if (!escaped)
                return -ENOMEM;
        r = asprintf(&path, "/localapi/v0/whois?addr=%s", escaped);
        curl_free(escaped);
        if (r < 0)
                return -ENOMEM;

        r = localapi_get(socket_path, path, WHOIS_TIMEOUT_MS, WHOIS_BODY_MAX, &reply, detail);
        if (r == -EFBIG) {
                /* Too big to be a whois answer: a malformed one. */
                free(*detail);
                *detail = strdup("response larger than 1 MiB");
                return -EBADMSG;
        }
        if (r < 0)
                return r;

        if (reply.status == 404)
                return -ENXIO;
        if (reply.status != 200) {
                /* The LocalAPI's error text is short plain text; keep its first line. */
                char *nl = reply.body ? strchr(reply.body, '\n') : NULL;
                if (nl)
                        *nl = 0;
                if (asprintf(detail, "HTTP %ld: %.200s", reply.status, strempty(reply.body)) < 0)
                        *detail = NULL;
                return -EPROTO;
        }

        r = whois_parse(strempty(reply.body), reply.size, ret);
        if (r == -EBADMSG)
                *detail = strdup("malformed whois response");
        return r;
}
