/* colibri2: the Colibri2 protocol (`jitsi:colibri2`) between the focus and
 * the bridge, on libstrophe stanzas (docs: jitsi-protocol.md §4.2-4.3).
 * Both directions: the bridge parses a <conference-modify> request and
 * builds the <conference-modified> answer or an error IQ; the focus builds
 * the request and parses the answer.
 *
 * Limits at the edge: every string, count and number read from the wire is
 * checked against the bounds below. Anything over a bound, non-numeric where
 * a number is expected, out of range or inconsistent makes the parse fail
 * with a bad-request (never silent truncation). Elements in unknown
 * namespaces or with unknown names are ignored (forward compatibility),
 * except <relay> and <connects>, which this implementation refuses with
 * feature-not-implemented. Semantic checks that need bridge state (unknown
 * conference or endpoint, conference already exists) are the caller's.
 *
 * Ownership: structs are plain values with fixed-size arrays; strings are
 * NUL-terminated, "" meaning absent. The only allocation is the endpoints
 * array of c2_request and c2_answer: a parse allocates it and the matching
 * _free releases it (both frees are safe on a zeroed struct; when you fill
 * a struct yourself, allocate endpoints with malloc/xcalloc or don't call
 * the _free). Parse functions borrow the stanza and keep no pointer into
 * it. Builders borrow their input and return a new stanza owned by the
 * caller (xmpp_stanza_release). Out of memory is fatal (util.h).
 * Thread-safe and usable from any loop: no global mutable state. */
#ifndef PARLEY_COLIBRI2_H
#define PARLEY_COLIBRI2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <strophe.h>

#define C2_NS "jitsi:colibri2"
#define C2_NS_ICE "urn:xmpp:jingle:transports:ice-udp:1"
#define C2_NS_DTLS "urn:xmpp:jingle:apps:dtls:0"
#define C2_NS_RTP "urn:xmpp:jingle:apps:rtp:1"
#define C2_NS_HDREXT "urn:xmpp:jingle:apps:rtp:rtp-hdrext:0"
#define C2_NS_RTCP_FB "urn:xmpp:jingle:apps:rtp:rtcp-fb:0"
#define C2_NS_SSMA "urn:xmpp:jingle:apps:rtp:ssma:0"
#define C2_NS_WS "http://jitsi.org/protocol/colibri"
#define C2_NS_STANZAS "urn:ietf:params:xml:ns:xmpp-stanzas"

/* Counts. */
#define C2_MAX_ENDPOINTS 64     /* endpoints per request / answer */
#define C2_MAX_MEDIA 2          /* <media> per endpoint: one audio, one video */
#define C2_MAX_PAYLOAD_TYPES 24 /* per <media> */
#define C2_MAX_PARAMS 8         /* <parameter> per payload type */
#define C2_MAX_RTCP_FB 8        /* <rtcp-fb> per payload type */
#define C2_MAX_HDREXTS 16       /* per <media> */
#define C2_MAX_FINGERPRINTS 4   /* per ice-udp transport */
#define C2_MAX_CANDIDATES 32    /* per ice-udp transport */
#define C2_MAX_MEDIA_SOURCES 8  /* per endpoint */
#define C2_MAX_SOURCES 16       /* per media-source */
#define C2_MAX_GROUPS 8         /* ssrc-groups per media-source */
#define C2_MAX_GROUP_SSRCS 8    /* ssrcs per ssrc-group */

/* String lengths in bytes, without the NUL. */
#define C2_ID_MAX 64         /* endpoint id: 1..64 of [A-Za-z0-9._-] */
#define C2_STR_MAX 127       /* meeting-id, stats-id, source names, candidate id */
#define C2_JID_MAX 1023      /* room JID */
#define C2_SHORT_MAX 31      /* muc-role, codec names, rtcp-fb, hash, semantics */
#define C2_PARAM_NAME_MAX 47 /* payload-type parameter name */
#define C2_PARAM_VALUE_MAX 127
#define C2_URI_MAX 255       /* rtp-hdrext uri */
#define C2_ICE_CRED_MAX 256  /* ufrag, pwd (RFC 8445 allows up to 256) */
#define C2_FP_MAX 191        /* fingerprint: sha-512 as hex pairs with ':' */
#define C2_FOUNDATION_MAX 32 /* RFC 8445 */
#define C2_IP_MAX 45         /* INET6_ADDRSTRLEN - 1 */
#define C2_URL_MAX 1023      /* web-socket url */

typedef enum c2_media_type {
    C2_MEDIA_AUDIO,
    C2_MEDIA_VIDEO,
} c2_media_type;

typedef struct c2_param {
    char name[C2_PARAM_NAME_MAX + 1];
    char value[C2_PARAM_VALUE_MAX + 1];
} c2_param;

typedef struct c2_rtcp_fb {
    char type[C2_SHORT_MAX + 1];    /* required */
    char subtype[C2_SHORT_MAX + 1]; /* "" if absent */
} c2_rtcp_fb;

/* <payload-type xmlns=rtp>; ids are unique within a <media>. */
typedef struct c2_payload_type {
    uint8_t id;                     /* 0..127 */
    char name[C2_SHORT_MAX + 1];    /* required, e.g. "opus" */
    uint32_t clockrate;             /* 0 if absent */
    uint8_t channels;               /* 0 if absent, else 1..255 */
    c2_param params[C2_MAX_PARAMS]; /* <parameter name value> */
    size_t n_params;
    c2_rtcp_fb rtcp_fbs[C2_MAX_RTCP_FB];
    size_t n_rtcp_fbs;
} c2_payload_type;

/* <rtp-hdrext xmlns=hdrext>; ids are unique within a <media>. */
typedef struct c2_hdrext {
    uint8_t id; /* 1..255 */
    char uri[C2_URI_MAX + 1];
} c2_hdrext;

/* <media type>; at most one of each type per endpoint. */
typedef struct c2_media {
    c2_media_type type;
    c2_payload_type payload_types[C2_MAX_PAYLOAD_TYPES];
    size_t n_payload_types;
    c2_hdrext hdrexts[C2_MAX_HDREXTS];
    size_t n_hdrexts;
    bool extmap_allow_mixed; /* <extmap-allow-mixed xmlns=hdrext/> */
} c2_media;

/* <fingerprint xmlns=dtls hash setup>VALUE</fingerprint> */
typedef struct c2_fingerprint {
    char hash[C2_SHORT_MAX + 1];  /* e.g. "sha-256"; required when parsed */
    char setup[C2_SHORT_MAX + 1]; /* active|passive|actpass|holdconn */
    char value[C2_FP_MAX + 1];    /* text, surrounding whitespace trimmed */
} c2_fingerprint;

/* <candidate> of an ice-udp transport. Parsing requires component,
 * foundation, ip, port, priority, protocol and type; generation and network
 * default to 0. */
typedef struct c2_candidate {
    uint8_t component; /* 1..255 */
    char foundation[C2_FOUNDATION_MAX + 1];
    uint32_t generation;
    char id[C2_STR_MAX + 1]; /* "" if absent */
    char ip[C2_IP_MAX + 1];  /* IPv4 or IPv6 literal, or an mDNS name (mdns) */
    bool mdns;               /* ip is a NAME.local of RFC 8828: not resolvable here */
    uint16_t port;           /* 1..65535 */
    uint32_t priority;
    char protocol[8];             /* "udp" or "tcp" */
    bool is_tcp;                  /* protocol tcp: the bridge ignores it */
    char type[8];                 /* host|srflx|prflx|relay */
    char rel_addr[C2_IP_MAX + 1]; /* "" if absent, else an IP literal */
    uint16_t rel_port;            /* 0 if absent */
    uint32_t network;
} c2_candidate;

/* The colibri2 <transport> of an endpoint and what it contains. */
typedef struct c2_transport {
    bool present;         /* <transport> element present */
    bool ice_controlling; /* attributes; absent = false */
    bool ice_restart;
    bool use_unique_port;
    bool has_ice; /* ice-udp <transport> child present; the fields below until sctp */
    char ufrag[C2_ICE_CRED_MAX + 1]; /* required with candidates or fingerprints */
    char pwd[C2_ICE_CRED_MAX + 1];
    bool rtcp_mux;
    c2_fingerprint fingerprints[C2_MAX_FINGERPRINTS];
    size_t n_fingerprints;
    c2_candidate candidates[C2_MAX_CANDIDATES];
    size_t n_candidates;
    bool has_web_socket; /* <web-socket xmlns=colibri url/>, at most one */
    char web_socket_url[C2_URL_MAX + 1];
    bool sctp_present;  /* <sctp [port] [role]/> */
    uint16_t sctp_port; /* 0 if absent */
    char sctp_role[8];  /* "client", "server" or "" */
} c2_transport;

/* <source xmlns=ssma ssrc [name] [videoType]/> */
typedef struct c2_source {
    uint32_t ssrc; /* nonzero, unique within the request */
    char name[C2_STR_MAX + 1];
    char video_type[C2_SHORT_MAX + 1]; /* videoType, e.g. "camera"; "" if absent */
} c2_source;

/* <ssrc-group xmlns=ssma semantics><source ssrc/>...</ssrc-group>; every ssrc
 * is one of its media-source's sources, none repeated. */
typedef struct c2_ssrc_group {
    char semantics[C2_SHORT_MAX + 1]; /* e.g. "SIM", "FID" */
    uint32_t ssrcs[C2_MAX_GROUP_SSRCS];
    size_t n_ssrcs; /* >= 1 */
} c2_ssrc_group;

/* <media-source type id>; ids are unique within an endpoint. */
typedef struct c2_media_source {
    c2_media_type type;
    char id[C2_STR_MAX + 1]; /* the source name; required */
    c2_source sources[C2_MAX_SOURCES];
    size_t n_sources;
    c2_ssrc_group groups[C2_MAX_GROUPS];
    size_t n_groups;
} c2_media_source;

/* <capability name/> elements. */
typedef struct c2_capabilities {
    bool source_names; /* "source-names": mandatory on create */
    bool ssrc_rewriting;
    bool private_address_connectivity;
    size_t n_unknown; /* other names (not rebuilt by c2_build_request) */
} c2_capabilities;

typedef struct c2_endpoint {
    char id[C2_ID_MAX + 1];
    bool create;
    bool expire; /* never together with create */
    char stats_id[C2_STR_MAX + 1];
    char muc_role[C2_SHORT_MAX + 1]; /* e.g. "visitor"; "" if absent */
    c2_media media[C2_MAX_MEDIA];
    size_t n_media;
    c2_transport transport;
    bool has_sources; /* <sources> present (possibly empty: no sources) */
    c2_media_source media_sources[C2_MAX_MEDIA_SOURCES];
    size_t n_media_sources;
    c2_capabilities capabilities;
    struct {
        bool present;
        bool audio, video;
    } force_mute;
    struct {
        bool present;
        int32_t value; /* -1 (unlimited) .. 1000000 */
    } initial_last_n;
} c2_endpoint;

/* A <conference-modify>. */
typedef struct c2_request {
    char meeting_id[C2_STR_MAX + 1]; /* required */
    char name[C2_JID_MAX + 1];       /* the room JID; "" if absent */
    bool create;
    bool expire;            /* never together with create */
    c2_endpoint *endpoints; /* n_endpoints entries; see ownership above */
    size_t n_endpoints;     /* <= C2_MAX_ENDPOINTS; ids unique */
} c2_request;

/* A failure to report to the requester (c2_build_error_iq). Strings are
 * copied in; reason and endpoint_id are "" when none. */
typedef struct c2_error {
    char type[16];      /* "modify", "cancel", "wait", "auth" */
    char condition[48]; /* RFC 6120 defined condition, e.g. "bad-request" */
    char reason[48];    /* colibri2 reason, e.g. "unknown_endpoint"; "" if none */
    char text[256];     /* human-readable, may be truncated */
    char endpoint_id[C2_ID_MAX + 1];
} c2_error;

/* Fills *e (no-op if e is NULL). reason and endpoint_id may be NULL (stored
 * as ""); strings longer than their field are truncated. */
void c2_error_set(c2_error *e, const char *type, const char *condition, const char *reason,
                  const char *endpoint_id, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Parses a <conference-modify xmlns='jitsi:colibri2'> element (not the IQ)
 * into *out. Returns 0 (free *out with c2_request_free), or -1 with *out
 * zeroed and *err (if not NULL) filled: modify/bad-request for malformed or
 * inconsistent input, cancel/feature-not-implemented (reason
 * feature_not_implemented) for <relay>/<connects>. An endpoint create
 * without <capability name='source-names'/> fails with the text "Source
 * name support is mandatory". TCP candidates are accepted with is_tcp. */
int c2_parse_request(const xmpp_stanza_t *conference_modify, c2_request *out, c2_error *err);

/* Frees the endpoints array and zeroes *r. Safe on a zeroed struct. */
void c2_request_free(c2_request *r);

/* Builds the <conference-modify> element for r (everything present in the
 * struct; booleans only when true, numbers only when nonzero except a
 * candidate's generation and network). A struct c2_parse_request filled
 * round-trips (unknown capability names aside). Fatal if a count is over
 * its bound. The caller releases the result. */
xmpp_stanza_t *c2_build_request(xmpp_ctx_t *ctx, const c2_request *r);

/* The bridge's answer for one endpoint. When building, "" hash means
 * "sha-256", "" setup "actpass", "" sctp_role "server", component 0 is
 * written as 1 and "" protocol as "udp". */
typedef struct c2_answer_endpoint {
    char id[C2_ID_MAX + 1];
    bool has_transport; /* else <endpoint id/> alone */
    char ufrag[C2_ICE_CRED_MAX + 1];
    char pwd[C2_ICE_CRED_MAX + 1];
    c2_fingerprint fingerprint; /* value "" = no <fingerprint> */
    c2_candidate candidates[C2_MAX_CANDIDATES];
    size_t n_candidates;
    char ws_url[C2_URL_MAX + 1]; /* "" = no <web-socket> */
    uint16_t sctp_port;          /* 0 = no <sctp> */
    char sctp_role[8];
} c2_answer_endpoint;

/* A bridge feedback source; "" name means "jvb-a0" / "jvb-v0" when built,
 * ssrc 0 leaves the source out. */
typedef struct c2_feedback_source {
    uint32_t ssrc;
    char name[C2_STR_MAX + 1];
} c2_feedback_source;

/* A <conference-modified>. */
typedef struct c2_answer {
    c2_answer_endpoint *endpoints; /* see ownership above */
    size_t n_endpoints;            /* <= C2_MAX_ENDPOINTS */
    bool include_sources;          /* <sources> with the two feedback sources */
    c2_feedback_source audio;
    c2_feedback_source video;
} c2_answer;

/* Builds <conference-modified xmlns='jitsi:colibri2'> in the shape of
 * jitsi-protocol.md §4.3 (always <rtcp-mux/> inside an ice-udp transport).
 * Fatal if a count is over its bound. The caller releases the result. */
xmpp_stanza_t *c2_build_modified(xmpp_ctx_t *ctx, const c2_answer *a);

/* Parses a <conference-modified> element (the focus side). Returns 0 (free
 * *out with c2_answer_free), or -1 with *out zeroed and *err (if not NULL)
 * filled with a bad-request describing the problem. Candidates and
 * fingerprints are checked as in c2_parse_request; more than one
 * fingerprint, or a media-source type other than audio/video, fails. */
int c2_parse_modified(const xmpp_stanza_t *conference_modified, c2_answer *out, c2_error *err);

/* Frees the endpoints array and zeroes *a. Safe on a zeroed struct. */
void c2_answer_free(c2_answer *a);

/* Builds the error reply to request_iq: <iq type='error' to=FROM-of-request
 * from=TO-of-request id=same> with <error type><CONDITION xmlns=stanzas/>
 * [<text xmlns=stanzas>text</text>] [<error xmlns='jitsi:colibri2'
 * reason/>] [<endpoint xmlns='jitsi:colibri2' id/> when the reason is
 * unknown_endpoint]</error>. Attributes absent from the request are left
 * out. The caller releases the result. */
xmpp_stanza_t *c2_build_error_iq(xmpp_ctx_t *ctx, const xmpp_stanza_t *request_iq,
                                 const c2_error *e);

#endif
