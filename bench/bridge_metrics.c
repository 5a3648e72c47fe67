/* bridge_metrics: see bridge_metrics.h. */
#include "bridge_metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define METRICS_MAX (1 << 20)

/* The body of GET /metrics, NUL-terminated (caller frees), or NULL. */
static char *http_get_metrics(const char *ip, int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
        return NULL;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return NULL;
    struct timeval tv = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    char *buf = NULL;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        goto fail;
    char req[128];
    int n = snprintf(req, sizeof req,
                     "GET /metrics HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", ip);
    if (write(fd, req, (size_t)n) != n)
        goto fail;
    buf = malloc(METRICS_MAX + 1);
    if (!buf)
        goto fail;
    size_t len = 0;
    ssize_t r;
    while (len < METRICS_MAX && (r = read(fd, buf + len, METRICS_MAX - len)) > 0)
        len += (size_t)r;
    buf[len] = 0;
    close(fd);
    if (strncmp(buf, "HTTP/1.1 200", 12) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
fail:
    free(buf);
    close(fd);
    return NULL;
}

int bridge_metrics_delay(const char *ip, int port, delay_hist *out)
{
    char *body = http_get_metrics(ip, port);
    if (!body)
        return -1;
    memset(out, 0, sizeof *out);
    static const char bucket[] = "parley_bridge_forward_delay_seconds_bucket{le=\"";
    static const char count[] = "parley_bridge_forward_delay_seconds_count ";
    static const char sum[] = "parley_bridge_forward_delay_seconds_sum ";
    uint64_t prev_cum = 0;
    int nb = 0;
    bool have_count = false;
    char *save = NULL;
    for (char *line = strtok_r(body, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, bucket, sizeof bucket - 1) == 0) {
            const char *v = strstr(line, "} ");
            if (!v || nb >= DELAY_BUCKETS)
                continue;
            uint64_t cum = strtoull(v + 2, NULL, 10);
            out->count[nb++] = cum >= prev_cum ? cum - prev_cum : 0;
            prev_cum = cum;
        } else if (strncmp(line, count, sizeof count - 1) == 0) {
            out->total = strtoull(line + sizeof count - 1, NULL, 10);
            have_count = true;
        } else if (strncmp(line, sum, sizeof sum - 1) == 0) {
            out->sum_us = (uint64_t)(strtod(line + sizeof sum - 1, NULL) * 1e6);
        }
    }
    free(body);
    return nb == DELAY_BUCKETS && have_count ? 0 : -1;
}
