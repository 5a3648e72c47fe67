#include "websocket.h"
#include "c2s.h"
#include "conn.h"
#include "log.h"
#include "stanza.h"
#include "util.h"

#include <event2/buffer.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wslay/wslay.h>

/* Memory: a wslay context carries a 4 KiB input buffer, which an idle
 * session must not keep. So wslay only ever sees whole frames (measured
 * here first, refused beyond max_stanza), its context exists only while a
 * frame is being read or a fragmented message is incomplete, and the frames
 * we send (unmasked text and close frames) are written directly. */
typedef struct ws_state {
    wslay_event_context_ptr ctx; /* NULL while idle */
    size_t frame_left;           /* bytes of the current frame wslay may read */
    bool in_message;             /* a fragmented message is incomplete */
    bool close_sent;
    conn *c;
} ws_state;

static ssize_t ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                          void *ud)
{
    conn *c = ud;
    ws_state *w = c->tr_state;
    if (len > w->frame_left)
        len = w->frame_left;
    int n = len ? evbuffer_remove(bufferevent_get_input(c->bev), buf, len) : 0;
    if (n <= 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    w->frame_left -= (size_t)n;
    return n;
}

static ssize_t ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                          void *ud)
{
    conn_write(ud, data, len);
    return (ssize_t)len;
}

/* Writes one unfragmented server frame (servers do not mask). */
static void ws_write_frame(conn *c, int opcode, const void *data, size_t len)
{
    unsigned char h[10];
    size_t hl = http_ws_frame_header(h, opcode, len);
    conn_write(c, h, hl);
    if (len)
        conn_write(c, data, len);
}

static void ws_send_close(conn *c, int code)
{
    ws_state *w = c->tr_state;
    if (w->close_sent || (w->ctx && wslay_event_get_close_sent(w->ctx)))
        return;
    w->close_sent = true;
    unsigned char b[2] = {(unsigned char)(code >> 8), (unsigned char)code};
    ws_write_frame(c, WSLAY_CONNECTION_CLOSE, b, 2);
}

static void ws_queue_text(conn *c, const char *text, size_t len)
{
    ws_write_frame(c, WSLAY_TEXT_FRAME, text, len);
}

/* Turns <open to='..' version='..'/> into the stream header the parser
 * expects. The message is at most max_stanza bytes (wslay enforces it); the
 * values found are escaped again, and the parser checks the rest. */
static void ws_open(conn *c, const char *msg, size_t len)
{
    sbuf b;
    sbuf_init(&b);
    const char *to = NULL, *version = NULL;
    char *tov = NULL, *verv = NULL;
    /* small, bounded attribute scan: <open ... to='X' ... version='Y' .../> */
    for (size_t i = 0; i + 4 < len; i++) {
        const char *names[2] = {"to=", "version="};
        char **vals[2] = {&tov, &verv};
        for (int k = 0; k < 2; k++) {
            size_t nl = strlen(names[k]);
            if ((i == 0 || msg[i - 1] == ' ' || msg[i - 1] == '\t' || msg[i - 1] == '\n') &&
                i + nl < len && strncmp(msg + i, names[k], nl) == 0 &&
                (msg[i + nl] == '\'' || msg[i + nl] == '"') && !*vals[k]) {
                char q = msg[i + nl];
                const char *v = msg + i + nl + 1;
                const char *e = memchr(v, q, len - (size_t)(v - msg));
                if (e)
                    *vals[k] = xstrndup(v, (size_t)(e - v));
            }
        }
    }
    to = tov;
    version = verv;
    sbuf_adds(&b, "<stream:stream xmlns='jabber:client' "
                  "xmlns:stream='http://etherx.jabber.org/streams'");
    if (to) {
        sbuf_adds(&b, " to='");
        sbuf_add_xml_escaped(&b, to, strlen(to));
        sbuf_addc(&b, '\'');
    }
    if (version) {
        sbuf_adds(&b, " version='");
        sbuf_add_xml_escaped(&b, version, strlen(version));
        sbuf_addc(&b, '\'');
    }
    sbuf_addc(&b, '>');
    free(tov);
    free(verv);
    conn_feed(c, b.data, b.len);
    sbuf_free(&b);
}

static bool ws_starts(const char *msg, size_t len, const char *tag)
{
    size_t n = strlen(tag);
    return len > n && strncmp(msg, tag, n) == 0 &&
           (msg[n] == ' ' || msg[n] == '/' || msg[n] == '>' || msg[n] == '\t' || msg[n] == '\n');
}

static void ws_message(conn *c, const char *msg, size_t len)
{
    while (len && (*msg == ' ' || *msg == '\n' || *msg == '\r' || *msg == '\t'))
        msg++, len--;
    if (len == 0)
        return; /* whitespace keepalive */
    if (ws_starts(msg, len, "<open")) {
        if (!memmem(msg, len, XMLNS_FRAMING, strlen(XMLNS_FRAMING))) {
            conn_close(c, "invalid-namespace", "open must be in " XMLNS_FRAMING);
            return;
        }
        ws_open(c, msg, len);
    } else if (ws_starts(msg, len, "<close")) {
        log_debug(c->ctx, "client closed the WebSocket stream");
        conn_close(c, NULL, NULL);
    } else {
        conn_feed(c, msg, len);
    }
}

static void ws_msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                      void *ud)
{
    conn *c = ud;
    if (c->closing)
        return;
    if (arg->opcode == WSLAY_TEXT_FRAME) {
        ws_message(c, (const char *)arg->msg, arg->msg_length);
    } else if (arg->opcode == WSLAY_BINARY_FRAME) {
        log_info(c->ctx, "WebSocket binary frame refused");
        ws_send_close(c, WSLAY_CODE_UNSUPPORTED_DATA);
        conn_close(c, NULL, NULL);
    } else if (arg->opcode == WSLAY_CONNECTION_CLOSE) {
        conn_close(c, NULL, NULL);
    }
}

static void ws_ctx_new(conn *c)
{
    ws_state *w = c->tr_state;
    static const struct wslay_event_callbacks cbs = {ws_recv_cb, ws_send_cb, NULL,     NULL,
                                                     NULL,       NULL,       ws_msg_cb};
    if (wslay_event_context_server_init(&w->ctx, &cbs, c) != 0)
        fatal("wslay_event_context_server_init failed");
    wslay_event_config_set_max_recv_msg_length(w->ctx, c->srv->set.max_stanza);
}

static void ws_init(conn *c)
{
    ws_state *w = xcalloc(1, sizeof *w);
    w->c = c;
    c->tr_state = w;
}

/* Reads every whole frame buffered; refuses a frame over the size limit
 * before buffering it. */
static void ws_readable(conn *c)
{
    ws_state *w = c->tr_state;
    struct evbuffer *in = bufferevent_get_input(c->bev);
    bool broken = false;
    while (!c->closing && !broken) {
        size_t avail = evbuffer_get_length(in);
        unsigned char h[14];
        if (avail < 2)
            break;
        evbuffer_copyout(in, h, avail < sizeof h ? avail : sizeof h);
        uint64_t plen = h[1] & 0x7f;
        size_t hl = 2;
        if (plen == 126) {
            if (avail < 4)
                break;
            plen = ((uint64_t)h[2] << 8) | h[3];
            hl = 4;
        } else if (plen == 127) {
            if (avail < 10)
                break;
            plen = 0;
            for (int i = 0; i < 8; i++)
                plen = (plen << 8) | h[2 + i];
            hl = 10;
        }
        if (h[1] & 0x80)
            hl += 4;
        if (plen > c->srv->set.max_stanza) {
            log_info(c->ctx, "WebSocket frame of %llu bytes refused", (unsigned long long)plen);
            ws_send_close(c, WSLAY_CODE_MESSAGE_TOO_BIG);
            conn_close(c, NULL, NULL);
            break;
        }
        if (avail < hl + plen)
            break; /* wait for the whole frame (bounded by the check above) */
        int opcode = h[0] & 0x0f;
        bool fin = h[0] & 0x80;
        if (!w->ctx)
            ws_ctx_new(c);
        w->frame_left = hl + (size_t)plen;
        if (wslay_event_recv(w->ctx) != 0 && !c->closing)
            broken = true;
        if (opcode <= WSLAY_BINARY_FRAME)
            w->in_message = !fin;
        if (!c->closing)
            wslay_event_send(w->ctx); /* pongs, close replies */
        if (!c->closing && !broken && !wslay_event_want_read(w->ctx) &&
            !wslay_event_want_write(w->ctx))
            broken = true; /* wslay refused the peer (e.g. an unmasked frame) */
        if (w->frame_left && !broken) {
            broken = true; /* wslay stopped inside a frame */
        }
    }
    if (broken && !c->closing) {
        log_info(c->ctx, "WebSocket protocol error");
        if (w->ctx)
            wslay_event_send(w->ctx);
        ws_send_close(c, WSLAY_CODE_PROTOCOL_ERROR);
        conn_close(c, NULL, NULL);
    }
    if (w->ctx && !w->in_message && !c->closing && wslay_event_get_queued_msg_count(w->ctx) == 0) {
        wslay_event_context_free(w->ctx); /* idle: the 4 KiB buffer goes */
        w->ctx = NULL;
    }
}

/* One element as one message: each message must stand alone as XML. */
static void ws_element(conn *c, const struct iovec *v, int n)
{
    sbuf b;
    sbuf_init(&b);
    stanza_standalone(v, n, &b);
    ws_queue_text(c, b.data, b.len);
    sbuf_free(&b);
}

static void ws_open_out(conn *c)
{
    sbuf b;
    sbuf_init(&b);
    sbuf_printf(&b, "<open xmlns='" XMLNS_FRAMING "' id='%s' from='", c->stream_id);
    const char *from = c->vh ? c->vh->domain : c->srv->set.vhosts[0].domain;
    sbuf_add_xml_escaped(&b, from, strlen(from));
    sbuf_adds(&b, "' version='1.0' xml:lang='en'/>");
    ws_queue_text(c, b.data, b.len);
    sbuf_free(&b);
}

static void ws_end(conn *c)
{
    ws_state *w = c->tr_state;
    if (w->close_sent)
        return; /* nothing may follow a close frame */
    static const char close_el[] = "<close xmlns='" XMLNS_FRAMING "'/>";
    ws_queue_text(c, close_el, sizeof close_el - 1);
    ws_send_close(c, WSLAY_CODE_NORMAL_CLOSURE);
}

static void ws_free(conn *c)
{
    ws_state *w = c->tr_state;
    if (!w)
        return;
    if (w->ctx)
        wslay_event_context_free(w->ctx);
    free(w);
    c->tr_state = NULL;
}

static const conn_transport ws_transport = {
    .name = "websocket",
    .can_starttls = false,
    .init = ws_init,
    .readable = ws_readable,
    .element = ws_element,
    .open = ws_open_out,
    .end = ws_end,
    .free = ws_free,
};

void websocket_upgrade(xmppd *srv, http_request *req, const char *ip, bool secure)
{
    const char *upgrade = http_header_get(req, "upgrade");
    const char *connection = http_header_get(req, "connection");
    const char *key = http_header_get(req, "sec-websocket-key");
    const char *version = http_header_get(req, "sec-websocket-version");
    const char *proto = http_header_get(req, "sec-websocket-protocol");
    static const char need[] = "This is an XMPP WebSocket endpoint (RFC 7395)\n";
    if (strcmp(req->method, "GET") != 0 || !upgrade || strcasecmp(upgrade, "websocket") != 0 ||
        !connection || !http_list_has(connection, "upgrade")) {
        http_respond(req, 426, "text/plain", need, sizeof need - 1,
                     "Upgrade: websocket\r\nConnection: Upgrade\r\n");
        return;
    }
    char *accept = http_ws_accept(key);
    if (!accept || !version || strcmp(version, "13") != 0) {
        free(accept);
        static const char bad[] = "bad WebSocket handshake\n";
        http_respond(req, 400, "text/plain", bad, sizeof bad - 1, "Sec-WebSocket-Version: 13\r\n");
        return;
    }
    if (!proto || !http_list_has(proto, "xmpp")) {
        free(accept);
        static const char bad[] = "the xmpp subprotocol is required\n";
        http_respond(req, 400, "text/plain", bad, sizeof bad - 1, NULL);
        return;
    }
    char *token = http_query_param(req, "token");
    bool req_tls = req->tls;
    struct bufferevent *bev = http_take_over(req);
    int one = 1;
    evutil_socket_t fd = bufferevent_getfd(bev);
    if (fd >= 0)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sbuf b;
    sbuf_init(&b);
    sbuf_printf(&b,
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
                "Sec-WebSocket-Protocol: xmpp\r\n\r\n",
                accept);
    evbuffer_add(bufferevent_get_output(bev), b.data, b.len);
    sbuf_free(&b);
    free(accept);
    conn *c = conn_new(srv, &c2s_ops, &ws_transport, bev, ip, secure);
    conn_set_plain_socket(c, !req_tls);
    c->token = token;
    if (!c->closing && evbuffer_get_length(bufferevent_get_input(bev)) > 0)
        ws_readable(c); /* frames that came with the handshake */
}
