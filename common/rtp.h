/* rtp: zero-copy parsing and in-place rewriting of RTP and RTCP for the
 * bridge's packet path (RFC 3550 RTP/RTCP, RFC 8285 header extensions,
 * RFC 5761 RTP/RTCP demultiplexing, RFC 4585 / RFC 5104 feedback, and the
 * REMB draft, draft-alvestrand-rmcat-remb).
 *
 * Ownership: nothing in this module allocates, and nothing keeps state
 * between calls. A view (rtp_view, rtcp_view, rtcp_remb) borrows the
 * caller's buffer: its pointers are valid only while that buffer is alive
 * and unchanged. Builders write into a buffer the caller provides and never
 * write past its capacity. Every parser bounds every read by the length it
 * is given and reports malformed input by returning -1; none aborts.
 * All multi-byte fields on the wire are big-endian; views hold host values.
 * Thread-safe: no global mutable state. */
#ifndef PARLEY_RTP_H
#define PARLEY_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTP_HEADER_MIN 12            /* fixed RTP header */
#define RTP_EXT_ONE_BYTE 0xBEDE      /* RFC 8285 one-byte header profile */
#define RTP_EXT_TWO_BYTE 0x1000      /* RFC 8285 two-byte: 0x100 + 4 appbits */
#define RTP_EXT_TWO_BYTE_MASK 0xFFF0 /* profile & mask == RTP_EXT_TWO_BYTE */

/* A parsed RTP packet; borrows buf. */
typedef struct rtp_view {
    const uint8_t *buf;   /* the whole packet */
    size_t len;           /* its length */
    bool marker;          /* M bit */
    uint8_t pt;           /* payload type, 0..127 */
    uint16_t seq;         /* sequence number */
    uint32_t timestamp;   /* RTP timestamp */
    uint32_t ssrc;        /* synchronization source */
    uint8_t csrc_count;   /* CC, 0..15; CSRCs start at buf + 12 */
    size_t header_len;    /* fixed header + CSRCs + extension (== payload_off) */
    size_t payload_off;   /* payload starts at buf + payload_off */
    size_t payload_len;   /* payload bytes, padding excluded (may be 0) */
    size_t padding_len;   /* trailing padding bytes incl. the count byte; 0 if none */
    uint16_t ext_profile; /* "defined by profile" field; 0 when no extension */
    const uint8_t *ext;   /* extension block body (after its 4-byte header), or NULL */
    size_t ext_len;       /* its length in bytes (a multiple of 4; may be 0) */
} rtp_view;

/* Parses an RTP packet of len bytes at buf into *out. Checks version 2, room
 * for the CSRC list, the extension header and its length (in 32-bit words)
 * within the packet, and, when the P bit is set, a padding count of at least
 * 1 that fits in what follows the header. Returns 0, or -1 on malformed
 * input (then *out is unspecified). */
int rtp_parse(const uint8_t *buf, size_t len, rtp_view *out);

/* Finds RFC 8285 header extension element id in v's extension block (one-
 * byte form for profile 0xBEDE, ids 1..14; two-byte form for 0x100x, ids
 * 1..255). Padding bytes (0) between elements are skipped; in one-byte form
 * id 15 ends the search. On success sets *data (borrowed from the packet)
 * and *len (may be 0 in two-byte form) and returns 0; returns -1 when there
 * is no extension, the profile is another one, the id is out of range, the
 * element is absent, or an element would run past the block. */
int rtp_ext_find(const rtp_view *v, uint8_t id, const uint8_t **data, size_t *len);

/* In-place rewriters on a packet of len bytes (which should already have
 * passed rtp_parse). Each returns 0, or -1 (buffer untouched) when len is
 * shorter than the fixed header or, for rtp_set_pt, pt > 127. rtp_set_pt
 * keeps the marker bit. */
int rtp_set_ssrc(uint8_t *buf, size_t len, uint32_t ssrc);
int rtp_set_seq(uint8_t *buf, size_t len, uint16_t seq);
int rtp_set_timestamp(uint8_t *buf, size_t len, uint32_t ts);
int rtp_set_pt(uint8_t *buf, size_t len, uint8_t pt);

/* RFC 5761 demultiplexing: true when buf looks like RTCP, i.e. at least 4
 * bytes, version 2 and second byte 192..223 (the RTP payload types 64..95
 * with the marker bit set, which RTP must not use on a muxed port). */
bool rtp_is_rtcp(const uint8_t *buf, size_t len);

/* RTCP packet types. */
enum {
    RTCP_SR = 200,
    RTCP_RR = 201,
    RTCP_SDES = 202,
    RTCP_BYE = 203,
    RTCP_APP = 204,
    RTCP_RTPFB = 205,
    RTCP_PSFB = 206,
    RTCP_XR = 207,
};

/* One block of a compound RTCP packet; borrows the buffer. */
typedef struct rtcp_view {
    const uint8_t *buf;   /* the block, from its common header */
    size_t len;           /* its length in bytes, padding included */
    uint8_t type;         /* packet type (RTCP_SR...) */
    uint8_t count;        /* RC / SC / FMT: the low 5 bits of the first byte */
    size_t padding_len;   /* trailing padding of this block; 0 if none */
    uint32_t sender_ssrc; /* SSRC after the header (SDES/BYE: first chunk/source); 0 if none */
    uint32_t media_ssrc;  /* RTPFB/PSFB: media source SSRC; else 0 */
    const uint8_t *body;  /* after the header and SSRC field(s): report blocks, FCI... */
    size_t body_len;      /* its length, padding excluded */
} rtcp_view;

/* Walks a compound RTCP packet of len bytes: *off starts at 0 and is
 * advanced past each block. Returns 1 with the block at *off in *out, 0 when
 * *off has reached len, or -1 on malformed input (len zero or not a multiple
 * of 4, version not 2, a length field running past the packet, a bad padding
 * count, or a block too short for its type: SR 28 + 24*RC, RR 8 + 24*RC,
 * APP 12, RTPFB/PSFB 12, XR 8 bytes). On -1, *off is unchanged. */
int rtcp_next(const uint8_t *buf, size_t len, size_t *off, rtcp_view *out);

/* An SR's sender info (RFC 3550 6.4.1). */
typedef struct rtcp_sender_info {
    uint64_t ntp;           /* NTP timestamp, 32.32 fixed point */
    uint32_t rtp_timestamp; /* RTP timestamp for the same instant */
    uint32_t packet_count;
    uint32_t octet_count;
} rtcp_sender_info;

/* One SR/RR report block (RFC 3550 6.4.1). */
typedef struct rtcp_report {
    uint32_t ssrc;           /* source this block reports on */
    uint8_t fraction_lost;   /* fixed point, /256 */
    int32_t cumulative_lost; /* 24-bit signed on the wire */
    uint32_t highest_seq;    /* extended highest sequence number received */
    uint32_t jitter;         /* interarrival jitter, timestamp units */
    uint32_t lsr;            /* last SR, middle 32 bits of its NTP time */
    uint32_t dlsr;           /* delay since last SR, 1/65536 s */
} rtcp_report;

/* Reads an SR's sender info. Returns 0, or -1 if v is not an SR. */
int rtcp_sr_get(const rtcp_view *v, rtcp_sender_info *out);

/* Reads report block i (0-based, < v->count) of an SR or RR. Returns 0, or
 * -1 if v is neither or i is out of range. */
int rtcp_report_get(const rtcp_view *v, size_t i, rtcp_report *out);

/* What an SFU needs to know about a feedback block. */
typedef enum rtcp_fb_type {
    RTCP_FB_NONE,    /* not RTPFB/PSFB */
    RTCP_FB_PLI,     /* PSFB FMT 1, picture loss indication */
    RTCP_FB_FIR,     /* PSFB FMT 4, full intra request (RFC 5104) */
    RTCP_FB_REMB,    /* PSFB FMT 15 with "REMB" identifier */
    RTCP_FB_NACK,    /* RTPFB FMT 1, generic NACK */
    RTCP_FB_TCC,     /* RTPFB FMT 15, transport-wide CC: pass through */
    RTCP_FB_OTHER,   /* any other feedback message */
    RTCP_FB_INVALID, /* a PLI/FIR/REMB/NACK whose FCI is malformed */
} rtcp_fb_type;

/* Classifies a block from rtcp_next. A FIR needs a non-empty FCI of 8-byte
 * entries, a NACK a non-empty FCI (4-byte entries), a REMB a well-formed
 * REMB FCI (see rtcp_remb_parse); otherwise RTCP_FB_INVALID. PSFB FMT 15
 * without the "REMB" identifier is RTCP_FB_OTHER (application layer FB). */
rtcp_fb_type rtcp_fb_kind(const rtcp_view *v);

/* Number of FIR FCI entries in a FIR block, 0 if v is not a valid FIR. */
size_t rtcp_fir_count(const rtcp_view *v);

/* Reads FIR entry i: the SSRC asked to send a key frame and the command
 * sequence number. Returns 0, or -1 if v is not a valid FIR or i is out of
 * range. */
int rtcp_fir_get(const rtcp_view *v, size_t i, uint32_t *ssrc, uint8_t *seq_nr);

/* A decoded REMB; ssrcs borrows the packet. */
typedef struct rtcp_remb {
    uint64_t bitrate;     /* bits per second: mantissa << exponent */
    size_t num_ssrcs;     /* SSRCs the estimate applies to */
    const uint8_t *ssrcs; /* num_ssrcs big-endian 32-bit SSRCs */
} rtcp_remb;

/* Decodes a REMB block. Returns 0, or -1 if v is not PSFB FMT 15 with the
 * "REMB" identifier, the SSRC list runs past the FCI, or the bitrate does
 * not fit in 64 bits. */
int rtcp_remb_parse(const rtcp_view *v, rtcp_remb *out);

/* SSRC i (< r->num_ssrcs) of a decoded REMB; 0 when i is out of range. */
uint32_t rtcp_remb_ssrc(const rtcp_remb *r, size_t i);

/* Calls cb(seq, arg) for each lost sequence number of a generic NACK, in
 * wire order (for each PID/BLP pair: PID, then PID+1.. for each set BLP bit
 * from the least significant; sequence numbers wrap at 65535). Returns the
 * number of calls made, or -1 (no calls) if v is not a valid NACK. cb may be
 * NULL to just count. */
int rtcp_nack_foreach(const rtcp_view *v, void (*cb)(uint16_t seq, void *arg), void *arg);

/* Same as rtcp_nack_foreach, storing at most cap sequence numbers in out.
 * Returns the total number of lost sequence numbers (which may exceed cap;
 * only cap are stored), or -1 if v is not a valid NACK. */
int rtcp_nack_list(const rtcp_view *v, uint16_t *out, size_t cap);

/* Builders: each writes one RTCP block at out (cap bytes) and returns its
 * length, or -1 (nothing useful written) if cap is too small or the
 * arguments are invalid. */

/* A PLI (12 bytes). */
int rtcp_build_pli(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc);

/* An RR with one report block (32 bytes), or none if rb is NULL (8 bytes).
 * rb->cumulative_lost is clamped to the 24-bit signed range. */
int rtcp_build_rr(uint8_t *out, size_t cap, uint32_t sender_ssrc, const rtcp_report *rb);

/* A generic NACK for the n (>= 1) sequence numbers in seqs, grouped into
 * PID/BLP pairs: a sequence number 1..16 after the current PID (mod 65536)
 * sets a BLP bit, anything else starts a new pair, a repeat of the PID is
 * dropped. Give seqs in ascending (wrap-aware) order for the fewest pairs.
 * Returns the length (12 + 4 * pairs) or -1. */
int rtcp_build_nack(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                    const uint16_t *seqs, size_t n);

#endif
