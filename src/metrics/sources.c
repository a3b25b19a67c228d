/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"
#include "sources.h"

static void root_from_env(char *buf, size_t size, const char *var, const char *def) {
        const char *v = secure_getenv(var);

        /* An unusable value falls back to the real tree rather than fail. */
        if (!v || v[0] != '/' || strlen(v) >= size)
                v = def;
        snprintf(buf, size, "%s", v);
}

void metrics_sources_init(MetricsSources *s) {
        long ps = sysconf(_SC_PAGESIZE);

        root_from_env(s->proc, sizeof(s->proc), "TAILKITD_PROC_ROOT", "/proc");
        root_from_env(s->sys, sizeof(s->sys), "TAILKITD_SYS_ROOT", "/sys");
        root_from_env(s->etc, sizeof(s->etc), "TAILKITD_ETC_ROOT", "/etc");
        s->live = streq(s->proc, "/proc");
        s->clk_tck = sysconf(_SC_CLK_TCK);
        if (s->clk_tck <= 0)
                s->clk_tck = 100;
        s->page_size = ps > 0 ? (uint64_t) ps : 4096;
}

int metrics_read_file(const char *root, const char *rel, size_t max, char **ret) {
        size_t len;

        return metrics_read_file_len(root, rel, max, ret, &len);
}

int metrics_read_file_len(const char *root, const char *rel, size_t max, char **ret, size_t *ret_len) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;

        if (asprintf(&path, "%s/%s", root, rel) < 0)
                return -ENOMEM;
        /* O_NONBLOCK: a FIFO planted in a fixture tree must not hang us. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        return read_full_fd(fd, max, ret, ret_len);
}

int metrics_read_line(const char *root, const char *rel, char *buf, size_t size) {
        _cleanup_free_ char *data = NULL;
        size_t n;
        int r;

        r = metrics_read_file(root, rel, 64 * 1024, &data);
        if (r < 0)
                return r;
        n = strcspn(data, "\n");
        while (n > 0 && (data[n - 1] == ' ' || data[n - 1] == '\t' || data[n - 1] == '\r'))
                n--;
        if (n >= size)
                n = size - 1;
        memcpy(buf, data, n);
        buf[n] = 0;
        return 0;
}

json_object *json_double(double d) {
        char buf[64];

        if (!isfinite(d))
                d = 0;
        for (int prec = 1; prec <= 17; prec++) {
                snprintf(buf, sizeof(buf), "%.*g", prec, d);
                if (strtod(buf, NULL) == d)
                        break;
        }
        /* Go writes plain digits for 1e-6 <= |d| < 1e21, exponents outside. */
        if (strchr(buf, 'e') && fabs(d) >= 1e-6 && fabs(d) < 1e21)
                for (int prec = 0; prec <= 24; prec++) {
                        snprintf(buf, sizeof(buf), "%.*f", prec, d);
                        if (strtod(buf, NULL) == d)
                                break;
                }
        return json_object_new_double_s(d, buf);
}

json_object *json_u64(uint64_t v) {
        return json_object_new_uint64(v);
}

void json_add(json_object *o, const char *key, json_object *v) {
        json_object_object_add(o, key, v);
}
