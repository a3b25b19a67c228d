/* SPDX-License-Identifier: MIT */
/* Units: the list (ListUnits), one unit (ListUnitsByNames plus the
 * properties of its Unit and type interfaces), its file (FragmentPath),
 * enable and disable (EnableUnitFiles/DisableUnitFiles, then Reload). Unit
 * JSON uses go-systemd's dbus.UnitStatus names (SPEC §4). */

#include <ctype.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus.h"
#include "json-util.h"
#include "log.h"
#include "macro.h"
#include "systemd-worker.h"
#include "unit-name.h"
#include "utf8.h"

#define UNIT_FILE_MAX (1024 * 1024)

/* One a(ssssssouso) element as dbus.UnitStatus, or NULL at the end. */
static int read_unit_status(sd_bus_message *m, json_object **ret) {
        const char *name, *description, *load, *active, *sub, *followed, *path, *job_type, *job_path;
        uint32_t job_id;
        json_object *o;
        int r;

        r = sd_bus_message_read(m, "(ssssssouso)", &name, &description, &load, &active, &sub, &followed,
                                &path, &job_id, &job_type, &job_path);
        if (r <= 0) {
                *ret = NULL;
                return r;
        }
        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "Name", json_object_new_string(name));
        json_object_object_add(o, "Description", json_object_new_string(description));
        json_object_object_add(o, "LoadState", json_object_new_string(load));
        json_object_object_add(o, "ActiveState", json_object_new_string(active));
        json_object_object_add(o, "SubState", json_object_new_string(sub));
        json_object_object_add(o, "Followed", json_object_new_string(followed));
        json_object_object_add(o, "Path", json_object_new_string(path));
        json_object_object_add(o, "JobId", json_object_new_int64(job_id));
        json_object_object_add(o, "JobType", json_object_new_string(job_type));
        json_object_object_add(o, "JobPath", json_object_new_string(job_path));
        *ret = o;
        return 1;
}

int systemd_units_get(Request *r) {
        SystemdRequest *d = r->userdata;
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        _cleanup_(json_object_putp_) json_object *list = NULL;
        int e;

        if (!systemd_units_permitted(r, false))
                return 0;
        e = sd_bus_call_method(d->bus, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, "ListUnits", &error, &reply, NULL);
        if (e < 0)
                return systemd_reply_bus_error(r, NULL, "ListUnits", &error, e);
        list = json_object_new_array();
        if (!list)
                return -ENOMEM;
        e = sd_bus_message_enter_container(reply, SD_BUS_TYPE_ARRAY, "(ssssssouso)");
        if (e < 0)
                return log_error_errno(e, "Unexpected ListUnits reply: %m");
        for (;;) {
                json_object *u;

                e = read_unit_status(reply, &u);
                if (e < 0)
                        return log_error_errno(e, "Unexpected ListUnits reply: %m");
                if (e == 0)
                        break;
                /* The allow list hides the units it does not name. */
                if (!unit_name_allowed(json_object_get_string(json_object_object_get(u, "Name")),
                                       d->config.units_allow, d->config.n_units_allow)) {
                        json_object_put(u);
                        continue;
                }
                if (json_object_array_add(list, u) < 0) {
                        json_object_put(u);
                        return -ENOMEM;
                }
        }
        return reply_json(r, 200, TAKE_PTR(list));
}

/* The unit's UnitStatus (loading it, as systemctl show does), or 0 when it
 * neither exists nor runs. */
static int unit_status(Request *r, sd_bus *bus, const char *name, json_object **ret) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        _cleanup_(json_object_putp_) json_object *u = NULL;
        const char *load, *active;
        int e;

        e = sd_bus_call_method(bus, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, "ListUnitsByNames", &error, &reply,
                               "as", 1, name);
        if (e < 0) {
                systemd_reply_bus_error(r, name, "ListUnitsByNames", &error, e);
                return e;
        }
        e = sd_bus_message_enter_container(reply, SD_BUS_TYPE_ARRAY, "(ssssssouso)");
        if (e >= 0)
                e = read_unit_status(reply, &u);
        if (e <= 0) {
                reply_error(r, 500, "unexpected reply from systemd", NULL);
                return log_error_errno(e < 0 ? e : EBADMSG, "Unexpected ListUnitsByNames reply: %m");
        }
        load = json_object_get_string(json_object_object_get(u, "LoadState"));
        active = json_object_get_string(json_object_object_get(u, "ActiveState"));
        if (streq_ptr(load, "not-found") && streq_ptr(active, "inactive")) {
                systemd_reply_no_unit(r, name);
                return 0;
        }
        *ret = TAKE_PTR(u);
        return 1;
}

/* Adds every property of interface at path to o. */
static int add_properties(sd_bus *bus, const char *path, const char *interface, json_object *o, sd_bus_error *error) {
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        const char *key;
        int e;

        e = sd_bus_call_method(bus, SYSTEMD_DEST, path, "org.freedesktop.DBus.Properties", "GetAll", error, &reply,
                               "s", interface);
        if (e < 0)
                return e;
        e = sd_bus_message_enter_container(reply, SD_BUS_TYPE_ARRAY, "{sv}");
        if (e < 0)
                return e;
        while ((e = sd_bus_message_enter_container(reply, SD_BUS_TYPE_DICT_ENTRY, "sv")) > 0) {
                json_object *v = NULL;

                e = sd_bus_message_read(reply, "s", &key);
                if (e < 0)
                        return e;
                e = bus_read_json(reply, &v);
                if (e < 0)
                        return e;
                /* The UnitStatus fields already there win (same values). */
                if (json_object_object_get_ex(o, key, NULL))
                        json_object_put(v);
                else
                        json_object_object_add(o, key, v);
                e = sd_bus_message_exit_container(reply);
                if (e < 0)
                        return e;
        }
        return e;
}

/* "org.freedesktop.systemd1.Service" for "x.service". */
static int type_interface(const char *name, char *buf, size_t size) {
        const char *t = unit_name_type(name);
        int n = snprintf(buf, size, "org.freedesktop.systemd1.%c%s", toupper((unsigned char) t[0]), t + 1);

        return n > 0 && (size_t) n < size ? 0 : -ENAMETOOLONG;
}

int systemd_unit_get(Request *r) {
        SystemdRequest *d = r->userdata;
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(json_object_putp_) json_object *u = NULL;
        _cleanup_free_ char *name = systemd_request_unit(r, false);
        const char *path;
        char iface[64];
        int e;

        if (!name)
                return 0;
        e = unit_status(r, d->bus, name, &u);
        if (e <= 0)
                return 0;
        path = json_object_get_string(json_object_object_get(u, "Path"));
        e = add_properties(d->bus, path, "org.freedesktop.systemd1.Unit", u, &error);
        if (e >= 0 && type_interface(name, iface, sizeof(iface)) >= 0)
                e = add_properties(d->bus, path, iface, u, &error);
        if (e < 0)
                return systemd_reply_bus_error(r, name, "GetAll", &error, e);
        return reply_json(r, 200, TAKE_PTR(u));
}

static int read_unit_file(const char *path, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t n = 0;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADF;
        if (st.st_size > UNIT_FILE_MAX)
                return -EFBIG;
        buf = malloc((size_t) st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        /* Read no more than stat said, even if it grew meanwhile. */
        while (n < (size_t) st.st_size) {
                ssize_t k = read(fd, buf + n, (size_t) st.st_size - n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                n += (size_t) k;
        }
        buf[n] = 0;
        *ret = TAKE_PTR(buf);
        *ret_size = n;
        return 0;
}

int systemd_unit_file_get(Request *r) {
        SystemdRequest *d = r->userdata;
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(json_object_putp_) json_object *u = NULL, *o = NULL;
        _cleanup_free_ char *name = systemd_request_unit(r, false), *fragment = NULL, *content = NULL, *clean = NULL;
        size_t size = 0;
        int e;

        if (!name)
                return 0;
        e = unit_status(r, d->bus, name, &u);
        if (e <= 0)
                return 0;
        e = sd_bus_get_property_string(d->bus, SYSTEMD_DEST, json_object_get_string(json_object_object_get(u, "Path")),
                                       "org.freedesktop.systemd1.Unit", "FragmentPath", &error, &fragment);
        if (e < 0)
                return systemd_reply_bus_error(r, name, "FragmentPath", &error, e);
        if (isempty(fragment))
                return reply_errorf(r, 404, "units made at run time (scopes, devices, transient units) have no file",
                                    "unit %s has no unit file", name);
        e = read_unit_file(fragment, &content, &size);
        if (e == -ENOENT)
                return reply_errorf(r, 404, NULL, "unit file %s not found on disk", fragment);
        if (e == -EFBIG)
                return reply_errorf(r, 500, NULL, "unit file %s is larger than %d bytes", fragment, UNIT_FILE_MAX);
        if (e < 0) {
                log_warning_errno(e, "Cannot read unit file %s: %m", fragment);
                return reply_errorf(r, 500, NULL, "cannot read unit file %s: %s", fragment, strerror(-e));
        }
        clean = utf8_sanitize(content, size);
        o = json_object_new_object();
        if (!clean || !o)
                return -ENOMEM;
        json_object_object_add(o, "unit", json_object_new_string(name));
        json_object_object_add(o, "path", json_object_new_string(fragment));
        json_object_object_add(o, "content", json_object_new_string(clean));
        return reply_json(r, 200, TAKE_PTR(o));
}

/* a(sss) of EnableUnitFiles/DisableUnitFiles as [{type, file, destination}]. */
static int read_changes(sd_bus_message *m, json_object **ret) {
        _cleanup_(json_object_putp_) json_object *a = json_object_new_array();
        const char *type, *file, *dest;
        int e;

        if (!a)
                return -ENOMEM;
        e = sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "(sss)");
        if (e < 0)
                return e;
        while ((e = sd_bus_message_read(m, "(sss)", &type, &file, &dest)) > 0) {
                json_object *c = json_object_new_object();

                if (!c)
                        return -ENOMEM;
                json_object_object_add(c, "type", json_object_new_string(type));
                json_object_object_add(c, "file", json_object_new_string(file));
                json_object_object_add(c, "destination", json_object_new_string(dest));
                json_object_array_add(a, c);
        }
        if (e < 0)
                return e;
        *ret = TAKE_PTR(a);
        return 0;
}

static int enable_disable(Request *r, bool enable) {
        SystemdRequest *d = r->userdata;
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        _cleanup_(json_object_putp_) json_object *o = NULL, *changes = NULL;
        _cleanup_free_ char *name = systemd_request_unit(r, true);
        const char *method = enable ? "EnableUnitFiles" : "DisableUnitFiles";
        int carries_install_info = -1, e;

        if (!name)
                return 0;
        /* runtime=false: below /etc, as systemctl enable; force=false: an
         * existing conflicting link is an error, never replaced. */
        if (enable)
                e = sd_bus_call_method(d->bus, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, method, &error, &reply,
                                       "asbb", 1, name, 0, 0);
        else
                e = sd_bus_call_method(d->bus, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, method, &error, &reply,
                                       "asb", 1, name, 0);
        if (e < 0)
                return systemd_reply_bus_error(r, name, method, &error, e);
        if (enable) {
                e = sd_bus_message_read(reply, "b", &carries_install_info);
                if (e < 0)
                        return log_error_errno(e, "Unexpected %s reply: %m", method);
        }
        e = read_changes(reply, &changes);
        if (e < 0)
                return log_error_errno(e, "Unexpected %s reply: %m", method);

        /* As systemctl does after changing links: systemd reloads its units. */
        e = sd_bus_call_method(d->bus, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, "Reload", &error, NULL, NULL);
        if (e < 0)
                return systemd_reply_bus_error(r, NULL, "Reload", &error, e);

        log_struct(LOG_INFO, ((LogField[]) { { "CALLER", request_caller_name(r) }, { "UNIT", name }, {} }),
                   "%s %s (%zu changes)", enable ? "Enabled" : "Disabled", name, json_object_array_length(changes));
        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "unit", json_object_new_string(name));
        if (enable)
                json_object_object_add(o, "carries_install_info", json_object_new_boolean(carries_install_info));
        json_object_object_add(o, "changes", TAKE_PTR(changes));
        return reply_json(r, 200, TAKE_PTR(o));
}

int systemd_unit_enable(Request *r) {
        return enable_disable(r, true);
}

int systemd_unit_disable(Request *r) {
        return enable_disable(r, false);
}
