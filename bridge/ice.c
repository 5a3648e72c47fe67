/* ice: the bridge's ICE agent for one endpoint, controlling role (RFC 8445)
 * on the shared UDP socket. Remote candidates come from Colibri2, more are
 * learnt as peer-reflexive from valid incoming checks. The agent answers
 * every valid check, sends its own checks (paced every ICE_TA_MS, RFC 8445
 * §14 retransmissions), nominates the first pair that succeeds (regular
 * nomination: a second check with USE-CANDIDATE), and then keeps consent
 * (RFC 7675): a check every 4-6 s, media stops when none was answered for
 * BRIDGE_CONSENT_TIMEOUT seconds. Incoming STUN is demultiplexed by the
 * local part of USERNAME (requests) or by the source address (responses).
 * Messages are built and checked by ice_stun (libnice's stun API). */
#include "bridge.h"
#include "ice_stun.h"
#include "log.h"
#include "util.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ICE_TA_MS 20
#define ICE_RTO_MS 250
#define ICE_MAX_TRIES 7
#define ICE_PRFLX_PRIORITY ((110u << 24) | (65535u << 8) | 255u)

static void ice_ctx(const endpoint *ep, char *out, size_t n)
{
    snprintf(out, n, "[conf=%s ep=%s]", ep->conf->meeting_id, ep->id);
}

static void ice_send_check(endpoint *ep, ice_pair *p, bool nominate)
{
    bridge *br = ep->conf->br;
    uint8_t buf[600];
    char user[sizeof ep->remote_ufrag + sizeof ep->local_ufrag + 1];
    snprintf(user, sizeof user, "%s:%s", ep->remote_ufrag, ep->local_ufrag);
    random_bytes(p->txid, sizeof p->txid);
    size_t n = ice_stun_build_request(buf, sizeof buf, p->txid, user, ep->remote_pwd,
                                      ICE_PRFLX_PRIORITY, true, ep->tiebreaker, nominate);
    if (!n)
        return;
    p->txid_nominates = nominate;
    p->pending = true;
    p->sent_ms = now_ms();
    p->tries++;
    if (p->state == PAIR_WAITING)
        p->state = PAIR_INPROGRESS;
    udp_send_now(br, buf, n, (struct sockaddr *)&p->addr, p->alen);
}

static void ice_arm(endpoint *ep, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(ep->ice_timer, &tv);
}

static void ice_consent_check(endpoint *ep, long long now)
{
    char ctx[320];
    ice_pair *p = &ep->pairs[ep->selected];
    if (ep->consent &&
        now - ep->consent_ms > (long long)ep->conf->br->set.consent_timeout_s * 1000) {
        ep->consent = false;
        if (!ep->consent_lost) {
            ep->consent_lost = true;
            ep->conf->br->c.consent_lost++;
        }
        ice_ctx(ep, ctx, sizeof ctx);
        log_warn(ctx, "ICE consent lost: no answer for %d s, media to it stops",
                 ep->conf->br->set.consent_timeout_s);
    }
    p->tries = 0;
    ice_send_check(ep, p, false);
}

/* The agent's clock: next check, retransmissions, consent. */
static void ice_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    endpoint *ep = arg;
    long long now = now_ms();
    if (!ep->have_remote)
        return;
    if (ep->selected >= 0) {
        ice_consent_check(ep, now);
        /* RFC 7675 §5.1: every 4-6 s (randomized); more often when the
         * configured timeout is short, so that a few checks fit in it */
        int base = ep->conf->br->set.consent_timeout_s * 1000 / 6;
        if (base > 5000)
            base = 5000;
        if (base < 100)
            base = 100;
        uint8_t r;
        random_bytes(&r, 1);
        ice_arm(ep, base * 4 / 5 + (int)(r % 101) * base * 2 / 500);
        return;
    }
    /* checking: a retransmission that is due, else one new check per Ta */
    ice_pair *best = NULL;
    for (int i = 0; i < ep->npairs && !best; i++) {
        ice_pair *p = &ep->pairs[i];
        if (!p->pending || p->state == PAIR_FAILED)
            continue;
        int rto = ICE_RTO_MS << (p->tries > 4 ? 4 : p->tries - 1);
        if (now - p->sent_ms < rto)
            continue;
        if (p->tries >= ICE_MAX_TRIES) {
            p->pending = false;
            p->state = PAIR_FAILED;
            continue;
        }
        best = p;
    }
    if (best) {
        ice_send_check(ep, best, best->txid_nominates);
    } else {
        for (int i = 0; i < ep->npairs; i++) {
            ice_pair *p = &ep->pairs[i];
            if (p->state == PAIR_WAITING && (!best || p->priority > best->priority))
                best = p;
        }
        if (best)
            ice_send_check(ep, best, false);
    }
    ice_arm(ep, ICE_TA_MS);
}

static ice_pair *ice_pair_for(endpoint *ep, const struct sockaddr *sa, socklen_t len)
{
    for (int i = 0; i < ep->npairs; i++) {
        ice_pair *p = &ep->pairs[i];
        if (p->alen == len && memcmp(&p->addr, sa, len) == 0)
            return p;
    }
    return NULL;
}

static ice_pair *ice_pair_add(endpoint *ep, const struct sockaddr *sa, socklen_t len,
                              uint32_t priority, bool prflx)
{
    ice_pair *p = ice_pair_for(ep, sa, len);
    if (p)
        return p;
    /* a signalled candidate may not take over another endpoint's address
     * (prflx ones come from a check that passed this endpoint's integrity) */
    endpoint *owner = addrmap_get(&ep->conf->br->by_addr, sa);
    if (!prflx && owner && owner != ep)
        return NULL;
    if (ep->npairs == EP_MAX_PAIRS) {
        /* replace the lowest-priority failed or waiting pair */
        int worst = -1;
        for (int i = 0; i < ep->npairs; i++)
            if (i != ep->selected && ep->pairs[i].state != PAIR_SUCCEEDED &&
                (worst < 0 || ep->pairs[i].priority < ep->pairs[worst].priority))
                worst = i;
        if (worst < 0)
            return NULL;
        if (addrmap_get(&ep->conf->br->by_addr, (struct sockaddr *)&ep->pairs[worst].addr) == ep)
            addrmap_del(&ep->conf->br->by_addr, (struct sockaddr *)&ep->pairs[worst].addr);
        p = &ep->pairs[worst];
    } else {
        p = &ep->pairs[ep->npairs++];
    }
    memset(p, 0, sizeof *p);
    memcpy(&p->addr, sa, len);
    p->alen = len;
    p->priority = priority;
    p->prflx = prflx;
    p->state = PAIR_WAITING;
    addrmap_put(&ep->conf->br->by_addr, sa, ep);
    return p;
}

void ice_add_remote_candidate(endpoint *ep, const char *ip, int port, uint32_t priority)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len;
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, ip, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        len = sizeof *in;
    } else if (inet_pton(AF_INET6, ip, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        len = sizeof *in6;
    } else {
        return;
    }
    ice_pair_add(ep, (struct sockaddr *)&ss, len, priority, false);
}

void ice_start(endpoint *ep)
{
    if (!ep->ice_timer)
        ep->ice_timer = evtimer_new(ep->conf->br->base, ice_timer_cb, ep);
    if (!evtimer_pending(ep->ice_timer, NULL))
        ice_arm(ep, 0);
}

void ice_stop(endpoint *ep)
{
    if (ep->ice_timer)
        event_free(ep->ice_timer);
    ep->ice_timer = NULL;
    addrmap_del_value(&ep->conf->br->by_addr, ep);
}

const ice_pair *ice_selected(const endpoint *ep)
{
    if (ep->selected < 0 || !ep->consent)
        return NULL;
    return &ep->pairs[ep->selected];
}

static void ice_reply_error(bridge *br, const ice_stun_info *in, int code, const char *reason,
                            const struct sockaddr *from, socklen_t fromlen)
{
    uint8_t buf[600];
    size_t n = ice_stun_build_error(buf, sizeof buf, in->txid, code, reason, NULL);
    if (n)
        udp_send_now(br, buf, n, from, fromlen);
}

static void ice_on_request(bridge *br, const uint8_t *buf, size_t len, const ice_stun_info *in,
                           const struct sockaddr *from, socklen_t fromlen)
{
    br->c.stun_requests++;
    const char *local;
    size_t local_len;
    char ufrag[sizeof((endpoint *)0)->local_ufrag];
    if (!in->has_integrity || !ice_stun_username_local(in->username, &local, &local_len)) {
        br->c.stun_bad++;
        ice_reply_error(br, in, 400, "Bad Request", from, fromlen);
        return;
    }
    endpoint *ep = NULL;
    if (local_len < sizeof ufrag) {
        memcpy(ufrag, local, local_len);
        ufrag[local_len] = 0;
        ep = hmap_get(&br->by_ufrag, ufrag);
    }
    if (!ep) {
        br->c.stun_unknown_ufrag++;
        ice_reply_error(br, in, 401, "Unauthorized", from, fromlen);
        return;
    }
    if (!ice_stun_check_integrity(buf, len, ep->local_pwd)) {
        br->c.stun_bad++;
        ice_reply_error(br, in, 401, "Unauthorized", from, fromlen);
        return;
    }
    uint8_t out[600];
    size_t n = ice_stun_build_success(out, sizeof out, in->txid, from, ep->local_pwd);
    if (n)
        udp_send_now(br, out, n, from, fromlen);
    ep->last_activity_ms = now_ms();
    ice_pair *p = ice_pair_for(ep, from, fromlen);
    if (!p) {
        p = ice_pair_add(ep, from, fromlen, in->has_priority ? in->priority : 0, true);
        if (!p)
            return;
        char ctx[320], a[64];
        ice_ctx(ep, ctx, sizeof ctx);
        log_debug(ctx, "ICE peer-reflexive candidate %s", addr_str(from, a));
    }
    /* triggered check (RFC 8445 §7.3.1.4) once the remote credentials are known */
    if (ep->have_remote && ep->selected < 0 &&
        (p->state == PAIR_WAITING || p->state == PAIR_FAILED)) {
        p->state = PAIR_WAITING;
        p->tries = 0;
        ice_send_check(ep, p, false);
        ice_start(ep);
    }
}

static void ice_on_response(bridge *br, const uint8_t *buf, size_t len, const ice_stun_info *in,
                            const struct sockaddr *from, socklen_t fromlen)
{
    endpoint *ep = addrmap_get(&br->by_addr, from);
    if (!ep)
        return;
    ice_pair *p = ice_pair_for(ep, from, fromlen);
    if (!p || !p->pending || memcmp(p->txid, in->txid, sizeof p->txid) != 0)
        return; /* not an answer to our outstanding check: drop */
    if (!ice_stun_check_integrity(buf, len, ep->remote_pwd)) {
        br->c.stun_bad++;
        return;
    }
    char ctx[320], a[64];
    ice_ctx(ep, ctx, sizeof ctx);
    if (in->kind == ICE_STUN_ERROR) {
        if (in->error_code == 487) /* role conflict: we stay controlling (RFC 8445 §7.3.1.1) */
            log_warn(ctx, "ICE role conflict reported by %s", addr_str(from, a));
        p->pending = false;
        if (ep->selected != (int)(p - ep->pairs))
            p->state = PAIR_FAILED;
        return;
    }
    long long now = now_ms();
    ep->last_activity_ms = now;
    bool nominated = p->txid_nominates;
    p->pending = false;
    memset(p->txid, 0, sizeof p->txid);
    p->state = PAIR_SUCCEEDED;
    p->tries = 0;
    int idx = (int)(p - ep->pairs);
    if (ep->selected == idx) {
        if (!ep->consent) {
            log_info(ctx, "ICE consent regained on %s", addr_str(from, a));
            ep->consent = true;
        }
        ep->consent_ms = now;
        return;
    }
    if (ep->selected >= 0)
        return;
    if (!nominated) {
        /* regular nomination of the first valid pair (one at a time) */
        for (int i = 0; i < ep->npairs; i++)
            if (ep->pairs[i].pending && ep->pairs[i].txid_nominates)
                return;
        ice_send_check(ep, p, true);
        return;
    }
    ep->selected = idx;
    ep->consent = true;
    ep->consent_ms = now;
    br->c.ice_succeeded++;
    log_info(ctx, "ICE connected: selected %s%s", addr_str(from, a), p->prflx ? " (prflx)" : "");
    ice_arm(ep, 100);
    media_ice_connected(ep);
}

void ice_on_stun(bridge *br, const uint8_t *buf, size_t len, const struct sockaddr *from,
                 socklen_t fromlen)
{
    ice_stun_info in;
    if (!ice_stun_parse(buf, len, &in)) {
        br->c.stun_bad++;
        return;
    }
    switch (in.kind) {
    case ICE_STUN_REQUEST:
        ice_on_request(br, buf, len, &in, from, fromlen);
        break;
    case ICE_STUN_SUCCESS:
    case ICE_STUN_ERROR:
        ice_on_response(br, buf, len, &in, from, fromlen);
        break;
    default:
        break; /* indications (keepalives) need nothing */
    }
}
