/* rtp: zero-copy RTP/RTCP parsing and in-place rewriting; see rtp.h. No
 * allocation, no global state; every read is bounded by the given length. */
#include "rtp.h"

#include <string.h>

static uint16_t rtp_rd16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t rtp_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void rtp_wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void rtp_wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

int rtp_parse(const uint8_t *buf, size_t len, rtp_view *out)
{
    if (!buf || !out || len < RTP_HEADER_MIN)
        return -1;
    if (buf[0] >> 6 != 2)
        return -1;
    memset(out, 0, sizeof *out);
    out->buf = buf;
    out->len = len;
    bool has_padding = buf[0] & 0x20;
    bool has_ext = buf[0] & 0x10;
    out->csrc_count = buf[0] & 0x0F;
    out->marker = buf[1] & 0x80;
    out->pt = buf[1] & 0x7F;
    out->seq = rtp_rd16(buf + 2);
    out->timestamp = rtp_rd32(buf + 4);
    out->ssrc = rtp_rd32(buf + 8);

    size_t off = RTP_HEADER_MIN + 4 * (size_t)out->csrc_count;
    if (off > len)
        return -1;
    if (has_ext) {
        if (len - off < 4)
            return -1;
        out->ext_profile = rtp_rd16(buf + off);
        size_t ext_len = 4 * (size_t)rtp_rd16(buf + off + 2);
        off += 4;
        if (ext_len > len - off)
            return -1;
        out->ext = buf + off;
        out->ext_len = ext_len;
        off += ext_len;
    }
    out->header_len = off;
    out->payload_off = off;
    size_t rest = len - off;
    if (has_padding) {
        if (rest == 0)
            return -1;
        size_t pad = buf[len - 1];
        if (pad == 0 || pad > rest)
            return -1;
        out->padding_len = pad;
        rest -= pad;
    }
    out->payload_len = rest;
    return 0;
}

int rtp_ext_find(const rtp_view *v, uint8_t id, const uint8_t **data, size_t *len)
{
    if (!v || !v->ext || id == 0)
        return -1;
    bool one_byte;
    if (v->ext_profile == RTP_EXT_ONE_BYTE) {
        if (id >= 15)
            return -1;
        one_byte = true;
    } else if ((v->ext_profile & RTP_EXT_TWO_BYTE_MASK) == RTP_EXT_TWO_BYTE) {
        one_byte = false;
    } else {
        return -1;
    }
    const uint8_t *p = v->ext;
    size_t n = v->ext_len, i = 0;
    while (i < n) {
        uint8_t eid;
        size_t elen;
        if (one_byte) {
            if (p[i] == 0) { /* padding */
                i++;
                continue;
            }
            eid = p[i] >> 4;
            if (eid == 15)
                return -1; /* reserved: stop processing */
            elen = (size_t)(p[i] & 0x0F) + 1;
            i += 1;
        } else {
            eid = p[i];
            if (eid == 0) { /* padding */
                i++;
                continue;
            }
            if (n - i < 2)
                return -1;
            elen = p[i + 1];
            i += 2;
        }
        if (elen > n - i)
            return -1;
        if (eid == id) {
            if (data)
                *data = p + i;
            if (len)
                *len = elen;
            return 0;
        }
        i += elen;
    }
    return -1;
}

int rtp_set_ssrc(uint8_t *buf, size_t len, uint32_t ssrc)
{
    if (!buf || len < RTP_HEADER_MIN)
        return -1;
    rtp_wr32(buf + 8, ssrc);
    return 0;
}

int rtp_set_seq(uint8_t *buf, size_t len, uint16_t seq)
{
    if (!buf || len < RTP_HEADER_MIN)
        return -1;
    rtp_wr16(buf + 2, seq);
    return 0;
}

int rtp_set_timestamp(uint8_t *buf, size_t len, uint32_t ts)
{
    if (!buf || len < RTP_HEADER_MIN)
        return -1;
    rtp_wr32(buf + 4, ts);
    return 0;
}

int rtp_set_pt(uint8_t *buf, size_t len, uint8_t pt)
{
    if (!buf || len < RTP_HEADER_MIN || pt > 127)
        return -1;
    buf[1] = (uint8_t)((buf[1] & 0x80) | pt);
    return 0;
}

bool rtp_is_rtcp(const uint8_t *buf, size_t len)
{
    return buf && len >= 4 && buf[0] >> 6 == 2 && buf[1] >= 192 && buf[1] <= 223;
}

/* Smallest block length for a type, given its count field. */
static size_t rtcp_min_len(uint8_t type, uint8_t count)
{
    switch (type) {
    case RTCP_SR:
        return 28 + 24 * (size_t)count;
    case RTCP_RR:
        return 8 + 24 * (size_t)count;
    case RTCP_APP:
    case RTCP_RTPFB:
    case RTCP_PSFB:
        return 12;
    case RTCP_XR:
        return 8;
    default:
        return 4;
    }
}

int rtcp_next(const uint8_t *buf, size_t len, size_t *off, rtcp_view *out)
{
    if (!buf || !off || !out || len == 0 || len % 4 != 0 || *off > len || *off % 4 != 0)
        return -1;
    if (*off == len)
        return 0;
    const uint8_t *b = buf + *off;
    size_t avail = len - *off; /* >= 4: both are multiples of 4 */
    if (b[0] >> 6 != 2)
        return -1;
    size_t blen = 4 * ((size_t)rtp_rd16(b + 2) + 1);
    if (blen > avail)
        return -1;
    uint8_t type = b[1], count = b[0] & 0x1F;
    size_t pad = 0;
    if (b[0] & 0x20) {
        pad = b[blen - 1];
        if (pad == 0 || pad > blen - 4)
            return -1;
    }
    if (blen - pad < rtcp_min_len(type, count))
        return -1;

    memset(out, 0, sizeof *out);
    out->buf = b;
    out->len = blen;
    out->type = type;
    out->count = count;
    out->padding_len = pad;
    size_t hdr = 4; /* header and SSRC field(s) before the body */
    switch (type) {
    case RTCP_SDES:
    case RTCP_BYE:
        /* the first chunk / source is part of the body, but report it */
        if (count > 0 && blen - pad >= 8)
            out->sender_ssrc = rtp_rd32(b + 4);
        break;
    case RTCP_RTPFB:
    case RTCP_PSFB:
        out->sender_ssrc = rtp_rd32(b + 4);
        out->media_ssrc = rtp_rd32(b + 8);
        hdr = 12;
        break;
    default:
        if (blen - pad >= 8) {
            out->sender_ssrc = rtp_rd32(b + 4);
            hdr = 8;
        }
        break;
    }
    out->body = b + hdr;
    out->body_len = blen - pad - hdr;
    *off += blen;
    return 1;
}

int rtcp_sr_get(const rtcp_view *v, rtcp_sender_info *out)
{
    if (!v || !out || v->type != RTCP_SR || v->body_len < 20)
        return -1;
    const uint8_t *p = v->body;
    out->ntp = (uint64_t)rtp_rd32(p) << 32 | rtp_rd32(p + 4);
    out->rtp_timestamp = rtp_rd32(p + 8);
    out->packet_count = rtp_rd32(p + 12);
    out->octet_count = rtp_rd32(p + 16);
    return 0;
}

int rtcp_report_get(const rtcp_view *v, size_t i, rtcp_report *out)
{
    if (!v || !out || i >= v->count)
        return -1;
    size_t base;
    if (v->type == RTCP_SR)
        base = 20;
    else if (v->type == RTCP_RR)
        base = 0;
    else
        return -1;
    size_t at = base + 24 * i;
    if (v->body_len < at || v->body_len - at < 24)
        return -1;
    const uint8_t *p = v->body + at;
    out->ssrc = rtp_rd32(p);
    out->fraction_lost = p[4];
    uint32_t cl = (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
    out->cumulative_lost = cl & 0x800000 ? (int32_t)cl - 0x1000000 : (int32_t)cl;
    out->highest_seq = rtp_rd32(p + 8);
    out->jitter = rtp_rd32(p + 12);
    out->lsr = rtp_rd32(p + 16);
    out->dlsr = rtp_rd32(p + 20);
    return 0;
}

static bool rtcp_is_fir(const rtcp_view *v)
{
    return v && v->type == RTCP_PSFB && v->count == 4 && v->body_len > 0 && v->body_len % 8 == 0;
}

static bool rtcp_is_nack(const rtcp_view *v)
{
    return v && v->type == RTCP_RTPFB && v->count == 1 && v->body_len > 0 && v->body_len % 4 == 0;
}

static bool rtcp_has_remb_id(const rtcp_view *v)
{
    return v && v->type == RTCP_PSFB && v->count == 15 && v->body_len >= 4 &&
           memcmp(v->body, "REMB", 4) == 0;
}

rtcp_fb_type rtcp_fb_kind(const rtcp_view *v)
{
    if (!v)
        return RTCP_FB_NONE;
    rtcp_remb r;
    if (v->type == RTCP_PSFB) {
        switch (v->count) {
        case 1:
            return RTCP_FB_PLI;
        case 4:
            return rtcp_is_fir(v) ? RTCP_FB_FIR : RTCP_FB_INVALID;
        case 15:
            if (!rtcp_has_remb_id(v))
                return RTCP_FB_OTHER;
            return rtcp_remb_parse(v, &r) == 0 ? RTCP_FB_REMB : RTCP_FB_INVALID;
        default:
            return RTCP_FB_OTHER;
        }
    }
    if (v->type == RTCP_RTPFB) {
        switch (v->count) {
        case 1:
            return rtcp_is_nack(v) ? RTCP_FB_NACK : RTCP_FB_INVALID;
        case 15:
            return RTCP_FB_TCC;
        default:
            return RTCP_FB_OTHER;
        }
    }
    return RTCP_FB_NONE;
}

size_t rtcp_fir_count(const rtcp_view *v)
{
    return rtcp_is_fir(v) ? v->body_len / 8 : 0;
}

int rtcp_fir_get(const rtcp_view *v, size_t i, uint32_t *ssrc, uint8_t *seq_nr)
{
    if (i >= rtcp_fir_count(v))
        return -1;
    const uint8_t *p = v->body + 8 * i;
    if (ssrc)
        *ssrc = rtp_rd32(p);
    if (seq_nr)
        *seq_nr = p[4];
    return 0;
}

int rtcp_remb_parse(const rtcp_view *v, rtcp_remb *out)
{
    if (!out || !rtcp_has_remb_id(v) || v->body_len < 8)
        return -1;
    const uint8_t *p = v->body;
    size_t num = p[4];
    unsigned exp = p[5] >> 2;
    uint64_t mantissa = (uint64_t)(p[5] & 0x03) << 16 | (uint64_t)p[6] << 8 | p[7];
    if (num > (v->body_len - 8) / 4)
        return -1;
    uint64_t bitrate = mantissa << exp; /* exp <= 63 */
    if (bitrate >> exp != mantissa)
        return -1;
    out->bitrate = bitrate;
    out->num_ssrcs = num;
    out->ssrcs = p + 8;
    return 0;
}

uint32_t rtcp_remb_ssrc(const rtcp_remb *r, size_t i)
{
    if (!r || i >= r->num_ssrcs)
        return 0;
    return rtp_rd32(r->ssrcs + 4 * i);
}

int rtcp_nack_foreach(const rtcp_view *v, void (*cb)(uint16_t seq, void *arg), void *arg)
{
    if (!rtcp_is_nack(v))
        return -1;
    int n = 0;
    for (size_t at = 0; at < v->body_len; at += 4) {
        uint16_t pid = rtp_rd16(v->body + at);
        uint16_t blp = rtp_rd16(v->body + at + 2);
        if (cb)
            cb(pid, arg);
        n++;
        for (unsigned bit = 0; bit < 16; bit++) {
            if (blp & (1u << bit)) {
                if (cb)
                    cb((uint16_t)(pid + bit + 1), arg);
                n++;
            }
        }
    }
    return n;
}

typedef struct rtcp_nack_sink {
    uint16_t *out;
    size_t cap, n;
} rtcp_nack_sink;

static void rtcp_nack_store(uint16_t seq, void *arg)
{
    rtcp_nack_sink *s = arg;
    if (s->n < s->cap)
        s->out[s->n] = seq;
    s->n++;
}

int rtcp_nack_list(const rtcp_view *v, uint16_t *out, size_t cap)
{
    rtcp_nack_sink s = {out, out ? cap : 0, 0};
    return rtcp_nack_foreach(v, rtcp_nack_store, &s);
}

/* Writes an RTCP common header: V=2, no padding, count, type, length in
 * bytes (a multiple of 4, >= 4). */
static void rtcp_wr_header(uint8_t *out, uint8_t count, uint8_t type, size_t len)
{
    out[0] = (uint8_t)(0x80 | (count & 0x1F));
    out[1] = type;
    rtp_wr16(out + 2, (uint16_t)(len / 4 - 1));
}

int rtcp_build_pli(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc)
{
    if (!out || cap < 12)
        return -1;
    rtcp_wr_header(out, 1, RTCP_PSFB, 12);
    rtp_wr32(out + 4, sender_ssrc);
    rtp_wr32(out + 8, media_ssrc);
    return 12;
}

int rtcp_build_rr(uint8_t *out, size_t cap, uint32_t sender_ssrc, const rtcp_report *rb)
{
    size_t len = rb ? 32 : 8;
    if (!out || cap < len)
        return -1;
    rtcp_wr_header(out, rb ? 1 : 0, RTCP_RR, len);
    rtp_wr32(out + 4, sender_ssrc);
    if (rb) {
        uint8_t *p = out + 8;
        int32_t cl = rb->cumulative_lost;
        if (cl > 0x7FFFFF)
            cl = 0x7FFFFF;
        if (cl < -0x800000)
            cl = -0x800000;
        uint32_t w = (uint32_t)cl & 0xFFFFFF;
        rtp_wr32(p, rb->ssrc);
        p[4] = rb->fraction_lost;
        p[5] = (uint8_t)(w >> 16);
        p[6] = (uint8_t)(w >> 8);
        p[7] = (uint8_t)w;
        rtp_wr32(p + 8, rb->highest_seq);
        rtp_wr32(p + 12, rb->jitter);
        rtp_wr32(p + 16, rb->lsr);
        rtp_wr32(p + 20, rb->dlsr);
    }
    return (int)len;
}

int rtcp_build_nack(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                    const uint16_t *seqs, size_t n)
{
    if (!out || !seqs || n == 0 || cap < 16)
        return -1;
    size_t len = 12; /* header, sender SSRC, media SSRC */
    uint16_t pid = 0, blp = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i > 0 && i < n) {
            uint16_t d = (uint16_t)(seqs[i] - pid);
            if (d == 0)
                continue;
            if (d <= 16) {
                blp |= (uint16_t)(1u << (d - 1));
                continue;
            }
        }
        if (i > 0) { /* flush the pair in progress */
            if (cap - len < 4 || len + 4 > 4 * 65536)
                return -1;
            rtp_wr16(out + len, pid);
            rtp_wr16(out + len + 2, blp);
            len += 4;
        }
        if (i < n) {
            pid = seqs[i];
            blp = 0;
        }
    }
    rtcp_wr_header(out, 1, RTCP_RTPFB, len);
    rtp_wr32(out + 4, sender_ssrc);
    rtp_wr32(out + 8, media_ssrc);
    return (int)len;
}
