/* Unit tests: common/srtp_ctx.c (both DTLS-SRTP profiles: RTP and RTCP
 * round trips between mirrored contexts, trailer sizes, tampering, replay,
 * NACK resend, many SSRCs and the SSRC bound, header-only packets, header
 * extensions and CSRCs, hostile lengths, bad keys), plus one end-to-end run
 * keyed from a real DTLS handshake. */
#include "dtls.h"
#include "rtp.h"
#include "srtp_ctx.h"
#include "test.h"
#include "util.h"

#define BUF 1500

/* Mirrored keys: a's local is b's remote and the other way round. */
static void make_keys(srtp_profile_id profile, dtls_srtp_keys *a, dtls_srtp_keys *b)
{
    memset(a, 0, sizeof *a);
    a->profile = profile;
    a->key_len = 16;
    a->salt_len = profile == SRTP_PROFILE_AEAD_AES_128_GCM ? 12 : 14;
    random_bytes(a->local_key, a->key_len);
    random_bytes(a->remote_key, a->key_len);
    random_bytes(a->local_salt, a->salt_len);
    random_bytes(a->remote_salt, a->salt_len);
    *b = *a;
    memcpy(b->local_key, a->remote_key, 16);
    memcpy(b->remote_key, a->local_key, 16);
    memcpy(b->local_salt, a->remote_salt, 14);
    memcpy(b->remote_salt, a->local_salt, 14);
}

static size_t tag_len(srtp_profile_id p)
{
    return p == SRTP_PROFILE_AEAD_AES_128_GCM ? 16 : 10;
}

/* An RTP packet: PT 96, given seq and SSRC, payload_len bytes of pattern. */
static size_t make_rtp(uint8_t *buf, uint16_t seq, uint32_t ssrc, size_t payload_len)
{
    buf[0] = 0x80;
    buf[1] = 96;
    buf[2] = (uint8_t)(seq >> 8);
    buf[3] = (uint8_t)seq;
    uint32_t ts = 90u * seq;
    buf[4] = (uint8_t)(ts >> 24);
    buf[5] = (uint8_t)(ts >> 16);
    buf[6] = (uint8_t)(ts >> 8);
    buf[7] = (uint8_t)ts;
    buf[8] = (uint8_t)(ssrc >> 24);
    buf[9] = (uint8_t)(ssrc >> 16);
    buf[10] = (uint8_t)(ssrc >> 8);
    buf[11] = (uint8_t)ssrc;
    for (size_t i = 0; i < payload_len; i++)
        buf[12 + i] = (uint8_t)(i * 7 + seq);
    return 12 + payload_len;
}

typedef struct duo {
    srtp_ctx *a, *b;
    srtp_profile_id profile;
} duo;

static duo duo_new(srtp_profile_id profile)
{
    dtls_srtp_keys ka, kb;
    make_keys(profile, &ka, &kb);
    duo d = {srtp_ctx_new(&ka), srtp_ctx_new(&kb), profile};
    CHECK(d.a && d.b);
    return d;
}

static void duo_free(duo *d)
{
    srtp_ctx_free(d->a);
    srtp_ctx_free(d->b);
}

/* Protects pkt[0..len) on `from`, checks it changed and grew by the tag,
 * unprotects on `to` and checks the original comes back. */
static void roundtrip_rtp(duo *d, srtp_ctx *from, srtp_ctx *to, const uint8_t *pkt, size_t len)
{
    uint8_t buf[BUF + SRTP_CTX_MAX_TRAILER];
    memcpy(buf, pkt, len);
    size_t n = len;
    CHECK_INT(srtp_ctx_protect_rtp(from, buf, &n, sizeof buf), 0);
    CHECK_INT(n, len + tag_len(d->profile));
    size_t hdr = 12 + 4 * (size_t)(pkt[0] & 15);
    if (pkt[0] & 0x10)
        hdr += 4 + 4 * (size_t)((unsigned)pkt[hdr + 2] << 8 | pkt[hdr + 3]);
    CHECK(memcmp(buf, pkt, hdr) == 0); /* header in the clear */
    if (len > hdr)
        CHECK(memcmp(buf + hdr, pkt + hdr, len - hdr) != 0); /* payload encrypted */
    CHECK_INT(srtp_ctx_unprotect_rtp(to, buf, &n), 0);
    CHECK_INT(n, len);
    CHECK(memcmp(buf, pkt, len) == 0);
}

static void check_rtp_roundtrip(srtp_profile_id profile)
{
    duo d = duo_new(profile);
    uint8_t pkt[BUF];
    for (uint16_t seq = 1000; seq < 1100; seq++) {
        size_t len = make_rtp(pkt, seq, 0x11111111, 1 + seq % 1100);
        roundtrip_rtp(&d, d.a, d.b, pkt, len);
        len = make_rtp(pkt, seq, 0x22222222, 160);
        roundtrip_rtp(&d, d.b, d.a, pkt, len); /* and the other way */
    }
    /* Sequence number wrap (ROC increments). */
    for (uint32_t s = 65530; s < 65545; s++) {
        size_t len = make_rtp(pkt, (uint16_t)s, 0x33333333, 100);
        roundtrip_rtp(&d, d.a, d.b, pkt, len);
    }
    duo_free(&d);
}

static void test_rtp_roundtrip_gcm(void)
{
    check_rtp_roundtrip(SRTP_PROFILE_AEAD_AES_128_GCM);
}

static void test_rtp_roundtrip_cm(void)
{
    check_rtp_roundtrip(SRTP_PROFILE_AES128_CM_SHA1_80);
}

static void check_rtcp_roundtrip(srtp_profile_id profile)
{
    duo d = duo_new(profile);
    uint8_t buf[BUF + SRTP_CTX_MAX_TRAILER], orig[BUF];
    rtcp_report rb = {0};
    rb.ssrc = 0x22222222;
    rb.fraction_lost = 3;
    rb.cumulative_lost = 17;
    rb.highest_seq = 1234;
    int rr = rtcp_build_rr(orig, sizeof orig, 0x11111111, &rb);
    int pli = rtcp_build_pli(orig + rr, sizeof orig - (size_t)rr, 0x11111111, 0x22222222);
    CHECK(rr > 0 && pli > 0);
    size_t len = (size_t)(rr + pli); /* a compound packet */
    for (int i = 0; i < 50; i++) {
        memcpy(buf, orig, len);
        size_t n = len;
        CHECK_INT(srtp_ctx_protect_rtcp(d.a, buf, &n, sizeof buf), 0);
        CHECK_INT(n, len + 4 + tag_len(profile)); /* E + index, tag */
        CHECK(memcmp(buf, orig, 8) == 0);         /* first header and SSRC in the clear */
        CHECK(memcmp(buf + 8, orig + 8, len - 8) != 0);
        /* E flag (encrypted) + index: after the payload for CM (RFC 3711
         * 3.4), after the tag for AEAD (RFC 7714 9.1). */
        size_t eidx = profile == SRTP_PROFILE_AEAD_AES_128_GCM ? len + 16 : len;
        CHECK(buf[eidx] & 0x80);
        CHECK_INT(buf[eidx + 3], i + 1); /* SRTCP index counts from 1 */
        CHECK_INT(srtp_ctx_unprotect_rtcp(d.b, buf, &n), 0);
        CHECK_INT(n, len);
        CHECK(memcmp(buf, orig, len) == 0);
    }
    /* The smallest RTCP packet, an RR without report blocks. */
    len = (size_t)rtcp_build_rr(orig, sizeof orig, 0x11111111, NULL);
    CHECK_INT(len, 8);
    memcpy(buf, orig, len);
    size_t n = len;
    CHECK_INT(srtp_ctx_protect_rtcp(d.b, buf, &n, sizeof buf), 0);
    CHECK_INT(srtp_ctx_unprotect_rtcp(d.a, buf, &n), 0);
    CHECK_INT(n, 8);
    CHECK(memcmp(buf, orig, 8) == 0);
    duo_free(&d);
}

static void test_rtcp_roundtrip_gcm(void)
{
    check_rtcp_roundtrip(SRTP_PROFILE_AEAD_AES_128_GCM);
}

static void test_rtcp_roundtrip_cm(void)
{
    check_rtcp_roundtrip(SRTP_PROFILE_AES128_CM_SHA1_80);
}

/* A flipped bit anywhere (header, payload, tag) fails; so does the wrong
 * direction's key, and truncation. The right packet still passes after. */
static void check_tamper(srtp_profile_id profile)
{
    duo d = duo_new(profile);
    uint8_t pkt[BUF], buf[BUF + SRTP_CTX_MAX_TRAILER], prot[BUF + SRTP_CTX_MAX_TRAILER];
    size_t len = make_rtp(pkt, 7, 0x44444444, 100);
    memcpy(prot, pkt, len);
    size_t plen = len;
    CHECK_INT(srtp_ctx_protect_rtp(d.a, prot, &plen, sizeof prot), 0);
    size_t positions[] = {1, 3, 12, 50, len - 1, len, plen - 1};
    for (size_t i = 0; i < sizeof positions / sizeof positions[0]; i++) {
        memcpy(buf, prot, plen);
        buf[positions[i]] ^= 0x01;
        size_t n = plen;
        CHECK_INT(srtp_ctx_unprotect_rtp(d.b, buf, &n), -1);
        CHECK_INT(n, plen);
    }
    memcpy(buf, prot, plen);
    size_t n = plen - 1; /* truncated tag */
    CHECK_INT(srtp_ctx_unprotect_rtp(d.b, buf, &n), -1);
    memcpy(buf, prot, plen);
    n = plen;
    CHECK_INT(srtp_ctx_unprotect_rtp(d.a, buf, &n), -1); /* a's own packet: wrong key */
    memcpy(buf, prot, plen);
    n = plen;
    CHECK_INT(srtp_ctx_unprotect_rtp(d.b, buf, &n), 0);
    CHECK(memcmp(buf, pkt, len) == 0);

    /* RTCP: payload bit, E flag / index, tag. */
    int rl = rtcp_build_pli(pkt, sizeof pkt, 0x44444444, 0x55555555);
    memcpy(prot, pkt, (size_t)rl);
    plen = (size_t)rl;
    CHECK_INT(srtp_ctx_protect_rtcp(d.a, prot, &plen, sizeof prot), 0);
    size_t rpos[] = {9, (size_t)rl, (size_t)rl + 3, plen - 1, plen - 4};
    for (size_t i = 0; i < sizeof rpos / sizeof rpos[0]; i++) {
        memcpy(buf, prot, plen);
        buf[rpos[i]] ^= 0x01;
        n = plen;
        CHECK_INT(srtp_ctx_unprotect_rtcp(d.b, buf, &n), -1);
    }
    n = plen;
    CHECK_INT(srtp_ctx_unprotect_rtcp(d.b, prot, &n), 0);
    CHECK(memcmp(prot, pkt, (size_t)rl) == 0);
    duo_free(&d);
}

static void test_tamper_gcm(void)
{
    check_tamper(SRTP_PROFILE_AEAD_AES_128_GCM);
}

static void test_tamper_cm(void)
{
    check_tamper(SRTP_PROFILE_AES128_CM_SHA1_80);
}

/* Replays fail on unprotect (RTP and RTCP); the sender may protect the same
 * packet twice (NACK resend, allow_repeat_tx) and the receiver takes the
 * resend only if it lost the first copy. Packets older than the window
 * fail; reordering within the window is fine. */
static void check_replay(srtp_profile_id profile)
{
    duo d = duo_new(profile);
    uint8_t pkt[BUF], p1[BUF + SRTP_CTX_MAX_TRAILER], p2[BUF + SRTP_CTX_MAX_TRAILER];
    size_t len = make_rtp(pkt, 500, 0x66666666, 80);
    memcpy(p1, pkt, len);
    size_t n1 = len;
    CHECK_INT(srtp_ctx_protect_rtp(d.a, p1, &n1, sizeof p1), 0);
    memcpy(p2, p1, n1);
    size_t n = n1;
    CHECK_INT(srtp_ctx_unprotect_rtp(d.b, p1, &n), 0);
    n = n1;
    CHECK_INT(srtp_ctx_unprotect_rtp(d.b, p2, &n), -1); /* replay */

    /* NACK resend: seq 501 is protected twice, identical output. */
    len = make_rtp(pkt, 501, 0x66666666, 80);
    memcpy(p1, pkt, len);
    memcpy(p2, pkt, len);
    n1 = len;
    size_t n2 = len;
    CHECK_INT(srtp_ctx_protect_rtp(d.a, p1, &n1, sizeof p1), 0);
    CHECK_INT(srtp_ctx_protect_rtp(d.a, p2, &n2, sizeof p2), 0);
    CHECK_INT(n1, n2);
    CHECK(memcmp(p1, p2, n1) == 0);
    n = n2; /* the first copy was lost */
    CHECK_INT(srtp_ctx_unprotect_rtp(d.b, p2, &n), 0);
    CHECK(memcmp(p2, pkt, len) == 0);

    /* Out of order within the window, then too old. */
    uint8_t later[BUF + SRTP_CTX_MAX_TRAILER];
    size_t nl = make_rtp(later, 600, 0x66666666, 10);
    CHECK_INT(srtp_ctx_protect_rtp(d.a, later, &nl, sizeof later), 0);
    uint8_t mid[BUF + SRTP_CTX_MAX_TRAILER];
    size_t nm = make_rtp(mid, 550, 0x66666666, 10);
    CHECK_INT(srtp_ctx_protect_rtp(d.a, mid, &nm, sizeof mid), 0);
    CHECK_INT(srtp_ctx_unprotect_rtp(d.b, later, &nl), 0);
    CHECK_INT(srtp_ctx_unprotect_rtp(d.b, mid, &nm), 0);
    uint8_t old[BUF + SRTP_CTX_MAX_TRAILER];
    size_t no = make_rtp(old, 502, 0x66666666, 10);
    CHECK_INT(srtp_ctx_protect_rtp(d.a, old, &no, sizeof old), 0);
    for (uint16_t s = 601; s < 601 + 1100; s++) {
        size_t k = make_rtp(pkt, s, 0x66666666, 10);
        CHECK_INT(srtp_ctx_protect_rtp(d.a, pkt, &k, sizeof pkt), 0);
        CHECK_INT(srtp_ctx_unprotect_rtp(d.b, pkt, &k), 0);
    }
    CHECK_INT(srtp_ctx_unprotect_rtp(d.b, old, &no), -1); /* behind the 1024 window */

    /* RTCP replay. */
    int rl = rtcp_build_pli(pkt, sizeof pkt, 0x66666666, 1);
    memcpy(p1, pkt, (size_t)rl);
    n1 = (size_t)rl;
    CHECK_INT(srtp_ctx_protect_rtcp(d.a, p1, &n1, sizeof p1), 0);
    memcpy(p2, p1, n1);
    n = n1;
    CHECK_INT(srtp_ctx_unprotect_rtcp(d.b, p1, &n), 0);
    n = n1;
    CHECK_INT(srtp_ctx_unprotect_rtcp(d.b, p2, &n), -1);
    duo_free(&d);
}

static void test_replay_gcm(void)
{
    check_replay(SRTP_PROFILE_AEAD_AES_128_GCM);
}

static void test_replay_cm(void)
{
    check_replay(SRTP_PROFILE_AES128_CM_SHA1_80);
}

/* Many SSRCs each way, interleaved; then the per-direction bound. */
static void test_many_ssrcs(void)
{
    duo d = duo_new(SRTP_PROFILE_AEAD_AES_128_GCM);
    uint8_t pkt[BUF];
    for (int round = 0; round < 3; round++)
        for (uint32_t i = 0; i < 300; i++) {
            size_t len = make_rtp(pkt, (uint16_t)(round + 1), 0x1000 + i * 7919, 40);
            roundtrip_rtp(&d, d.a, d.b, pkt, len);
        }
    /* SSRC 0 is an SSRC like any other. */
    size_t len = make_rtp(pkt, 1, 0, 40);
    roundtrip_rtp(&d, d.a, d.b, pkt, len);
    duo_free(&d);

    d = duo_new(SRTP_PROFILE_AES128_CM_SHA1_80);
    uint8_t buf[BUF + SRTP_CTX_MAX_TRAILER];
    for (uint32_t i = 0; i < SRTP_CTX_MAX_SSRCS; i++) {
        size_t n = make_rtp(buf, 1, 0xA0000000u + i, 20);
        CHECK_INT(srtp_ctx_protect_rtp(d.a, buf, &n, sizeof buf), 0);
        CHECK_INT(srtp_ctx_unprotect_rtp(d.b, buf, &n), 0);
    }
    size_t n = make_rtp(buf, 1, 0xB0000000u, 20); /* one SSRC too many outbound */
    CHECK_INT(srtp_ctx_protect_rtp(d.a, buf, &n, sizeof buf), -1);
    n = make_rtp(buf, 1, 0xB0000000u, 20); /* b may still send it... */
    CHECK_INT(srtp_ctx_protect_rtp(d.b, buf, &n, sizeof buf), 0);
    CHECK_INT(srtp_ctx_unprotect_rtp(d.a, buf, &n), 0);
    n = make_rtp(buf, 2, 0xA0000000u + 5, 20); /* ...and known SSRCs keep working */
    CHECK_INT(srtp_ctx_protect_rtp(d.a, buf, &n, sizeof buf), 0);
    CHECK_INT(srtp_ctx_unprotect_rtp(d.b, buf, &n), 0);
    duo_free(&d);
}

/* Header-only packets (12 bytes, e.g. padding-free keepalives) and packets
 * with CSRCs and RFC 8285 extensions: the header stays readable. */
static void check_headers(srtp_profile_id profile)
{
    duo d = duo_new(profile);
    uint8_t pkt[BUF];
    size_t len = make_rtp(pkt, 9, 0x77777777, 0);
    CHECK_INT(len, 12);
    roundtrip_rtp(&d, d.a, d.b, pkt, len);

    /* CC=2, X=1 with a one-byte extension block (audio level id 1,
     * abs-send-time id 3, transport-cc id 5), then 3 payload bytes. */
    static const uint8_t ext[] = {
        0x92, 0x6f, 0x00, 0x0a, 0x00, 0x00, 0x10, 0x00, 0x77, 0x77, 0x77, 0x77, /* header */
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,                         /* CSRCs */
        0xbe, 0xde, 0x00, 0x03,                                                 /* ext hdr */
        0x10, 0xaa, 0x00, 0x32, 0x12, 0x34, 0x56, 0x51, 0x00, 0x07, 0x00, 0x00, /* elements */
        0x01, 0x02, 0x03,                                                       /* payload */
    };
    uint8_t buf[BUF + SRTP_CTX_MAX_TRAILER];
    memcpy(buf, ext, sizeof ext);
    size_t n = sizeof ext;
    CHECK_INT(srtp_ctx_protect_rtp(d.a, buf, &n, sizeof buf), 0);
    rtp_view v; /* the bridge reads extensions of protected packets */
    CHECK_INT(rtp_parse(buf, n, &v), 0);
    const uint8_t *e;
    size_t elen;
    CHECK_INT(rtp_ext_find(&v, 5, &e, &elen), 0);
    CHECK_INT(elen, 2);
    CHECK(e[0] == 0x00 && e[1] == 0x07);
    CHECK(memcmp(buf + 36, ext + 36, 3) != 0);
    CHECK_INT(srtp_ctx_unprotect_rtp(d.b, buf, &n), 0);
    CHECK_INT(n, sizeof ext);
    CHECK(memcmp(buf, ext, sizeof ext) == 0);

    /* Extension block with no payload at all. */
    memcpy(buf, ext, 36);
    buf[3] = 0x0b;
    n = 36;
    memcpy(pkt, buf, 36);
    roundtrip_rtp(&d, d.a, d.b, pkt, 36);
    duo_free(&d);
}

static void test_headers_gcm(void)
{
    check_headers(SRTP_PROFILE_AEAD_AES_128_GCM);
}

static void test_headers_cm(void)
{
    check_headers(SRTP_PROFILE_AES128_CM_SHA1_80);
}

static uint32_t rng_next(uint32_t *st)
{
    *st ^= *st << 13;
    *st ^= *st >> 17;
    *st ^= *st << 5;
    return *st;
}

/* Short, lying and oversized packets, too little room, random garbage: -1,
 * never a crash, nothing written past the given length or capacity (ASan
 * watches the exact-size heap buffers). */
static void check_hostile(srtp_profile_id profile)
{
    duo d = duo_new(profile);
    uint8_t pkt[BUF + SRTP_CTX_MAX_TRAILER];
    size_t n;
    for (size_t len = 0; len < 12; len++) {
        uint8_t *b = xmalloc(len ? len : 1);
        memset(b, 0x80, len);
        n = len;
        CHECK_INT(srtp_ctx_unprotect_rtp(d.b, b, &n), -1);
        n = len;
        CHECK_INT(srtp_ctx_unprotect_rtcp(d.b, b, &n), -1);
        n = len;
        CHECK_INT(srtp_ctx_protect_rtp(d.a, b, &n, len), -1);
        free(b);
    }
    /* No room for the trailer. */
    n = make_rtp(pkt, 1, 1, 100);
    CHECK_INT(srtp_ctx_protect_rtp(d.a, pkt, &n, n + SRTP_CTX_MAX_TRAILER - 1), -1);
    CHECK_INT(srtp_ctx_protect_rtp(d.a, pkt, &n, n - 1), -1); /* cap < len */
    n = 8;
    CHECK_INT(srtp_ctx_protect_rtcp(d.a, pkt, &n, 8 + SRTP_CTX_MAX_TRAILER - 1), -1);
    /* Header longer than the packet: 15 CSRCs claimed, extension length lying. */
    n = make_rtp(pkt, 1, 1, 20);
    pkt[0] = 0x8f;
    CHECK_INT(srtp_ctx_protect_rtp(d.a, pkt, &n, sizeof pkt), -1);
    n = make_rtp(pkt, 1, 1, 20);
    pkt[0] = 0x90;
    pkt[12] = 0xbe;
    pkt[13] = 0xde;
    pkt[14] = 0xff;
    pkt[15] = 0xff;
    CHECK_INT(srtp_ctx_protect_rtp(d.a, pkt, &n, sizeof pkt), -1);
    n = make_rtp(pkt, 1, 1, 20) + tag_len(profile);
    pkt[0] = 0x90;
    CHECK_INT(srtp_ctx_unprotect_rtp(d.b, pkt, &n), -1);
    /* Wrong version. */
    n = make_rtp(pkt, 1, 1, 20);
    pkt[0] = 0x40;
    CHECK_INT(srtp_ctx_protect_rtp(d.a, pkt, &n, sizeof pkt), -1);
    n = 8;
    CHECK_INT(srtp_ctx_protect_rtcp(d.a, pkt, &n, sizeof pkt), -1);
    /* Oversized. */
    size_t big = SRTP_CTX_MAX_PACKET + 1;
    uint8_t *b = xcalloc(1, big + SRTP_CTX_MAX_TRAILER);
    make_rtp(b, 1, 1, 0);
    n = big;
    CHECK_INT(srtp_ctx_unprotect_rtp(d.b, b, &n), -1);
    n = big;
    CHECK_INT(srtp_ctx_protect_rtp(d.a, b, &n, big + SRTP_CTX_MAX_TRAILER), -1);
    n = big;
    CHECK_INT(srtp_ctx_unprotect_rtcp(d.b, b, &n), -1);
    free(b);
    /* NULLs. */
    n = 20;
    CHECK_INT(srtp_ctx_unprotect_rtp(NULL, pkt, &n), -1);
    CHECK_INT(srtp_ctx_unprotect_rtp(d.b, NULL, &n), -1);
    CHECK_INT(srtp_ctx_unprotect_rtp(d.b, pkt, NULL), -1);

    /* Random packets in exact-size buffers (version 2 half of the time). */
    uint32_t st = 0xdeadbeef;
    for (int i = 0; i < 20000; i++) {
        size_t len = rng_next(&st) % 300;
        uint8_t *r = xmalloc(len ? len : 1);
        for (size_t j = 0; j < len; j++)
            r[j] = (uint8_t)rng_next(&st);
        if (len && (rng_next(&st) & 1))
            r[0] = (uint8_t)((r[0] & 0x3f) | 0x80);
        n = len;
        if (i & 1)
            CHECK_INT(srtp_ctx_unprotect_rtp(d.b, r, &n), -1);
        else
            CHECK_INT(srtp_ctx_unprotect_rtcp(d.b, r, &n), -1);
        CHECK_INT(n, len);
        free(r);
    }
    /* Still works. */
    n = make_rtp(pkt, 2, 1, 20);
    uint8_t orig[64];
    memcpy(orig, pkt, n);
    roundtrip_rtp(&d, d.a, d.b, orig, n);
    duo_free(&d);
}

static void test_hostile_gcm(void)
{
    check_hostile(SRTP_PROFILE_AEAD_AES_128_GCM);
}

static void test_hostile_cm(void)
{
    check_hostile(SRTP_PROFILE_AES128_CM_SHA1_80);
}

static void test_bad_keys(void)
{
    srtp_ctx_library_init();
    srtp_ctx_library_init(); /* idempotent */
    dtls_srtp_keys a, b;
    make_keys(SRTP_PROFILE_AEAD_AES_128_GCM, &a, &b);
    a.salt_len = 14; /* GCM wants 12 */
    CHECK(srtp_ctx_new(&a) == NULL);
    make_keys(SRTP_PROFILE_AES128_CM_SHA1_80, &a, &b);
    a.salt_len = 12;
    CHECK(srtp_ctx_new(&a) == NULL);
    make_keys(SRTP_PROFILE_AES128_CM_SHA1_80, &a, &b);
    a.profile = SRTP_PROFILE_NONE;
    CHECK(srtp_ctx_new(&a) == NULL);
    a.profile = (srtp_profile_id)2; /* AES128_CM_SHA1_32: not supported */
    CHECK(srtp_ctx_new(&a) == NULL);
    CHECK(srtp_ctx_new(NULL) == NULL);
    srtp_ctx_free(NULL);

    /* Mismatched keys: nothing decrypts. */
    dtls_srtp_keys c, e;
    make_keys(SRTP_PROFILE_AEAD_AES_128_GCM, &a, &b);
    make_keys(SRTP_PROFILE_AEAD_AES_128_GCM, &c, &e);
    srtp_ctx *x = srtp_ctx_new(&a), *y = srtp_ctx_new(&e);
    uint8_t buf[BUF + SRTP_CTX_MAX_TRAILER];
    size_t n = make_rtp(buf, 1, 1, 50);
    CHECK_INT(srtp_ctx_protect_rtp(x, buf, &n, sizeof buf), 0);
    CHECK_INT(srtp_ctx_unprotect_rtp(y, buf, &n), -1);
    srtp_ctx_free(x);
    srtp_ctx_free(y);
}

/* Keys from a real in-memory DTLS handshake drive SRTP both ways. */
typedef struct q1 {
    uint8_t data[16][DTLS_MTU];
    size_t len[16];
    int n;
} q1;

static void q1_send(void *ud, const uint8_t *data, size_t len)
{
    q1 *q = ud;
    CHECK(q->n < 16 && len <= DTLS_MTU);
    memcpy(q->data[q->n], data, len);
    q->len[q->n++] = len;
}

static void q1_deliver(q1 *q, dtls_session *s)
{
    q1 tmp = *q;
    q->n = 0;
    for (int i = 0; i < tmp.n; i++)
        dtls_session_feed(s, tmp.data[i], tmp.len[i]);
}

static void test_from_dtls(void)
{
    dtls_cert *cc = dtls_cert_new(), *sc = dtls_cert_new();
    q1 *to_s = xcalloc(1, sizeof *to_s), *to_c = xcalloc(1, sizeof *to_c);
    dtls_session *c =
        dtls_session_new(cc, DTLS_ROLE_CLIENT, dtls_cert_fingerprint(sc), q1_send, to_s);
    dtls_session *s =
        dtls_session_new(sc, DTLS_ROLE_SERVER, dtls_cert_fingerprint(cc), q1_send, to_c);
    dtls_session_start(c);
    for (int i = 0; i < 6; i++) {
        q1_deliver(to_s, s);
        q1_deliver(to_c, c);
    }
    CHECK_INT(dtls_session_state(c), DTLS_CONNECTED);
    CHECK_INT(dtls_session_state(s), DTLS_CONNECTED);
    dtls_srtp_keys kc, ks;
    CHECK(dtls_session_srtp_keys(c, &kc) && dtls_session_srtp_keys(s, &ks));
    duo d = {srtp_ctx_new(&kc), srtp_ctx_new(&ks), kc.profile};
    CHECK(d.a && d.b);
    uint8_t pkt[BUF];
    size_t len = make_rtp(pkt, 1, 0xabcdef01, 200);
    roundtrip_rtp(&d, d.a, d.b, pkt, len);
    roundtrip_rtp(&d, d.b, d.a, pkt, len);
    duo_free(&d);
    dtls_session_free(c);
    dtls_session_free(s);
    dtls_cert_free(cc);
    dtls_cert_free(sc);
    free(to_s);
    free(to_c);
}

TEST_MAIN(TEST(test_rtp_roundtrip_gcm), TEST(test_rtp_roundtrip_cm), TEST(test_rtcp_roundtrip_gcm),
          TEST(test_rtcp_roundtrip_cm), TEST(test_tamper_gcm), TEST(test_tamper_cm),
          TEST(test_replay_gcm), TEST(test_replay_cm), TEST(test_many_ssrcs),
          TEST(test_headers_gcm), TEST(test_headers_cm), TEST(test_hostile_gcm),
          TEST(test_hostile_cm), TEST(test_bad_keys), TEST(test_from_dtls))
