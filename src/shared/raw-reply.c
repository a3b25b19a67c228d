/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <sys/socket.h>

#include "raw-reply.h"

static const char *reason_phrase(int status) {
        switch (status) {
        case 400: return "Bad Request";
        case 404: return "Not Found";
        case 408: return "Request Timeout";
        case 414: return "URI Too Long";
        case 429: return "Too Many Requests";
        case 503: return "Service Unavailable";
        default:  return "Error";
        }
}

void raw_reply_error(int fd, int status, const char *error, const char *hint, unsigned retry_after_sec) {
        char body[1024], retry[40] = "", buf[1600];
        int bl, n;

        bl = snprintf(body, sizeof(body), "{\"error\":\"%s\",\"hint\":\"%s\"}\n", error, hint);
        if (bl < 0 || (size_t) bl >= sizeof(body))
                return;
        if (retry_after_sec > 0)
                snprintf(retry, sizeof(retry), "Retry-After: %u\r\n", retry_after_sec);
        n = snprintf(buf, sizeof(buf),
                     "HTTP/1.1 %d %s\r\n"
                     "Content-Type: application/json\r\n"
                     "Content-Length: %d\r\n"
                     "%s"
                     "Connection: close\r\n"
                     "\r\n%s",
                     status, reason_phrase(status), bl, retry, body);
        if (n > 0 && (size_t) n < sizeof(buf))
                (void) !send(fd, buf, (size_t) n, MSG_NOSIGNAL | MSG_DONTWAIT);
}
