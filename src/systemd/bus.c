/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bus.h"
#include "json-util.h"
#include "macro.h"

#define JSON_DEPTH_MAX 16

int bus_open_systemd(sd_bus **ret, const char **detail) {
        static __thread char buf[256];
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus *bus = NULL;
        int r;

        r = sd_bus_open_system(&bus);
        if (r < 0) {
                snprintf(buf, sizeof(buf), "cannot connect to the system bus: %s", strerror(-r));
                *detail = buf;
                return r;
        }
        (void) sd_bus_set_method_call_timeout(bus, BUS_CALL_TIMEOUT_USEC);
        r = sd_bus_call_method(bus, SYSTEMD_DEST, SYSTEMD_PATH, "org.freedesktop.DBus.Peer", "Ping",
                               &error, NULL, NULL);
        if (r < 0) {
                snprintf(buf, sizeof(buf), "systemd does not answer on the system bus: %s",
                         error.message ?: strerror(-r));
                *detail = buf;
                sd_bus_flush_close_unref(bus);
                return r;
        }
        *ret = bus;
        return 0;
}

unsigned bus_error_status(const sd_bus_error *error, int r) {
        if (sd_bus_error_has_name(error, "org.freedesktop.systemd1.NoSuchUnit") ||
            sd_bus_error_has_name(error, "org.freedesktop.systemd1.LoadFailed"))
                return 404;
        if (sd_bus_error_has_names(error, SD_BUS_ERROR_ACCESS_DENIED, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED))
                return 500;     /* the worker's privileges, not the caller's request */
        if (sd_bus_error_has_names(error, SD_BUS_ERROR_NO_REPLY, SD_BUS_ERROR_TIMEOUT, SD_BUS_ERROR_DISCONNECTED,
                                   SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER) ||
            r == -ETIMEDOUT || r == -ECONNRESET || r == -ENOTCONN || r == -EPIPE)
                return 503;
        if (sd_bus_error_is_set(error))
                return 409;     /* systemd refused it: masked, not applicable, refused manual start… */
        return 500;
}

static int read_json_depth(sd_bus_message *m, json_object **ret, unsigned depth);

static int read_basic(sd_bus_message *m, char type, json_object **ret) {
        union {
                uint8_t u8;
                uint16_t u16;
                int16_t s16;
                uint32_t u32;
                int32_t s32;
                uint64_t u64;
                int64_t s64;
                double d;
                int b;
                const char *s;
        } v;
        json_object *o;
        int r;

        r = sd_bus_message_read_basic(m, type, &v);
        if (r < 0)
                return r;
        switch (type) {
        case SD_BUS_TYPE_BYTE:         o = json_object_new_int(v.u8); break;
        case SD_BUS_TYPE_BOOLEAN:      o = json_object_new_boolean(v.b); break;
        case SD_BUS_TYPE_INT16:        o = json_object_new_int(v.s16); break;
        case SD_BUS_TYPE_UINT16:       o = json_object_new_int(v.u16); break;
        case SD_BUS_TYPE_INT32:        o = json_object_new_int(v.s32); break;
        case SD_BUS_TYPE_UINT32:       o = json_object_new_int64(v.u32); break;
        case SD_BUS_TYPE_INT64:        o = json_object_new_int64(v.s64); break;
        case SD_BUS_TYPE_UINT64:       o = json_object_new_uint64(v.u64); break;
        case SD_BUS_TYPE_DOUBLE:       o = json_object_new_double(v.d); break;
        case SD_BUS_TYPE_UNIX_FD:      o = json_object_new_int(-1); break;     /* never passed on */
        case SD_BUS_TYPE_STRING:
        case SD_BUS_TYPE_OBJECT_PATH:
        case SD_BUS_TYPE_SIGNATURE:    o = json_object_new_string(v.s); break;
        default:
                return -EBADMSG;
        }
        if (!o)
                return -ENOMEM;
        *ret = o;
        return 0;
}

/* A dictionary key as an object key. */
static int read_key(sd_bus_message *m, char type, char **ret) {
        _cleanup_(json_object_putp_) json_object *k = NULL;
        int r = read_basic(m, type, &k);

        if (r < 0)
                return r;
        *ret = strdup(json_object_get_string(k));
        return *ret ? 0 : -ENOMEM;
}

static int read_dict(sd_bus_message *m, const char *contents, json_object **ret, unsigned depth) {
        _cleanup_(json_object_putp_) json_object *o = json_object_new_object();
        _cleanup_free_ char *entry = NULL;
        int r;

        if (!o)
                return -ENOMEM;
        /* contents is "{kv…}": the entry's signature is inside the braces. */
        entry = strndup(contents + 1, strlen(contents) - 2);
        if (!entry)
                return -ENOMEM;
        r = sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, contents);
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, entry)) > 0) {
                _cleanup_free_ char *key = NULL;
                json_object *v = NULL;

                r = read_key(m, entry[0], &key);
                if (r < 0)
                        return r;
                r = read_json_depth(m, &v, depth + 1);
                if (r < 0)
                        return r;
                json_object_object_add(o, key, v);
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

static int read_sequence(sd_bus_message *m, char type, const char *contents, json_object **ret, unsigned depth) {
        _cleanup_(json_object_putp_) json_object *a = json_object_new_array();
        int r;

        if (!a)
                return -ENOMEM;
        r = sd_bus_message_enter_container(m, type, contents);
        if (r < 0)
                return r;
        for (;;) {
                json_object *v = NULL;

                r = sd_bus_message_at_end(m, false);
                if (r < 0)
                        return r;
                if (r > 0)
                        break;
                r = read_json_depth(m, &v, depth + 1);
                if (r < 0)
                        return r;
                if (json_object_array_add(a, v) < 0) {
                        json_object_put(v);
                        return -ENOMEM;
                }
        }
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(a);
        return 0;
}

static int read_json_depth(sd_bus_message *m, json_object **ret, unsigned depth) {
        const char *contents;
        char type;
        int r;

        if (depth > JSON_DEPTH_MAX)
                return -E2BIG;
        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r < 0)
                return r;
        if (r == 0)
                return -ENXIO;
        switch (type) {
        case SD_BUS_TYPE_ARRAY:
                if (contents[0] == SD_BUS_TYPE_DICT_ENTRY_BEGIN)
                        return read_dict(m, contents, ret, depth);
                return read_sequence(m, type, contents, ret, depth);
        case SD_BUS_TYPE_STRUCT:
                return read_sequence(m, type, contents, ret, depth);
        case SD_BUS_TYPE_VARIANT: {
                r = sd_bus_message_enter_container(m, SD_BUS_TYPE_VARIANT, contents);
                if (r < 0)
                        return r;
                r = read_json_depth(m, ret, depth + 1);
                if (r < 0)
                        return r;
                return sd_bus_message_exit_container(m);
        }
        default:
                return read_basic(m, type, ret);
        }
}

int bus_read_json(sd_bus_message *m, json_object **ret) {
        return read_json_depth(m, ret, 0);
}
