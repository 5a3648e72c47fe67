/* colibri_ws: the bridge channel over WebSocket (jitsi-protocol.md §5).
 *
 * A client opens /colibri-ws/BRIDGE_ID/CONFERENCE_ID/ENDPOINT_ID?pwd=PWD on
 * the bridge's HTTP server; the path names the conference (by its random
 * id) and the endpoint, the password is the endpoint's ws_pwd. After the
 * RFC 6455 handshake the bridge sends ServerHello and then relays
 * EndpointMessage / EndpointStats between the endpoints of the conference,
 * setting `from` to the sender (anti-spoofing). Other classes are accepted
 * and ignored for now.
 *
 * Frames: as xmppd/websocket.c, each frame's header is looked at first
 * (masking, opcode, size: refused before it is buffered) and wslay is given
 * exactly one whole frame at a time; it checks the framing, reassembles
 * fragmented messages and answers pings. The frames we send (unmasked text,
 * ping and close) are written directly to the bufferevent.
 *
 * Keepalive: a ping every 15 s; a channel from which nothing (no frame, no
 * pong) arrived for 60 s is closed. Output is bounded: a reader that lets
 * more than 1 MiB queue up is dropped.
 *
 * Ownership: an endpoint owns its channel (ep->ws) and the channel owns its
 * bufferevent, wslay context and timer. The channel points back at its
 * endpoint; every way a channel ends (peer close, error, idle, slow reader,
 * replacement by a reconnect, colibri_ws_close at endpoint expiry) clears
 * both pointers at once, and the endpoint is freed only after
 * colibri_ws_close, so a channel never touches a freed endpoint. A channel
 * that must end while its own read callback is running is only detached
 * and marked; the callback frees it on the way out. Everything runs on the
 * bridge's loop; there is no global mutable state. */
#include "bridge.h"
#include "log.h"
#include "parley_version.h"
#include "util.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <wslay/wslay.h>

int colibri_ws_parse_path(const char *path, char *bridge_id, size_t bridge_id_size, char *conf_id,
                          size_t conf_id_size, char *ep_id, size_t ep_id_size);

#define WS_PREFIX "/colibri-ws/"
#define WS_MAX_MSG (64 * 1024)    /* a reassembled message */
#define WS_MAX_OUT (1024 * 1024)  /* queued for a slow reader */
#define WS_READ_HIGH (256 * 1024) /* input buffered (> one whole frame) */
#ifndef WS_PING_MS
#define WS_PING_MS 15000
#endif
#ifndef WS_IDLE_MS
#define WS_IDLE_MS 60000
#endif
#define WS_STR2(x) #x
#define WS_STR(x) WS_STR2(x)
#define WS_IDLE_TEXT WS_STR(WS_IDLE_MS) " ms"

struct colibri_ws {
    bridge *br;
    endpoint *ep; /* NULL once detached */
    struct bufferevent *bev;
    wslay_event_context_ptr ctx;
    struct event *timer;
    size_t frame_left; /* bytes of the current frame wslay may read */
    size_t msg_len;    /* of the fragmented text message being received */
    bool close_sent;
    bool in_cb;  /* inside our read callback: freeing is deferred */
    bool doomed; /* ends when the callback returns */
    long long last_rx_ms, next_ping_ms;
    char log[208]; /* "[conf=MEETING ep=ID]" */
};

static void ws_end(struct colibri_ws *ws, int code, const char *why);

/* ---- the path ---------------------------------------------------------- */

/* Copies one non-empty path segment [s, e) into out; -1 if empty or too long. */
static int ws_segment(const char *s, const char *e, char *out, size_t size)
{
    size_t n = (size_t)(e - s);
    if (n == 0 || n >= size)
        return -1;
    memcpy(out, s, n);
    out[n] = 0;
    return 0;
}

/* Splits "/colibri-ws/BRIDGE_ID/CONFERENCE_ID/ENDPOINT_ID" (already
 * percent-decoded, no query) into its three segments, each non-empty and
 * without '/'. 0, or -1 (the outputs are then unspecified). */
int colibri_ws_parse_path(const char *path, char *bridge_id, size_t bridge_id_size, char *conf_id,
                          size_t conf_id_size, char *ep_id, size_t ep_id_size)
{
    size_t pl = strlen(WS_PREFIX);
    if (!path || strncmp(path, WS_PREFIX, pl) != 0)
        return -1;
    const char *a = path + pl;
    const char *b = strchr(a, '/');
    if (!b)
        return -1;
    const char *c = strchr(b + 1, '/');
    if (!c)
        return -1;
    const char *end = c + 1 + strlen(c + 1);
    if (memchr(c + 1, '/', (size_t)(end - (c + 1))))
        return -1;
    if (ws_segment(a, b, bridge_id, bridge_id_size) < 0 ||
        ws_segment(b + 1, c, conf_id, conf_id_size) < 0 ||
        ws_segment(c + 1, end, ep_id, ep_id_size) < 0)
        return -1;
    return 0;
}

/* ---- frames out -------------------------------------------------------- */

/* Writes one unfragmented server frame (servers do not mask). */
static void ws_raw_frame(struct bufferevent *bev, int opcode, const void *data, size_t len)
{
    unsigned char h[10];
    size_t hl = http_ws_frame_header(h, opcode, len);
    struct evbuffer *out = bufferevent_get_output(bev);
    evbuffer_add(out, h, hl);
    if (len)
        evbuffer_add(out, data, len);
}

/* A data or ping frame; a reader with too much queued is dropped. False
 * when the channel has ended (ws may then be freed already). */
static bool ws_frame(struct colibri_ws *ws, int opcode, const void *data, size_t len)
{
    if (ws->doomed || ws->close_sent)
        return false;
    ws_raw_frame(ws->bev, opcode, data, len);
    if (evbuffer_get_length(bufferevent_get_output(ws->bev)) > WS_MAX_OUT) {
        ws_end(ws, 0, "slow reader: output over 1 MiB");
        return false;
    }
    return true;
}

static void ws_close_frame(struct colibri_ws *ws, int code, const char *reason)
{
    if (ws->close_sent || (ws->ctx && wslay_event_get_close_sent(ws->ctx)))
        return;
    ws->close_sent = true;
    unsigned char b[2 + 64];
    size_t rl = reason ? strlen(reason) : 0;
    if (rl > sizeof b - 2)
        rl = sizeof b - 2;
    b[0] = (unsigned char)(code >> 8);
    b[1] = (unsigned char)code;
    if (rl)
        memcpy(b + 2, reason, rl);
    ws_raw_frame(ws->bev, WSLAY_CONNECTION_CLOSE, b, 2 + rl);
}

/* ---- ending a channel -------------------------------------------------- */

static void ws_free(struct colibri_ws *ws)
{
    struct evbuffer *out = bufferevent_get_output(ws->bev);
    evutil_socket_t fd = bufferevent_getfd(ws->bev);
    /* Best effort: what the kernel takes now of a plain socket (the close
     * frame included) still goes out; TLS output is dropped. The buffer is
     * only copied from: a socket bufferevent does not let us drain it. */
    if (fd >= 0 && evbuffer_get_length(out) > 0 && !bufferevent_openssl_get_ssl(ws->bev)) {
        struct evbuffer_iovec ev[16];
        struct iovec iov[16];
        int n = evbuffer_peek(out, -1, NULL, ev, 16);
        if (n > 16)
            n = 16;
        for (int i = 0; i < n; i++) {
            iov[i].iov_base = ev[i].iov_base;
            iov[i].iov_len = ev[i].iov_len;
        }
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)n};
        if (n > 0 && sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
            log_debug(ws->log, "final flush: %s", strerror(errno));
    }
    bufferevent_free(ws->bev);
    if (ws->ctx)
        wslay_event_context_free(ws->ctx);
    if (ws->timer)
        event_free(ws->timer);
    free(ws);
}

/* Detaches ws from its endpoint; sends a close frame when code != 0; frees
 * it now, or when its read callback returns. */
static void ws_end(struct colibri_ws *ws, int code, const char *why)
{
    if (ws->ep) {
        if (ws->ep->ws == ws)
            ws->ep->ws = NULL;
        ws->ep = NULL;
    }
    if (ws->doomed)
        return;
    log_info(ws->log, "bridge channel closed: %s", why);
    if (code)
        ws_close_frame(ws, code, NULL);
    if (ws->in_cb) {
        ws->doomed = true;
        return;
    }
    ws_free(ws);
}

/* ---- messages in ------------------------------------------------------- */

/* Sends text to peer's channel, if it has an open one. */
static void ws_deliver(endpoint *peer, const char *text, size_t len)
{
    if (peer && peer->ws && !peer->ws->doomed)
        ws_frame(peer->ws, WSLAY_TEXT_FRAME, text, len);
}

static void ws_server_hello(struct colibri_ws *ws)
{
    json_t *o = json_pack("{s:s, s:s}", "colibriClass", "ServerHello", "version", PARLEY_VERSION);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (s)
        ws_frame(ws, WSLAY_TEXT_FRAME, s, strlen(s));
    free(s);
    json_decref(o);
}

/* EndpointMessage / EndpointStats: `to` absent, null or "" is every other
 * endpoint of the conference with an open channel, else the one named. */
static void ws_relay(struct colibri_ws *ws, endpoint *ep, json_t *msg, const char *cls)
{
    bridge *br = ws->br;
    json_t *to = json_object_get(msg, "to");
    if (to && !json_is_null(to) && !json_is_string(to)) {
        br->c.malformed++;
        log_debug(ws->log, "%s with a non-string 'to' dropped", cls);
        return;
    }
    const char *dest = json_is_string(to) ? json_string_value(to) : "";
    json_object_set_new(msg, "from", json_string(ep->id));
    char *text = json_dumps(msg, JSON_COMPACT);
    if (!text)
        return;
    size_t len = strlen(text);
    br->c.ws_messages++;
    conference *cf = ep->conf;
    if (dest[0] == 0) {
        /* a delivery never frees an endpoint, only (maybe) its channel */
        for (int i = 0; i < cf->neps; i++)
            if (cf->eps[i] != ep)
                ws_deliver(cf->eps[i], text, len);
    } else {
        endpoint *peer = endpoint_find(cf, dest);
        if (peer)
            ws_deliver(peer, text, len);
        else
            log_debug(ws->log, "%s to unknown endpoint %s dropped", cls, dest);
    }
    free(text);
}

static void ws_text(struct colibri_ws *ws, const char *data, size_t len)
{
    bridge *br = ws->br;
    endpoint *ep = ws->ep;
    if (!ep)
        return;
    json_error_t err;
    json_t *msg = json_loadb(data, len, 0, &err);
    json_t *cls = msg ? json_object_get(msg, "colibriClass") : NULL;
    if (!msg || !json_is_object(msg) || !json_is_string(cls)) {
        br->c.malformed++;
        log_debug(ws->log, "malformed bridge channel message ignored%s%s", msg ? "" : ": ",
                  msg ? "" : err.text);
        json_decref(msg);
        return;
    }
    const char *c = json_string_value(cls);
    if (strcmp(c, "ClientHello") == 0) {
        ws_server_hello(ws);
    } else if (strcmp(c, "EndpointMessage") == 0 || strcmp(c, "EndpointStats") == 0) {
        ws_relay(ws, ep, msg,
                 strcmp(c, "EndpointMessage") == 0 ? "EndpointMessage" : "EndpointStats");
    } else {
        log_debug(ws->log, "%s ignored", c);
    }
    json_decref(msg);
}

/* ---- wslay ------------------------------------------------------------- */

static ssize_t ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                          void *ud)
{
    struct colibri_ws *ws = ud;
    if (len > ws->frame_left)
        len = ws->frame_left;
    int n = len ? evbuffer_remove(bufferevent_get_input(ws->bev), buf, len) : 0;
    if (n <= 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    ws->frame_left -= (size_t)n;
    return n;
}

/* Only wslay's own frames (pongs, the reply to a close). */
static ssize_t ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                          void *ud)
{
    struct colibri_ws *ws = ud;
    evbuffer_add(bufferevent_get_output(ws->bev), data, len);
    return (ssize_t)len;
}

static void ws_msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                      void *ud)
{
    struct colibri_ws *ws = ud;
    if (ws->doomed)
        return;
    switch (arg->opcode) {
    case WSLAY_TEXT_FRAME:
        ws_text(ws, (const char *)arg->msg, arg->msg_length);
        break;
    case WSLAY_BINARY_FRAME:
        ws_end(ws, WSLAY_CODE_UNSUPPORTED_DATA, "binary message refused");
        break;
    case WSLAY_CONNECTION_CLOSE:
        /* wslay has queued the reply; the read callback sends it */
        ws_end(ws, 0, "closed by the client");
        break;
    default:
        break; /* ping (wslay answers), pong (counted as activity) */
    }
}

/* Reads every whole frame buffered; refuses a frame that is unmasked,
 * binary or over the message limit before buffering it. */
static void ws_read_frames(struct colibri_ws *ws)
{
    struct evbuffer *in = bufferevent_get_input(ws->bev);
    bool broken = false;
    while (!ws->doomed && !broken) {
        size_t avail = evbuffer_get_length(in);
        unsigned char h[14];
        if (avail < 2)
            break;
        evbuffer_copyout(in, h, avail < sizeof h ? avail : sizeof h);
        int opcode = h[0] & 0x0f;
        bool fin = h[0] & 0x80;
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
        if (!(h[1] & 0x80)) {
            ws_end(ws, WSLAY_CODE_PROTOCOL_ERROR, "unmasked client frame");
            break;
        }
        hl += 4;
        if (opcode == WSLAY_BINARY_FRAME) {
            ws_end(ws, WSLAY_CODE_UNSUPPORTED_DATA, "binary message refused");
            break;
        }
        bool data = opcode == WSLAY_TEXT_FRAME || opcode == WSLAY_CONTINUATION_FRAME;
        uint64_t total = plen + (opcode == WSLAY_CONTINUATION_FRAME ? ws->msg_len : 0);
        if ((data && total > WS_MAX_MSG) || (!data && plen > 125)) {
            ws_end(ws, data ? WSLAY_CODE_MESSAGE_TOO_BIG : WSLAY_CODE_PROTOCOL_ERROR,
                   data ? "message over 64 KiB" : "control frame over 125 bytes");
            break;
        }
        if (avail < hl + plen)
            break; /* wait for the whole frame (bounded by the checks above) */
        ws->last_rx_ms = now_ms();
        ws->frame_left = hl + (size_t)plen;
        if (wslay_event_recv(ws->ctx) != 0 && !ws->doomed)
            broken = true;
        if (data) {
            ws->msg_len = fin ? 0 : (size_t)total;
        }
        if (!ws->close_sent)
            wslay_event_send(ws->ctx); /* pongs, the reply to a close */
        if (ws->doomed)
            break;
        if (!wslay_event_want_read(ws->ctx) && !wslay_event_want_write(ws->ctx))
            broken = true; /* wslay refused the frame and closed */
        if (ws->frame_left)
            broken = true; /* wslay stopped inside a frame */
    }
    if (broken && !ws->doomed)
        ws_end(ws, WSLAY_CODE_PROTOCOL_ERROR, "WebSocket protocol error");
}

/* ---- events ------------------------------------------------------------ */

static void ws_readcb(struct bufferevent *bev, void *ud)
{
    struct colibri_ws *ws = ud;
    ws->in_cb = true;
    ws_read_frames(ws);
    ws->in_cb = false;
    if (ws->doomed)
        ws_free(ws);
}

static void ws_eventcb(struct bufferevent *bev, short what, void *ud)
{
    struct colibri_ws *ws = ud;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        ws->close_sent = true; /* nothing more can be written */
        ws_end(ws, 0, (what & BEV_EVENT_EOF) ? "connection closed" : "socket error");
    }
}

static void ws_schedule(struct colibri_ws *ws)
{
    long long deadline = ws->last_rx_ms + WS_IDLE_MS;
    long long at = ws->next_ping_ms < deadline ? ws->next_ping_ms : deadline;
    long long in = at - now_ms();
    if (in < 0)
        in = 0;
    struct timeval tv = {(time_t)(in / 1000), (suseconds_t)(in % 1000) * 1000};
    evtimer_add(ws->timer, &tv);
}

static void ws_timer_cb(evutil_socket_t fd, short what, void *ud)
{
    struct colibri_ws *ws = ud;
    long long now = now_ms();
    if (now - ws->last_rx_ms >= WS_IDLE_MS) {
        ws_end(ws, WSLAY_CODE_GOING_AWAY, "idle (nothing received for " WS_IDLE_TEXT ")");
        return;
    }
    if (now >= ws->next_ping_ms) {
        if (!ws_frame(ws, WSLAY_PING, NULL, 0))
            return; /* a slow reader, dropped (ws is freed) */
        ws->next_ping_ms = now + WS_PING_MS;
    }
    ws_schedule(ws);
}

/* ---- the handshake ----------------------------------------------------- */

static void ws_reply(http_request *req, int status, const char *text, const char *extra)
{
    http_respond(req, status, "text/plain", text, strlen(text), extra);
}

/* Constant-time for equal lengths (the length, 24, is no secret). */
static bool ws_pwd_ok(const char *given, const char *want)
{
    size_t gl = given ? strlen(given) : 0, wl = strlen(want);
    if (!given || wl == 0 || gl != wl)
        return false;
    return CRYPTO_memcmp(given, want, wl) == 0;
}

void colibri_ws_upgrade(bridge *br, http_request *req)
{
    char bid[128], cid[sizeof((conference *)0)->id], eid[sizeof((endpoint *)0)->id];
    conference *cf = NULL;
    endpoint *ep = NULL;
    if (colibri_ws_parse_path(req->path, bid, sizeof bid, cid, sizeof cid, eid, sizeof eid) == 0 &&
        br->set.id && strcmp(bid, br->set.id) == 0) {
        cf = hmap_get(&br->conf_by_id, cid);
        ep = cf ? endpoint_find(cf, eid) : NULL;
    }
    if (!ep) {
        log_debug(NULL, "colibri-ws: no such endpoint: %s (from %s)", req->path, req->peer_ip);
        ws_reply(req, 404, "no such conference or endpoint\n", NULL);
        return;
    }
    char log[sizeof((struct colibri_ws *)0)->log];
    snprintf(log, sizeof log, "[conf=%s ep=%s]", cf->meeting_id, ep->id);

    char *pwd = http_query_param(req, "pwd");
    bool pwd_ok = ws_pwd_ok(pwd, ep->ws_pwd);
    free(pwd);
    if (!pwd_ok) {
        br->c.ws_rejected++;
        log_info(log, "colibri-ws from %s refused: wrong password", req->peer_ip);
        ws_reply(req, 403, "forbidden\n", NULL);
        return;
    }

    const char *upgrade = http_header_get(req, "upgrade");
    const char *connection = http_header_get(req, "connection");
    const char *key = http_header_get(req, "sec-websocket-key");
    const char *version = http_header_get(req, "sec-websocket-version");
    char *accept = http_ws_accept(key);
    if (strcmp(req->method, "GET") != 0 || !upgrade || !http_list_has(upgrade, "websocket") ||
        !connection || !http_list_has(connection, "upgrade") || !accept || !version ||
        strcmp(version, "13") != 0) {
        free(accept);
        log_info(log, "colibri-ws from %s refused: not a WebSocket upgrade", req->peer_ip);
        ws_reply(req, 400, "a WebSocket (version 13) upgrade is required\n",
                 "Sec-WebSocket-Version: 13\r\n");
        return;
    }

    char peer_ip[sizeof req->peer_ip];
    snprintf(peer_ip, sizeof peer_ip, "%s", req->peer_ip);
    struct bufferevent *bev = http_take_over(req); /* req is freed */
    if (!bev) {
        free(accept);
        return;
    }
    int one = 1;
    evutil_socket_t fd = bufferevent_getfd(bev);
    if (fd >= 0)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    evbuffer_add_printf(bufferevent_get_output(bev),
                        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                        accept);
    free(accept);

    if (ep->ws)
        ws_end(ep->ws, WSLAY_CODE_NORMAL_CLOSURE, "replaced by a new connection");
    struct colibri_ws *ws = xcalloc(1, sizeof *ws);
    ws->br = br;
    ws->ep = ep;
    ws->bev = bev;
    snprintf(ws->log, sizeof ws->log, "%s", log);
    static const struct wslay_event_callbacks cbs = {ws_recv_cb, ws_send_cb, NULL,     NULL,
                                                     NULL,       NULL,       ws_msg_cb};
    if (wslay_event_context_server_init(&ws->ctx, &cbs, ws) != 0)
        fatal("wslay_event_context_server_init failed");
    wslay_event_config_set_max_recv_msg_length(ws->ctx, WS_MAX_MSG);
    ws->timer = evtimer_new(br->base, ws_timer_cb, ws);
    if (!ws->timer)
        fatal("evtimer_new failed");
    ws->last_rx_ms = now_ms();
    ws->next_ping_ms = ws->last_rx_ms + WS_PING_MS;
    ep->ws = ws;
    bufferevent_setcb(bev, ws_readcb, NULL, ws_eventcb, ws);
    bufferevent_setwatermark(bev, EV_READ, 0, WS_READ_HIGH);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    ws_schedule(ws);
    log_info(log, "bridge channel open (colibri-ws from %s)", peer_ip);
    ws_server_hello(ws);
    if (ep->ws == ws && evbuffer_get_length(bufferevent_get_input(bev)) > 0)
        ws_readcb(bev, ws); /* frames that came with the handshake */
}

/* ---- the endpoint's side ----------------------------------------------- */

void colibri_ws_send(endpoint *ep, const char *json, size_t len)
{
    ws_deliver(ep, json, len);
}

void colibri_ws_close(endpoint *ep)
{
    if (ep && ep->ws)
        ws_end(ep->ws, WSLAY_CODE_GOING_AWAY, "endpoint expired");
}
