/* media_client: a controlled ICE agent + DTLS client + SRTP on one UDP
 * socket of its own, on the caller's libevent loop (see media_client.h). */
#include "media_client.h"

#include "ice_stun.h"
#include "log.h"
#include "rtp.h"
#include "srtp_ctx.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MC_RTO_MS 100    /* first retransmission of our own check */
#define MC_MAX_TRIES 7   /* checks sent before giving up on our side */
#define MC_READ_ROUNDS 8 /* recvmmsg batches per wake-up */
#define MC_CRED_MAX 256  /* ICE ufrag / pwd (RFC 8445 allows up to 256) */
#define MC_HOST_PRIORITY ((126u << 24) | (65535u << 8) | 255u)

typedef enum mc_state {
    MC_NEW,       /* answering checks, not started */
    MC_CHECKING,  /* started, waiting for the peer's nomination */
    MC_DTLS,      /* nominated, handshaking */
    MC_CONNECTED, /* SRTP up */
    MC_FAILED,    /* inert */
} mc_state;

struct media_client {
    struct event_base *base;
    dtls_cert *cert;
    media_client_cbs cbs;
    void *ud;
    int fd;
    struct event *rd_ev, *ice_timer, *dtls_timer;
    char ctx[64]; /* log context */
    char local_ip[46];
    int local_port;
    char ufrag[9], pwd[25];
    char remote_ufrag[MC_CRED_MAX + 1], remote_pwd[MC_CRED_MAX + 1];
    char remote_fp[DTLS_FINGERPRINT_LEN + 8];
    char username[2 * MC_CRED_MAX + 2]; /* of our checks: "REMOTE:LOCAL" */
    struct sockaddr_storage cand;       /* the peer's candidate: our checks go there */
    socklen_t cand_len;
    struct sockaddr_storage peer; /* nominated: media and DTLS go there */
    socklen_t peer_len;
    uint64_t tiebreaker;
    mc_state state;
    /* our own check */
    uint8_t txid[12];
    bool check_pending, check_ok;
    int tries;
    long long started_ms;
    dtls_session *dtls;
    srtp_ctx *srtp;
    media_client_stats st;
    /* receive batch: no allocation per packet */
    struct mmsghdr msgs[MEDIA_CLIENT_BATCH];
    struct iovec iov[MEDIA_CLIENT_BATCH];
    struct sockaddr_storage from[MEDIA_CLIENT_BATCH];
    uint8_t rx[MEDIA_CLIENT_BATCH][MEDIA_CLIENT_PKT];
};

static void mc_fail(media_client *mc, const char *why)
{
    if (mc->state == MC_FAILED)
        return;
    mc->state = MC_FAILED;
    evtimer_del(mc->ice_timer);
    evtimer_del(mc->dtls_timer);
    log_warn(mc->ctx, "media client failed: %s", why);
    if (mc->cbs.on_failed)
        mc->cbs.on_failed(mc, why, mc->ud);
}

static void mc_sendto(media_client *mc, const void *buf, size_t len, const struct sockaddr *to,
                      socklen_t tolen)
{
    if (sendto(mc->fd, buf, len, MSG_DONTWAIT, to, tolen) < 0)
        mc->st.send_fail++;
}

static void mc_arm(struct event *ev, long ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(ev, &tv);
}

/* ---- ICE ---- */

static void mc_send_check(media_client *mc)
{
    uint8_t buf[ICE_STUN_BUILD_MAX];
    random_bytes(mc->txid, sizeof mc->txid);
    size_t n = ice_stun_build_request(buf, sizeof buf, mc->txid, mc->username, mc->remote_pwd,
                                      MC_HOST_PRIORITY, false, mc->tiebreaker, false);
    if (!n)
        return;
    mc->check_pending = true;
    mc->tries++;
    mc_sendto(mc, buf, n, (struct sockaddr *)&mc->cand, mc->cand_len);
}

static void mc_ice_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    media_client *mc = arg;
    if (mc->state != MC_CHECKING)
        return;
    if (now_ms() - mc->started_ms > MEDIA_CLIENT_ICE_TIMEOUT_MS) {
        mc_fail(mc, "ICE: no nomination from the peer");
        return;
    }
    if (!mc->check_ok && mc->tries < MC_MAX_TRIES) {
        mc_send_check(mc);
        int shift = mc->tries > 4 ? 4 : mc->tries - 1;
        mc_arm(mc->ice_timer, MC_RTO_MS << shift);
        return;
    }
    /* our checks are done (answered or exhausted): wait for the nomination */
    mc_arm(mc->ice_timer, 500);
}

static void mc_dtls_send(void *ud, const uint8_t *data, size_t len)
{
    media_client *mc = ud;
    if (mc->peer_len)
        mc_sendto(mc, data, len, (struct sockaddr *)&mc->peer, mc->peer_len);
}

static void mc_dtls_state(media_client *mc, dtls_state s);

static void mc_dtls_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    media_client *mc = arg;
    if (mc->dtls && mc->state == MC_DTLS)
        mc_dtls_state(mc, dtls_session_on_timeout(mc->dtls));
}

static void mc_dtls_state(media_client *mc, dtls_state s)
{
    if (mc->state != MC_DTLS)
        return;
    if (s == DTLS_FAILED || s == DTLS_CLOSED) {
        mc_fail(mc, s == DTLS_FAILED ? "DTLS handshake failed" : "DTLS closed by the peer");
        return;
    }
    if (s == DTLS_CONNECTED) {
        dtls_srtp_keys k;
        evtimer_del(mc->dtls_timer);
        if (!dtls_session_srtp_keys(mc->dtls, &k) || !(mc->srtp = srtp_ctx_new(&k))) {
            mc_fail(mc, "DTLS connected but no SRTP keys");
            return;
        }
        mc->st.profile = k.profile;
        mc->state = MC_CONNECTED;
        log_debug(mc->ctx, "DTLS-SRTP up (%s)",
                  k.profile == SRTP_PROFILE_AEAD_AES_128_GCM ? "AEAD_AES_128_GCM"
                                                             : "AES_CM_128_HMAC_SHA1_80");
        if (mc->cbs.on_connected)
            mc->cbs.on_connected(mc, mc->ud);
        return;
    }
    long ms = dtls_session_timeout_ms(mc->dtls);
    if (ms >= 0)
        mc_arm(mc->dtls_timer, ms);
    else
        evtimer_del(mc->dtls_timer);
}

/* The peer nominated the pair whose check came from `from`: start DTLS. */
static void mc_nominated(media_client *mc, const struct sockaddr *from, socklen_t fromlen)
{
    memcpy(&mc->peer, from, fromlen);
    mc->peer_len = fromlen;
    mc->state = MC_DTLS;
    evtimer_del(mc->ice_timer);
    mc->dtls = dtls_session_new(mc->cert, DTLS_ROLE_CLIENT, mc->remote_fp, mc_dtls_send, mc);
    if (!mc->dtls) {
        mc_fail(mc, "cannot create the DTLS session");
        return;
    }
    mc_dtls_state(mc, dtls_session_start(mc->dtls));
}

static void mc_on_stun(media_client *mc, const uint8_t *buf, size_t len,
                       const struct sockaddr *from, socklen_t fromlen)
{
    ice_stun_info in;
    if (!ice_stun_parse(buf, len, &in)) {
        mc->st.stun_bad++;
        return;
    }
    if (in.kind == ICE_STUN_REQUEST) {
        mc->st.stun_requests++;
        uint8_t out[ICE_STUN_BUILD_MAX];
        const char *local;
        size_t local_len;
        size_t n;
        if (!in.has_integrity || !ice_stun_username_local(in.username, &local, &local_len) ||
            local_len != strlen(mc->ufrag) || memcmp(local, mc->ufrag, local_len) != 0 ||
            !ice_stun_check_integrity(buf, len, mc->pwd)) {
            mc->st.stun_bad++;
            n = ice_stun_build_error(out, sizeof out, in.txid, 401, NULL, NULL);
            if (n)
                mc_sendto(mc, out, n, from, fromlen);
            return;
        }
        n = ice_stun_build_success(out, sizeof out, in.txid, from, mc->pwd);
        if (n)
            mc_sendto(mc, out, n, from, fromlen);
        if (in.use_candidate && mc->state == MC_CHECKING)
            mc_nominated(mc, from, fromlen);
        return;
    }
    if (in.kind == ICE_STUN_SUCCESS || in.kind == ICE_STUN_ERROR) {
        if (!mc->check_pending || memcmp(in.txid, mc->txid, sizeof mc->txid) != 0)
            return;
        if (in.kind == ICE_STUN_SUCCESS && !ice_stun_check_integrity(buf, len, mc->remote_pwd)) {
            mc->st.stun_bad++;
            return;
        }
        mc->check_pending = false;
        if (in.kind == ICE_STUN_SUCCESS)
            mc->check_ok = true;
        else
            log_debug(mc->ctx, "ICE check answered with error %d", in.error_code);
    }
}

/* ---- receive ---- */

static void mc_on_datagram(media_client *mc, uint8_t *buf, size_t len, const struct sockaddr *from,
                           socklen_t fromlen)
{
    uint8_t b = buf[0];
    if (b <= 3) {
        mc_on_stun(mc, buf, len, from, fromlen);
        return;
    }
    if (b >= 20 && b <= 63) {
        if (mc->dtls && (mc->state == MC_DTLS || mc->state == MC_CONNECTED)) {
            dtls_state s = dtls_session_feed(mc->dtls, buf, len);
            if (mc->state == MC_DTLS)
                mc_dtls_state(mc, s);
            else if (s == DTLS_CLOSED || s == DTLS_FAILED)
                mc_fail(mc, "DTLS closed by the peer");
        }
        return;
    }
    if (b < 128 || b > 191 || !mc->srtp) {
        mc->st.dropped++;
        return;
    }
    if (rtp_is_rtcp(buf, len)) {
        if (srtp_ctx_unprotect_rtcp(mc->srtp, buf, &len) != 0) {
            mc->st.srtp_fail++;
            return;
        }
        mc->st.rx_rtcp++;
        if (mc->cbs.on_rtcp)
            mc->cbs.on_rtcp(mc, buf, len, mc->ud);
    } else {
        if (srtp_ctx_unprotect_rtp(mc->srtp, buf, &len) != 0) {
            mc->st.srtp_fail++;
            return;
        }
        mc->st.rx_rtp++;
        if (mc->cbs.on_rtp)
            mc->cbs.on_rtp(mc, buf, len, mc->ud);
    }
}

static void mc_readable(evutil_socket_t fd, short what, void *arg)
{
    media_client *mc = arg;
    for (int round = 0; round < MC_READ_ROUNDS; round++) {
        for (int i = 0; i < MEDIA_CLIENT_BATCH; i++) {
            mc->msgs[i].msg_hdr.msg_namelen = sizeof mc->from[i];
            mc->msgs[i].msg_hdr.msg_flags = 0;
            mc->msgs[i].msg_len = 0;
        }
        int n = recvmmsg(mc->fd, mc->msgs, MEDIA_CLIENT_BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0)
            return;
        for (int i = 0; i < n && mc->state != MC_FAILED; i++) {
            mc->st.rx_datagrams++;
            size_t len = mc->msgs[i].msg_len;
            if (len == 0 || (mc->msgs[i].msg_hdr.msg_flags & MSG_TRUNC)) {
                mc->st.dropped++;
                continue;
            }
            mc_on_datagram(mc, mc->rx[i], len, (struct sockaddr *)&mc->from[i],
                           mc->msgs[i].msg_hdr.msg_namelen);
        }
        if (n < MEDIA_CLIENT_BATCH || mc->state == MC_FAILED)
            return;
    }
}

/* ---- API ---- */

static int mc_parse_addr(const char *ip, int port, struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (port < 0 || port > 65535)
        return -1;
    if (inet_pton(AF_INET, ip, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        *len = sizeof *in;
        return 0;
    }
    if (inet_pton(AF_INET6, ip, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        *len = sizeof *in6;
        return 0;
    }
    return -1;
}

media_client *media_client_new(struct event_base *base, dtls_cert *cert, const char *bind_ip,
                               const media_client_cbs *cbs, void *ud)
{
    struct sockaddr_storage ss;
    socklen_t slen;
    if (!base || !cert || !bind_ip || mc_parse_addr(bind_ip, 0, &ss, &slen) != 0) {
        log_error(NULL, "media client: bad arguments (bind address '%s')",
                  bind_ip ? bind_ip : "(null)");
        return NULL;
    }
    int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        log_error(NULL, "media client: socket: %s", strerror(errno));
        return NULL;
    }
    int sz = 2 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    if (bind(fd, (struct sockaddr *)&ss, slen) != 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &slen) != 0) {
        log_error(NULL, "media client: cannot bind udp %s: %s", bind_ip, strerror(errno));
        close(fd);
        return NULL;
    }
    srtp_ctx_library_init();
    media_client *mc = xcalloc(1, sizeof *mc);
    mc->base = base;
    mc->cert = cert;
    if (cbs)
        mc->cbs = *cbs;
    mc->ud = ud;
    mc->fd = fd;
    snprintf(mc->local_ip, sizeof mc->local_ip, "%s", bind_ip);
    mc->local_port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                                   : ((struct sockaddr_in6 *)&ss)->sin6_port);
    random_id(mc->ufrag, sizeof mc->ufrag - 1);
    random_id(mc->pwd, sizeof mc->pwd - 1);
    random_bytes(&mc->tiebreaker, sizeof mc->tiebreaker);
    snprintf(mc->ctx, sizeof mc->ctx, "[media-client=%s:%d]", mc->local_ip, mc->local_port);
    for (int i = 0; i < MEDIA_CLIENT_BATCH; i++) {
        mc->iov[i].iov_base = mc->rx[i];
        mc->iov[i].iov_len = sizeof mc->rx[i];
        mc->msgs[i].msg_hdr.msg_iov = &mc->iov[i];
        mc->msgs[i].msg_hdr.msg_iovlen = 1;
        mc->msgs[i].msg_hdr.msg_name = &mc->from[i];
    }
    mc->rd_ev = event_new(base, fd, EV_READ | EV_PERSIST, mc_readable, mc);
    mc->ice_timer = evtimer_new(base, mc_ice_timer_cb, mc);
    mc->dtls_timer = evtimer_new(base, mc_dtls_timer_cb, mc);
    event_add(mc->rd_ev, NULL);
    return mc;
}

void media_client_free(media_client *mc)
{
    if (!mc)
        return;
    event_free(mc->rd_ev);
    event_free(mc->ice_timer);
    event_free(mc->dtls_timer);
    close(mc->fd);
    dtls_session_free(mc->dtls);
    srtp_ctx_free(mc->srtp);
    free(mc);
}

const char *media_client_ufrag(const media_client *mc)
{
    return mc->ufrag;
}

const char *media_client_pwd(const media_client *mc)
{
    return mc->pwd;
}

void media_client_local_candidate(const media_client *mc, char ip[46], int *port)
{
    snprintf(ip, 46, "%s", mc->local_ip);
    *port = mc->local_port;
}

int media_client_start(media_client *mc, const char *remote_ufrag, const char *remote_pwd,
                       const char *remote_fp, const char *cand_ip, int cand_port)
{
    if (mc->state != MC_NEW || !remote_ufrag || !remote_pwd || !remote_fp || !cand_ip ||
        !remote_ufrag[0] || !remote_pwd[0] || strlen(remote_ufrag) > MC_CRED_MAX ||
        strlen(remote_pwd) > MC_CRED_MAX || strlen(remote_fp) >= sizeof mc->remote_fp ||
        mc_parse_addr(cand_ip, cand_port, &mc->cand, &mc->cand_len) != 0)
        return -1;
    snprintf(mc->remote_ufrag, sizeof mc->remote_ufrag, "%s", remote_ufrag);
    snprintf(mc->remote_pwd, sizeof mc->remote_pwd, "%s", remote_pwd);
    snprintf(mc->remote_fp, sizeof mc->remote_fp, "%s", remote_fp);
    snprintf(mc->username, sizeof mc->username, "%s:%s", mc->remote_ufrag, mc->ufrag);
    mc->state = MC_CHECKING;
    mc->started_ms = now_ms();
    mc_arm(mc->ice_timer, 0);
    return 0;
}

bool media_client_connected(const media_client *mc)
{
    return mc->state == MC_CONNECTED;
}

int media_client_send_rtp(media_client *mc, uint8_t *pkt, size_t len, size_t cap)
{
    if (mc->state != MC_CONNECTED)
        return -1;
    if (srtp_ctx_protect_rtp(mc->srtp, pkt, &len, cap) != 0) {
        mc->st.srtp_fail++;
        return -1;
    }
    if (sendto(mc->fd, pkt, len, MSG_DONTWAIT, (struct sockaddr *)&mc->peer, mc->peer_len) < 0) {
        mc->st.send_fail++;
        return -1;
    }
    mc->st.tx_rtp++;
    return 0;
}

int media_client_send_rtcp(media_client *mc, uint8_t *pkt, size_t len, size_t cap)
{
    if (mc->state != MC_CONNECTED)
        return -1;
    if (srtp_ctx_protect_rtcp(mc->srtp, pkt, &len, cap) != 0) {
        mc->st.srtp_fail++;
        return -1;
    }
    if (sendto(mc->fd, pkt, len, MSG_DONTWAIT, (struct sockaddr *)&mc->peer, mc->peer_len) < 0) {
        mc->st.send_fail++;
        return -1;
    }
    mc->st.tx_rtcp++;
    return 0;
}

const media_client_stats *media_client_get_stats(const media_client *mc)
{
    return &mc->st;
}
