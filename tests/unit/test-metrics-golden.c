/* SPDX-License-Identifier: MIT */
/* Golden tests of the metrics collectors (src/metrics/) on fixture trees
 * under tests/unit/data/metrics/<name>/ (README there: one captured from a
 * real machine, three synthesized). Everything the collectors would take
 * from the live system comes from the tree, so the output is fixed and is
 * compared byte for byte with <name>/golden.json:
 *   - proc/, sys/, etc/ through TAILKITD_{PROC,SYS,ETC}_ROOT;
 *   - CPU percentages between <name>/stat.prev and proc/stat;
 *   - uptime and process ages from proc/uptime, not the clock;
 *   - disk figures from <name>/statvfs (statvfs() itself would see this
 *     machine), fstype from proc/self/mounts;
 *   - network from proc/net/dev (a proc root other than /proc never uses
 *     netlink; test-metrics-netlink.c covers that parser);
 *   - USER_HZ and the page size are pinned to 100 and 4096, what the
 *     fixtures' machines had.
 * TAILKITD_UPDATE_GOLDEN=1 rewrites the goldens instead of comparing (then
 * review the diff). Besides the byte comparison, a few properties per tree
 * are asserted outright, so a regenerated golden cannot bless a regression
 * in what the tree is there to test. */

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "macro.h"
#include "metrics.h"
#include "tests.h"

static const char *data_dir(void) {
        const char *d = getenv("METRICS_DATA_DIR");

        ASSERT_NOT_NULL(d);
        return d;
}

static char *fixture_path(const char *name, const char *rel) {
        char *p;

        ASSERT_TRUE(asprintf(&p, "%s/%s%s%s", data_dir(), name, rel ? "/" : "", rel ? rel : "") >= 0);
        return p;
}

static void sources_for(const char *name, MetricsSources *s) {
        _cleanup_free_ char *proc = fixture_path(name, "proc"), *sys = fixture_path(name, "sys"),
                            *etc = fixture_path(name, "etc");

        ASSERT_OK(setenv("TAILKITD_PROC_ROOT", proc, 1));
        ASSERT_OK(setenv("TAILKITD_SYS_ROOT", sys, 1));
        ASSERT_OK(setenv("TAILKITD_ETC_ROOT", etc, 1));
        metrics_sources_init(s);
        ASSERT_FALSE(s->live);
        ASSERT_STREQ(s->proc, proc);
        s->clk_tck = 100;
        s->page_size = 4096;
}

/* <name>/statvfs: "path f_frsize f_blocks f_bfree f_bavail f_files f_ffree". */
static json_object *disk_json(const char *name, const MetricsSources *s) {
        _cleanup_free_ char *dir = fixture_path(name, NULL), *text = NULL;
        json_object *a = json_object_new_array();

        ASSERT_NOT_NULL(a);
        ASSERT_OK(metrics_read_file(dir, "statvfs", 64 * 1024, &text));
        for (char *l = text, *next; l && *l; l = next) {
                unsigned long long frsize, blocks, bfree, bavail, files, ffree;
                struct statvfs st = {};
                char path[256];

                next = strchr(l, '\n');
                if (next)
                        *next++ = 0;
                ASSERT_INT_EQ(sscanf(l, "%255s %llu %llu %llu %llu %llu %llu", path, &frsize, &blocks, &bfree,
                                     &bavail, &files, &ffree), 7);
                st.f_bsize = st.f_frsize = frsize;
                st.f_blocks = blocks, st.f_bfree = bfree, st.f_bavail = bavail;
                st.f_files = files, st.f_ffree = ffree;
                json_object_array_add(a, metrics_disk_usage_json(s, path, &st));
        }
        return a;
}

static json_object *collect(const char *name) {
        static char *const filter[] = { (char *) "wg-ts", (char *) "veth1a2b.100", (char *) "eth0",
                                        (char *) "absent0" };
        _cleanup_(cpu_sample_done) CpuSample prev = {}, cur = {};
        _cleanup_free_ char *dir = fixture_path(name, NULL), *prev_text = NULL;
        MetricsSources s;
        json_object *o = json_object_new_object(), *v;

        ASSERT_NOT_NULL(o);
        sources_for(name, &s);

        ASSERT_OK(metrics_host(&s, &v));
        json_add(o, "host", v);

        ASSERT_OK(metrics_read_file(dir, "stat.prev", METRICS_FILE_MAX, &prev_text));
        ASSERT_OK(cpu_sample_parse(prev_text, &prev));
        ASSERT_OK(cpu_sample_read(&s, &cur));
        ASSERT_OK(metrics_cpu(&s, &prev, &cur, true, &v));
        json_add(o, "cpu", v);

        ASSERT_OK(metrics_memory(&s, true, &v));
        json_add(o, "memory", v);

        json_add(o, "disk", disk_json(name, &s));

        ASSERT_OK(metrics_network(&s, NULL, 0, &v));
        json_add(o, "network", v);
        /* The configured interfaces, in the kernel's order; absent ones left out. */
        ASSERT_OK(metrics_network(&s, filter, ELEMENTSOF(filter), &v));
        json_add(o, "network_filtered", v);

        ASSERT_OK(metrics_processes(&s, 5, true, &v));
        json_add(o, "processes", v);
        /* A read-only caller: no cmdline. */
        ASSERT_OK(metrics_processes(&s, 3, false, &v));
        json_add(o, "processes_readonly", v);
        return o;
}

static void write_text(const char *path, const char *text) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        size_t n = strlen(text);

        ASSERT_TRUE(fd >= 0);
        ASSERT_INT_EQ(write(fd, text, n), n);
}

/* Compares with <name>/golden.json; on a mismatch, names the first
 * differing line and leaves the whole output next to the test binary. */
static void check_golden(const char *name, json_object *o) {
        _cleanup_free_ char *dir = fixture_path(name, NULL), *golden_path = fixture_path(name, "golden.json"),
                            *expected = NULL, *actual = NULL, *actual_path = NULL;
        const char *update = getenv("TAILKITD_UPDATE_GOLDEN");
        const char *e, *a;
        unsigned line = 1;

        ASSERT_TRUE(asprintf(&actual, "%s\n",
                             json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                                   JSON_C_TO_STRING_NOSLASHESCAPE)) >= 0);
        if (update && streq(update, "1")) {
                write_text(golden_path, actual);
                fprintf(stderr, "   wrote %s\n", golden_path);
                return;
        }
        ASSERT_OK(metrics_read_file(dir, "golden.json", METRICS_FILE_MAX, &expected));
        if (streq(expected, actual))
                return;

        /* The whole first differing line of each. */
        const char *el = expected, *al = actual;
        for (e = expected, a = actual; *e && *e == *a; e++, a++)
                if (*e == '\n') {
                        line++;
                        el = e + 1;
                        al = a + 1;
                }
        e = el;
        a = al;
        ASSERT_TRUE(asprintf(&actual_path, "golden-%s.actual.json", name) >= 0);
        write_text(actual_path, actual);
        FAIL_AT("%s differs from the collectors' output at line %u:\n  expected: %.*s\n  actual:   %.*s\n"
                "(whole output in %s; TAILKITD_UPDATE_GOLDEN=1 rewrites the golden)",
                golden_path, line, (int) strcspn(e, "\n"), e, (int) strcspn(a, "\n"), a, actual_path);
}

/* o["a"]["b"]…, a NULL-terminated list of keys; "#3" indexes an array. */
static json_object *get(json_object *o, ...) {
        va_list ap;

        va_start(ap, o);
        for (const char *k; (k = va_arg(ap, const char *));) {
                if (k[0] == '#')
                        o = json_object_array_get_idx(o, (size_t) atoi(k + 1));
                else if (!json_object_object_get_ex(o, k, &o))
                        o = NULL;
                if (!o)
                        FAIL_AT("no %s", k);
        }
        va_end(ap);
        return o;
}

#define GET_STR(o, ...) json_object_get_string(get(o, __VA_ARGS__, NULL))
#define GET_U64(o, ...) json_object_get_uint64(get(o, __VA_ARGS__, NULL))
#define GET_DBL(o, ...) json_object_get_double(get(o, __VA_ARGS__, NULL))
#define GET_LEN(o, ...) json_object_array_length(get(o, __VA_ARGS__, NULL))

/* Captured from a 2-CPU Debian 12 VM (capture.sh): the process list holds a
 * comm with ") (" and a cmdline with blanks and newlines. */
TEST(local) {
        json_object *o = collect("local");

        check_golden("local", o);
        ASSERT_INT_EQ(GET_U64(o, "host", "procs"), 4);
        ASSERT_INT_EQ(GET_U64(o, "host", "uptime"), 1490);
        ASSERT_STREQ(GET_STR(o, "host", "platformVersion"), "12.11");
        ASSERT_INT_EQ(GET_LEN(o, "cpu", "info"), 2);
        ASSERT_STREQ(GET_STR(o, "processes", "#0", "name"), "odd) (name x");
        ASSERT_STREQ(GET_STR(o, "processes", "#0", "status"), "running");
        ASSERT_CONTAINS(GET_STR(o, "processes", "#0", "cmdline"), " --flag arg with spaces");
        ASSERT_NULL(json_object_object_get(get(o, "processes_readonly", "#0", NULL), "cmdline"));
        ASSERT_TRUE(json_object_is_type(get(o, "memory", "swap", NULL), json_type_object));
        ASSERT_INT_EQ(GET_U64(o, "memory", "swap", "total"), 0);
        ASSERT_STREQ(GET_STR(o, "disk", "#0", "fstype"), "ext4");
        json_object_put(o);
}

/* 64 CPUs, cpu5 offline in the second sample. */
TEST(many_cpus) {
        json_object *o = collect("many-cpus");

        check_golden("many-cpus", o);
        ASSERT_INT_EQ(GET_LEN(o, "cpu", "info"), 64);
        ASSERT_INT_EQ(GET_LEN(o, "cpu", "percent_per_cpu"), 63);
        ASSERT_INT_EQ(GET_LEN(o, "cpu", "times"), 63);
        /* Matched by CPU number, not position: cpu9 was 100% busy, cpu6 60%. */
        ASSERT_STREQ(GET_STR(o, "cpu", "times", "#8", "cpu"), "cpu9");
        ASSERT_TRUE(GET_DBL(o, "cpu", "percent_per_cpu", "#8") == 100);
        ASSERT_TRUE(fabs(GET_DBL(o, "cpu", "percent_per_cpu", "#5") - 60) < 1e-9);
        /* cpufreq's maximum wins over cpuinfo's current MHz; cpu5 has none. */
        ASSERT_TRUE(GET_DBL(o, "cpu", "info", "#0", "mhz") == 3200);
        ASSERT_TRUE(GET_DBL(o, "cpu", "info", "#5", "mhz") == 800);
        ASSERT_STREQ(GET_STR(o, "cpu", "info", "#63", "physicalId"), "1");
        ASSERT_STREQ(GET_STR(o, "host", "hostId"), "4c4c4544-0042-3910-8056-b7c04f4a4e32");
        ASSERT_STREQ(GET_STR(o, "host", "platformFamily"), "debian");
        ASSERT_INT_EQ(GET_U64(o, "host", "procs"), 41);
        ASSERT_INT_EQ(GET_LEN(o, "processes"), 5);
        /* Every field of gopsutil's usedPercent and used. */
        uint64_t total = GET_U64(o, "memory", "virtual", "total"), used = GET_U64(o, "memory", "virtual", "used");
        ASSERT_INT_EQ(used, total - GET_U64(o, "memory", "virtual", "free") - GET_U64(o, "memory", "virtual", "buffers") -
                            GET_U64(o, "memory", "virtual", "cached"));
        ASSERT_TRUE(GET_DBL(o, "memory", "virtual", "usedPercent") == (double) used / (double) total * 100.0);
        json_object_put(o);
}

/* Swap in use, huge pages, an LXC guest, ties in CPU share. */
TEST(swap) {
        json_object *o = collect("swap");

        check_golden("swap", o);
        ASSERT_INT_EQ(GET_U64(o, "memory", "swap", "total"), 4194300ULL * 1024);
        ASSERT_INT_EQ(GET_U64(o, "memory", "swap", "used"), (4194300ULL - 1048572) * 1024);
        ASSERT_INT_EQ(GET_U64(o, "memory", "swap", "sin"), 123456ULL * 4096);
        ASSERT_INT_EQ(GET_U64(o, "memory", "swap", "pgMajFault"), 98765ULL * 4096);
        ASSERT_INT_EQ(GET_U64(o, "memory", "virtual", "hugePagesRsvd"), 4);
        ASSERT_STREQ(GET_STR(o, "host", "virtualizationSystem"), "lxc");
        ASSERT_STREQ(GET_STR(o, "host", "platform"), "ubuntu");
        ASSERT_STREQ(GET_STR(o, "host", "platformVersion"), "22.04");
        ASSERT_INT_EQ(GET_U64(o, "processes", "#0", "pid"), 200);
        ASSERT_INT_EQ(GET_U64(o, "processes", "#1", "pid"), 201);
        ASSERT_STREQ(GET_STR(o, "processes", "#0", "status"), "blocked");
        ASSERT_STREQ(GET_STR(o, "processes", "#0", "cmdline"), "/usr/local/bin/memhog --size 6G");
        ASSERT_INT_EQ(GET_U64(o, "processes", "#0", "memory_rss_bytes"), 1500000ULL * 4096);
        ASSERT_TRUE(GET_DBL(o, "cpu", "percent_per_cpu", "#3") == 100);
        ASSERT_TRUE(GET_DBL(o, "cpu", "percent_per_cpu", "#2") == 0);
        json_object_put(o);
}

/* Interface names with dots, dashes, IFNAMSIZ-1 characters, a counter
 * touching the colon, counters at 2^64 - 1; 8-column /proc/stat. */
TEST(odd_ifaces) {
        static const char *const names[] = { "lo", "eth0", "veth1a2b.100", "wg-ts", "br-0123456789ab",
                                             "tailscale0", "eth1", "vlan_4094@x" };
        json_object *o = collect("odd-ifaces");

        check_golden("odd-ifaces", o);
        ASSERT_INT_EQ(GET_LEN(o, "network"), ELEMENTSOF(names));
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                char idx[8];
                snprintf(idx, sizeof(idx), "#%zu", i);
                ASSERT_STREQ(GET_STR(o, "network", idx, "name"), names[i]);
        }
        ASSERT_TRUE(GET_U64(o, "network", "#2", "bytesRecv") == UINT64_MAX);
        ASSERT_INT_EQ(GET_U64(o, "network", "#6", "bytesRecv"), 1234567890123ULL);
        ASSERT_INT_EQ(GET_U64(o, "network", "#1", "fifoout"), 13);
        ASSERT_INT_EQ(GET_LEN(o, "network_filtered"), 3);
        ASSERT_STREQ(GET_STR(o, "network_filtered", "#1", "name"), "veth1a2b.100");
        ASSERT_STREQ(GET_STR(o, "host", "virtualizationSystem"), "kvm");
        ASSERT_STREQ(GET_STR(o, "disk", "#2", "fstype"), "nfs4");
        ASSERT_TRUE(GET_DBL(o, "disk", "#2", "inodesUsedPercent") == 0);
        ASSERT_TRUE(fabs(GET_DBL(o, "cpu", "percent_total") - 33) < 1e-9);
        json_object_put(o);
}

/* A tree with no pid directories and a truncated stat still answers or
 * fails cleanly, never crashes. */
TEST(broken_tree) {
        char tmpl[] = "/tmp/test-metrics-XXXXXX";
        _cleanup_free_ char *stat = NULL;
        MetricsSources s;
        json_object *v;
        char *d = mkdtemp(tmpl);

        ASSERT_NOT_NULL(d);
        ASSERT_OK(setenv("TAILKITD_PROC_ROOT", d, 1));
        metrics_sources_init(&s);
        ASSERT_INT_EQ(metrics_host(&s, &v), -ENOENT);
        ASSERT_INT_EQ(metrics_memory(&s, false, &v), -ENOENT);
        ASSERT_INT_EQ(metrics_processes(&s, 5, true, &v), -ENOENT);
        ASSERT_TRUE(asprintf(&stat, "%s/stat", d) >= 0);
        write_text(stat, "cpu  1 2\n");
        CpuSample c = {};
        ASSERT_INT_EQ(cpu_sample_read(&s, &c), -EBADMSG);
        write_text(stat, "intr 1\n");
        ASSERT_INT_EQ(cpu_sample_read(&s, &c), -EBADMSG);
        ASSERT_OK(unlink(stat));
        ASSERT_OK(rmdir(d));
}

int main(void) {
        RUN(local);
        RUN(many_cpus);
        RUN(swap);
        RUN(odd_ifaces);
        RUN(broken_tree);
        return 0;
}
