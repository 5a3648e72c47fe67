/* forward: what the bridge does with decrypted RTP and RTCP.
 *
 * RTP from an endpoint goes, unchanged (SSRC, sequence numbers, header
 * extensions), to every other endpoint of the conference whose DTLS-SRTP is
 * up and whose ICE consent holds, protected once per receiver into the send
 * batch. Packets from SSRCs the endpoint did not signal are dropped.
 *
 * RTCP compounds are split: SRs go to every other endpoint (and the
 * bridge remembers them for its own RRs), PLI/FIR/NACK/REMB go to the
 * endpoint that owns the media SSRC they name (behind an empty bridge RR so
 * the compound is well formed), RR/SDES/BYE/transport-cc end here: the
 * bridge sends its own receiver reports every second for what it receives.
 * When an endpoint becomes able to receive, the bridge asks every sender of
 * video in its conference for a key frame (PLI). */
#include "bridge.h"
#include "log.h"
#include "rtp.h"
#include "util.h"

#include <string.h>

#define RR_INTERVAL_MS 1000
#define KEYFRAME_GAP_MS 200 /* at most one PLI/FIR per source in this time */

/* True when a receiver's key frame request for ssrc may go to its owner now
 * (and records it): a receiver sending PLI at packet rate must not make a
 * sender's video a stream of key frames for everyone. The bridge's own
 * requests (new receivers) are not limited, only noted (forced). */
static bool keyframe_allowed(conference *cf, uint32_t ssrc, bool forced)
{
    endpoint *owner = endpoint_by_ssrc(cf, ssrc);
    src_stat *s = owner ? endpoint_source(owner, ssrc) : NULL;
    if (!s)
        return true;
    long long now = now_ms();
    if (!forced && s->keyframe_ms && now - s->keyframe_ms < KEYFRAME_GAP_MS) {
        cf->br->c.keyframe_requests_limited++;
        return false;
    }
    s->keyframe_ms = now;
    return true;
}

static void src_update(src_stat *s, const rtp_view *v, long long now)
{
    if (!s->seen) {
        s->seen = true;
        s->base_seq = v->seq;
        s->max_seq = v->seq;
        s->cycles = 0;
        s->received = 1;
        s->expected_prior = s->received_prior = 0;
        s->clock_rate = s->video ? 90000 : 48000;
    } else {
        uint16_t delta = (uint16_t)(v->seq - s->max_seq);
        if (delta < 3000) {
            if (v->seq < s->max_seq)
                s->cycles += 65536;
            s->max_seq = v->seq;
        } else if (delta <= 65536 - 100) {
            /* a big jump: the sender restarted; start over (RFC 3550 A.1) */
            s->base_seq = v->seq;
            s->max_seq = v->seq;
            s->cycles = 0;
            s->received = 0;
            s->expected_prior = s->received_prior = 0;
        }
        s->received++;
    }
    uint32_t arrival = (uint32_t)(now * (long long)(s->clock_rate / 1000));
    uint32_t transit = arrival - v->timestamp;
    if (s->received > 1) {
        int32_t d = (int32_t)(transit - s->last_transit);
        if (d < 0)
            d = -d;
        s->jitter_q4 += (uint32_t)d - ((s->jitter_q4 + 8) >> 4);
    }
    s->last_transit = transit;
}

void forward_rtp(endpoint *from, uint8_t *buf, size_t len)
{
    conference *cf = from->conf;
    bridge *br = cf->br;
    rtp_view v;
    if (rtp_parse(buf, len, &v) != 0) {
        br->c.malformed++;
        return;
    }
    src_stat *s = endpoint_source(from, v.ssrc);
    if (!s) {
        br->c.unknown_ssrc++;
        from->dropped++;
        return;
    }
    long long now = now_ms();
    src_update(s, &v, now);
    cf->last_activity_ms = now;
    for (int i = 0; i < cf->neps; i++) {
        endpoint *to = cf->eps[i];
        if (to == from || !to->srtp)
            continue;
        const ice_pair *p = ice_selected(to);
        if (!p)
            continue;
        out_pkt *o = udp_out_slot(br);
        memcpy(o->buf, buf, len);
        size_t olen = len;
        if (srtp_ctx_protect_rtp(to->srtp, o->buf, &olen, sizeof o->buf) != 0) {
            br->c.srtp_fail++;
            continue;
        }
        o->len = olen;
        udp_out_commit(br, o, (const struct sockaddr *)&p->addr, p->alen);
        to->tx_packets++;
        to->tx_bytes += olen;
        br->c.rtp_forwarded++;
    }
}

void forward_send_rtcp(endpoint *ep, uint8_t *buf, size_t len)
{
    bridge *br = ep->conf->br;
    const ice_pair *p = ice_selected(ep);
    if (!p || !ep->srtp || len > PKT_BUF)
        return;
    out_pkt *o = udp_out_slot(br);
    memcpy(o->buf, buf, len);
    size_t olen = len;
    if (srtp_ctx_protect_rtcp(ep->srtp, o->buf, &olen, sizeof o->buf) != 0) {
        br->c.srtp_fail++;
        return;
    }
    o->len = olen;
    udp_out_commit(br, o, (const struct sockaddr *)&p->addr, p->alen);
    ep->tx_packets++;
    ep->tx_bytes += olen;
}

/* Sends one feedback block to the owner of ssrc, behind an empty RR. */
static bool forward_feedback(endpoint *from, uint32_t ssrc, const uint8_t *block, size_t blen)
{
    bridge *br = from->conf->br;
    endpoint *owner = endpoint_by_ssrc(from->conf, ssrc);
    if (!owner || owner == from || blen > PKT_BUF - 8)
        return false;
    uint8_t out[PKT_BUF];
    int n = rtcp_build_rr(out, sizeof out, br->fb_video_ssrc, NULL);
    if (n < 0)
        return false;
    memcpy(out + n, block, blen);
    forward_send_rtcp(owner, out, (size_t)n + blen);
    br->c.rtcp_forwarded++;
    return true;
}

static void forward_sr(endpoint *from, const rtcp_view *v, long long now)
{
    rtcp_sender_info si;
    if (rtcp_sr_get(v, &si) == 0) {
        src_stat *s = endpoint_source(from, v->sender_ssrc);
        if (!s)
            return; /* an SR for a source it never signalled */
        s->lsr = (uint32_t)(si.ntp >> 16);
        s->lsr_at_ms = now;
    }
    conference *cf = from->conf;
    for (int i = 0; i < cf->neps; i++) {
        endpoint *to = cf->eps[i];
        if (to == from)
            continue;
        uint8_t copy[PKT_BUF];
        if (v->len > sizeof copy)
            return;
        memcpy(copy, v->buf, v->len);
        forward_send_rtcp(to, copy, v->len);
        cf->br->c.rtcp_forwarded++;
    }
}

/* Sends a PLI for ssrc to its owner (not from itself). */
static void forward_pli_to_owner(endpoint *from, uint32_t ssrc)
{
    bridge *br = from->conf->br;
    endpoint *owner = endpoint_by_ssrc(from->conf, ssrc);
    src_stat *s = owner ? endpoint_source(owner, ssrc) : NULL;
    if (!owner || owner == from || !s->video || s->rtx)
        return;
    keyframe_allowed(from->conf, ssrc, true);
    uint8_t out[64];
    int n = rtcp_build_rr(out, sizeof out, br->fb_video_ssrc, NULL);
    int m = rtcp_build_pli(out + n, sizeof out - (size_t)n, br->fb_video_ssrc, ssrc);
    if (n < 0 || m < 0)
        return;
    forward_send_rtcp(owner, out, (size_t)(n + m));
    br->c.pli_generated++;
}

/* The report blocks of a receiver's SR/RR: the first report on a video SSRC
 * means that receiver has just started decoding it (e.g. after a
 * renegotiation added the source): ask the sender for a key frame. */
static void forward_reports_seen(endpoint *from, const rtcp_view *v)
{
    for (size_t i = 0; i < v->count; i++) {
        rtcp_report rb;
        if (rtcp_report_get(v, i, &rb) != 0)
            return;
        bool known = false;
        for (int k = 0; k < from->nreported && !known; k++)
            known = from->reported[k] == rb.ssrc;
        if (known)
            continue;
        if (from->nreported == EP_MAX_REPORTED)
            return;
        from->reported[from->nreported++] = rb.ssrc;
        forward_pli_to_owner(from, rb.ssrc);
    }
}

void forward_rtcp(endpoint *from, uint8_t *buf, size_t len)
{
    bridge *br = from->conf->br;
    size_t off = 0;
    rtcp_view v;
    long long now = now_ms();
    int r;
    while ((r = rtcp_next(buf, len, &off, &v)) == 1) {
        switch (v.type) {
        case RTCP_SR:
            forward_reports_seen(from, &v);
            forward_sr(from, &v, now);
            break;
        case RTCP_RR:
            forward_reports_seen(from, &v);
            break;
        case RTCP_PSFB:
        case RTCP_RTPFB: {
            rtcp_fb_type k = rtcp_fb_kind(&v);
            uint32_t ssrc = v.media_ssrc;
            if (k == RTCP_FB_FIR) {
                uint8_t seq;
                if (rtcp_fir_get(&v, 0, &ssrc, &seq) != 0)
                    break;
            } else if (k == RTCP_FB_REMB) {
                rtcp_remb remb;
                if (rtcp_remb_parse(&v, &remb) != 0 || remb.num_ssrcs == 0)
                    break;
                ssrc = rtcp_remb_ssrc(&remb, 0);
            } else if (k != RTCP_FB_PLI && k != RTCP_FB_NACK) {
                if (k == RTCP_FB_INVALID)
                    br->c.malformed++;
                break; /* transport-cc and others end at the bridge */
            }
            if ((k == RTCP_FB_PLI || k == RTCP_FB_FIR) &&
                !keyframe_allowed(from->conf, ssrc, false))
                break;
            if (!forward_feedback(from, ssrc, v.buf, v.len))
                break;
            if (k == RTCP_FB_PLI)
                br->c.pli_forwarded++;
            else if (k == RTCP_FB_FIR)
                br->c.fir_forwarded++;
            else if (k == RTCP_FB_NACK)
                br->c.nack_forwarded++;
            break;
        }
        default:
            break; /* SDES, BYE, APP, XR end here */
        }
    }
    if (r < 0)
        br->c.malformed++;
}

void forward_request_keyframes(endpoint *ep)
{
    conference *cf = ep->conf;
    bridge *br = cf->br;
    /* the bridge's own PLIs are not copies of the datagram being handled:
     * they stay out of the forwarding-delay histogram */
    int64_t rx_ns = br->rx_ns;
    br->rx_ns = 0;
    for (int i = 0; i < cf->neps; i++) {
        endpoint *o = cf->eps[i];
        if (o == ep)
            continue;
        for (int j = 0; j < o->nsrc; j++) {
            if (!o->src[j].video || o->src[j].rtx)
                continue;
            keyframe_allowed(cf, o->src[j].ssrc, true);
            uint8_t out[64];
            int n = rtcp_build_rr(out, sizeof out, br->fb_video_ssrc, NULL);
            int m =
                rtcp_build_pli(out + n, sizeof out - (size_t)n, br->fb_video_ssrc, o->src[j].ssrc);
            if (n < 0 || m < 0)
                continue;
            forward_send_rtcp(o, out, (size_t)(n + m));
            br->c.pli_generated++;
        }
    }
    udp_flush(br);
    br->rx_ns = rx_ns;
}

static void forward_rr_cb(evutil_socket_t fd, short what, void *arg)
{
    endpoint *ep = arg;
    bridge *br = ep->conf->br;
    uint8_t out[PKT_BUF];
    size_t len = 0;
    long long now = now_ms();
    for (int i = 0; i < ep->nsrc && len + 32 <= 1200; i++) {
        src_stat *s = &ep->src[i];
        if (!s->seen)
            continue;
        uint32_t ext_max = s->cycles + s->max_seq;
        uint32_t expected = ext_max - s->base_seq + 1;
        uint32_t exp_int = expected - s->expected_prior;
        uint32_t rec_int = s->received - s->received_prior;
        s->expected_prior = expected;
        s->received_prior = s->received;
        int32_t lost_int = (int32_t)(exp_int - rec_int);
        rtcp_report rb = {
            .ssrc = s->ssrc,
            .fraction_lost = (exp_int == 0 || lost_int <= 0)
                                 ? 0
                                 : (uint8_t)(((uint32_t)lost_int << 8) / exp_int),
            .cumulative_lost = (int32_t)(expected - s->received),
            .highest_seq = ext_max,
            .jitter = s->jitter_q4 >> 4,
            .lsr = s->lsr,
            .dlsr = s->lsr_at_ms ? (uint32_t)((now - s->lsr_at_ms) * 65536 / 1000) : 0,
        };
        int n = rtcp_build_rr(out + len, sizeof out - len,
                              s->video ? br->fb_video_ssrc : br->fb_audio_ssrc, &rb);
        if (n > 0)
            len += (size_t)n;
    }
    if (len) {
        forward_send_rtcp(ep, out, len);
        br->c.rr_generated++;
        udp_flush(br);
    }
}

void forward_rr_start(endpoint *ep)
{
    if (ep->rr_timer)
        return;
    ep->rr_timer = event_new(ep->conf->br->base, -1, EV_PERSIST, forward_rr_cb, ep);
    struct timeval tv = {RR_INTERVAL_MS / 1000, (RR_INTERVAL_MS % 1000) * 1000};
    event_add(ep->rr_timer, &tv);
}
