/* jingle: the Jingle messages (`urn:xmpp:jingle:1`) between the focus and
 * the clients, on libstrophe stanzas (docs: jitsi-protocol.md §3). The focus
 * parses what clients send (session-accept, transport-info, source-add /
 * source-remove, session-terminate, session-info), validates a client's
 * source set (§3.4) and builds what it sends (session-initiate in the §3.2
 * layout, source-add / source-remove, transport-info, session-terminate).
 *
 * Follows colibri2.h and reuses its types and namespaces: payload types,
 * header extensions, fingerprints, candidates (IP literal or RFC 8828 mDNS
 * name) and ssrc-groups are parsed with the same rules and bounds, so what
 * the focus reads from a client always fits in a colibri2 request.
 *
 * Limits at the edge: every string, count and number read from the wire is
 * checked against a bound; anything over a bound, non-numeric where a
 * number is expected or malformed makes jingle_parse fail with a message
 * (never silent truncation). Elements in unknown namespaces or with unknown
 * names are ignored (json-message, startmuted, traceparent, ...). An
 * unknown action is not an error: the parse succeeds with JINGLE_UNKNOWN and
 * only sid/initiator/responder read, so the focus can answer
 * feature-not-implemented. Semantic checks on sources are not part of the
 * parse (a source-remove is matched leniently by SSRC): the focus runs
 * jingle_validate_sources on what it accepts.
 *
 * Ownership: jingle_msg is a plain value with fixed-size arrays and no
 * pointers (nothing to free); strings are NUL-terminated, "" meaning
 * absent. It is large (about 0.4 MB, see JINGLE_MAX_*): allocate it on the
 * heap, not on the stack (xcalloc to build one; jingle_parse zeroes its
 * output itself, so xmalloc is enough there). jingle_parse
 * borrows the stanza and keeps no pointer into it; jingle_build borrows the
 * message and returns a new stanza owned by the caller
 * (xmpp_stanza_release). Out of memory, an over-bound count or
 * JINGLE_UNKNOWN passed to jingle_build is fatal (util.h). Thread-safe and
 * usable from any loop: no global mutable state. */
#ifndef PARLEY_JINGLE_H
#define PARLEY_JINGLE_H

#include "colibri2.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <strophe.h>

#define JINGLE_NS "urn:xmpp:jingle:1"
#define JINGLE_NS_GROUPING "urn:xmpp:jingle:apps:grouping:0"
#define JINGLE_NS_SCTP "urn:xmpp:jingle:transports:dtls-sctp:1"
#define JINGLE_NS_JITMEET "http://jitsi.org/jitmeet"      /* <ssrc-info owner> */
#define JINGLE_NS_FOCUS "http://jitsi.org/protocol/focus" /* <bridge-session> */

/* Counts. Payload types, hdrexts, fingerprints, candidates and the ssrcs of
 * one group use the colibri2 bounds (C2_MAX_*). */
#define JINGLE_MAX_CONTENTS 4 /* <content> per message: audio, video, data and one more */
#define JINGLE_MAX_SOURCES 64 /* <source> per content */
#define JINGLE_MAX_GROUPS 32  /* <ssrc-group> per content */

/* String lengths in bytes, without the NUL. */
#define JINGLE_SID_MAX 127
#define JINGLE_JID_MAX 3071       /* initiator, responder (RFC 7622 full JID) */
#define JINGLE_NAME_MAX 31        /* content name */
#define JINGLE_MSID_MAX 255       /* <parameter name='msid' value> of a source */
#define JINGLE_OWNER_MAX 127      /* <ssrc-info owner> */
#define JINGLE_REASON_MAX 47      /* reason condition element name */
#define JINGLE_TEXT_MAX 255       /* reason text */
#define JINGLE_REGION_MAX 63      /* bridge-session region */
#define JINGLE_SESSION_ID_MAX 127 /* bridge-session id */

typedef enum jingle_action {
    JINGLE_UNKNOWN = 0, /* any other action (parse only) */
    JINGLE_SESSION_INITIATE,
    JINGLE_SESSION_ACCEPT,
    JINGLE_SESSION_INFO,
    JINGLE_SESSION_TERMINATE,
    JINGLE_TRANSPORT_INFO,
    JINGLE_TRANSPORT_ACCEPT,
    JINGLE_TRANSPORT_REJECT,
    JINGLE_TRANSPORT_REPLACE,
    JINGLE_SOURCE_ADD,    /* also parsed from the legacy "addsource" */
    JINGLE_SOURCE_REMOVE, /* also parsed from the legacy "removesource" */
    JINGLE_CONTENT_MODIFY,
} jingle_action;

/* The wire name of a ("source-add" for JINGLE_SOURCE_ADD), "" for
 * JINGLE_UNKNOWN or an out-of-range value. */
const char *jingle_action_name(jingle_action a);
/* The action for a wire name (legacy addsource/removesource included);
 * JINGLE_UNKNOWN for NULL or anything else. */
jingle_action jingle_action_from_name(const char *name);

/* <source xmlns=ssma ssrc [name] [videoType]> with <parameter name='msid'
 * value/> and <ssrc-info xmlns=jitmeet owner/> children (other parameters
 * are ignored). ssrc 0 parses; jingle_validate_sources refuses it. */
typedef struct jingle_source {
    uint32_t ssrc;
    char name[C2_STR_MAX + 1];         /* e.g. "7b4f1a2c-v0"; "" if absent */
    char msid[JINGLE_MSID_MAX + 1];    /* "" if absent */
    char owner[JINGLE_OWNER_MAX + 1];  /* "" if absent */
    char video_type[C2_SHORT_MAX + 1]; /* videoType: "camera", "desktop"; "" if absent */
} jingle_source;

/* A <content>. Sources and groups come from its <description> or, leniently,
 * directly from the content (then they are rebuilt there when media is
 * ""). Groups are parsed structurally only (1..C2_MAX_GROUP_SSRCS ssrcs). */
typedef struct jingle_content {
    char name[JINGLE_NAME_MAX + 1]; /* required, unique in the message */
    char creator[16];               /* "initiator", "responder" or "" */
    char senders[16];               /* "both", "initiator", "responder", "none" or "" */
    char media[16];    /* <description media>: "audio", "video", "application"; "" = none */
    uint32_t maxptime; /* <description maxptime>; 0 if absent */
    c2_payload_type payload_types[C2_MAX_PAYLOAD_TYPES]; /* ids unique */
    size_t n_payload_types;
    c2_hdrext hdrexts[C2_MAX_HDREXTS]; /* ids unique */
    size_t n_hdrexts;
    bool extmap_allow_mixed; /* <extmap-allow-mixed xmlns=hdrext/> in the description */
    bool rtcp_mux;           /* <rtcp-mux/> in the description */
    jingle_source sources[JINGLE_MAX_SOURCES];
    size_t n_sources;
    c2_ssrc_group groups[JINGLE_MAX_GROUPS];
    size_t n_groups;
    /* The ice-udp <transport>, at most one. Parsing sets transport.present
     * and transport.has_ice with has_transport; ice_controlling, ice_restart,
     * use_unique_port and sctp_role are colibri2-only and stay unused.
     * <sctpmap xmlns=dtls-sctp number> sets sctp_present and sctp_port
     * (built with protocol='webrtc-datachannel' streams='1024'). */
    bool has_transport;
    c2_transport transport;
    struct {
        bool present;  /* <initial-last-n xmlns='jitsi:colibri2' value/> in the content */
        int32_t value; /* -1 .. 1000000 */
    } initial_last_n;
} jingle_content;

/* A <jingle> element. */
typedef struct jingle_msg {
    jingle_action action;
    char sid[JINGLE_SID_MAX + 1]; /* required, 1..127 bytes */
    char initiator[JINGLE_JID_MAX + 1];
    char responder[JINGLE_JID_MAX + 1];
    jingle_content contents[JINGLE_MAX_CONTENTS]; /* names unique */
    size_t n_contents;
    /* <group xmlns=grouping semantics='BUNDLE'><content name/>...</group>.
     * jingle_build lists bundle[] if n_bundle > 0, else every content. */
    bool has_bundle;
    char bundle[JINGLE_MAX_CONTENTS][JINGLE_NAME_MAX + 1];
    size_t n_bundle;
    /* <bridge-session xmlns=focus id [region] [restart] [ice-restart]/> */
    struct {
        bool present;
        char id[JINGLE_SESSION_ID_MAX + 1];
        char region[JINGLE_REGION_MAX + 1];
        bool restart;     /* session-terminate: please re-invite */
        bool ice_restart; /* session-info: please restart ICE */
    } bridge_session;
    /* <reason><CONDITION/>[<text>text</text>]</reason> */
    struct {
        bool present;
        char condition[JINGLE_REASON_MAX + 1]; /* e.g. "success"; required */
        char text[JINGLE_TEXT_MAX + 1];
    } reason;
} jingle_msg;

/* Parses a <jingle xmlns='urn:xmpp:jingle:1'> element (not the IQ) into
 * *out. Returns 0, or -1 with *out zeroed and the reason in err (errlen
 * bytes, may be NULL/0). Requires action and sid; see the top comment for
 * unknown actions and the bounds. */
int jingle_parse(const xmpp_stanza_t *jingle_el, jingle_msg *out, char *err, size_t errlen);

/* Builds the <jingle> element for m (any action but JINGLE_UNKNOWN).
 * Layout of jitsi-protocol.md §3.2: <reason> first when present, then each
 * content (creator defaulting to "initiator" for session-initiate and
 * "responder" for session-accept, senders to "both" for both; otherwise
 * written only when set) with its description (maxptime, payload types with
 * parameters and rtcp-fb, rtp-hdrexts, extmap-allow-mixed, rtcp-mux, the
 * sources each with <ssrc-info owner> and the msid parameter, then the
 * ssrc-groups) and its transport (sctpmap, rtcp-mux, fingerprints,
 * candidates, web-socket), then the BUNDLE group, then <bridge-session>.
 * For source-add and source-remove a content carries only
 * <description media> with its sources and groups (no payload types,
 * hdrexts or transport). A message jingle_parse filled round-trips. The
 * caller releases the result. */
xmpp_stanza_t *jingle_build(xmpp_ctx_t *ctx, const jingle_msg *m);

/* Appends a zeroed content named name with description media (either may
 * be "" or NULL; strings longer than their field are truncated) and
 * returns it, or NULL if m already has JINGLE_MAX_CONTENTS contents. */
jingle_content *jingle_add_content(jingle_msg *m, const char *name, const char *media);

/* Checks a client's source set (session-accept, source-add) as the focus
 * must before it hands it to the bridge (jitsi-protocol.md §3.4): at most
 * max_ssrcs sources and max_ssrcs ssrc-groups in all the contents; sources
 * only in audio/video contents; every ssrc nonzero and unique in the
 * message; names, when present, of the form ENDPOINT-a<N> in audio and
 * ENDPOINT-v<N> in video with ENDPOINT == endpoint_id (any non-empty
 * ENDPOINT if endpoint_id is NULL); every group ssrc one of its content's
 * sources and not repeated, FID (and FEC-FR) exactly 2 ssrcs, SIM 2 or 3,
 * other semantics refused; the sources of a group have the same non-empty
 * msid; sources sharing an msid are linked by groups. Returns 0, or -1 with
 * the reason in err. Conference-wide uniqueness is the caller's. */
int jingle_validate_sources(const jingle_msg *m, const char *endpoint_id, int max_ssrcs, char *err,
                            size_t errlen);

#endif
