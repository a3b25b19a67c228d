/* SPDX-License-Identifier: MIT */
/* host.InfoStat: names from /proc/sys/kernel, uptime and boot time from
 * /proc, the distribution from os-release, the host id from DMI (root only)
 * or else the boot id — as gopsutil v4 reports them. */

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "macro.h"
#include "metrics.h"

/* KEY=value or KEY="value" from an os-release text. */
static void os_release_get(const char *text, const char *key, char *buf, size_t size) {
        size_t kl = strlen(key);

        buf[0] = 0;
        for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
                size_t n;

                if (strncmp(l, key, kl) != 0 || l[kl] != '=')
                        continue;
                l += kl + 1;
                n = strcspn(l, "\n");
                if (n >= 2 && (l[0] == '"' || l[0] == '\'') && l[n - 1] == l[0]) {
                        l++;
                        n -= 2;
                }
                snprintf(buf, size, "%.*s", (int) n, l);
                return;
        }
}

/* gopsutil's getPlatformFamily() for the common distributions. */
static const char *platform_family(const char *id) {
        static const struct { const char *id, *family; } map[] = {
                { "debian", "debian" }, { "ubuntu", "debian" }, { "linuxmint", "debian" }, { "raspbian", "debian" },
                { "fedora", "fedora" },
                { "oracle", "rhel" }, { "centos", "rhel" }, { "redhat", "rhel" }, { "rhel", "rhel" },
                { "scientific", "rhel" }, { "enterpriseenterprise", "rhel" }, { "amazon", "rhel" },
                { "xenserver", "rhel" }, { "cloudlinux", "rhel" }, { "ibm_powerkvm", "rhel" },
                { "rocky", "rhel" }, { "almalinux", "rhel" },
                { "suse", "suse" }, { "opensuse", "suse" }, { "opensuse-leap", "suse" },
                { "opensuse-tumbleweed", "suse" }, { "sles", "suse" }, { "sled", "suse" },
                { "gentoo", "gentoo" }, { "arch", "arch" }, { "archlinux", "arch" }, { "manjaro", "arch" },
                { "exherbo", "exherbo" }, { "alpine", "alpine" }, { "coreos", "coreos" },
                { "solus", "solus" }, { "neokylin", "neokylin" }, { "anolis", "anolis" },
        };
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (streq(map[i].id, id))
                        return map[i].family;
        return "";
}

static void platform(const MetricsSources *s, char *id, size_t id_size, char *version, size_t version_size) {
        _cleanup_free_ char *text = NULL;
        char debian_version[64];

        id[0] = version[0] = 0;
        if (metrics_read_file(s->etc, "os-release", 64 * 1024, &text) < 0 &&
            metrics_read_file(s->etc, "../usr/lib/os-release", 64 * 1024, &text) < 0)
                return;
        os_release_get(text, "ID", id, id_size);
        os_release_get(text, "VERSION_ID", version, version_size);
        /* Like gopsutil, Debian's point release comes from /etc/debian_version. */
        if (streq(id, "debian") && metrics_read_line(s->etc, "debian_version", debian_version, sizeof(debian_version)) >= 0)
                snprintf(version, version_size, "%s", debian_version);
}

/* A subset of gopsutil's VirtualizationWithContext(): the checks that need
 * no privilege. */
static void virtualization(const MetricsSources *s, const char **system, const char **role) {
        _cleanup_free_ char *cpuinfo = NULL, *environ1 = NULL;
        *system = *role = "";
        if (metrics_read_file(s->proc, "cpuinfo", METRICS_FILE_MAX, &cpuinfo) >= 0 &&
            (strstr(cpuinfo, "QEMU Virtual CPU") || strstr(cpuinfo, "Common KVM processor") ||
             strstr(cpuinfo, "Common 32-bit KVM processor"))) {
                *system = "kvm";
                *role = "guest";
        }
        /* environ is NUL-separated; unreadable without privilege, which is fine. */
        if (metrics_read_file(s->proc, "1/environ", 64 * 1024, &environ1) >= 0) {
                for (const char *p = environ1; *p; p += strlen(p) + 1)
                        if (streq(p, "container=lxc")) {
                                *system = "lxc";
                                *role = "guest";
                        }
        }
}

static uint64_t count_pids(const MetricsSources *s) {
        _cleanup_(closedirp) DIR *d = NULL;
        uint64_t n = 0;
        struct dirent *de;

        d = opendir(s->proc);
        if (!d)
                return 0;
        while ((de = readdir(d)))
                if (de->d_name[0] >= '1' && de->d_name[0] <= '9' &&
                    strspn(de->d_name, "0123456789") == strlen(de->d_name))
                        n++;
        return n;
}

int metrics_host(const MetricsSources *s, json_object **ret) {
        _cleanup_free_ char *stat = NULL;
        char hostname[256] = "", kernel[256] = "", arch[80] = "", host_id[64] = "", uptime[64] = "";
        char id[64], version[64];
        const char *virt_system, *virt_role;
        uint64_t boot_time = 0;
        json_object *o;
        const char *bt;
        int r;

        r = metrics_read_file(s->proc, "stat", METRICS_FILE_MAX, &stat);
        if (r < 0)
                return r;
        bt = strstr(stat, "\nbtime ");
        if (bt)
                boot_time = strtoull(bt + 7, NULL, 10);
        (void) metrics_read_line(s->proc, "uptime", uptime, sizeof(uptime));
        (void) metrics_read_line(s->proc, "sys/kernel/hostname", hostname, sizeof(hostname));
        (void) metrics_read_line(s->proc, "sys/kernel/osrelease", kernel, sizeof(kernel));
        if (metrics_read_line(s->proc, "sys/kernel/arch", arch, sizeof(arch)) < 0) {
                struct utsname u;
                if (uname(&u) >= 0)
                        snprintf(arch, sizeof(arch), "%s", u.machine);
        }
        if (metrics_read_line(s->sys, "class/dmi/id/product_uuid", host_id, sizeof(host_id)) < 0 || !host_id[0])
                (void) metrics_read_line(s->proc, "sys/kernel/random/boot_id", host_id, sizeof(host_id));
        for (char *p = host_id; *p; p++)
                *p = (char) tolower((unsigned char) *p);
        platform(s, id, sizeof(id), version, sizeof(version));
        virtualization(s, &virt_system, &virt_role);

        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_add(o, "hostname", json_object_new_string(hostname));
        json_add(o, "uptime", json_u64(strtoull(uptime, NULL, 10)));   /* whole seconds */
        json_add(o, "bootTime", json_u64(boot_time));
        json_add(o, "procs", json_u64(count_pids(s)));
        json_add(o, "os", json_object_new_string("linux"));
        json_add(o, "platform", json_object_new_string(id));
        json_add(o, "platformFamily", json_object_new_string(platform_family(id)));
        json_add(o, "platformVersion", json_object_new_string(version));
        json_add(o, "kernelVersion", json_object_new_string(kernel));
        json_add(o, "kernelArch", json_object_new_string(arch));
        json_add(o, "virtualizationSystem", json_object_new_string(virt_system));
        json_add(o, "virtualizationRole", json_object_new_string(virt_role));
        json_add(o, "hostId", json_object_new_string(host_id));
        *ret = o;
        return 0;
}
