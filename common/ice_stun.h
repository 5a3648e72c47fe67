/* ice_stun: STUN Binding messages for ICE connectivity checks and consent
 * freshness (RFC 5389 / RFC 8489 Binding, RFC 8445 ICE attributes PRIORITY,
 * USE-CANDIDATE, ICE-CONTROLLING, ICE-CONTROLLED, RFC 7675 consent), built
 * and checked through libnice's STUN library (StunAgent / StunMessage, with
 * STUN_COMPATIBILITY_RFC5389 and short-term credentials). Used by the bridge
 * (the controlling agent, one UDP port for every endpoint) and by the
 * client-side ICE answerer.
 *
 * Ownership: the caller owns every buffer. Parsers only read the datagram
 * they are given (never past len) and copy what they report into the
 * caller's ice_stun_info, which borrows nothing. Builders write into the
 * caller's buffer and never past its capacity. Nothing is kept between
 * calls: no global mutable state, and the caller owns no libnice object.
 * Each call that needs a StunAgent makes one on its own stack (about 13 KiB,
 * libnice's saved-transaction table) and drops it on return; the ICE agent
 * tracks its own transaction ids and matches responses to requests itself.
 * This module allocates nothing; libnice computes HMAC-SHA1 through GnuTLS,
 * which allocates a small context per MESSAGE-INTEGRITY made or checked.
 * Thread-safe.
 *
 * Credentials (RFC 8445 §7.2.2, short-term, RFC 5389 §10.1 / §15.4): a check
 * from agent L to agent R carries USERNAME "R-ufrag:L-ufrag" and is signed
 * with R's password; R's success or error response is signed with R's
 * password too. The key is the password's raw bytes (no SASLprep). An empty
 * password is refused everywhere: libnice skips the integrity comparison for
 * a zero-length key.
 *
 * A caller receiving a datagram on a muxed port: ice_stun_is_stun() to
 * demultiplex, ice_stun_parse() for the fields (FINGERPRINT checked),
 * ice_stun_check_integrity() with the password that the USERNAME (requests)
 * or the transaction (responses) selects, and only then act on it. */
#ifndef PARLEY_ICE_STUN_H
#define PARLEY_ICE_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define ICE_STUN_HEADER_LEN 20 /* fixed STUN header */
#define ICE_STUN_MAGIC_COOKIE 0x2112A442u
#define ICE_STUN_MAX_USERNAME 513 /* USERNAME < 513 bytes (RFC 5389 §15.3), plus NUL */
#define ICE_STUN_MAX_REASON 127   /* ERROR-CODE reason phrase bytes this module sends */
#define ICE_STUN_BUILD_MAX 600    /* a capacity every builder's output fits in */

/* The STUN class of a parsed Binding message. */
typedef enum ice_stun_kind {
    ICE_STUN_NONE = 0,   /* not parsed */
    ICE_STUN_REQUEST,    /* Binding request: a connectivity or consent check */
    ICE_STUN_SUCCESS,    /* Binding success response */
    ICE_STUN_ERROR,      /* Binding error response; see error_code */
    ICE_STUN_INDICATION, /* Binding indication: a keepalive */
} ice_stun_kind;

/* What ice_stun_parse() found. Holds copies: it borrows nothing. */
typedef struct ice_stun_info {
    ice_stun_kind kind;                   /* only the Binding method parses */
    uint8_t txid[12];                     /* transaction id (after the magic cookie) */
    char username[ICE_STUN_MAX_USERNAME]; /* USERNAME, NUL-terminated; "" if absent */
    bool has_integrity;                   /* MESSAGE-INTEGRITY present (unverified) */
    bool has_fingerprint;                 /* FINGERPRINT present, last, and correct */
    bool use_candidate;                   /* USE-CANDIDATE present */
    bool has_priority;                    /* PRIORITY present ... */
    uint32_t priority;                    /* ... and its value */
    bool controlling;                     /* ICE-CONTROLLING present (never with controlled) */
    bool controlled;                      /* ICE-CONTROLLED present */
    uint64_t tiebreaker;                  /* the tie-breaker of either; 0 if neither */
    int error_code;                       /* ICE_STUN_ERROR: 300..699 (400, 401, 487...); else 0 */
    bool has_mapped;                      /* XOR-MAPPED-ADDRESS present ... */
    struct sockaddr_storage mapped;       /* ... decoded: sockaddr_in or sockaddr_in6 */
} ice_stun_info;

/* RFC 7983 demultiplexing plus the RFC 5389 magic cookie: true when buf
 * holds at least a STUN header (20 bytes), its first byte is 0..3 and bytes
 * 4..7 are the magic cookie. RTP/RTCP (128..191), DTLS (20..63) and
 * RFC 3489 STUN (no cookie) are not STUN here. */
bool ice_stun_is_stun(const uint8_t *buf, size_t len);

/* Parses a datagram of len bytes as one STUN Binding message into *out
 * (zeroed first; unspecified when false is returned). Allocates nothing.
 * Does NOT check MESSAGE-INTEGRITY: see ice_stun_check_integrity(). Fails
 * (returns false) on:
 * - not ice_stun_is_stun(); a header length field + 20 other than len (so
 *   trailing bytes, or a length not a multiple of 4, fail); an attribute
 *   running past the end (libnice's stun_message_validate_buffer_length);
 * - a method other than Binding; an error response without a valid
 *   ERROR-CODE (class 3..6, number 0..99);
 * - a FINGERPRINT that is wrong (checked by libnice's stun_agent_validate)
 *   or not last; after MESSAGE-INTEGRITY, anything but FINGERPRINT and
 *   RFC 8489 MESSAGE-INTEGRITY-SHA256 (skipped). RFC 5389 §15.4 says to
 *   ignore attributes there; rejecting them means no byte after
 *   MESSAGE-INTEGRITY can be changed unnoticed;
 * - a malformed known attribute: USERNAME over 512 bytes or holding a NUL,
 *   PRIORITY not 4 bytes, USE-CANDIDATE not empty, ICE-CONTROLLING /
 *   ICE-CONTROLLED not 8 bytes or both present, MESSAGE-INTEGRITY not 20
 *   bytes, ERROR-CODE under 4 bytes, XOR-MAPPED-ADDRESS not IPv4 / IPv6 of
 *   the right length;
 * - an unknown comprehension-required attribute (type below 0x8000): it is
 *   REJECTED, not ignored, and the caller just drops the message (no 420 is
 *   built; ICE peers put only comprehension-optional extras such as
 *   GOOG-NETWORK-INFO in checks). Known comprehension-required types:
 *   MAPPED-ADDRESS, USERNAME, MESSAGE-INTEGRITY, ERROR-CODE,
 *   UNKNOWN-ATTRIBUTES, REALM, NONCE, XOR-MAPPED-ADDRESS, PRIORITY and
 *   USE-CANDIDATE (those ice_stun_info has no field for are skipped).
 * Unknown comprehension-optional attributes (SOFTWARE, NOMINATION, GOOG-*)
 * are skipped. Of a repeated attribute, the first occurrence counts. */
bool ice_stun_parse(const uint8_t *buf, size_t len, ice_stun_info *out);

/* Short-term credential MESSAGE-INTEGRITY check (RFC 5389 §15.4; key = the
 * raw bytes of the NUL-terminated password pwd) of a Binding message of len
 * bytes, through libnice's stun_agent_validate. True only when the message
 * is whole STUN (header length matches len), is a Binding message, has a
 * 20-byte MESSAGE-INTEGRITY, and the HMAC-SHA1 matches. Also false: pwd NULL
 * or empty; a request or indication without USERNAME (libnice's short-term
 * rule); an error response with code 400, 401 or 438, which libnice never
 * authenticates (RFC 5389 §10.1.2: such responses carry no integrity), so
 * treat those as unauthenticated. Does not check FINGERPRINT or the
 * attributes: pair it with ice_stun_parse(). */
bool ice_stun_check_integrity(const uint8_t *buf, size_t len, const char *pwd);

/* Builders. Each writes one message at buf (cap bytes; ICE_STUN_BUILD_MAX
 * is always enough) and returns its length (a multiple of 4), or 0 when
 * cap is too small or an argument is invalid (then buf holds garbage, but
 * nothing was written past cap). Every message carries the caller's txid
 * after the magic cookie, ends with MESSAGE-INTEGRITY (key pwd, raw bytes)
 * unless stated, then FINGERPRINT, and has no SOFTWARE. */

/* A Binding request (a connectivity check, or an RFC 7675 consent check):
 * USERNAME username ("REMOTEUFRAG:LOCALUFRAG", 1..512 bytes), PRIORITY
 * priority, ICE-CONTROLLING tiebreaker if controlling else ICE-CONTROLLED
 * tiebreaker, USE-CANDIDATE if use_candidate (only the controlling agent
 * nominates: use_candidate without controlling is invalid), signed with
 * pwd (the remote password, non-empty). */
size_t ice_stun_build_request(uint8_t *buf, size_t cap, const uint8_t txid[12],
                              const char *username, const char *pwd, uint32_t priority,
                              bool controlling, uint64_t tiebreaker, bool use_candidate);

/* A Binding success response: XOR-MAPPED-ADDRESS mapped (the request's
 * source address; AF_INET or AF_INET6, read as sockaddr_in / sockaddr_in6),
 * signed with pwd (the local password, non-empty). */
size_t ice_stun_build_success(uint8_t *buf, size_t cap, const uint8_t txid[12],
                              const struct sockaddr *mapped, const char *pwd);

/* A Binding error response: ERROR-CODE code (300..699) with reason (at most
 * ICE_STUN_MAX_REASON bytes of UTF-8; NULL for libnice's phrase for the
 * code, e.g. "Unauthorized", "Role conflict"). Signed with pwd when pwd is
 * non-NULL (e.g. 487 Role Conflict to an authenticated request, RFC 8445
 * §7.3.1.1); pwd NULL sends no MESSAGE-INTEGRITY (400 / 401 when the
 * request could not be authenticated, RFC 5389 §10.1.2). An empty pwd is
 * invalid. */
size_t ice_stun_build_error(uint8_t *buf, size_t cap, const uint8_t txid[12], int code,
                            const char *reason, const char *pwd);

/* Splits an incoming check's USERNAME "LOCAL:REMOTE" (as the receiver sees
 * it): sets *local to username and *local_len to the length of the part
 * before the first ':' (the receiver's own ufrag, which selects the session
 * and its password). Returns false, leaving *local and *local_len alone,
 * when username is NULL, has no ':' or the local part is empty. */
bool ice_stun_username_local(const char *username, const char **local, size_t *local_len);

#endif
