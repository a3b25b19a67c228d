/* SPDX-License-Identifier: MIT */
/* Worker jobs (src/shared/jobs.c): the record a worker writes itself reads
 * back through the same reader exec serves polls with. Runs without systemd:
 * a job without a result then reads running. */

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "jobs.h"
#include "macro.h"
#include "tests.h"

static DaemonConfig cfg = { .exec = { .output_max = 16, .max_jobs = 4 } };

static const char *status_of(JobRead *j) {
        return json_object_get_string(json_object_object_get(j->fields, "status"));
}

static char *output_of(int fd) {
        static char buf[256];
        ssize_t n = fd >= 0 ? pread(fd, buf, sizeof(buf) - 1, 0) : 0;
        buf[n > 0 ? n : 0] = 0;
        return buf;
}

TEST(worker_job_completes) {
        JobSpec spec = { .tool = "systemd", .command = "start", .caller = "alice", .caller_id = "nID1",
                         .timeout_usec = 60 * 1000000ULL };
        JobRead j = { .stdout_fd = -1, .stderr_fd = -1 };
        char id[ULID_LEN + 1];

        ASSERT_OK(job_begin(&spec, &cfg, id));
        ASSERT_OK(job_read(id, &j));
        ASSERT_STREQ(status_of(&j), "running");
        ASSERT_STREQ(j.caller_id, "nID1");
        job_read_done(&j);

        ASSERT_OK(job_output(id, false, "0123456789", 10));
        ASSERT_OK(job_output(id, false, "abcdefghij", 10));   /* capped at 16 */
        ASSERT_OK(job_output(id, true, "warn", 4));
        ASSERT_OK(job_end(id, 0, NULL));
        ASSERT_OK(job_read(id, &j));
        ASSERT_STREQ(status_of(&j), "completed");
        ASSERT_STREQ(output_of(j.stdout_fd), "0123456789abcdef");
        ASSERT_STREQ(output_of(j.stderr_fd), "warn");
        ASSERT_TRUE(json_object_get_boolean(json_object_object_get(j.flags, "stdout_truncated")));
        ASSERT_FALSE(json_object_get_boolean(json_object_object_get(j.flags, "stderr_truncated")));
        ASSERT_STREQ(json_object_get_string(json_object_object_get(j.fields, "tool")), "systemd");
        job_read_done(&j);
        ASSERT_INT_EQ(job_cancel(id), -EALREADY);
}

TEST(worker_job_fails_and_cancels) {
        JobSpec spec = { .tool = "docker", .command = "pull", .caller = "bob", .caller_id = "nID2",
                         .timeout_usec = 60 * 1000000ULL };
        JobRead j = { .stdout_fd = -1, .stderr_fd = -1 };
        char a[ULID_LEN + 1], b[ULID_LEN + 1];

        ASSERT_OK(job_begin(&spec, &cfg, a));
        ASSERT_OK(job_end(a, 1, "pull access denied"));
        ASSERT_OK(job_read(a, &j));
        ASSERT_STREQ(status_of(&j), "failed");
        ASSERT_STREQ(json_object_get_string(json_object_object_get(j.fields, "error")), "pull access denied");
        job_read_done(&j);

        /* DELETE of a worker job only asks: its worker ends it. */
        ASSERT_OK(job_begin(&spec, &cfg, b));
        ASSERT_FALSE(job_cancel_requested(b));
        ASSERT_OK(job_cancel(b));
        ASSERT_TRUE(job_cancel_requested(b));
        ASSERT_OK(job_read(b, &j));
        ASSERT_STREQ(status_of(&j), "running");
        job_read_done(&j);
        ASSERT_OK(job_end(b, -1, "cancelled on request"));
        ASSERT_OK(job_read(b, &j));
        ASSERT_STREQ(status_of(&j), "cancelled");
        job_read_done(&j);
}

TEST(unknown_ids) {
        JobRead j = { .stdout_fd = -1, .stderr_fd = -1 };

        ASSERT_INT_EQ(job_read("01ARZ3NDEKTSV4RRFFQ69G5FAV", &j), -ENOENT);
        ASSERT_INT_EQ(job_read("../../etc", &j), -ENOENT);
        ASSERT_INT_EQ(job_end("01ARZ3NDEKTSV4RRFFQ69G5FAV", 0, NULL), -ENOENT);
        ASSERT_FALSE(job_cancel_requested("nonsense"));
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *f) {
        return remove(path);
}

int main(void) {
        char dir[] = "/tmp/test-jobs-XXXXXX";

        ASSERT_NOT_NULL(mkdtemp(dir));
        setenv("TAILKITD_RUNTIME_DIR", dir, 1);
        RUN(worker_job_completes);
        RUN(worker_job_fails_and_cancels);
        RUN(unknown_ids);
        ASSERT_OK(nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS));
        return 0;
}
