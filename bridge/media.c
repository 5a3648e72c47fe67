/* media: the first-byte demultiplexer of the shared socket (RFC 7983:
 * 0-3 STUN, 20-63 DTLS, 128-191 RTP/RTCP, anything else dropped) and each
 * endpoint's DTLS-SRTP: the DTLS role follows the remote fingerprint's
 * setup (active -> the bridge is server, passive/actpass -> client), the
 * handshake starts when ICE has nominated a pair (or when the peer's
 * ClientHello arrives first), and its exporter keys go into libsrtp. */
#include "bridge.h"
#include "ice_stun.h"
#include "log.h"
#include "rtp.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static void media_ctx(const endpoint *ep, char *out, size_t n)
{
    snprintf(out, n, "[conf=%s ep=%s]", ep->conf->meeting_id, ep->id);
}

static void media_dtls_send(void *ud, const uint8_t *data, size_t len)
{
    endpoint *ep = ud;
    const ice_pair *p = ep->selected >= 0 ? &ep->pairs[ep->selected] : NULL;
    const struct sockaddr *to =
        p ? (const struct sockaddr *)&p->addr : (const struct sockaddr *)&ep->dtls_addr;
    socklen_t tolen = p ? p->alen : ep->dtls_alen;
    if (!tolen)
        return;
    udp_send_now(ep->conf->br, data, len, to, tolen);
}

static void media_dtls_arm(endpoint *ep)
{
    if (!ep->dtls)
        return;
    long ms = dtls_session_timeout_ms(ep->dtls);
    if (ms < 0) {
        evtimer_del(ep->dtls_timer);
        return;
    }
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(ep->dtls_timer, &tv);
}

static void media_dtls_state(endpoint *ep, dtls_state st)
{
    char ctx[320];
    media_ctx(ep, ctx, sizeof ctx);
    if (st == DTLS_CONNECTED && !ep->srtp) {
        dtls_srtp_keys k;
        if (!dtls_session_srtp_keys(ep->dtls, &k) || !(ep->srtp = srtp_ctx_new(&k))) {
            log_warn(ctx, "DTLS connected but no SRTP keys");
            ep->conf->br->c.dtls_failed++;
            return;
        }
        log_info(ctx, "DTLS-SRTP established (%s, bridge is DTLS %s)",
                 k.profile == SRTP_PROFILE_AEAD_AES_128_GCM ? "AEAD_AES_128_GCM"
                                                            : "AES_CM_128_HMAC_SHA1_80",
                 ep->role == DTLS_ROLE_SERVER ? "server" : "client");
        evtimer_del(ep->dtls_timer);
        forward_rr_start(ep);
        forward_request_keyframes(ep);
        return;
    }
    if ((st == DTLS_FAILED || st == DTLS_CLOSED) && !ep->dtls_done) {
        ep->dtls_done = true;
        if (st == DTLS_FAILED)
            ep->conf->br->c.dtls_failed++;
        log_warn(ctx, "DTLS %s", st == DTLS_FAILED ? "handshake failed" : "closed by the peer");
        evtimer_del(ep->dtls_timer);
        /* no more media either way until the focus replaces the endpoint */
        srtp_ctx_free(ep->srtp);
        ep->srtp = NULL;
        return;
    }
    media_dtls_arm(ep);
}

static void media_dtls_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    endpoint *ep = arg;
    if (ep->dtls)
        media_dtls_state(ep, dtls_session_on_timeout(ep->dtls));
}

static bool media_dtls_create(endpoint *ep)
{
    if (ep->dtls)
        return true;
    if (ep->dtls_done)
        return false;
    ep->dtls = dtls_session_new(ep->conf->br->cert, ep->role,
                                ep->remote_fp[0] ? ep->remote_fp : NULL, media_dtls_send, ep);
    if (!ep->dtls)
        return false;
    if (!ep->dtls_timer)
        ep->dtls_timer = evtimer_new(ep->conf->br->base, media_dtls_timer_cb, ep);
    return true;
}

void media_ice_connected(endpoint *ep)
{
    /* the role comes with the remote fingerprint's setup: wait for it */
    if (!ep->role_known || ep->role != DTLS_ROLE_CLIENT || !media_dtls_create(ep))
        return;
    media_dtls_state(ep, dtls_session_start(ep->dtls));
}

void media_set_remote_fingerprint(endpoint *ep, const char *setup, const char *fp)
{
    if (fp && strlen(fp) < sizeof ep->remote_fp)
        snprintf(ep->remote_fp, sizeof ep->remote_fp, "%s", fp);
    if (setup && !ep->dtls) {
        ep->role = strcasecmp(setup, "active") == 0 ? DTLS_ROLE_SERVER : DTLS_ROLE_CLIENT;
        ep->role_known = true;
    }
    if (ep->dtls && ep->remote_fp[0])
        dtls_session_set_remote_fingerprint(ep->dtls, ep->remote_fp);
    /* ICE may have finished before the role was known */
    if (ep->role_known && !ep->dtls && ep->selected >= 0)
        media_ice_connected(ep);
}

void media_stop(endpoint *ep)
{
    if (ep->dtls_timer)
        event_free(ep->dtls_timer);
    ep->dtls_timer = NULL;
    dtls_session_free(ep->dtls);
    ep->dtls = NULL;
    srtp_ctx_free(ep->srtp);
    ep->srtp = NULL;
}

static void media_dtls_in(endpoint *ep, const uint8_t *buf, size_t len, const struct sockaddr *from,
                          socklen_t fromlen)
{
    if (!ep->dtls) {
        if (!ep->role_known || ep->role != DTLS_ROLE_SERVER)
            return; /* we are the client (or do not know yet): nothing to answer */
        memcpy(&ep->dtls_addr, from, fromlen);
        ep->dtls_alen = fromlen;
        if (!media_dtls_create(ep))
            return;
    }
    media_dtls_state(ep, dtls_session_feed(ep->dtls, buf, len));
}

void media_on_datagram(bridge *br, uint8_t *buf, size_t len, const struct sockaddr *from,
                       socklen_t fromlen)
{
    if (len == 0)
        return;
    uint8_t b = buf[0];
    if (b <= 3) {
        ice_on_stun(br, buf, len, from, fromlen);
        return;
    }
    endpoint *ep = addrmap_get(&br->by_addr, from);
    if (!ep) {
        br->c.malformed++;
        return;
    }
    if (b >= 20 && b <= 63) {
        media_dtls_in(ep, buf, len, from, fromlen);
        return;
    }
    if (b < 128 || b > 191 || !ep->srtp) {
        br->c.malformed++;
        return;
    }
    ep->last_activity_ms = now_ms();
    ep->rx_packets++;
    ep->rx_bytes += len;
    if (rtp_is_rtcp(buf, len)) {
        if (srtp_ctx_unprotect_rtcp(ep->srtp, buf, &len) != 0) {
            br->c.srtp_fail++;
            return;
        }
        forward_rtcp(ep, buf, len);
    } else {
        if (srtp_ctx_unprotect_rtp(ep->srtp, buf, &len) != 0) {
            br->c.srtp_fail++;
            return;
        }
        forward_rtp(ep, buf, len);
    }
}
