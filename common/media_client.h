/* media_client: the client side of one WebRTC-like media session against
 * the bridge (or any ICE-lite-ish controlling peer): the *controlled* ICE
 * agent (RFC 8445) with one host candidate, a DTLS 1.2 client for
 * DTLS-SRTP (RFC 5763 / 5764: the client always offers setup='active'),
 * and SRTP/SRTCP, all on a UDP socket of its own driven by the caller's
 * libevent loop. Used by the load generator (bench/bridge_load.c) and meant
 * for the recorder.
 *
 * Life of a session:
 *   media_client_new()      binds the socket (bind_ip, port chosen by the
 *                           kernel), makes random ICE credentials and starts
 *                           answering STUN checks at once (a bridge may check
 *                           before the caller has called _start);
 *   signalling              the caller sends media_client_ufrag/_pwd, the
 *                           certificate's fingerprint with setup='active' and
 *                           media_client_local_candidate to the peer;
 *   media_client_start()    with the peer's ufrag, pwd, sha-256 fingerprint
 *                           and one candidate: sends our own checks (with
 *                           ICE-CONTROLLED) to that candidate until one is
 *                           answered (RTO 100 ms doubling, 7 tries);
 *   ICE connected           when a check of the peer carrying USE-CANDIDATE
 *                           arrived, authenticated, and was answered; its
 *                           source address becomes where media goes;
 *   DTLS                    the client handshake starts (retransmission timer
 *                           on the loop); on success the SRTP keys go into an
 *                           srtp_ctx and on_connected is called;
 *   media                   incoming datagrams are demultiplexed by their
 *                           first byte (RFC 7983): STUN is answered (consent
 *                           checks keep being answered for the whole life of
 *                           the session), DTLS fed to the session, SRTP/SRTCP
 *                           unprotected in place and handed to on_rtp /
 *                           on_rtcp; media_client_send_rtp/_rtcp protect in
 *                           place and send to the nominated address.
 * Any failure (ICE checks exhausted with no nomination within
 * MEDIA_CLIENT_ICE_TIMEOUT_MS, DTLS failure or close, no SRTP keys) calls
 * on_failed once; the session then stays inert until freed.
 *
 * Per packet nothing is allocated: datagrams are read with recvmmsg
 * (MEDIA_CLIENT_BATCH at a time, at most 8 batches per wake-up) into
 * buffers inside the media_client, and sends go out with one sendto from
 * the caller's buffer.
 *
 * Ownership: the caller owns the media_client (media_client_free) and keeps
 * the event_base and the dtls_cert alive until it is freed; the cbs struct
 * is copied, ud is borrowed. Strings given to _start are copied. Buffers
 * handed to the callbacks belong to the media_client and are valid only
 * during the call (the callback may modify them in place, e.g. to forward).
 * Callbacks must not free the media_client they are called for; they may
 * call media_client_send_*. Strings returned by the getters are owned by
 * the media_client. One loop, one thread; no global mutable state. */
#ifndef PARLEY_MEDIA_CLIENT_H
#define PARLEY_MEDIA_CLIENT_H

#include "dtls.h"

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEDIA_CLIENT_BATCH 32             /* datagrams per recvmmsg */
#define MEDIA_CLIENT_PKT 1600             /* receive buffer per datagram */
#define MEDIA_CLIENT_ICE_TIMEOUT_MS 15000 /* no nomination by then: on_failed */

typedef struct media_client media_client;

typedef struct media_client_cbs {
    /* DTLS-SRTP is up: media may be sent and will be received. */
    void (*on_connected)(media_client *mc, void *ud);
    /* One unprotected RTP packet (pkt[0..len), header included). */
    void (*on_rtp)(media_client *mc, uint8_t *pkt, size_t len, void *ud);
    /* One unprotected RTCP compound. */
    void (*on_rtcp)(media_client *mc, uint8_t *pkt, size_t len, void *ud);
    /* The session failed (why: a static string); called at most once. */
    void (*on_failed)(media_client *mc, const char *why, void *ud);
} media_client_cbs;

/* Counters, for the caller's reports. */
typedef struct media_client_stats {
    uint64_t rx_datagrams, rx_rtp, rx_rtcp, tx_rtp, tx_rtcp;
    uint64_t stun_requests, stun_bad, srtp_fail, send_fail, dropped;
    /* which profile the DTLS handshake chose (SRTP_PROFILE_NONE before) */
    srtp_profile_id profile;
} media_client_stats;

/* Binds a UDP socket on bind_ip (IPv4 or IPv6 literal), port 0. Any of the
 * callbacks may be NULL. NULL on failure (logged). */
media_client *media_client_new(struct event_base *base, dtls_cert *cert, const char *bind_ip,
                               const media_client_cbs *cbs, void *ud);
void media_client_free(media_client *mc); /* NULL is fine; sends nothing */

/* The local ICE credentials (random, 8 and 24 characters). */
const char *media_client_ufrag(const media_client *mc);
const char *media_client_pwd(const media_client *mc);
/* The socket's address: ip (NUL-terminated, 46 bytes) and port. */
void media_client_local_candidate(const media_client *mc, char ip[46], int *port);

/* The peer's (the bridge's) transport from signalling: ICE ufrag and pwd,
 * its sha-256 fingerprint ("AB:CD:..."), and one candidate (IP literal and
 * port) that our own checks go to. 0, or -1 on bad arguments or when
 * already started. */
int media_client_start(media_client *mc, const char *remote_ufrag, const char *remote_pwd,
                       const char *remote_fp, const char *cand_ip, int cand_port);

/* True once DTLS-SRTP is up (after on_connected). */
bool media_client_connected(const media_client *mc);

/* Protect pkt[0..len) in place (cap: the buffer's size, at least len +
 * SRTP_CTX_MAX_TRAILER) and send it to the nominated address. 0, or -1 when
 * not connected, protection failed or the kernel refused the datagram
 * (counted in send_fail; a full socket buffer is not retried). */
int media_client_send_rtp(media_client *mc, uint8_t *pkt, size_t len, size_t cap);
int media_client_send_rtcp(media_client *mc, uint8_t *pkt, size_t len, size_t cap);

const media_client_stats *media_client_get_stats(const media_client *mc);

#endif
