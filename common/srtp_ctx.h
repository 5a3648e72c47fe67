/* srtp_ctx: SRTP/SRTCP protection for one DTLS-SRTP association (RFC 3711,
 * RFC 7714 AES-GCM) with libsrtp2, keyed from dtls_session_srtp_keys.
 *
 * One srtp_ctx holds two libsrtp sessions: outbound (local keys, any SSRC
 * we send) and inbound (remote keys, any SSRC the peer sends), each with a
 * 1024-packet replay window. Outbound allows repeated transmission of the
 * same packet (allow_repeat_tx), so the bridge may resend a packet on NACK;
 * the caller must resend the same payload, never new data under an old
 * sequence number.
 *
 * Ownership: the ctx copies the keys and owns both libsrtp sessions; freeing
 * it wipes them. Packets are the caller's buffers, processed in place. A
 * ctx is used from one thread at a time. The only process-wide state is
 * libsrtp's own (srtp_init), set up by srtp_ctx_library_init.
 *
 * Hostile input: every length is checked before libsrtp sees the packet
 * (too short, header running past the end, not version 2, too long), and
 * each direction tracks at most SRTP_CTX_MAX_SSRCS SSRCs (libsrtp allocates
 * a stream per SSRC): packets for further SSRCs fail instead of growing
 * memory. */
#ifndef PARLEY_SRTP_CTX_H
#define PARLEY_SRTP_CTX_H

#include "dtls.h"

#include <stddef.h>
#include <stdint.h>

/* srtp_init, once per process; idempotent and thread-safe. The daemon calls
 * it from main; srtp_ctx_new calls it too. */
void srtp_ctx_library_init(void);

typedef struct srtp_ctx srtp_ctx;

/* Profiles SRTP_PROFILE_AES128_CM_SHA1_80 (AES-CM + HMAC-SHA1 80-bit tag,
 * 16-byte key, 14-byte salt) and SRTP_PROFILE_AEAD_AES_128_GCM (16-byte
 * tag, 16-byte key, 12-byte salt); k->key_len / salt_len must match. NULL on
 * error (logged). */
srtp_ctx *srtp_ctx_new(const dtls_srtp_keys *k);
void srtp_ctx_free(srtp_ctx *c); /* NULL is fine */

/* Bytes protect may add (libsrtp's SRTP_MAX_TRAILER_LEN, 144, plus the
 * 4-byte SRTCP index): protect wants cap >= *len + this (RTP:
 * SRTP_MAX_TRAILER_LEN would do, but keep one rule). The real growth is
 * 10 (CM) or 16 (GCM) bytes for RTP and 4 more for RTCP. */
#define SRTP_CTX_MAX_TRAILER 148
#define SRTP_CTX_MAX_PACKET 65535 /* longer input is refused */
#define SRTP_CTX_MAX_SSRCS 1024   /* per direction */

/* In place; *len updated. 0 ok, -1 error (auth failure, replay, malformed
 * or truncated packet, no room, too many SSRCs); on error the packet bytes
 * may have been changed and *len is unchanged. */
int srtp_ctx_protect_rtp(srtp_ctx *c, uint8_t *pkt, size_t *len, size_t cap);
int srtp_ctx_unprotect_rtp(srtp_ctx *c, uint8_t *pkt, size_t *len);
int srtp_ctx_protect_rtcp(srtp_ctx *c, uint8_t *pkt, size_t *len, size_t cap);
int srtp_ctx_unprotect_rtcp(srtp_ctx *c, uint8_t *pkt, size_t *len);

#endif
