/* fuzz_rtp: libFuzzer target for common/rtp.c. Parses the input as RTP
 * (looking up every extension id and rewriting a copy in place) and walks it
 * as a compound RTCP packet (running every feedback helper on each block),
 * then builds NACK/RR/PLI blocks from the input and parses them back. Aborts
 * if an invariant breaks: every view, element and block must lie within the
 * input, lengths must add up, rewrites must read back, builders' output must
 * parse to the values given. */
#include "rtp.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(c)                                                                             \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

/* True when [p, p + n) lies within [base, base + len). */
static int fuzz_within(const uint8_t *p, size_t n, const uint8_t *base, size_t len)
{
    return p >= base && (size_t)(p - base) <= len && n <= len - (size_t)(p - base);
}

static void fuzz_rtp(const uint8_t *data, size_t size)
{
    rtp_view v;
    if (rtp_parse(data, size, &v) != 0)
        return;
    FUZZ_ASSERT(v.buf == data && v.len == size);
    FUZZ_ASSERT(v.pt < 128 && v.csrc_count < 16);
    FUZZ_ASSERT(v.header_len == v.payload_off);
    FUZZ_ASSERT(v.header_len >= RTP_HEADER_MIN + 4 * (size_t)v.csrc_count);
    FUZZ_ASSERT(v.payload_off <= size && v.payload_len <= size - v.payload_off);
    FUZZ_ASSERT(v.payload_off + v.payload_len + v.padding_len == size);
    FUZZ_ASSERT(v.padding_len == 0 || v.padding_len == data[size - 1]);
    if (v.ext) {
        FUZZ_ASSERT(v.ext_len % 4 == 0);
        FUZZ_ASSERT(fuzz_within(v.ext, v.ext_len, data, v.header_len));
        FUZZ_ASSERT(v.ext + v.ext_len == data + v.header_len);
    } else {
        FUZZ_ASSERT(v.ext_len == 0 && v.ext_profile == 0);
    }
    for (unsigned id = 0; id < 256; id++) {
        const uint8_t *p = NULL;
        size_t n = 0;
        if (rtp_ext_find(&v, (uint8_t)id, &p, &n) != 0)
            continue;
        FUZZ_ASSERT(id != 0 && v.ext);
        FUZZ_ASSERT(fuzz_within(p, n, v.ext, v.ext_len));
        if (v.ext_profile == RTP_EXT_ONE_BYTE)
            FUZZ_ASSERT(id < 15 && n >= 1 && n <= 16 && p[-1] >> 4 == id);
        else
            FUZZ_ASSERT(n <= 255 && p[-2] == id && p[-1] == n);
    }

    /* rewrite a copy and read it back */
    uint8_t *copy = malloc(size);
    if (!copy)
        return;
    memcpy(copy, data, size);
    uint32_t ssrc = ~v.ssrc, ts = v.timestamp ^ 0x80000001u;
    uint16_t seq = (uint16_t)(v.seq + 1);
    uint8_t pt = (uint8_t)((v.pt + 1) & 0x7F);
    FUZZ_ASSERT(rtp_set_ssrc(copy, size, ssrc) == 0);
    FUZZ_ASSERT(rtp_set_seq(copy, size, seq) == 0);
    FUZZ_ASSERT(rtp_set_timestamp(copy, size, ts) == 0);
    FUZZ_ASSERT(rtp_set_pt(copy, size, pt) == 0);
    FUZZ_ASSERT(rtp_set_pt(copy, size, 128) == -1);
    rtp_view w;
    FUZZ_ASSERT(rtp_parse(copy, size, &w) == 0);
    FUZZ_ASSERT(w.ssrc == ssrc && w.seq == seq && w.timestamp == ts && w.pt == pt);
    FUZZ_ASSERT(w.marker == v.marker && w.payload_off == v.payload_off &&
                w.payload_len == v.payload_len && w.padding_len == v.padding_len &&
                w.ext_len == v.ext_len && w.ext_profile == v.ext_profile);
    FUZZ_ASSERT(memcmp(copy + RTP_HEADER_MIN, data + RTP_HEADER_MIN, size - RTP_HEADER_MIN) == 0);
    free(copy);
}

static void fuzz_count(uint16_t seq, void *arg)
{
    (void)seq;
    (*(size_t *)arg)++;
}

static void fuzz_rtcp_block(const uint8_t *data, size_t size, const rtcp_view *b)
{
    FUZZ_ASSERT(b->len >= 4 && b->len % 4 == 0 && fuzz_within(b->buf, b->len, data, size));
    FUZZ_ASSERT(b->count < 32 && b->type == b->buf[1]);
    FUZZ_ASSERT(b->padding_len < b->len);
    FUZZ_ASSERT(fuzz_within(b->body, b->body_len, b->buf, b->len));
    FUZZ_ASSERT(b->body + b->body_len + b->padding_len == b->buf + b->len);

    rtcp_sender_info si;
    if (rtcp_sr_get(b, &si) == 0)
        FUZZ_ASSERT(b->type == RTCP_SR);
    for (size_t i = 0; i < 32; i++) {
        rtcp_report rb;
        int rc = rtcp_report_get(b, i, &rb);
        FUZZ_ASSERT(rc == 0 ? i < b->count
                            : (i >= b->count || (b->type != RTCP_SR && b->type != RTCP_RR)));
        if (rc == 0)
            FUZZ_ASSERT(rb.cumulative_lost >= -0x800000 && rb.cumulative_lost <= 0x7FFFFF);
    }

    rtcp_fb_type kind = rtcp_fb_kind(b);
    int fb = b->type == RTCP_RTPFB || b->type == RTCP_PSFB;
    FUZZ_ASSERT((kind == RTCP_FB_NONE) == !fb);

    size_t nfir = rtcp_fir_count(b);
    FUZZ_ASSERT((nfir > 0) == (kind == RTCP_FB_FIR));
    FUZZ_ASSERT(nfir * 8 <= b->body_len);
    for (size_t i = 0; i <= nfir; i++) {
        uint32_t ssrc;
        uint8_t seq;
        FUZZ_ASSERT((rtcp_fir_get(b, i, &ssrc, &seq) == 0) == (i < nfir));
    }

    rtcp_remb r;
    if (rtcp_remb_parse(b, &r) == 0) {
        FUZZ_ASSERT(kind == RTCP_FB_REMB);
        FUZZ_ASSERT(fuzz_within(r.ssrcs, 4 * r.num_ssrcs, b->body, b->body_len));
        for (size_t i = 0; i < r.num_ssrcs; i++)
            (void)rtcp_remb_ssrc(&r, i);
        FUZZ_ASSERT(rtcp_remb_ssrc(&r, r.num_ssrcs) == 0);
    } else {
        FUZZ_ASSERT(kind != RTCP_FB_REMB);
    }

    uint16_t lost[8];
    size_t counted = 0;
    int total = rtcp_nack_list(b, lost, sizeof lost / sizeof lost[0]);
    int calls = rtcp_nack_foreach(b, fuzz_count, &counted);
    FUZZ_ASSERT(total == calls);
    FUZZ_ASSERT((total >= 0) == (kind == RTCP_FB_NACK));
    if (total >= 0) {
        FUZZ_ASSERT((size_t)total == counted);
        FUZZ_ASSERT((size_t)total >= b->body_len / 4 && (size_t)total <= 17 * (b->body_len / 4));
        FUZZ_ASSERT(total == 0 || lost[0] == (uint16_t)(b->body[0] << 8 | b->body[1]));
    }
}

static void fuzz_rtcp(const uint8_t *data, size_t size)
{
    (void)rtp_is_rtcp(data, size);
    size_t off = 0;
    rtcp_view b;
    int rc;
    while ((rc = rtcp_next(data, size, &off, &b)) == 1) {
        FUZZ_ASSERT(b.buf + b.len == data + off);
        fuzz_rtcp_block(data, size, &b);
    }
    FUZZ_ASSERT(rc == 0 ? off == size : off <= size);
}

static int fuzz_has(const uint16_t *s, size_t n, uint16_t x)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == x)
            return 1;
    return 0;
}

/* NACK from the input's first 64 16-bit words: the expansion must hold
 * exactly the input's sequence numbers (duplicates aside). */
static void fuzz_builders(const uint8_t *data, size_t size)
{
    uint16_t seqs[64], lost[64 * 17];
    size_t n = size / 2 > 64 ? 64 : size / 2;
    for (size_t i = 0; i < n; i++)
        seqs[i] = (uint16_t)(data[2 * i] << 8 | data[2 * i + 1]);
    uint8_t out[12 + 4 * 64];
    int len = rtcp_build_nack(out, sizeof out, 0x11, 0x22, seqs, n);
    FUZZ_ASSERT((len > 0) == (n > 0));
    if (len > 0) {
        size_t off = 0;
        rtcp_view b;
        FUZZ_ASSERT(len >= 16 && (size_t)len <= 12 + 4 * n);
        FUZZ_ASSERT(rtcp_next(out, (size_t)len, &off, &b) == 1);
        FUZZ_ASSERT(rtcp_fb_kind(&b) == RTCP_FB_NACK && b.sender_ssrc == 0x11 &&
                    b.media_ssrc == 0x22);
        int total = rtcp_nack_list(&b, lost, sizeof lost / sizeof lost[0]);
        FUZZ_ASSERT(total >= 1 && (size_t)total <= n);
        for (int i = 0; i < total; i++)
            FUZZ_ASSERT(fuzz_has(seqs, n, lost[i]));
        for (size_t i = 0; i < n; i++)
            FUZZ_ASSERT(fuzz_has(lost, (size_t)total, seqs[i]));
        FUZZ_ASSERT(rtcp_next(out, (size_t)len, &off, &b) == 0);
    }

    if (size >= 24) {
        rtcp_report rb = {0}, got;
        memcpy(&rb.ssrc, data, 4);
        rb.fraction_lost = data[4];
        rb.cumulative_lost =
            (int32_t)((uint32_t)data[5] << 16 | (uint32_t)data[6] << 8 | data[7]) - 0x800000;
        memcpy(&rb.highest_seq, data + 8, 4);
        memcpy(&rb.jitter, data + 12, 4);
        memcpy(&rb.lsr, data + 16, 4);
        memcpy(&rb.dlsr, data + 20, 4);
        size_t off = 0;
        rtcp_view b;
        FUZZ_ASSERT(rtcp_build_rr(out, sizeof out, rb.lsr, &rb) == 32);
        FUZZ_ASSERT(rtcp_next(out, 32, &off, &b) == 1 && b.type == RTCP_RR && b.count == 1);
        FUZZ_ASSERT(rtcp_report_get(&b, 0, &got) == 0);
        FUZZ_ASSERT(got.ssrc == rb.ssrc && got.fraction_lost == rb.fraction_lost &&
                    got.cumulative_lost == rb.cumulative_lost &&
                    got.highest_seq == rb.highest_seq && got.jitter == rb.jitter &&
                    got.lsr == rb.lsr && got.dlsr == rb.dlsr);
        off = 0;
        FUZZ_ASSERT(rtcp_build_pli(out, sizeof out, rb.jitter, rb.dlsr) == 12);
        FUZZ_ASSERT(rtcp_next(out, 12, &off, &b) == 1 && rtcp_fb_kind(&b) == RTCP_FB_PLI);
        FUZZ_ASSERT(b.sender_ssrc == rb.jitter && b.media_ssrc == rb.dlsr);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_rtp(data, size);
    fuzz_rtcp(data, size);
    fuzz_builders(data, size);
    return 0;
}
