/* SPDX-License-Identifier: MIT */
/* A stored scope file (<env>.json, read back on every vars GET) rendered as
 * JSON and as env lines, and the key/value checks a PUT goes through. */
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "render.h"
#include "scopefile.h"
#include "vars-names.h"

static void render(const uint8_t *data, size_t size, RenderFormat format) {
        ScopeFile *f = NULL;
        ScopeRender *r = NULL;
        char buf[333];          /* odd, so values split across reads */
        int fd = memfd_create("scope", MFD_CLOEXEC);

        if (fd < 0)
                abort();
        if (size > 0 && write(fd, data, size) != (ssize_t) size)
                abort();
        if (scope_file_parse(fd, &f) < 0)
                return;         /* parse owns fd, also on failure */
        if (format == RENDER_KEY && f->n == 0) {
                scope_file_free(f);
                return;
        }
        if (scope_render_new(f, format, format == RENDER_KEY ? &f->entries[0] : NULL, &r) < 0)
                return;
        while (scope_render_read(r, buf, sizeof(buf)) > 0)
                ;
        scope_render_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *s;

        render(data, size, RENDER_JSON);
        render(data, size, RENDER_ENV);
        render(data, size, RENDER_KEY);
        s = fuzz_strndup(data, size);
        (void) vars_name_is_valid(s);
        (void) vars_key_is_valid(s);
        (void) vars_value_is_valid((const char *) data, size);
        free(s);
        return 0;
}
