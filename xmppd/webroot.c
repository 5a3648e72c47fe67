/* webroot: static files for the browser client. See webroot.h. */
#include "webroot.h"

#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct webroot_type {
    const char *ext;
    const char *mime;
} webroot_type;

static const webroot_type webroot_types[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"webmanifest", "application/manifest+json"},
    {"txt", "text/plain; charset=utf-8"},
    {"xml", "application/xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"avif", "image/avif"},
    {"svg", "image/svg+xml"},
    {"ico", "image/x-icon"},
    {"wasm", "application/wasm"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"ttf", "font/ttf"},
    {"otf", "font/otf"},
    {"webm", "video/webm"},
    {"mp4", "video/mp4"},
    {"mp3", "audio/mpeg"},
    {"ogg", "audio/ogg"},
    {"oga", "audio/ogg"},
    {"opus", "audio/ogg"},
    {"wav", "audio/wav"},
    {"pdf", "application/pdf"},
};

const char *webroot_mime(const char *name)
{
    const char *slash = strrchr(name, '/');
    const char *base = slash ? slash + 1 : name;
    const char *dot = strrchr(base, '.');
    if (dot && dot[1]) {
        for (size_t i = 0; i < sizeof webroot_types / sizeof webroot_types[0]; i++)
            if (strcasecmp(dot + 1, webroot_types[i].ext) == 0)
                return webroot_types[i].mime;
    }
    return "application/octet-stream";
}

static void webroot_plain(http_request *req, int status, const char *text, const char *extra)
{
    http_respond(req, status, "text/plain; charset=utf-8", text, strlen(text), extra);
}

/* True if the decoded path may name something under the root: absolute,
 * no "..", no backslash, no control characters. */
static bool webroot_path_ok(const char *path)
{
    if (path[0] != '/' || strchr(path, '\\'))
        return false;
    for (const char *p = path; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return false;
    const char *seg = path;
    while (*seg) {
        while (*seg == '/')
            seg++;
        size_t n = strcspn(seg, "/");
        if (n == 2 && seg[0] == '.' && seg[1] == '.')
            return false;
        seg += n;
    }
    return true;
}

/* True if the last segment of path has no dot (a room or app route). */
static bool webroot_is_route(const char *path)
{
    const char *slash = strrchr(path, '/');
    return !strchr(slash ? slash + 1 : path, '.');
}

/* True if real (a resolved path) is strictly inside root (resolved). */
static bool webroot_inside(const char *root, const char *real)
{
    size_t n = strlen(root);
    if (strncmp(real, root, n) != 0)
        return false;
    if (n == 1 && root[0] == '/')
        return real[1] != '\0';
    return real[n] == '/' && real[n + 1] != '\0';
}

/* Parses an HTTP date (IMF-fixdate, RFC 850 or asctime); -1 if none. */
static time_t webroot_parse_date(const char *s)
{
    static const char *const fmts[] = {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT",
                                       "%a %b %e %H:%M:%S %Y"};
    for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        const char *end = strptime(s, fmts[i], &tm);
        if (end && *end == '\0')
            return timegm(&tm);
    }
    return (time_t)-1;
}

/* Resolves the file to serve into out (PATH_MAX): 0, or 404 / 500. */
static int webroot_resolve(const char *root_real, const char *path, char *out)
{
    char cand[PATH_MAX + 64];
    int n = snprintf(cand, sizeof cand, "%s%s", root_real, path);
    if (n < 0 || (size_t)n >= sizeof cand)
        return 404;
    char real[PATH_MAX];
    struct stat st;
    if (realpath(cand, real)) {
        if (!webroot_inside(root_real, real)) {
            /* the root itself ("/") is a route; anything else outside is not */
            if (strcmp(real, root_real) != 0)
                return 404;
        } else if (stat(real, &st) == 0 && S_ISREG(st.st_mode)) {
            memcpy(out, real, strlen(real) + 1);
            return 0;
        }
    } else if (errno != ENOENT && errno != ENOTDIR) {
        return 404;
    }
    if (!webroot_is_route(path))
        return 404;
    n = snprintf(cand, sizeof cand, "%s/index.html", root_real);
    if (n < 0 || (size_t)n >= sizeof cand || !realpath(cand, real) ||
        !webroot_inside(root_real, real))
        return 404;
    memcpy(out, real, strlen(real) + 1);
    return 0;
}

void webroot_serve(http_request *req, const char *root)
{
    bool head = strcmp(req->method, "HEAD") == 0;
    if (!head && strcmp(req->method, "GET") != 0) {
        webroot_plain(req, 405, "405 Method Not Allowed\n", "Allow: GET, HEAD\r\n");
        return;
    }
    if (!webroot_path_ok(req->path)) {
        webroot_plain(req, 404, "404 Not Found\n", NULL);
        return;
    }
    char root_real[PATH_MAX];
    if (!realpath(root, root_real)) {
        log_warn(NULL, "webroot: cannot resolve %s: %s", root, strerror(errno));
        webroot_plain(req, 404, "404 Not Found\n", NULL);
        return;
    }
    char file[PATH_MAX];
    if (webroot_resolve(root_real, req->path, file) != 0) {
        webroot_plain(req, 404, "404 Not Found\n", NULL);
        return;
    }
    int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        webroot_plain(req, 404, "404 Not Found\n", NULL);
        return;
    }
    if (st.st_size > WEBROOT_MAX_FILE) {
        close(fd);
        log_warn(NULL, "webroot: %s is larger than %d bytes, refused", file, WEBROOT_MAX_FILE);
        webroot_plain(req, 500, "500 Internal Server Error\n", NULL);
        return;
    }
    const char *mime = webroot_mime(file);
    bool html = strncmp(mime, "text/html", 9) == 0;
    char lastmod[64], extra[256];
    struct tm tm;
    gmtime_r(&st.st_mtime, &tm);
    strftime(lastmod, sizeof lastmod, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    snprintf(extra, sizeof extra,
             "Last-Modified: %s\r\nCache-Control: %s\r\nX-Content-Type-Options: nosniff\r\n",
             lastmod, html ? "no-cache" : "public, max-age=86400");
    const char *ims = http_header_get(req, "if-modified-since");
    if (ims) {
        time_t t = webroot_parse_date(ims);
        if (t != (time_t)-1 && st.st_mtime <= t) {
            close(fd);
            http_respond(req, 304, NULL, NULL, 0, extra);
            return;
        }
    }
    size_t size = (size_t)st.st_size;
    if (head) {
        close(fd);
        http_respond(req, 200, mime, NULL, size, extra);
        return;
    }
    char *data = xmalloc(size + 1);
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, data + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (got != size) {
        free(data);
        log_warn(NULL, "webroot: short read on %s", file);
        webroot_plain(req, 500, "500 Internal Server Error\n", NULL);
        return;
    }
    http_respond(req, 200, mime, data, size, extra);
    free(data);
}
