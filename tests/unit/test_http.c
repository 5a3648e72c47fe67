/* Unit tests: xmppd/http.c (and http_parse.c under it). A server on
 * 127.0.0.1 and a free port runs on an event_base of the test process;
 * raw non-blocking client sockets drive it, and the loop is pumped while
 * the client waits. The handler acts by path: /echo answers
 * "METHOD path query body", /defer answers from a timer, /hold keeps the
 * request (on_abort counts), /upgrade takes the connection over, /param
 * answers query parameters. */
#include "http.h"
#include "log.h"
#include "sbuf.h"
#include "test.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <strings.h>
#include <sys/socket.h>

typedef struct th {
    struct event_base *base;
    http_server *srv;
    int port;
    int nreq;
    int aborts;
    http_request *held;
    struct bufferevent *taken;
} th;

static th T;

static void th_answer(http_request *req, const char *text)
{
    http_respond(req, 200, "text/plain", text, strlen(text), "X-Test: yes\r\n");
}

static void th_defer_cb(evutil_socket_t fd, short what, void *arg)
{
    http_request *req = T.held;
    T.held = NULL;
    th_answer(req, "deferred");
}

static void th_abort_cb(http_request *req, void *ud)
{
    CHECK(ud == &T);
    CHECK(req == T.held);
    T.held = NULL;
    T.aborts++;
}

static void th_handler(void *ud, http_request *req)
{
    CHECK(ud == &T);
    CHECK_STR(req->peer_ip, "127.0.0.1");
    CHECK(req->body && req->body[req->body_len] == '\0');
    T.nreq++;
    if (strcmp(req->path, "/defer") == 0) {
        T.held = req;
        struct timeval tv = {0, 50000};
        event_base_once(T.base, -1, EV_TIMEOUT, th_defer_cb, NULL, &tv);
    } else if (strcmp(req->path, "/hold") == 0) {
        T.held = req;
        req->on_abort = th_abort_cb;
        req->abort_ud = &T;
    } else if (strcmp(req->path, "/upgrade") == 0 && req->upgrade) {
        CHECK_STR(http_header_get(req, "Upgrade"), "websocket");
        T.taken = http_take_over(req);
        CHECK(T.taken != NULL);
    } else if (strcmp(req->path, "/param") == 0) {
        const char *names[] = {"a", "b", "c", "d", "e"};
        sbuf b;
        sbuf_init(&b);
        for (size_t i = 0; i < 5; i++) {
            char *v = http_query_param(req, names[i]);
            sbuf_printf(&b, "%s=%s;", names[i], v ? v : "(null)");
            free(v);
        }
        th_answer(req, b.data);
        sbuf_free(&b);
    } else {
        sbuf b;
        sbuf_init(&b);
        sbuf_printf(&b, "%s %s %s ", req->method, req->path, req->query ? req->query : "-");
        sbuf_add(&b, req->body, req->body_len);
        const char *h = http_header_get(req, "x-hdr");
        if (h)
            sbuf_printf(&b, " [%s]", h);
        th_answer(req, b.data);
        sbuf_free(&b);
    }
}

static int th_free_port(void)
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

static void th_start_limits(size_t max_body, int idle_s, int request_s, int max_conns)
{
    log_init("test_http", LOG_ERROR);
    memset(&T, 0, sizeof T);
    T.base = event_base_new();
    CHECK(T.base != NULL);
    http_limits lim = {max_body, idle_s, request_s, max_conns};
    T.srv = http_server_new(T.base, &lim, th_handler, &T);
    for (int i = 0; i < 20; i++) {
        int port = th_free_port();
        if (http_server_listen(T.srv, "127.0.0.1", port, NULL) == 0) {
            T.port = port;
            return;
        }
    }
    CHECK(!"no free port");
}

static void th_start(void)
{
    th_start_limits(1024, 30, 30, 100);
}

static void th_stop(void)
{
    http_server_free(T.srv);
    event_base_free(T.base);
}

static void th_pump(void)
{
    event_base_loop(T.base, EVLOOP_NONBLOCK);
}

/* Pumps the loop until *flag >= want or 3 s pass. */
static void th_pump_until(const int *flag, int want)
{
    long long end = now_ms() + 3000;
    while (*flag < want && now_ms() < end) {
        th_pump();
        poll(NULL, 0, 1);
    }
}

static int th_connect(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)T.port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
    CHECK(fcntl(fd, F_SETFL, O_NONBLOCK) == 0);
    return fd;
}

static void th_send(int fd, const char *data, size_t len)
{
    long long end = now_ms() + 3000;
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n > 0) {
            data += n;
            len -= (size_t)n;
        } else {
            CHECK(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
            CHECK(now_ms() < end);
        }
        th_pump();
    }
    th_pump();
}

static void th_sends(int fd, const char *s)
{
    th_send(fd, s, strlen(s));
}

/* Counts the complete responses at the start of buf (no HEAD answers). */
static int th_count(const char *buf, size_t len)
{
    int n = 0;
    size_t off = 0;
    while (off < len) {
        const char *end = memmem(buf + off, len - off, "\r\n\r\n", 4);
        if (!end)
            break;
        size_t hlen = (size_t)(end - (buf + off)) + 4;
        size_t clen = 0;
        const char *cl = memmem(buf + off, hlen, "Content-Length: ", 16);
        if (cl)
            clen = strtoul(cl + 16, NULL, 10);
        if (off + hlen + clen > len)
            break;
        off += hlen + clen;
        n++;
    }
    return n;
}

/* Reads into b until it holds want responses, EOF (*eof set) or 3 s. */
static void th_read(int fd, sbuf *b, int want, bool *eof)
{
    long long end = now_ms() + 3000;
    *eof = false;
    while (now_ms() < end) {
        th_pump();
        char tmp[4096];
        ssize_t n = recv(fd, tmp, sizeof tmp, 0);
        if (n > 0) {
            sbuf_add(b, tmp, (size_t)n);
            if (want > 0 && th_count(b->data, b->len) >= want)
                return;
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
            *eof = true;
            return;
        }
        poll(NULL, 0, 1);
    }
}

/* One request, one response; returns the raw response (malloc'd). */
static char *th_roundtrip(int fd, const char *req, bool *eof)
{
    sbuf b;
    sbuf_init(&b);
    th_sends(fd, req);
    th_read(fd, &b, 1, eof);
    return sbuf_steal(&b, NULL);
}

/* The body of the idx-th response in raw (static buffer). */
static const char *th_body(const char *raw, int idx)
{
    static char out[8192];
    const char *p = raw;
    for (int i = 0; i <= idx; i++) {
        const char *end = strstr(p, "\r\n\r\n");
        CHECK(end != NULL);
        const char *cl = strstr(p, "Content-Length: ");
        CHECK(cl != NULL && cl < end);
        size_t clen = strtoul(cl + 16, NULL, 10);
        if (i == idx) {
            CHECK(clen < sizeof out);
            memcpy(out, end + 4, clen);
            out[clen] = '\0';
            return out;
        }
        p = end + 4 + clen;
    }
    return NULL;
}

static int th_status(const char *raw)
{
    CHECK(strncmp(raw, "HTTP/1.1 ", 9) == 0);
    return atoi(raw + 9);
}

#define GET(path) "GET " path " HTTP/1.1\r\nHost: x\r\n\r\n"

static void test_keepalive(void)
{
    th_start();
    int fd = th_connect();
    bool eof;
    char *r = th_roundtrip(fd, GET("/echo?x=1"), &eof);
    CHECK(!eof);
    CHECK_INT(th_status(r), 200);
    CHECK(strstr(r, "\r\nServer: parley\r\n"));
    CHECK(strstr(r, "\r\nContent-Type: text/plain\r\n"));
    CHECK(strstr(r, "\r\nContent-Length: 14\r\n"));
    CHECK(strstr(r, "\r\nX-Test: yes\r\n"));
    CHECK(!strstr(r, "Connection: close"));
    CHECK_STR(th_body(r, 0), "GET /echo x=1 ");
    free(r);
    r = th_roundtrip(fd, "GET /two HTTP/1.1\r\nHost: x\r\nX-Hdr:  v  \r\n\r\n", &eof);
    CHECK(!eof);
    CHECK_STR(th_body(r, 0), "GET /two -  [v]");
    free(r);
    CHECK_INT(T.nreq, 2);
    CHECK_INT(http_server_connections(T.srv), 1);
    /* Connection: close is honoured */
    r = th_roundtrip(fd, "GET /three HTTP/1.1\r\nConnection: close\r\n\r\n", &eof);
    CHECK(strstr(r, "\r\nConnection: close\r\n"));
    free(r);
    sbuf b;
    sbuf_init(&b);
    th_read(fd, &b, 0, &eof);
    CHECK(eof && b.len == 0);
    sbuf_free(&b);
    close(fd);
    th_stop();
}

static void test_http10(void)
{
    th_start();
    int fd = th_connect();
    bool eof;
    char *r = th_roundtrip(fd, "GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &eof);
    CHECK(strstr(r, "\r\nConnection: keep-alive\r\n"));
    free(r);
    r = th_roundtrip(fd, "GET /b HTTP/1.0\r\n\r\n", &eof);
    CHECK(strstr(r, "\r\nConnection: close\r\n"));
    CHECK_STR(th_body(r, 0), "GET /b - ");
    free(r);
    sbuf b;
    sbuf_init(&b);
    th_read(fd, &b, 0, &eof);
    CHECK(eof);
    sbuf_free(&b);
    close(fd);
    th_stop();
}

static void test_pipelined(void)
{
    th_start();
    int fd = th_connect();
    th_sends(fd,
             GET("/p1") GET("/p2") "POST /p3 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc" GET("/p4"));
    sbuf b;
    sbuf_init(&b);
    bool eof;
    th_read(fd, &b, 4, &eof);
    CHECK(!eof);
    CHECK_INT(th_count(b.data, b.len), 4);
    CHECK_STR(th_body(b.data, 0), "GET /p1 - ");
    CHECK_STR(th_body(b.data, 1), "GET /p2 - ");
    CHECK_STR(th_body(b.data, 2), "POST /p3 - abc");
    CHECK_STR(th_body(b.data, 3), "GET /p4 - ");
    sbuf_free(&b);
    close(fd);
    th_stop();
}

static void test_byte_by_byte(void)
{
    th_start();
    int fd = th_connect();
    const char *req =
        "POST /slow?q HTTP/1.1\r\nHost: x\r\nX-Hdr: a\r\nContent-Length: 4\r\n\r\nbody";
    for (size_t i = 0; req[i]; i++) {
        th_send(fd, req + i, 1);
        th_pump();
    }
    sbuf b;
    sbuf_init(&b);
    bool eof;
    th_read(fd, &b, 1, &eof);
    CHECK_STR(th_body(b.data, 0), "POST /slow q body [a]");
    sbuf_free(&b);
    close(fd);
    th_stop();
}

static void test_post_body(void)
{
    th_start();
    int fd = th_connect();
    bool eof;
    char *r = th_roundtrip(
        fd, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world", &eof);
    CHECK_INT(th_status(r), 200);
    CHECK_STR(th_body(r, 0), "POST /echo - hello world");
    free(r);
    /* exactly max_body is fine */
    sbuf q;
    sbuf_init(&q);
    sbuf_adds(&q, "PUT /big HTTP/1.1\r\nContent-Length: 1024\r\n\r\n");
    for (int i = 0; i < 1024; i++)
        sbuf_addc(&q, 'z');
    r = th_roundtrip(fd, q.data, &eof);
    CHECK_INT(th_status(r), 200);
    CHECK_INT(strlen(th_body(r, 0)), strlen("PUT /big - ") + 1024);
    free(r);
    sbuf_free(&q);
    close(fd);
    th_stop();
}

static void test_chunked(void)
{
    th_start();
    int fd = th_connect();
    bool eof;
    char *r = th_roundtrip(fd,
                           "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "5\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
                           &eof);
    CHECK_STR(th_body(r, 0), "POST /c - hello world");
    free(r);
    r = th_roundtrip(fd, GET("/after"), &eof);
    CHECK_STR(th_body(r, 0), "GET /after - ");
    free(r);
    close(fd);
    th_stop();
}

/* Sends req and expects status and the connection closed after it. */
static void th_expect_close(const char *req, size_t len, int status)
{
    int fd = th_connect();
    th_send(fd, req, len);
    sbuf b;
    sbuf_init(&b);
    bool eof;
    th_read(fd, &b, 0, &eof);
    CHECK(eof);
    CHECK(b.len > 0);
    CHECK_INT(th_status(b.data), status);
    CHECK(strstr(b.data, "\r\nConnection: close\r\n"));
    CHECK_INT(th_count(b.data, b.len), 1);
    sbuf_free(&b);
    close(fd);
}

static void test_413(void)
{
    th_start();
    const char *r1 = "POST /x HTTP/1.1\r\nContent-Length: 1025\r\n\r\n";
    th_expect_close(r1, strlen(r1), 413);
    const char *r2 = "POST /x HTTP/1.1\r\nContent-Length: 99999999999999999\r\n\r\nabc";
    th_expect_close(r2, strlen(r2), 413);
    /* chunked: each chunk small, the total too big */
    sbuf q;
    sbuf_init(&q);
    sbuf_adds(&q, "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 20; i++) {
        sbuf_adds(&q, "64\r\n");
        for (int j = 0; j < 100; j++)
            sbuf_addc(&q, 'a');
        sbuf_adds(&q, "\r\n");
    }
    sbuf_adds(&q, "0\r\n\r\n");
    th_expect_close(q.data, q.len, 413);
    sbuf_free(&q);
    /* one chunk announced bigger than the limit: refused on its header */
    const char *r3 = "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffff\r\nab";
    th_expect_close(r3, strlen(r3), 413);
    CHECK_INT(T.nreq, 0);
    th_stop();
}

/* A GET whose request line + headers are exactly size bytes. */
static void th_head_of_size(sbuf *q, size_t size)
{
    sbuf_reset(q);
    sbuf_adds(q, "GET /h HTTP/1.1\r\nX-Pad: ");
    size_t rest = size - q->len - 4;
    for (size_t i = 0; i < rest; i++)
        sbuf_addc(q, 'p');
    sbuf_adds(q, "\r\n\r\n");
    CHECK_INT(q->len, size);
}

static void test_431(void)
{
    th_start();
    sbuf q;
    sbuf_init(&q);
    /* HTTP_MAX_HEADERS headers pass, one more is 431 */
    sbuf_adds(&q, "GET /h HTTP/1.1\r\n");
    for (int i = 0; i < HTTP_MAX_HEADERS; i++)
        sbuf_printf(&q, "X-H%d: %d\r\n", i, i);
    sbuf_adds(&q, "\r\n");
    int fd = th_connect();
    bool eof;
    char *r = th_roundtrip(fd, q.data, &eof);
    CHECK_INT(th_status(r), 200);
    free(r);
    close(fd);
    q.len -= 2;
    sbuf_adds(&q, "X-Last: 1\r\n\r\n");
    th_expect_close(q.data, q.len, 431);

    /* HTTP_MAX_HEADER_BYTES exactly passes, one byte more is 431 */
    th_head_of_size(&q, HTTP_MAX_HEADER_BYTES);
    fd = th_connect();
    r = th_roundtrip(fd, q.data, &eof);
    CHECK_INT(th_status(r), 200);
    free(r);
    close(fd);
    th_head_of_size(&q, HTTP_MAX_HEADER_BYTES + 1);
    th_expect_close(q.data, q.len, 431);
    /* a huge header that never ends */
    sbuf_reset(&q);
    sbuf_adds(&q, "GET /h HTTP/1.1\r\nX-Big: ");
    for (int i = 0; i < 100000; i++)
        sbuf_addc(&q, 'b');
    th_expect_close(q.data, q.len, 431);
    /* a huge URL */
    sbuf_reset(&q);
    sbuf_adds(&q, "GET /");
    for (int i = 0; i < 9000; i++)
        sbuf_addc(&q, 'u');
    sbuf_adds(&q, " HTTP/1.1\r\n\r\n");
    th_expect_close(q.data, q.len, 431);
    sbuf_free(&q);
    CHECK_INT(T.nreq, 1 + 1);
    th_stop();
}

static void test_400(void)
{
    th_start();
    const char *bad[] = {
        "BLAH\x01\x02 nonsense\r\n\r\n",
        "GET /a%zz HTTP/1.1\r\n\r\n",
        "GET /a%2 HTTP/1.1\r\n\r\n",
        "GET /a% HTTP/1.1\r\n\r\n",
        "GET /a%00b HTTP/1.1\r\n\r\n",
        "GET /a HTTP/1.1\r\nBad Header\r\n\r\n",
        "GET /a HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        "GET /a HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "GET noslash HTTP/1.1\r\n\r\n",
        "GET /a HTTP/2.0\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        th_expect_close(bad[i], strlen(bad[i]), 400);
    CHECK_INT(T.nreq, 0);
    /* the server keeps serving */
    int fd = th_connect();
    bool eof;
    char *r = th_roundtrip(fd, GET("/a%20b%2Fc"), &eof);
    CHECK_STR(th_body(r, 0), "GET /a b/c - ");
    free(r);
    close(fd);
    th_stop();
}

static void test_deferred(void)
{
    th_start();
    int fd = th_connect();
    /* the second request waits until the deferred answer is flushed */
    th_sends(fd, GET("/defer") GET("/next"));
    th_pump_until(&T.nreq, 1);
    CHECK(T.held != NULL);
    for (int i = 0; i < 10; i++) {
        th_pump();
        CHECK_INT(T.nreq, 1);
    }
    sbuf b;
    sbuf_init(&b);
    bool eof;
    th_read(fd, &b, 2, &eof);
    CHECK(!eof);
    CHECK_STR(th_body(b.data, 0), "deferred");
    CHECK_STR(th_body(b.data, 1), "GET /next - ");
    CHECK_INT(T.nreq, 2);
    sbuf_free(&b);
    close(fd);
    th_stop();
}

static void test_abort(void)
{
    th_start();
    int fd = th_connect();
    th_sends(fd, GET("/hold"));
    th_pump_until(&T.nreq, 1);
    CHECK(T.held != NULL);
    CHECK_INT(T.aborts, 0);
    close(fd);
    th_pump_until(&T.aborts, 1);
    CHECK_INT(T.aborts, 1);
    CHECK(T.held == NULL);
    for (int i = 0; i < 5; i++)
        th_pump();
    CHECK_INT(http_server_connections(T.srv), 0);

    /* freeing the server gives held requests back too */
    fd = th_connect();
    th_sends(fd, GET("/hold"));
    th_pump_until(&T.nreq, 2);
    CHECK(T.held != NULL);
    http_server_free(T.srv);
    CHECK_INT(T.aborts, 2);
    close(fd);
    event_base_free(T.base);
}

static void test_upgrade(void)
{
    th_start();
    int fd = th_connect();
    th_sends(fd, "GET /upgrade HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
                 "Upgrade: websocket\r\n\r\nHELLO-AFTER");
    long long end = now_ms() + 3000;
    while ((!T.taken || evbuffer_get_length(bufferevent_get_input(T.taken)) < 11) &&
           now_ms() < end) {
        th_pump();
        poll(NULL, 0, 1);
    }
    CHECK(T.taken != NULL);
    struct evbuffer *in = bufferevent_get_input(T.taken);
    CHECK_INT(evbuffer_get_length(in), 11);
    CHECK(memcmp(evbuffer_pullup(in, -1), "HELLO-AFTER", 11) == 0);
    for (int i = 0; i < 5; i++)
        th_pump();
    CHECK_INT(http_server_connections(T.srv), 0);
    /* the new owner talks on the socket */
    bufferevent_enable(T.taken, EV_READ | EV_WRITE);
    bufferevent_write(T.taken, "PONG", 4);
    sbuf b;
    sbuf_init(&b);
    bool eof;
    end = now_ms() + 3000;
    while (b.len < 4 && now_ms() < end) {
        th_read(fd, &b, 0, &eof);
        if (eof)
            break;
    }
    (void)eof;
    CHECK(b.len >= 4 && memcmp(b.data, "PONG", 4) == 0);
    sbuf_free(&b);
    bufferevent_free(T.taken);
    close(fd);
    th_stop();
}

static void test_upgrade_refused(void)
{
    th_start();
    /* an upgrade the handler answers in HTTP: the connection closes */
    const char *r = "GET /echo HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: foo\r\n\r\nxyz";
    th_expect_close(r, strlen(r), 200);
    th_stop();
}

static void test_query_param(void)
{
    th_start();
    int fd = th_connect();
    bool eof;
    char *r = th_roundtrip(fd, GET("/param?a=1%202&b=x+y&c&d=%zz&a=second"), &eof);
    CHECK_STR(th_body(r, 0), "a=1 2;b=x y;c=;d=(null);e=(null);");
    free(r);
    close(fd);
    th_stop();
}

static void test_head(void)
{
    th_start();
    int fd = th_connect();
    th_sends(fd, "HEAD /echo HTTP/1.1\r\n\r\n" GET("/after"));
    sbuf b;
    sbuf_init(&b);
    bool eof;
    long long end = now_ms() + 3000;
    while (!strstr(b.data ? b.data : "", "GET /after - ") && now_ms() < end)
        th_read(fd, &b, 0, &eof);
    /* the HEAD answer has a length but no body: the next answer follows */
    CHECK(strncmp(b.data, "HTTP/1.1 200 OK\r\n", 17) == 0);
    CHECK(strstr(b.data, "Content-Length: 13\r\n"));
    const char *second = strstr(b.data, "\r\n\r\nHTTP/1.1 200 OK\r\n");
    CHECK(second != NULL);
    CHECK_STR(th_body(second + 4, 0), "GET /after - ");
    sbuf_free(&b);
    close(fd);
    th_stop();
}

static void test_timeouts(void)
{
    th_start_limits(1024, 1, 1, 100);
    int idle = th_connect();
    int slow = th_connect();
    th_sends(slow, "GET /slow HTTP/1.1\r\nHost:");
    sbuf b;
    sbuf_init(&b);
    bool eof = false;
    long long end = now_ms() + 4000;
    while (!eof && now_ms() < end)
        th_read(slow, &b, 0, &eof);
    CHECK(eof);
    CHECK_INT(th_status(b.data), 408);
    sbuf_reset(&b);
    eof = false;
    end = now_ms() + 4000;
    while (!eof && now_ms() < end)
        th_read(idle, &b, 0, &eof);
    CHECK(eof);
    CHECK_INT(b.len, 0);
    sbuf_free(&b);
    close(idle);
    close(slow);
    CHECK_INT(T.nreq, 0);
    th_stop();
}

static void test_max_connections(void)
{
    th_start_limits(1024, 30, 30, 2);
    int a = th_connect(), b = th_connect();
    long long end = now_ms() + 3000;
    while (http_server_connections(T.srv) < 2 && now_ms() < end)
        th_pump();
    CHECK_INT(http_server_connections(T.srv), 2);
    int c = th_connect();
    sbuf s;
    sbuf_init(&s);
    bool eof;
    th_read(c, &s, 0, &eof);
    CHECK(eof);
    CHECK_INT(th_status(s.data), 503);
    CHECK_INT(http_server_connections(T.srv), 2);
    sbuf_free(&s);
    /* the admitted ones still work */
    char *r = th_roundtrip(a, GET("/ok"), &eof);
    CHECK_INT(th_status(r), 200);
    free(r);
    close(a);
    close(b);
    close(c);
    th_stop();
}

TEST_MAIN(TEST(test_keepalive), TEST(test_http10), TEST(test_pipelined), TEST(test_byte_by_byte),
          TEST(test_post_body), TEST(test_chunked), TEST(test_413), TEST(test_431), TEST(test_400),
          TEST(test_deferred), TEST(test_abort), TEST(test_upgrade), TEST(test_upgrade_refused),
          TEST(test_query_param), TEST(test_head), TEST(test_timeouts), TEST(test_max_connections))
