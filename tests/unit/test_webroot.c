/* Unit tests: xmppd/webroot.c, served through xmppd/http.c. A temporary
 * web root (with a secret file and symlinks beside it) is served on
 * 127.0.0.1 and a free port from an event_base of the test process; raw
 * client sockets send requests while the loop is pumped. */
#include "http.h"
#include "log.h"
#include "sbuf.h"
#include "test.h"
#include "util.h"
#include "webroot.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>

static struct {
    struct event_base *base;
    http_server *srv;
    int port;
    char dir[64];  /* holds root/ and secret.txt */
    char root[96]; /* the web root */
} W;

static void tw_handler(void *ud, http_request *req)
{
    webroot_serve(req, W.root);
}

static void tw_file(const char *rel, const char *content)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", W.dir, rel);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    fputs(content, f);
    fclose(f);
}

static void tw_path(char *out, size_t n, const char *rel)
{
    snprintf(out, n, "%s/%s", W.dir, rel);
}

static int tw_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
    socklen_t len = sizeof a;
    CHECK(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* Builds the tree and starts the server. Tests run in forked children:
 * the tree is removed by tw_stop. */
static void tw_start(void)
{
    log_init("test_webroot", LOG_ERROR);
    snprintf(W.dir, sizeof W.dir, "/tmp/parley-webroot-XXXXXX");
    CHECK(mkdtemp(W.dir) != NULL);
    snprintf(W.root, sizeof W.root, "%s/root", W.dir);
    CHECK(mkdir(W.root, 0755) == 0);
    char p[256], q[256];
    tw_path(p, sizeof p, "root/sub");
    CHECK(mkdir(p, 0755) == 0);
    tw_path(p, sizeof p, "outside");
    CHECK(mkdir(p, 0755) == 0);
    tw_file("root/index.html", "<html>index</html>");
    tw_file("root/app.js", "console.log(1);");
    tw_file("root/mod.mjs", "export {};");
    tw_file("root/style.css", "body{}");
    tw_file("root/data.json", "{}");
    tw_file("root/pic.PNG", "png");
    tw_file("root/unknown.xyz", "?");
    tw_file("root/sub/page.html", "<p>page</p>");
    tw_file("secret.txt", "secret");
    tw_file("outside/secret.txt", "secret2");
    tw_path(p, sizeof p, "secret.txt");
    tw_path(q, sizeof q, "root/escape.txt");
    CHECK(symlink(p, q) == 0);
    tw_path(p, sizeof p, "outside");
    tw_path(q, sizeof q, "root/outdir");
    CHECK(symlink(p, q) == 0);
    tw_path(q, sizeof q, "root/link.js");
    CHECK(symlink("app.js", q) == 0);
    /* a fixed mtime for Last-Modified: 2020-01-02 03:04:05 UTC */
    tw_path(p, sizeof p, "root/app.js");
    struct timeval tv[2] = {{1577934245, 0}, {1577934245, 0}};
    CHECK(utimes(p, tv) == 0);
    /* a sparse file over the size limit */
    tw_path(p, sizeof p, "root/big.bin");
    int fd = open(p, O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0 && ftruncate(fd, WEBROOT_MAX_FILE + 1) == 0);
    close(fd);

    W.base = event_base_new();
    http_limits lim = {1024, 30, 30, 100};
    W.srv = http_server_new(W.base, &lim, tw_handler, NULL);
    for (int i = 0; i < 20; i++) {
        int port = tw_free_port();
        if (http_server_listen(W.srv, "127.0.0.1", port, NULL) == 0) {
            W.port = port;
            return;
        }
    }
    CHECK(!"no free port");
}

static void tw_stop(void)
{
    http_server_free(W.srv);
    event_base_free(W.base);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", W.dir);
    CHECK(system(cmd) == 0);
}

static int tw_connect(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)W.port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
    CHECK(fcntl(fd, F_SETFL, O_NONBLOCK) == 0);
    return fd;
}

/* Sends req on fd and reads until the answer holds `until` (or, when
 * until is NULL, one whole answer with its Content-Length body), EOF or 3 s.
 * Returns the raw bytes (malloc'd). */
static char *tw_exchange(int fd, const char *req, const char *until)
{
    CHECK(send(fd, req, strlen(req), MSG_NOSIGNAL) == (ssize_t)strlen(req));
    sbuf b;
    sbuf_init(&b);
    long long end = now_ms() + 3000;
    while (now_ms() < end) {
        event_base_loop(W.base, EVLOOP_NONBLOCK);
        char tmp[4096];
        ssize_t n = recv(fd, tmp, sizeof tmp, 0);
        if (n > 0) {
            sbuf_add(&b, tmp, (size_t)n);
            if (until) {
                if (strstr(b.data, until))
                    break;
                continue;
            }
            const char *hend = strstr(b.data, "\r\n\r\n");
            if (!hend)
                continue;
            const char *cl = strstr(b.data, "Content-Length: ");
            size_t clen = cl && cl < hend ? strtoul(cl + 16, NULL, 10) : 0;
            if (b.len >= (size_t)(hend + 4 - b.data) + clen)
                break;
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            break;
        poll(NULL, 0, 1);
    }
    return sbuf_steal(&b, NULL);
}

static int tw_status(const char *raw)
{
    CHECK(strncmp(raw, "HTTP/1.1 ", 9) == 0);
    return atoi(raw + 9);
}

static const char *tw_body(const char *raw)
{
    const char *p = strstr(raw, "\r\n\r\n");
    CHECK(p != NULL);
    return p + 4;
}

/* GET path on a fresh connection: the raw answer (malloc'd). */
static char *tw_get(const char *path)
{
    int fd = tw_connect();
    char req[512];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
    char *r = tw_exchange(fd, req, NULL);
    close(fd);
    return r;
}

static void tw_expect(const char *path, int status, const char *body)
{
    char *r = tw_get(path);
    if (tw_status(r) != status)
        fprintf(stderr, "GET %s: %.40s\n", path, r);
    CHECK_INT(tw_status(r), status);
    if (body)
        CHECK_STR(tw_body(r), body);
    free(r);
}

static void test_index(void)
{
    tw_start();
    char *r = tw_get("/");
    CHECK_INT(tw_status(r), 200);
    CHECK_STR(tw_body(r), "<html>index</html>");
    CHECK(strstr(r, "\r\nContent-Type: text/html; charset=utf-8\r\n"));
    CHECK(strstr(r, "\r\nCache-Control: no-cache\r\n"));
    CHECK(strstr(r, "\r\nLast-Modified: "));
    CHECK(strstr(r, "\r\nContent-Length: 18\r\n"));
    free(r);
    tw_expect("/myroom", 200, "<html>index</html>");
    tw_expect("/myroom?join=1", 200, "<html>index</html>");
    tw_expect("/rooms/deep/path", 200, "<html>index</html>");
    tw_expect("/sub", 200, "<html>index</html>");
    tw_expect("/sub/", 200, "<html>index</html>");
    tw_expect("/sub/page.html", 200, "<p>page</p>");
    tw_expect("/index.html", 200, "<html>index</html>");
    tw_stop();
}

static void test_mime(void)
{
    CHECK_STR(webroot_mime("a.html"), "text/html; charset=utf-8");
    CHECK_STR(webroot_mime("x/a.js"), "text/javascript; charset=utf-8");
    CHECK_STR(webroot_mime("a.mjs"), "text/javascript; charset=utf-8");
    CHECK_STR(webroot_mime("a.css"), "text/css; charset=utf-8");
    CHECK_STR(webroot_mime("a.json"), "application/json");
    CHECK_STR(webroot_mime("a.png"), "image/png");
    CHECK_STR(webroot_mime("a.JPG"), "image/jpeg");
    CHECK_STR(webroot_mime("a.jpeg"), "image/jpeg");
    CHECK_STR(webroot_mime("a.gif"), "image/gif");
    CHECK_STR(webroot_mime("a.svg"), "image/svg+xml");
    CHECK_STR(webroot_mime("favicon.ico"), "image/x-icon");
    CHECK_STR(webroot_mime("a.wasm"), "application/wasm");
    CHECK_STR(webroot_mime("a.woff"), "font/woff");
    CHECK_STR(webroot_mime("a.woff2"), "font/woff2");
    CHECK_STR(webroot_mime("a.txt"), "text/plain; charset=utf-8");
    CHECK_STR(webroot_mime("a.js.map"), "application/json");
    CHECK_STR(webroot_mime("a.webm"), "video/webm");
    CHECK_STR(webroot_mime("a.mp3"), "audio/mpeg");
    CHECK_STR(webroot_mime("a.ogg"), "audio/ogg");
    CHECK_STR(webroot_mime("a.wav"), "audio/wav");
    CHECK_STR(webroot_mime("a.xyz"), "application/octet-stream");
    CHECK_STR(webroot_mime("noext"), "application/octet-stream");
    CHECK_STR(webroot_mime("dir.d/noext"), "application/octet-stream");
    CHECK_STR(webroot_mime("trailing."), "application/octet-stream");

    tw_start();
    char *r = tw_get("/app.js");
    CHECK_INT(tw_status(r), 200);
    CHECK_STR(tw_body(r), "console.log(1);");
    CHECK(strstr(r, "\r\nContent-Type: text/javascript; charset=utf-8\r\n"));
    CHECK(strstr(r, "\r\nCache-Control: public, max-age=86400\r\n"));
    CHECK(strstr(r, "\r\nLast-Modified: Thu, 02 Jan 2020 03:04:05 GMT\r\n"));
    free(r);
    r = tw_get("/pic.PNG");
    CHECK(strstr(r, "\r\nContent-Type: image/png\r\n"));
    free(r);
    r = tw_get("/unknown.xyz");
    CHECK(strstr(r, "\r\nContent-Type: application/octet-stream\r\n"));
    free(r);
    r = tw_get("/style.css");
    CHECK(strstr(r, "\r\nContent-Type: text/css; charset=utf-8\r\n"));
    free(r);
    tw_stop();
}

static void test_missing(void)
{
    tw_start();
    tw_expect("/nope.js", 404, NULL);
    tw_expect("/sub/nope.png", 404, NULL);
    tw_expect("/nodir/x.css", 404, NULL);
    tw_expect("/app.js/x.js", 404, NULL);
    tw_expect("/big.bin", 500, NULL);
    tw_stop();
}

static void test_traversal(void)
{
    tw_start();
    tw_expect("/../secret.txt", 404, NULL);
    tw_expect("/../etc/passwd", 404, NULL);
    tw_expect("/%2e%2e/secret.txt", 404, NULL);
    tw_expect("/%2E%2E/x", 404, NULL);
    tw_expect("/a/../../x", 404, NULL);
    tw_expect("/sub/../../secret.txt", 404, NULL);
    tw_expect("/..%2f..%2fsecret.txt", 404, NULL);
    tw_expect("/..", 404, NULL);
    tw_expect("/sub/..", 404, NULL);
    tw_expect("/escape.txt", 404, NULL);
    tw_expect("/outdir/secret.txt", 404, NULL);
    tw_expect("/outdir", 404, NULL);
    tw_expect("/sub%5c..%5c..%5csecret.txt", 404, NULL);
    tw_expect("/%01x.js", 404, NULL);
    tw_expect("/a%00.js", 400, NULL);
    /* a symlink that stays inside the root is fine */
    tw_expect("/link.js", 200, "console.log(1);");
    tw_stop();
}

static void test_head(void)
{
    tw_start();
    int fd = tw_connect();
    char *r =
        tw_exchange(fd, "HEAD /app.js HTTP/1.1\r\nHost: x\r\n\r\nGET /data.json HTTP/1.1\r\n\r\n",
                    "\r\n\r\n{}");
    CHECK_INT(tw_status(r), 200);
    CHECK(strstr(r, "\r\nContent-Length: 15\r\n"));
    CHECK(strstr(r, "\r\nContent-Type: text/javascript; charset=utf-8\r\n"));
    /* no body: the next answer starts right after the HEAD answer's headers */
    const char *second = strstr(r, "\r\n\r\n");
    CHECK(strncmp(second + 4, "HTTP/1.1 200 OK\r\n", 17) == 0);
    CHECK_STR(tw_body(second + 4), "{}");
    free(r);
    close(fd);
    tw_stop();
}

static void test_if_modified_since(void)
{
    tw_start();
    int fd = tw_connect();
    char *r = tw_exchange(fd,
                          "GET /app.js HTTP/1.1\r\n"
                          "If-Modified-Since: Thu, 02 Jan 2020 03:04:05 GMT\r\n\r\n",
                          NULL);
    CHECK_INT(tw_status(r), 304);
    CHECK(strstr(r, "\r\nLast-Modified: Thu, 02 Jan 2020 03:04:05 GMT\r\n"));
    CHECK_STR(tw_body(r), "");
    free(r);
    /* later date: still 304; the connection is still usable */
    r = tw_exchange(
        fd, "GET /app.js HTTP/1.1\r\nIf-Modified-Since: Fri, 01 Jan 2021 00:00:00 GMT\r\n\r\n",
        NULL);
    CHECK_INT(tw_status(r), 304);
    free(r);
    /* older date, or garbage: the file */
    r = tw_exchange(
        fd, "GET /app.js HTTP/1.1\r\nIf-Modified-Since: Wed, 01 Jan 2020 00:00:00 GMT\r\n\r\n",
        NULL);
    CHECK_INT(tw_status(r), 200);
    CHECK_STR(tw_body(r), "console.log(1);");
    free(r);
    r = tw_exchange(fd, "GET /app.js HTTP/1.1\r\nIf-Modified-Since: yesterday\r\n\r\n", NULL);
    CHECK_INT(tw_status(r), 200);
    free(r);
    close(fd);
    tw_stop();
}

static void test_methods(void)
{
    tw_start();
    int fd = tw_connect();
    char *r = tw_exchange(fd, "POST /app.js HTTP/1.1\r\nContent-Length: 1\r\n\r\nx", NULL);
    CHECK_INT(tw_status(r), 405);
    CHECK(strstr(r, "\r\nAllow: GET, HEAD\r\n"));
    free(r);
    close(fd);
    tw_stop();
}

TEST_MAIN(TEST(test_index), TEST(test_mime), TEST(test_missing), TEST(test_traversal),
          TEST(test_head), TEST(test_if_modified_since), TEST(test_methods))
