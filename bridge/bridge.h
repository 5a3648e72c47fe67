/* bridge: the SFU daemon's top-level state and the types its modules share.
 *
 * The packet path is: udp.c (one socket, recvmmsg) -> demux by the first
 * byte (RFC 7983) -> ice.c (STUN) | endpoint DTLS (dtls.c) | SRTP unprotect
 * (srtp_ctx.c) -> forward.c (per receiver: copy, protect, queue) -> udp.c
 * (sendmmsg at the end of the batch). Nothing on that path allocates: the
 * receive and send batches live in this struct.
 *
 * Conferences own their endpoints and nothing else refers to a conference
 * but the bridge's maps, so a later version can give each worker loop its
 * own set of conferences (and a socket with SO_REUSEPORT) without changing
 * the per-packet code.
 *
 * Ownership: main() owns the bridge; the bridge owns conferences (freed on
 * expiry), conferences own endpoints. Everything runs on the one loop. */
#ifndef PARLEY_BRIDGE_H
#define PARLEY_BRIDGE_H

#include "addrmap.h"
#include "config.h"
#include "delay_hist.h"
#include "dtls.h"
#include "hmap.h"
#include "http.h"
#include "parley_version.h"
#include "srtp_ctx.h"
#include "xmpp_ev.h"

#include <event2/event.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define BRIDGE_MAX_ADVERTISE 8
#define EP_MAX_PAIRS 8    /* candidate pairs tried per endpoint */
#define EP_MAX_SOURCES 32 /* SSRCs an endpoint may send (with RTX, simulcast) */
#define CONF_MAX_ENDPOINTS 100
#define EP_MAX_REPORTED 128 /* remote SSRCs remembered per receiver */
#define PKT_BUF 1500        /* one datagram */
#define UDP_BATCH 64        /* datagrams per recvmmsg / sendmmsg */
#define SEND_BATCH 64       /* queued datagrams flushed with one sendmmsg (latency vs calls) */

typedef struct bridge bridge;
typedef struct conference conference;
typedef struct endpoint endpoint;

typedef struct advertise_addr {
    char ip[46];
    int port;
    const char *origin; /* "JVB_ADVERTISE_IPS" or "local interface" */
} advertise_addr;

typedef struct bridge_settings {
    char *id, *region;
    char *xmpp_host, *auth_domain, *internal_muc_domain, *brewery;
    int xmpp_port;
    char *user, *password;
    bool xmpp_trust_tls;
    char *media_bind;
    int media_port;
    advertise_addr adv[BRIDGE_MAX_ADVERTISE];
    int nadv;
    char *http_bind;
    int http_port;
    char *ws_base_url; /* e.g. ws://127.0.0.1:8080 or wss://meet.example.com */
    int expire_s;      /* idle conference/endpoint expiry */
    int consent_timeout_s;
    int stats_interval_s;
    long capacity_pps; /* packets/s that count as stress 1.0 */
    int log_level;
} bridge_settings;

/* Receive statistics of one source, for the bridge's receiver reports. */
typedef struct src_stat {
    uint32_t ssrc;
    bool video;
    bool rtx; /* the second SSRC of an FID group */
    bool seen;
    uint16_t max_seq;
    uint32_t cycles, base_seq, received, expected_prior, received_prior;
    uint32_t jitter_q4; /* RFC 3550 A.8, scaled by 16 */
    uint32_t last_transit;
    uint32_t clock_rate;
    long long keyframe_ms; /* last PLI/FIR sent to its owner (rate limit) */
    uint32_t lsr;          /* middle 32 bits of the last SR's NTP time */
    long long lsr_at_ms;   /* when it arrived */
} src_stat;

typedef enum pair_state { PAIR_WAITING, PAIR_INPROGRESS, PAIR_SUCCEEDED, PAIR_FAILED } pair_state;

typedef struct ice_pair {
    struct sockaddr_storage addr;
    socklen_t alen;
    uint32_t priority;
    bool prflx;
    pair_state state;
    uint8_t txid[12];
    bool pending;        /* a check is outstanding (txid) */
    bool txid_nominates; /* it carries USE-CANDIDATE */
    int tries;
    long long sent_ms;
} ice_pair;

struct endpoint {
    conference *conf;
    char id[65];
    char stats_id[128];
    char local_ufrag[9], local_pwd[25];
    char remote_ufrag[257], remote_pwd[257];
    bool have_remote;
    char ws_pwd[25];
    /* ICE */
    ice_pair pairs[EP_MAX_PAIRS];
    int npairs;
    int selected;         /* index into pairs, -1 until nominated */
    bool consent;         /* may send media to the selected pair */
    bool consent_lost;    /* it was lost (counted once) */
    long long consent_ms; /* last check response on the selected pair */
    uint64_t tiebreaker;
    struct event *ice_timer;
    /* DTLS-SRTP */
    dtls_role role;
    bool role_known;
    char remote_fp[160];
    dtls_session *dtls;
    bool dtls_done;                    /* failed or closed: not restarted */
    struct sockaddr_storage dtls_addr; /* where a ClientHello came from before nomination */
    socklen_t dtls_alen;
    struct event *dtls_timer;
    srtp_ctx *srtp;
    /* sources this endpoint sends */
    src_stat src[EP_MAX_SOURCES];
    int nsrc;
    /* video SSRCs this endpoint has reported on in its RRs: the first report
     * means its receiver started, and the bridge asks the sender for a key
     * frame */
    uint32_t reported[EP_MAX_REPORTED];
    int nreported;
    /* the bridge channel (colibri-ws), or NULL */
    struct colibri_ws *ws;
    struct event *rr_timer;
    long long last_activity_ms;
    uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes, dropped;
};

struct conference {
    bridge *br;
    char meeting_id[128];
    char id[17]; /* random hex, in the colibri-ws URL */
    char *name;  /* room JID, may be NULL */
    endpoint *eps[CONF_MAX_ENDPOINTS];
    int neps;
    long long created_ms, last_activity_ms;
};

typedef struct out_pkt {
    uint8_t buf[PKT_BUF + 160];
    size_t len;
    struct sockaddr_storage to;
    socklen_t tolen;
    int64_t rx_ns; /* receive time of the datagram it copies (CLOCK_REALTIME), 0: none */
} out_pkt;

typedef struct bridge_counters {
    uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes, tx_dropped;
    uint64_t rtp_forwarded, rtcp_forwarded, pli_forwarded, fir_forwarded, nack_forwarded;
    uint64_t pli_generated, rr_generated, keyframe_requests_limited;
    uint64_t stun_requests, stun_bad, stun_unknown_ufrag, dtls_failed, srtp_fail;
    uint64_t unknown_ssrc, unknown_source, malformed;
    uint64_t conferences_created, conferences_expired, endpoints_created, endpoints_expired;
    uint64_t consent_lost, ice_succeeded;
    uint64_t ws_messages, ws_rejected;
} bridge_counters;

struct bridge {
    struct event_base *base;
    bridge_settings set;
    config *cfg;
    xmpp_ev *xmpp;
    bool in_brewery;
    char *occupant_jid; /* jvbbrewery@IMUC/BRIDGE_ID */
    dtls_cert *cert;
    hmap conferences; /* meeting_id -> conference */
    hmap conf_by_id;  /* conference id -> conference */
    hmap by_ufrag;    /* local ufrag -> endpoint */
    addrmap by_addr;  /* remote address -> endpoint */
    int udp_fd;
    struct event *udp_ev;
    http_server *http;
    struct event *stats_ev, *expire_ev, *sig_int, *sig_term;
    bool drain, shutting_down;
    bridge_counters c;
    /* packet rates measured over the last stats interval */
    uint64_t last_rx, last_tx, last_rx_bytes, last_tx_bytes;
    long long last_rate_ms;
    double rx_pps, tx_pps, rx_bps, tx_bps;
    long long started_ms;
    uint32_t fb_audio_ssrc, fb_video_ssrc; /* the bridge's own sources */
    /* batches (no allocation on the packet path) */
    uint8_t rx_bufs[UDP_BATCH][PKT_BUF];
    out_pkt *out; /* SEND_BATCH entries */
    int nout;
    int64_t rx_ns; /* receive time of the datagram being handled, 0 outside */
    /* time forwarded copies spent in the bridge; the snapshot at the last
     * rates update gives the quantiles of the last interval */
    delay_hist delay, delay_prev;
    double delay_p50_ms, delay_p99_ms;
};

/* settings.c */
extern const config_key bridge_config_keys[];
extern const size_t bridge_config_nkeys;
/* Reads and checks every setting (all problems reported by config). */
int bridge_settings_load(bridge_settings *s, config *c);
void bridge_settings_clear(bridge_settings *s);

/* udp.c */
int udp_open(bridge *br);
void udp_close(bridge *br);
/* Queues a datagram (copied) for the end of this batch; flushes when full. */
out_pkt *udp_out_slot(bridge *br);
void udp_out_commit(bridge *br, out_pkt *p, const struct sockaddr *to, socklen_t tolen);
void udp_flush(bridge *br);
/* Sends one datagram now (control traffic: STUN, DTLS). */
void udp_send_now(bridge *br, const void *data, size_t len, const struct sockaddr *to,
                  socklen_t tolen);

/* ice.c: the controlling agent of one endpoint. */
void ice_start(endpoint *ep);
void ice_stop(endpoint *ep);
void ice_add_remote_candidate(endpoint *ep, const char *ip, int port, uint32_t priority);
/* A STUN datagram from addr (already known to be STUN). */
void ice_on_stun(bridge *br, const uint8_t *buf, size_t len, const struct sockaddr *from,
                 socklen_t fromlen);
/* Address media goes to, or NULL when the endpoint may not be sent to. */
const ice_pair *ice_selected(const endpoint *ep);

/* media.c: DTLS and SRTP of one endpoint, and the first-byte demux. */
void media_on_datagram(bridge *br, uint8_t *buf, size_t len, const struct sockaddr *from,
                       socklen_t fromlen);
void media_ice_connected(endpoint *ep);
void media_set_remote_fingerprint(endpoint *ep, const char *setup, const char *fp);
void media_stop(endpoint *ep);

/* forward.c */
void forward_rtp(endpoint *from, uint8_t *buf, size_t len);
void forward_rtcp(endpoint *from, uint8_t *buf, size_t len);
/* Asks every other endpoint of ep's conference for a key frame (PLI). */
void forward_request_keyframes(endpoint *ep);
/* Sends one RTCP compound (plain) to ep, protected. */
void forward_send_rtcp(endpoint *ep, uint8_t *buf, size_t len);
void forward_rr_start(endpoint *ep);

/* conference.c */
conference *conference_find(bridge *br, const char *meeting_id);
endpoint *endpoint_find(conference *cf, const char *id);
endpoint *endpoint_by_ssrc(conference *cf, uint32_t ssrc);
src_stat *endpoint_source(endpoint *ep, uint32_t ssrc);
void conference_expire(conference *cf, const char *why);
void endpoint_expire(endpoint *ep, const char *why);
void conference_expire_idle(bridge *br);
int bridge_endpoints(const bridge *br);
/* Handles a Colibri2 conference-modify IQ (from xmpp.c); answers it. */
void colibri2_handle(bridge *br, xmpp_stanza_t *iq);

/* xmpp.c */
void bridge_xmpp_start(bridge *br);
void bridge_xmpp_stop(bridge *br);
void bridge_publish_stats(bridge *br);

/* stats.c */
void bridge_rates_update(bridge *br);
double bridge_stress(const bridge *br);
/* JSON object (malloc'd) of every counter, for /colibri/stats. */
char *bridge_stats_json(bridge *br);
/* Prometheus text (malloc'd). */
char *bridge_metrics_text(bridge *br);

/* httpapi.c */
int bridge_http_start(bridge *br);

/* colibri_ws.c */
void colibri_ws_upgrade(bridge *br, http_request *req);
void colibri_ws_close(endpoint *ep);
/* Sends a JSON text message to ep's channel, if open. */
void colibri_ws_send(endpoint *ep, const char *json, size_t len);
/* Splits "/colibri-ws/BRIDGE/CONF/EP"; 0, or -1 when malformed or too long. */
int colibri_ws_parse_path(const char *path, char *bridge_id, size_t bridge_id_size, char *conf_id,
                          size_t conf_id_size, char *ep_id, size_t ep_id_size);

#endif
