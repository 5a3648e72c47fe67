/* dtls: DTLS 1.2 handshakes for DTLS-SRTP (RFC 5763 / RFC 5764) on top of
 * OpenSSL 3, driven entirely through memory: the caller hands in one
 * received datagram at a time and gets outgoing datagrams through a
 * callback, so one UDP socket can serve any number of sessions (the bridge)
 * and the same code serves the client side (load generator, recorder).
 *
 * Profile: DTLS 1.2 only; ECDHE-ECDSA with AES-GCM; use_srtp offering
 * SRTP_AEAD_AES_128_GCM then SRTP_AES128_CM_SHA1_80. As a server OpenSSL
 * picks the first profile of *its own* list that the client offers (the
 * client's order is ignored, and SSL_OP_CIPHER_SERVER_PREFERENCE plays no
 * part), so a server always picks GCM when the client offers it. Both sides
 * require a certificate from the peer and accept it, self-signed or not,
 * only when its SHA-256 fingerprint equals the one from signalling. No
 * session resumption, tickets or renegotiation. Records are at most 1200
 * bytes (DTLS_MTU) and are packed into datagrams of at most DTLS_MTU.
 *
 * Ownership: a dtls_cert owns the OpenSSL SSL_CTX, its key and certificate;
 * create one per process and keep it until every session made from it is
 * freed. A dtls_session owns its SSL object and both memory BIOs; it keeps
 * the send callback and its ud (borrowed, must outlive the session) and
 * copies the fingerprint strings it is given. The send callback is called
 * only from inside dtls_session_start / _feed / _on_timeout / _close, with
 * a buffer valid for that call only; it must not call back into or free the
 * same session (queue the datagram or sendto() it). Freeing a session sends
 * nothing. A session is used from one thread at a time; sessions of one
 * dtls_cert may live on different threads. No global mutable state.
 *
 * Hostile input: every datagram is bounded (DTLS_MAX_DATAGRAM), datagrams
 * are never merged, certificate chains are bounded in size and depth, and a
 * flight is retransmitted at most DTLS_MAX_RETRANSMITS times. Bytes that do
 * not parse as DTLS records are dropped without a state change; but, as in
 * any DTLS 1.2 stack, a well-formed unencrypted record that is out of place
 * (a stray ChangeCipherSpec, an alert, an unexpected handshake message)
 * fails the handshake, so whoever can put packets on the 5-tuple before the
 * keys exist can abort it (not take it over). The caller should only feed
 * datagrams from the ICE-validated address. */
#ifndef PARLEY_DTLS_H
#define PARLEY_DTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DTLS_MTU 1200                /* largest datagram this module sends */
#define DTLS_MAX_DATAGRAM 16384      /* larger incoming datagrams are dropped */
#define DTLS_FINGERPRINT_LEN 95      /* "AB:CD:...": 32 hex pairs, 31 colons */
#define DTLS_MAX_RETRANSMITS 6       /* per flight; the 7th expiry fails */
#define DTLS_INITIAL_TIMEOUT_MS 1000 /* RFC 6347 4.2.4.1; doubles up to 60 s */
#define DTLS_MIN_TIMEOUT_MS 16       /* see dtls_session_set_initial_timeout_ms */

/* One per process: SSL_CTX plus a fresh self-signed ECDSA P-256 certificate
 * (valid from a day ago for 30 days, random CN). */
typedef struct dtls_cert dtls_cert;

dtls_cert *dtls_cert_new(void); /* NULL on failure (logged) */
void dtls_cert_free(dtls_cert *c);
/* SHA-256 of the DER certificate as upper-case hex pairs separated by colons
 * (DTLS_FINGERPRINT_LEN chars), as in SDP a=fingerprint:sha-256 and Jingle
 * <fingerprint hash='sha-256'>. Owned by c. */
const char *dtls_cert_fingerprint(const dtls_cert *c);

typedef enum dtls_role { DTLS_ROLE_CLIENT, DTLS_ROLE_SERVER } dtls_role;
typedef enum dtls_state { DTLS_HANDSHAKING, DTLS_CONNECTED, DTLS_FAILED, DTLS_CLOSED } dtls_state;
/* One datagram (at most DTLS_MTU bytes) to the peer. */
typedef void (*dtls_send_fn)(void *ud, const uint8_t *data, size_t len);
typedef struct dtls_session dtls_session;

/* remote_fp: the peer's SHA-256 fingerprint from signalling, in the format
 * above (hex case-insensitive); may be NULL and set later with
 * dtls_session_set_remote_fingerprint, but the handshake fails unless a
 * matching fingerprint is known when the peer's certificate arrives. A
 * malformed fingerprint never matches. NULL on failure (logged). */
dtls_session *dtls_session_new(dtls_cert *cert, dtls_role role, const char *remote_fp,
                               dtls_send_fn send, void *ud);
void dtls_session_free(dtls_session *s); /* NULL is fine; sends nothing */
void dtls_session_set_remote_fingerprint(dtls_session *s, const char *fp);
/* Retransmission timer for the first retransmission of each flight, default
 * DTLS_INITIAL_TIMEOUT_MS, clamped to DTLS_MIN_TIMEOUT_MS..60000; it doubles
 * on every retransmission up to 60 s. Call before dtls_session_start.
 * OpenSSL keeps the timer by its own wall clock (gettimeofday) and treats a
 * timer with less than 15 ms left as expired; it also retransmits on its own
 * whenever an OpenSSL call finds the timer expired, so shorter timers would
 * go out back to back at once, hence the minimum. Such short timers are for
 * tests and LANs. */
void dtls_session_set_initial_timeout_ms(dtls_session *s, unsigned ms);

/* Client: sends the ClientHello; server: nothing (it waits for one). */
dtls_state dtls_session_start(dtls_session *s);
/* One incoming datagram. Outgoing flights go through send. Once CONNECTED,
 * handshake retransmissions from the peer are still answered, application
 * data is read and dropped, a close_notify gives DTLS_CLOSED and a fatal
 * alert DTLS_FAILED. In FAILED or CLOSED, input is ignored. */
dtls_state dtls_session_feed(dtls_session *s, const uint8_t *data, size_t len);
/* ms until dtls_session_on_timeout must be called (0: now), or -1 when no
 * timer is needed (not handshaking, or a server still waiting for its
 * ClientHello). */
long dtls_session_timeout_ms(dtls_session *s);
/* Retransmits the last flight when the timer has expired (does nothing
 * before that). An expiry after DTLS_MAX_RETRANSMITS retransmissions of the
 * same flight -> DTLS_FAILED (a retransmission OpenSSL makes by itself
 * inside dtls_session_feed counts too). */
dtls_state dtls_session_on_timeout(dtls_session *s);
/* Sends close_notify when CONNECTED and moves to DTLS_CLOSED. */
dtls_state dtls_session_close(dtls_session *s);
dtls_state dtls_session_state(const dtls_session *s);

/* IANA DTLS-SRTP protection profile ids. */
typedef enum srtp_profile_id {
    SRTP_PROFILE_NONE = 0,
    SRTP_PROFILE_AES128_CM_SHA1_80 = 1,
    SRTP_PROFILE_AEAD_AES_128_GCM = 7
} srtp_profile_id;

typedef struct dtls_srtp_keys {
    srtp_profile_id profile;
    uint8_t local_key[16], local_salt[14], remote_key[16], remote_salt[14];
    size_t key_len, salt_len; /* 16/14 for CM_SHA1_80, 16/12 for AEAD_AES_128_GCM */
} dtls_srtp_keys;

/* After CONNECTED: the negotiated profile and the RFC 5764 4.2 split of
 * SSL_export_keying_material("EXTRACTOR-dtls_srtp", 2 * (key_len +
 * salt_len) bytes) = client_write_key | server_write_key | client_write_salt
 * | server_write_salt. "local" is what this side protects with (client:
 * client_write_*), "remote" what it unprotects with. Unused salt bytes are
 * zero. False (and *out zeroed) when not connected or no profile was
 * negotiated. */
bool dtls_session_srtp_keys(dtls_session *s, dtls_srtp_keys *out);

#endif
