/* Unit tests: common/rtp.c (RTP parsing with CSRCs, RFC 8285 extensions and
 * padding, every truncation and bad length, in-place rewriters, RFC 5761
 * demux, RTCP compound iteration, SR/RR report blocks, PLI/FIR/REMB/NACK/TCC
 * classification, malformed compounds, builders parsed back). */
#include "rtp.h"
#include "test.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Minimal RTP: V=2, PT 96, seq 1, ts 1000, SSRC 0x12345678, 4-byte payload. */
static const uint8_t rtp_min[] = {0x80, 0x60, 0x00, 0x01, 0x00, 0x00, 0x03, 0xe8,
                                  0x12, 0x34, 0x56, 0x78, 0xde, 0xad, 0xbe, 0xef};

/* CC=2, marker, PT 96, seq 0xabcd, two CSRCs, 2-byte payload. */
static const uint8_t rtp_csrc[] = {0x82, 0xe0, 0xab, 0xcd, 0x00, 0x01, 0x00, 0x00,
                                   0xca, 0xfe, 0xba, 0xbe, 0x00, 0x00, 0x00, 0x01,
                                   0x00, 0x00, 0x00, 0x02, 0x01, 0x02};

/* One-byte extensions (0xBEDE, 3 words): audio level id 1 (1 byte), a
 * padding byte, abs-send-time id 3 (3 bytes), transport-cc id 5 (2 bytes),
 * two padding bytes; then a 3-byte payload. PT 111 (Opus). */
static const uint8_t rtp_ext1[] = {
    0x90, 0x6f, 0x1a, 0x2b, 0x00, 0x00, 0x10, 0x00, 0x11, 0x22, 0x33, 0x44, /* header */
    0xbe, 0xde, 0x00, 0x03,                                                 /* ext hdr */
    0x10, 0xaa, 0x00, 0x32, 0x12, 0x34, 0x56, 0x51, 0x00, 0x07, 0x00, 0x00, /* elements */
    0x01, 0x02, 0x03,                                                       /* payload */
};

/* One-byte extensions with the reserved id 15 in the middle: id 1 is
 * found, id 2 (after the 15) is not. */
static const uint8_t rtp_ext1_stop[] = {
    0x90, 0x60, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0xbe, 0xde, 0x00, 0x02, 0x10, 0xaa, 0xf0, 0x22, 0x01, 0x02, 0x03, 0x00,
};

/* Two-byte extensions (0x1001, 3 words): id 1 (2 bytes), padding, id 12
 * (0 bytes), id 200 (3 bytes); no payload. */
static const uint8_t rtp_ext2[] = {
    0x90, 0x60, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x10, 0x01,
    0x00, 0x03, 0x01, 0x02, 0xab, 0xcd, 0x00, 0x0c, 0x00, 0xc8, 0x03, 0x11, 0x22, 0x33,
};

/* Padding: 2-byte payload then 3 padding bytes. */
static const uint8_t rtp_pad[] = {0xa0, 0x60, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00,
                                  0x00, 0x00, 0x01, 0x55, 0x66, 0x00, 0x00, 0x03};

/* Padding only (a bandwidth probe): 4 padding bytes, no payload. */
static const uint8_t rtp_pad_only[] = {0xa0, 0x60, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00,
                                       0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x04};

static void test_rtp_parse_valid(void)
{
    static const struct {
        const char *name;
        const uint8_t *buf;
        size_t len;
        int marker, pt, seq;
        uint32_t ts, ssrc;
        int cc, header_len, payload_len, padding_len, ext_profile, ext_len;
    } cases[] = {
        {"min", rtp_min, sizeof rtp_min, 0, 96, 1, 1000, 0x12345678, 0, 12, 4, 0, 0, 0},
        {"csrc", rtp_csrc, sizeof rtp_csrc, 1, 96, 0xabcd, 0x10000, 0xcafebabe, 2, 20, 2, 0, 0, 0},
        {"ext1", rtp_ext1, sizeof rtp_ext1, 0, 111, 0x1a2b, 0x1000, 0x11223344, 0, 28, 3, 0, 0xbede,
         12},
        {"ext1_stop", rtp_ext1_stop, sizeof rtp_ext1_stop, 0, 96, 2, 0, 1, 0, 24, 0, 0, 0xbede, 8},
        {"ext2", rtp_ext2, sizeof rtp_ext2, 0, 96, 3, 0, 1, 0, 28, 0, 0, 0x1001, 12},
        {"pad", rtp_pad, sizeof rtp_pad, 0, 96, 4, 0, 1, 0, 12, 2, 3, 0, 0},
        {"pad_only", rtp_pad_only, sizeof rtp_pad_only, 0, 96, 5, 0, 1, 0, 12, 0, 4, 0, 0},
    };
    for (size_t i = 0; i < N(cases); i++) {
        rtp_view v;
        CHECK_INT(rtp_parse(cases[i].buf, cases[i].len, &v), 0);
        CHECK(v.buf == cases[i].buf);
        CHECK_INT(v.len, cases[i].len);
        CHECK_INT(v.marker, cases[i].marker);
        CHECK_INT(v.pt, cases[i].pt);
        CHECK_INT(v.seq, cases[i].seq);
        CHECK_INT(v.timestamp, cases[i].ts);
        CHECK_INT(v.ssrc, cases[i].ssrc);
        CHECK_INT(v.csrc_count, cases[i].cc);
        CHECK_INT(v.header_len, cases[i].header_len);
        CHECK_INT(v.payload_off, cases[i].header_len);
        CHECK_INT(v.payload_len, cases[i].payload_len);
        CHECK_INT(v.padding_len, cases[i].padding_len);
        CHECK_INT(v.ext_profile, cases[i].ext_profile);
        CHECK_INT(v.ext_len, cases[i].ext_len);
        CHECK((v.ext != NULL) == (cases[i].ext_profile != 0));
        if (v.ext)
            CHECK(v.ext == cases[i].buf + cases[i].header_len - cases[i].ext_len);
        CHECK_INT(v.payload_off + v.payload_len + v.padding_len, cases[i].len);
    }
    rtp_view v;
    CHECK_INT(rtp_parse(rtp_csrc, sizeof rtp_csrc, &v), 0);
    CHECK_INT(rtp_csrc[v.payload_off], 0x01);
}

static void test_rtp_ext_find(void)
{
    static const struct {
        const uint8_t *buf;
        size_t len;
        uint8_t id;
        int rc;
        size_t want_len;
        uint8_t want[3];
    } cases[] = {
        {rtp_ext1, sizeof rtp_ext1, 1, 0, 1, {0xaa}},
        {rtp_ext1, sizeof rtp_ext1, 3, 0, 3, {0x12, 0x34, 0x56}}, /* after a padding byte */
        {rtp_ext1, sizeof rtp_ext1, 5, 0, 2, {0x00, 0x07}},
        {rtp_ext1, sizeof rtp_ext1, 2, -1, 0, {0}},  /* absent */
        {rtp_ext1, sizeof rtp_ext1, 0, -1, 0, {0}},  /* id 0 is padding */
        {rtp_ext1, sizeof rtp_ext1, 15, -1, 0, {0}}, /* reserved */
        {rtp_ext1, sizeof rtp_ext1, 16, -1, 0, {0}}, /* no such one-byte id */
        {rtp_ext1_stop, sizeof rtp_ext1_stop, 1, 0, 1, {0xaa}},
        {rtp_ext1_stop, sizeof rtp_ext1_stop, 2, -1, 0, {0}}, /* behind id 15 */
        {rtp_ext2, sizeof rtp_ext2, 1, 0, 2, {0xab, 0xcd}},
        {rtp_ext2, sizeof rtp_ext2, 12, 0, 0, {0}}, /* zero-length element */
        {rtp_ext2, sizeof rtp_ext2, 200, 0, 3, {0x11, 0x22, 0x33}},
        {rtp_ext2, sizeof rtp_ext2, 15, -1, 0, {0}},
        {rtp_ext2, sizeof rtp_ext2, 0, -1, 0, {0}},
        {rtp_min, sizeof rtp_min, 1, -1, 0, {0}}, /* no extension */
    };
    for (size_t i = 0; i < N(cases); i++) {
        rtp_view v;
        const uint8_t *data = NULL;
        size_t len = 99;
        CHECK_INT(rtp_parse(cases[i].buf, cases[i].len, &v), 0);
        CHECK_INT(rtp_ext_find(&v, cases[i].id, &data, &len), cases[i].rc);
        if (cases[i].rc == 0) {
            CHECK_INT(len, cases[i].want_len);
            CHECK(data >= v.ext && data + len <= v.ext + v.ext_len);
            CHECK(memcmp(data, cases[i].want, len) == 0);
        }
    }
}

static void test_rtp_ext_bad_blocks(void)
{
    /* Elements that run past their block, and an unknown profile. */
    static const struct {
        uint8_t ext[8];
        uint8_t id;
    } cases[] = {
        {{0xbe, 0xde, 0x00, 0x01, 0x13, 0x01, 0x02, 0x03}, 1}, /* id 1 needs 4 bytes, has 3 */
        {{0xbe, 0xde, 0x00, 0x01, 0x00, 0x00, 0x00, 0x20}, 2}, /* last byte: id 2, no data */
        {{0x10, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05}, 5}, /* two-byte id, no length */
        {{0x10, 0x00, 0x00, 0x01, 0x05, 0x03, 0x01, 0x02}, 5}, /* length 3, 2 left */
        {{0x12, 0x34, 0x00, 0x01, 0x10, 0xaa, 0x00, 0x00}, 1}, /* other profile */
    };
    for (size_t i = 0; i < N(cases); i++) {
        uint8_t pkt[20] = {0x90, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1};
        memcpy(pkt + 12, cases[i].ext, 8);
        rtp_view v;
        const uint8_t *data;
        size_t len;
        CHECK_INT(rtp_parse(pkt, sizeof pkt, &v), 0);
        CHECK_INT(rtp_ext_find(&v, cases[i].id, &data, &len), -1);
    }
}

static void test_rtp_parse_truncations(void)
{
    /* Every prefix shorter than the header fails; longer ones parse. */
    static const struct {
        const uint8_t *buf;
        size_t len, header_len;
    } pkts[] = {
        {rtp_min, sizeof rtp_min, 12},
        {rtp_csrc, sizeof rtp_csrc, 20},
        {rtp_ext1, sizeof rtp_ext1, 28},
        {rtp_ext2, sizeof rtp_ext2, 28},
    };
    for (size_t p = 0; p < N(pkts); p++) {
        for (size_t len = 0; len <= pkts[p].len; len++) {
            uint8_t buf[64];
            memcpy(buf, pkts[p].buf, len);
            rtp_view v;
            int want = len < pkts[p].header_len ? -1 : 0;
            CHECK_INT(rtp_parse(buf, len, &v), want);
        }
    }
    /* With padding, a truncation also cuts the padding count off. */
    rtp_view v;
    for (size_t len = 0; len < sizeof rtp_pad; len++)
        CHECK_INT(rtp_parse(rtp_pad, len, &v), -1);
    CHECK_INT(rtp_parse(NULL, 12, &v), -1);
    CHECK_INT(rtp_parse(rtp_min, sizeof rtp_min, NULL), -1);
}

static void test_rtp_parse_bad(void)
{
    static const struct {
        const char *name;
        uint8_t buf[20];
        size_t len;
    } cases[] = {
        {"version 0", {0x00, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xaa}, 13},
        {"version 1", {0x40, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xaa}, 13},
        {"version 3", {0xc0, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xaa}, 13},
        {"cc past end", {0x82, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1}, 16},
        {"cc 15", {0x8f, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}, 20},
        {"ext hdr cut", {0x90, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde, 0}, 15},
        {"ext len past end",
         {0x90, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde, 0, 2, 0x10},
         20},
        {"ext len huge", {0x90, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde, 0xff, 0xff}, 20},
        {"ext after csrc cut", {0x91, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0xbe}, 17},
        {"pad no room", {0xa0, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}, 12},
        {"pad count 0", {0xa0, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xaa, 0x00}, 14},
        {"pad > payload", {0xa0, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xaa, 0x03}, 14},
        {"pad into ext",
         {0xb0, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde, 0, 1, 0x10, 0xaa, 0, 0x05},
         20},
        {"pad 255", {0xa0, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xaa, 0xff}, 14},
    };
    for (size_t i = 0; i < N(cases); i++) {
        rtp_view v;
        CHECK_INT(rtp_parse(cases[i].buf, cases[i].len, &v), -1);
    }
}

static void test_rtp_rewriters(void)
{
    static const struct {
        const uint8_t *buf;
        size_t len;
    } pkts[] = {
        {rtp_min, sizeof rtp_min},
        {rtp_csrc, sizeof rtp_csrc},
        {rtp_ext1, sizeof rtp_ext1},
        {rtp_pad, sizeof rtp_pad},
    };
    for (size_t p = 0; p < N(pkts); p++) {
        uint8_t buf[64];
        memcpy(buf, pkts[p].buf, pkts[p].len);
        rtp_view before, after;
        CHECK_INT(rtp_parse(buf, pkts[p].len, &before), 0);
        CHECK_INT(rtp_set_ssrc(buf, pkts[p].len, 0xdeadbeef), 0);
        CHECK_INT(rtp_set_seq(buf, pkts[p].len, 65535), 0);
        CHECK_INT(rtp_set_timestamp(buf, pkts[p].len, 0xfffffff0), 0);
        CHECK_INT(rtp_set_pt(buf, pkts[p].len, 100), 0);
        CHECK_INT(rtp_parse(buf, pkts[p].len, &after), 0);
        CHECK_INT(after.ssrc, 0xdeadbeef);
        CHECK_INT(after.seq, 65535);
        CHECK_INT(after.timestamp, 0xfffffff0);
        CHECK_INT(after.pt, 100);
        CHECK_INT(after.marker, before.marker);
        CHECK_INT(after.csrc_count, before.csrc_count);
        CHECK_INT(after.payload_off, before.payload_off);
        CHECK_INT(after.payload_len, before.payload_len);
        CHECK(memcmp(buf + 12, pkts[p].buf + 12, pkts[p].len - 12) == 0);
        /* and back */
        CHECK_INT(rtp_set_ssrc(buf, pkts[p].len, before.ssrc), 0);
        CHECK_INT(rtp_set_seq(buf, pkts[p].len, before.seq), 0);
        CHECK_INT(rtp_set_timestamp(buf, pkts[p].len, before.timestamp), 0);
        CHECK_INT(rtp_set_pt(buf, pkts[p].len, before.pt), 0);
        CHECK(memcmp(buf, pkts[p].buf, pkts[p].len) == 0);
    }
    uint8_t buf[16];
    memcpy(buf, rtp_min, sizeof buf);
    CHECK_INT(rtp_set_pt(buf, sizeof buf, 128), -1);
    CHECK_INT(rtp_set_ssrc(buf, 11, 1), -1);
    CHECK_INT(rtp_set_seq(buf, 11, 1), -1);
    CHECK_INT(rtp_set_timestamp(buf, 11, 1), -1);
    CHECK_INT(rtp_set_pt(buf, 11, 1), -1);
    CHECK(memcmp(buf, rtp_min, sizeof buf) == 0);
}

static void test_rtp_is_rtcp(void)
{
    static const struct {
        uint8_t b0, b1;
        size_t len;
        bool want;
    } cases[] = {
        {0x80, 200, 8, true},    {0x81, 201, 8, true},    {0x81, 206, 12, true},
        {0x80, 192, 4, true},    {0x80, 223, 4, true},    {0x80, 191, 4, false},
        {0x80, 224, 4, false},   {0x80, 0x60, 12, false}, {0x80, 0xe0, 12, false},
        {0x80, 0x6f, 12, false}, {0x40, 200, 8, false},   {0x80, 200, 3, false},
    };
    for (size_t i = 0; i < N(cases); i++) {
        uint8_t buf[12] = {cases[i].b0, cases[i].b1};
        CHECK_INT(rtp_is_rtcp(buf, cases[i].len), cases[i].want);
    }
    CHECK(!rtp_is_rtcp(NULL, 8));
}

/* Browser-like compound: SR with one report block, then SDES with a CNAME. */
static const uint8_t pkt_sr_sdes[] = {
    0x81, 0xc8, 0x00, 0x0c, 0x5c, 0x4f, 0x1a, 0x2b,                         /* SR, SSRC */
    0xe8, 0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07,                         /* NTP */
    0x00, 0x01, 0xe2, 0x40, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x04, 0x93, 0xe0, /* ts, counts */
    0x11, 0x22, 0x33, 0x44, 0x10, 0xff, 0xff, 0xfe, 0x00, 0x01, 0x00, 0x05, /* report */
    0x00, 0x00, 0x00, 0x20, 0xb2, 0xc3, 0xd4, 0xe5, 0x00, 0x01, 0x80, 0x00, /* block */
    0x81, 0xca, 0x00, 0x06, 0x5c, 0x4f, 0x1a, 0x2b, 0x01, 0x10, 'a',  'b',  /* SDES */
    'c',  'd',  'e',  'f',  'g',  'h',  'i',  'j',  'k',  'l',  'm',  'n',  /* CNAME */
    'o',  'p',  0x00, 0x00,
};

static const uint8_t pkt_rr[] = {
    0x81, 0xc9, 0x00, 0x07, 0x00, 0x00, 0x00, 0x01, 0x5c, 0x4f, 0x1a, 0x2b, 0x05, 0x00, 0x00, 0x05,
    0x00, 0x00, 0x12, 0x34, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* BYE with a reason, padded to a word. */
static const uint8_t pkt_bye[] = {0x81, 0xcb, 0x00, 0x03, 0x5c, 0x4f, 0x1a, 0x2b,
                                  0x04, 'b',  'y',  'e',  '!',  0x00, 0x00, 0x00};

static const uint8_t pkt_pli[] = {0x81, 0xce, 0x00, 0x02, 0x00, 0x00,
                                  0x00, 0x01, 0x5c, 0x4f, 0x1a, 0x2b};

static const uint8_t pkt_fir[] = {0x84, 0xce, 0x00, 0x06, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
                                  0x00, 0x00, 0xaa, 0xaa, 0xaa, 0xaa, 0x05, 0x00, 0x00, 0x00,
                                  0xbb, 0xbb, 0xbb, 0xbb, 0x06, 0x00, 0x00, 0x00};

/* REMB: 1.5 Mbit/s (mantissa 187500, exponent 3) for two SSRCs. */
static const uint8_t pkt_remb[] = {0x8f, 0xce, 0x00, 0x06, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
                                   0x00, 0x00, 'R',  'E',  'M',  'B',  0x02, 0x0e, 0xdc, 0x6c,
                                   0xaa, 0xaa, 0xaa, 0xaa, 0xbb, 0xbb, 0xbb, 0xbb};

/* NACK: PID 100 BLP 0x0005 (100, 101, 103); PID 65534 BLP 0x8001 (65534,
 * 65535, 14: wraps). */
static const uint8_t pkt_nack[] = {0x81, 0xcd, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, 0x5c, 0x4f,
                                   0x1a, 0x2b, 0x00, 0x64, 0x00, 0x05, 0xff, 0xfe, 0x80, 0x01};

/* transport-cc feedback: passed through untouched. */
static const uint8_t pkt_tcc[] = {0x8f, 0xcd, 0x00, 0x05, 0x00, 0x00, 0x00, 0x01,
                                  0x5c, 0x4f, 0x1a, 0x2b, 0x00, 0x01, 0x00, 0x02,
                                  0x00, 0x00, 0x01, 0x00, 0x20, 0x02, 0x04, 0x08};

static void test_rtcp_sr_sdes(void)
{
    size_t off = 0;
    rtcp_view v;
    CHECK_INT(rtcp_next(pkt_sr_sdes, sizeof pkt_sr_sdes, &off, &v), 1);
    CHECK_INT(v.type, RTCP_SR);
    CHECK_INT(v.count, 1);
    CHECK_INT(v.len, 52);
    CHECK_INT(v.sender_ssrc, 0x5c4f1a2b);
    CHECK_INT(rtcp_fb_kind(&v), RTCP_FB_NONE);
    rtcp_sender_info si;
    CHECK_INT(rtcp_sr_get(&v, &si), 0);
    CHECK(si.ntp == 0xe8a1b2c3d4e5f607ull);
    CHECK_INT(si.rtp_timestamp, 123456);
    CHECK_INT(si.packet_count, 300);
    CHECK_INT(si.octet_count, 300000);
    rtcp_report rb;
    CHECK_INT(rtcp_report_get(&v, 0, &rb), 0);
    CHECK_INT(rb.ssrc, 0x11223344);
    CHECK_INT(rb.fraction_lost, 0x10);
    CHECK_INT(rb.cumulative_lost, -2);
    CHECK_INT(rb.highest_seq, 0x10005);
    CHECK_INT(rb.jitter, 32);
    CHECK_INT(rb.lsr, 0xb2c3d4e5);
    CHECK_INT(rb.dlsr, 0x18000);
    CHECK_INT(rtcp_report_get(&v, 1, &rb), -1);

    CHECK_INT(rtcp_next(pkt_sr_sdes, sizeof pkt_sr_sdes, &off, &v), 1);
    CHECK_INT(v.type, RTCP_SDES);
    CHECK_INT(v.count, 1);
    CHECK_INT(v.len, 28);
    CHECK_INT(v.sender_ssrc, 0x5c4f1a2b);
    CHECK_INT(v.body_len, 24);
    CHECK_INT(v.body[4], 1); /* CNAME */
    CHECK_INT(v.body[5], 16);
    CHECK(memcmp(v.body + 6, "abcdefghijklmnop", 16) == 0);
    CHECK_INT(rtcp_sr_get(&v, &si), -1);
    CHECK_INT(rtcp_report_get(&v, 0, &rb), -1);
    CHECK_INT(rtcp_next(pkt_sr_sdes, sizeof pkt_sr_sdes, &off, &v), 0);
    CHECK_INT(off, sizeof pkt_sr_sdes);
}

/* Single blocks: type, count, SSRCs, classification. */
static void test_rtcp_blocks(void)
{
    static const struct {
        const char *name;
        const uint8_t *buf;
        size_t len;
        int type, count;
        uint32_t sender, media;
        rtcp_fb_type kind;
        size_t body_len;
    } cases[] = {
        {"rr", pkt_rr, sizeof pkt_rr, RTCP_RR, 1, 1, 0, RTCP_FB_NONE, 24},
        {"bye", pkt_bye, sizeof pkt_bye, RTCP_BYE, 1, 0x5c4f1a2b, 0, RTCP_FB_NONE, 12},
        {"pli", pkt_pli, sizeof pkt_pli, RTCP_PSFB, 1, 1, 0x5c4f1a2b, RTCP_FB_PLI, 0},
        {"fir", pkt_fir, sizeof pkt_fir, RTCP_PSFB, 4, 1, 0, RTCP_FB_FIR, 16},
        {"remb", pkt_remb, sizeof pkt_remb, RTCP_PSFB, 15, 1, 0, RTCP_FB_REMB, 16},
        {"nack", pkt_nack, sizeof pkt_nack, RTCP_RTPFB, 1, 1, 0x5c4f1a2b, RTCP_FB_NACK, 8},
        {"tcc", pkt_tcc, sizeof pkt_tcc, RTCP_RTPFB, 15, 1, 0x5c4f1a2b, RTCP_FB_TCC, 12},
    };
    for (size_t i = 0; i < N(cases); i++) {
        size_t off = 0;
        rtcp_view v;
        CHECK_INT(rtcp_next(cases[i].buf, cases[i].len, &off, &v), 1);
        CHECK(v.buf == cases[i].buf);
        CHECK_INT(v.len, cases[i].len);
        CHECK_INT(v.type, cases[i].type);
        CHECK_INT(v.count, cases[i].count);
        CHECK_INT(v.sender_ssrc, cases[i].sender);
        CHECK_INT(v.media_ssrc, cases[i].media);
        CHECK_INT(v.padding_len, 0);
        CHECK_INT(rtcp_fb_kind(&v), cases[i].kind);
        CHECK_INT(v.body_len, cases[i].body_len);
        CHECK(v.body + v.body_len == cases[i].buf + cases[i].len);
        CHECK_INT(rtcp_next(cases[i].buf, cases[i].len, &off, &v), 0);
    }
}

static void test_rtcp_rr_report(void)
{
    size_t off = 0;
    rtcp_view v;
    rtcp_report rb;
    CHECK_INT(rtcp_next(pkt_rr, sizeof pkt_rr, &off, &v), 1);
    CHECK_INT(rtcp_report_get(&v, 0, &rb), 0);
    CHECK_INT(rb.ssrc, 0x5c4f1a2b);
    CHECK_INT(rb.fraction_lost, 5);
    CHECK_INT(rb.cumulative_lost, 5);
    CHECK_INT(rb.highest_seq, 0x1234);
    CHECK_INT(rb.jitter, 16);
    CHECK_INT(rb.lsr, 0);
    CHECK_INT(rb.dlsr, 0);
    rtcp_sender_info si;
    CHECK_INT(rtcp_sr_get(&v, &si), -1);
}

static void test_rtcp_fir(void)
{
    size_t off = 0;
    rtcp_view v;
    CHECK_INT(rtcp_next(pkt_fir, sizeof pkt_fir, &off, &v), 1);
    CHECK_INT(rtcp_fir_count(&v), 2);
    static const struct {
        uint32_t ssrc;
        uint8_t seq;
    } want[] = {{0xaaaaaaaa, 5}, {0xbbbbbbbb, 6}};
    for (size_t i = 0; i < N(want); i++) {
        uint32_t ssrc;
        uint8_t seq;
        CHECK_INT(rtcp_fir_get(&v, i, &ssrc, &seq), 0);
        CHECK_INT(ssrc, want[i].ssrc);
        CHECK_INT(seq, want[i].seq);
    }
    CHECK_INT(rtcp_fir_get(&v, 2, NULL, NULL), -1);
    /* a PLI is no FIR */
    off = 0;
    CHECK_INT(rtcp_next(pkt_pli, sizeof pkt_pli, &off, &v), 1);
    CHECK_INT(rtcp_fir_count(&v), 0);
    CHECK_INT(rtcp_fir_get(&v, 0, NULL, NULL), -1);
}

static void test_rtcp_remb(void)
{
    size_t off = 0;
    rtcp_view v;
    rtcp_remb r;
    CHECK_INT(rtcp_next(pkt_remb, sizeof pkt_remb, &off, &v), 1);
    CHECK_INT(rtcp_remb_parse(&v, &r), 0);
    CHECK(r.bitrate == 1500000);
    CHECK_INT(r.num_ssrcs, 2);
    CHECK_INT(rtcp_remb_ssrc(&r, 0), 0xaaaaaaaa);
    CHECK_INT(rtcp_remb_ssrc(&r, 1), 0xbbbbbbbb);
    CHECK_INT(rtcp_remb_ssrc(&r, 2), 0);

    /* Variants of the FCI: bitrate edge cases, SSRC count past the end,
     * another application-layer FB. */
    static const struct {
        uint8_t fci[8];
        rtcp_fb_type kind;
        uint64_t bitrate;
    } cases[] = {
        {{'R', 'E', 'M', 'B', 0, 0x00, 0x00, 0x00}, RTCP_FB_REMB, 0},
        {{'R', 'E', 'M', 'B', 0, 0x03, 0xff, 0xff}, RTCP_FB_REMB, 262143},
        {{'R', 'E', 'M', 'B', 0, 0xb8, 0x00, 0x01}, RTCP_FB_REMB, 1ull << 46},
        {{'R', 'E', 'M', 'B', 0, 0xbb, 0xff, 0xff}, RTCP_FB_REMB, 262143ull << 46},
        {{'R', 'E', 'M', 'B', 0, 0xbc, 0x00, 0x01}, RTCP_FB_REMB, 1ull << 47},
        {{'R', 'E', 'M', 'B', 0, 0xff, 0xff, 0xff}, RTCP_FB_INVALID, 0}, /* overflow */
        {{'R', 'E', 'M', 'B', 0, 0xfc, 0x00, 0x01}, RTCP_FB_REMB, 1ull << 63},
        {{'R', 'E', 'M', 'B', 1, 0x00, 0x00, 0x01}, RTCP_FB_INVALID, 0}, /* SSRC missing */
        {{'A', 'B', 'C', 'D', 0, 0x00, 0x00, 0x01}, RTCP_FB_OTHER, 0},
    };
    for (size_t i = 0; i < N(cases); i++) {
        uint8_t pkt[20] = {0x8f, 0xce, 0x00, 0x04, 0, 0, 0, 1, 0, 0, 0, 0};
        memcpy(pkt + 12, cases[i].fci, 8);
        off = 0;
        CHECK_INT(rtcp_next(pkt, sizeof pkt, &off, &v), 1);
        CHECK_INT(rtcp_fb_kind(&v), cases[i].kind);
        if (cases[i].kind == RTCP_FB_REMB) {
            CHECK_INT(rtcp_remb_parse(&v, &r), 0);
            CHECK(r.bitrate == cases[i].bitrate);
            CHECK_INT(r.num_ssrcs, 0);
        } else {
            CHECK_INT(rtcp_remb_parse(&v, &r), -1);
        }
    }
    /* "REMB" identifier but no room for the rest */
    static const uint8_t short_remb[] = {0x8f, 0xce, 0x00, 0x03, 0,   0,   0,   1,
                                         0,    0,    0,    0,    'R', 'E', 'M', 'B'};
    off = 0;
    CHECK_INT(rtcp_next(short_remb, sizeof short_remb, &off, &v), 1);
    CHECK_INT(rtcp_fb_kind(&v), RTCP_FB_INVALID);
}

static void nack_collect(uint16_t seq, void *arg)
{
    uint16_t *out = arg;
    out[++out[0]] = seq; /* out[0] counts */
}

static void test_rtcp_nack(void)
{
    size_t off = 0;
    rtcp_view v;
    CHECK_INT(rtcp_next(pkt_nack, sizeof pkt_nack, &off, &v), 1);
    static const uint16_t want[] = {100, 101, 103, 65534, 65535, 14};
    uint16_t got[8];
    CHECK_INT(rtcp_nack_list(&v, got, N(got)), N(want));
    CHECK(memcmp(got, want, sizeof want) == 0);
    /* bounded: only cap stored, total still reported */
    uint16_t small[4] = {0, 0, 0, 0xbeef};
    CHECK_INT(rtcp_nack_list(&v, small, 3), N(want));
    CHECK(memcmp(small, want, 3 * sizeof small[0]) == 0);
    CHECK_INT(small[3], 0xbeef);
    CHECK_INT(rtcp_nack_list(&v, NULL, 0), N(want));
    uint16_t cb[32] = {0};
    CHECK_INT(rtcp_nack_foreach(&v, nack_collect, cb), N(want));
    CHECK_INT(cb[0], N(want));
    CHECK(memcmp(cb + 1, want, sizeof want) == 0);
    CHECK_INT(rtcp_nack_foreach(&v, NULL, NULL), N(want));

    /* all 16 BLP bits, wrapping */
    static const uint8_t full[] = {0x81, 0xcd, 0x00, 0x03, 0,    0,    0,    1,
                                   0,    0,    0,    2,    0xff, 0xf8, 0xff, 0xff};
    off = 0;
    CHECK_INT(rtcp_next(full, sizeof full, &off, &v), 1);
    uint16_t all[17];
    CHECK_INT(rtcp_nack_list(&v, all, N(all)), 17);
    for (unsigned i = 0; i < 17; i++)
        CHECK_INT(all[i], (uint16_t)(65528 + i));

    /* a NACK without FCI is invalid; a PLI is no NACK */
    static const uint8_t empty[] = {0x81, 0xcd, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2};
    off = 0;
    CHECK_INT(rtcp_next(empty, sizeof empty, &off, &v), 1);
    CHECK_INT(rtcp_fb_kind(&v), RTCP_FB_INVALID);
    CHECK_INT(rtcp_nack_list(&v, got, N(got)), -1);
    off = 0;
    CHECK_INT(rtcp_next(pkt_pli, sizeof pkt_pli, &off, &v), 1);
    CHECK_INT(rtcp_nack_foreach(&v, NULL, NULL), -1);
}

/* Compounds that fail somewhere: how many blocks come out first. */
static void test_rtcp_malformed(void)
{
    static const struct {
        const char *name;
        uint8_t buf[40];
        size_t len;
        int good_blocks;
    } cases[] = {
        {"empty", {0}, 0, 0},
        {"not multiple of 4", {0x80, 0xc9, 0x00, 0x01, 0, 0, 0, 1, 0}, 9, 0},
        {"short", {0x80, 0xc9, 0x00}, 3, 0},
        {"length past end", {0x80, 0xc9, 0x00, 0x02, 0, 0, 0, 1}, 8, 0},
        {"length max", {0x80, 0xc9, 0xff, 0xff, 0, 0, 0, 1}, 8, 0},
        {"version 1", {0x40, 0xc9, 0x00, 0x01, 0, 0, 0, 1}, 8, 0},
        {"version 0", {0x00, 0x00, 0x00, 0x00}, 4, 0},
        {"second block bad version",
         {0x80, 0xc9, 0x00, 0x01, 0, 0, 0, 1, 0x40, 0xc9, 0x00, 0x01, 0, 0, 0, 1},
         16,
         1},
        {"second block past end",
         {0x80, 0xc9, 0x00, 0x01, 0, 0, 0, 1, 0x81, 0xce, 0x00, 0x02, 0, 0, 0, 1},
         16,
         1},
        {"rr count past block", {0x81, 0xc9, 0x00, 0x01, 0, 0, 0, 1}, 8, 0},
        {"sr too short", {0x80, 0xc8, 0x00, 0x01, 0, 0, 0, 1}, 8, 0},
        {"rr no ssrc", {0x80, 0xc9, 0x00, 0x00}, 4, 0},
        {"fb too short", {0x81, 0xce, 0x00, 0x01, 0, 0, 0, 1}, 8, 0},
        {"app too short", {0x80, 0xcc, 0x00, 0x01, 0, 0, 0, 1}, 8, 0},
        {"xr too short", {0x80, 0xcf, 0x00, 0x00}, 4, 0},
        {"padding 0", {0xa0, 0xc9, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 0}, 12, 0},
        {"padding past block", {0xa0, 0xc9, 0x00, 0x01, 0, 0, 0, 9}, 8, 0},
        {"padding eats ssrc", {0xa0, 0xc9, 0x00, 0x01, 0, 0, 0, 4}, 8, 0},
        {"fir fci not 8", {0x84, 0xce, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2}, 16, 1},
    };
    for (size_t i = 0; i < N(cases); i++) {
        size_t off = 0;
        rtcp_view v;
        for (int b = 0; b < cases[i].good_blocks; b++)
            CHECK_INT(rtcp_next(cases[i].buf, cases[i].len, &off, &v), 1);
        if (strcmp(cases[i].name, "fir fci not 8") == 0) {
            CHECK_INT(rtcp_fb_kind(&v), RTCP_FB_INVALID);
            CHECK_INT(rtcp_fir_count(&v), 0);
            continue;
        }
        size_t before = off;
        CHECK_INT(rtcp_next(cases[i].buf, cases[i].len, &off, &v), -1);
        CHECK_INT(off, before);
    }
    /* every truncation of the SR+SDES compound fails, except the one right
     * after the SR, which is a valid compound of one block */
    for (size_t len = 0; len < sizeof pkt_sr_sdes; len++) {
        size_t off = 0;
        rtcp_view v;
        int rc;
        while ((rc = rtcp_next(pkt_sr_sdes, len, &off, &v)) == 1)
            ;
        CHECK_INT(rc, len == 52 ? 0 : -1);
    }
}

static void test_rtcp_padding(void)
{
    /* RR (RC=0) with 4 bytes of padding, then a PLI. */
    static const uint8_t pkt[] = {0xa0, 0xc9, 0x00, 0x02, 0, 0, 0, 7, 0, 0, 0, 4,
                                  0x81, 0xce, 0x00, 0x02, 0, 0, 0, 7, 0, 0, 0, 8};
    size_t off = 0;
    rtcp_view v;
    CHECK_INT(rtcp_next(pkt, sizeof pkt, &off, &v), 1);
    CHECK_INT(v.type, RTCP_RR);
    CHECK_INT(v.len, 12);
    CHECK_INT(v.padding_len, 4);
    CHECK_INT(v.sender_ssrc, 7);
    CHECK_INT(v.body_len, 0);
    CHECK_INT(rtcp_next(pkt, sizeof pkt, &off, &v), 1);
    CHECK_INT(rtcp_fb_kind(&v), RTCP_FB_PLI);
    CHECK_INT(v.media_ssrc, 8);
    CHECK_INT(rtcp_next(pkt, sizeof pkt, &off, &v), 0);
}

static void test_rtcp_build_pli(void)
{
    uint8_t buf[16];
    CHECK_INT(rtcp_build_pli(buf, sizeof buf, 1, 0x5c4f1a2b), 12);
    CHECK(memcmp(buf, pkt_pli, sizeof pkt_pli) == 0);
    size_t off = 0;
    rtcp_view v;
    CHECK_INT(rtcp_next(buf, 12, &off, &v), 1);
    CHECK_INT(rtcp_fb_kind(&v), RTCP_FB_PLI);
    CHECK_INT(v.sender_ssrc, 1);
    CHECK_INT(v.media_ssrc, 0x5c4f1a2b);
    CHECK_INT(rtcp_build_pli(buf, 11, 1, 2), -1);
}

static void test_rtcp_build_rr(void)
{
    static const rtcp_report cases[] = {
        {0x5c4f1a2b, 5, 5, 0x1234, 16, 0, 0},
        {0xffffffff, 255, -1, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
        {1, 0, 0x7fffff, 0, 0, 0, 0},
        {1, 0, -0x800000, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < N(cases); i++) {
        uint8_t buf[32];
        CHECK_INT(rtcp_build_rr(buf, sizeof buf, 1, &cases[i]), 32);
        if (i == 0)
            CHECK(memcmp(buf, pkt_rr, sizeof pkt_rr) == 0);
        size_t off = 0;
        rtcp_view v;
        rtcp_report rb;
        CHECK_INT(rtcp_next(buf, 32, &off, &v), 1);
        CHECK_INT(v.type, RTCP_RR);
        CHECK_INT(v.count, 1);
        CHECK_INT(v.sender_ssrc, 1);
        CHECK_INT(rtcp_report_get(&v, 0, &rb), 0);
        CHECK_INT(rb.ssrc, cases[i].ssrc);
        CHECK_INT(rb.fraction_lost, cases[i].fraction_lost);
        CHECK_INT(rb.cumulative_lost, cases[i].cumulative_lost);
        CHECK_INT(rb.highest_seq, cases[i].highest_seq);
        CHECK_INT(rb.jitter, cases[i].jitter);
        CHECK_INT(rb.lsr, cases[i].lsr);
        CHECK_INT(rb.dlsr, cases[i].dlsr);
        CHECK_INT(rtcp_next(buf, 32, &off, &v), 0);
    }
    /* clamping, no block, too small */
    rtcp_report big = {1, 0, 0x1000000, 0, 0, 0, 0}, neg = {1, 0, -0x1000000, 0, 0, 0, 0};
    uint8_t buf[32];
    size_t off = 0;
    rtcp_view v;
    rtcp_report rb;
    CHECK_INT(rtcp_build_rr(buf, sizeof buf, 1, &big), 32);
    CHECK_INT(rtcp_next(buf, 32, &off, &v), 1);
    CHECK_INT(rtcp_report_get(&v, 0, &rb), 0);
    CHECK_INT(rb.cumulative_lost, 0x7fffff);
    CHECK_INT(rtcp_build_rr(buf, sizeof buf, 1, &neg), 32);
    off = 0;
    CHECK_INT(rtcp_next(buf, 32, &off, &v), 1);
    CHECK_INT(rtcp_report_get(&v, 0, &rb), 0);
    CHECK_INT(rb.cumulative_lost, -0x800000);
    CHECK_INT(rtcp_build_rr(buf, sizeof buf, 9, NULL), 8);
    off = 0;
    CHECK_INT(rtcp_next(buf, 8, &off, &v), 1);
    CHECK_INT(v.count, 0);
    CHECK_INT(v.sender_ssrc, 9);
    CHECK_INT(rtcp_build_rr(buf, 31, 1, &cases[0]), -1);
    CHECK_INT(rtcp_build_rr(buf, 7, 1, NULL), -1);
}

static void test_rtcp_build_nack(void)
{
    static const struct {
        uint16_t in[20];
        size_t n;
        int pairs;
        uint16_t out[20]; /* expected expansion */
        size_t nout;
    } cases[] = {
        {{7}, 1, 1, {7}, 1},
        {{100, 101, 103}, 3, 1, {100, 101, 103}, 3},
        {{100, 116}, 2, 1, {100, 116}, 2},
        {{100, 117}, 2, 2, {100, 117}, 2},
        {{65534, 65535, 0, 5, 40}, 5, 2, {65534, 65535, 0, 5, 40}, 5},
        {{65535, 15}, 2, 1, {65535, 15}, 2},
        {{5, 5, 6}, 3, 1, {5, 6}, 2},
        {{10, 3}, 2, 2, {10, 3}, 2},
        {{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17},
         18,
         2,
         {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17},
         18},
    };
    for (size_t i = 0; i < N(cases); i++) {
        uint8_t buf[128];
        int len = rtcp_build_nack(buf, sizeof buf, 1, 2, cases[i].in, cases[i].n);
        CHECK_INT(len, 12 + 4 * cases[i].pairs);
        size_t off = 0;
        rtcp_view v;
        CHECK_INT(rtcp_next(buf, (size_t)len, &off, &v), 1);
        CHECK_INT(rtcp_fb_kind(&v), RTCP_FB_NACK);
        CHECK_INT(v.sender_ssrc, 1);
        CHECK_INT(v.media_ssrc, 2);
        uint16_t got[40];
        CHECK_INT(rtcp_nack_list(&v, got, N(got)), cases[i].nout);
        CHECK(memcmp(got, cases[i].out, cases[i].nout * sizeof got[0]) == 0);
        CHECK_INT(rtcp_next(buf, (size_t)len, &off, &v), 0);
    }
    /* the reference NACK rebuilt from its own expansion */
    static const uint16_t seqs[] = {100, 101, 103, 65534, 65535, 14};
    uint8_t buf[32];
    CHECK_INT(rtcp_build_nack(buf, sizeof buf, 1, 0x5c4f1a2b, seqs, N(seqs)), 20);
    CHECK(memcmp(buf, pkt_nack, sizeof pkt_nack) == 0);
    CHECK_INT(rtcp_build_nack(buf, 19, 1, 0x5c4f1a2b, seqs, N(seqs)), -1);
    CHECK_INT(rtcp_build_nack(buf, 15, 1, 2, seqs, 1), -1);
    CHECK_INT(rtcp_build_nack(buf, sizeof buf, 1, 2, seqs, 0), -1);
    CHECK_INT(rtcp_build_nack(buf, sizeof buf, 1, 2, NULL, 1), -1);
}

TEST_MAIN(TEST(test_rtp_parse_valid), TEST(test_rtp_ext_find), TEST(test_rtp_ext_bad_blocks),
          TEST(test_rtp_parse_truncations), TEST(test_rtp_parse_bad), TEST(test_rtp_rewriters),
          TEST(test_rtp_is_rtcp), TEST(test_rtcp_sr_sdes), TEST(test_rtcp_blocks),
          TEST(test_rtcp_rr_report), TEST(test_rtcp_fir), TEST(test_rtcp_remb),
          TEST(test_rtcp_nack), TEST(test_rtcp_malformed), TEST(test_rtcp_padding),
          TEST(test_rtcp_build_pli), TEST(test_rtcp_build_rr), TEST(test_rtcp_build_nack))
