/* jingle: parsing and building of Jingle (`urn:xmpp:jingle:1`) elements
 * between the focus and the clients on libstrophe stanzas, and the check of
 * a client's source set. See jingle.h for the contract. */
#include "jingle.h"
#include "stanza_fields.h"
#include "util.h"

#include <string.h>

/* libstrophe's getters take non-const stanzas but do not modify them. */
#define MUT(s) ((xmpp_stanza_t *)(s))

/* ---- actions ---- */

static const struct {
    jingle_action action;
    const char *name;
} action_names[] = {
    {JINGLE_SESSION_INITIATE, "session-initiate"},
    {JINGLE_SESSION_ACCEPT, "session-accept"},
    {JINGLE_SESSION_INFO, "session-info"},
    {JINGLE_SESSION_TERMINATE, "session-terminate"},
    {JINGLE_TRANSPORT_INFO, "transport-info"},
    {JINGLE_TRANSPORT_ACCEPT, "transport-accept"},
    {JINGLE_TRANSPORT_REJECT, "transport-reject"},
    {JINGLE_TRANSPORT_REPLACE, "transport-replace"},
    {JINGLE_SOURCE_ADD, "source-add"},
    {JINGLE_SOURCE_REMOVE, "source-remove"},
    {JINGLE_CONTENT_MODIFY, "content-modify"},
    {JINGLE_SOURCE_ADD, "addsource"},
    {JINGLE_SOURCE_REMOVE, "removesource"},
};

const char *jingle_action_name(jingle_action a)
{
    for (size_t i = 0; i < sizeof action_names / sizeof action_names[0]; i++)
        if (action_names[i].action == a)
            return action_names[i].name;
    return "";
}

jingle_action jingle_action_from_name(const char *name)
{
    for (size_t i = 0; name && i < sizeof action_names / sizeof action_names[0]; i++)
        if (!strcmp(action_names[i].name, name))
            return action_names[i].action;
    return JINGLE_UNKNOWN;
}

/* ---- parsing: description (colibri2's rules for payload types and hdrexts) ---- */

static int parse_hdrext(sf_parser *p, xmpp_stanza_t *s, jingle_content *ct)
{
    if (ct->n_hdrexts == C2_MAX_HDREXTS)
        return sf_bad(p, "more than %d rtp-hdrext in content '%s'", C2_MAX_HDREXTS, ct->name);
    c2_hdrext *h = &ct->hdrexts[ct->n_hdrexts];
    if (sf_parse_hdrext(p, s, h) < 0)
        return -1;
    for (size_t i = 0; i < ct->n_hdrexts; i++)
        if (ct->hdrexts[i].id == h->id)
            return sf_bad(p, "duplicate rtp-hdrext id %u in content '%s'", h->id, ct->name);
    ct->n_hdrexts++;
    return 0;
}

static int parse_source(sf_parser *p, xmpp_stanza_t *s, const char *ns, jingle_content *ct)
{
    if (ct->n_sources == JINGLE_MAX_SOURCES)
        return sf_bad(p, "more than %d sources in content '%s'", JINGLE_MAX_SOURCES, ct->name);
    jingle_source *src = &ct->sources[ct->n_sources++];
    if (sf_get_num(p, s, "ssrc", 0, UINT32_MAX, true, &src->ssrc) < 0 ||
        sf_get_str(p, s, "name", src->name, sizeof src->name, false) < 0 ||
        sf_get_str(p, s, "videoType", src->video_type, sizeof src->video_type, false) < 0)
        return -1;
    bool seen_msid = false, seen_info = false;
    SF_FOR_CHILD_TAGS(c, s)
    {
        const char *cns = sf_ns_of(c, ns);
        if (sf_is_el(c, cns, "parameter", C2_NS_SSMA) || sf_is_el(c, cns, "parameter", C2_NS_RTP)) {
            if (!str_eq(xmpp_stanza_get_attribute(c, "name"), "msid"))
                continue; /* cname, mslabel, label: not used */
            if (sf_once(p, &seen_msid, "parameter name='msid'") < 0 ||
                sf_get_str(p, c, "value", src->msid, sizeof src->msid, false) < 0)
                return -1;
        } else if (sf_is_el(c, cns, "ssrc-info", JINGLE_NS_JITMEET)) {
            if (sf_once(p, &seen_info, "ssrc-info") < 0 ||
                sf_get_str(p, c, "owner", src->owner, sizeof src->owner, false) < 0)
                return -1;
        }
    }
    return 0;
}

static int parse_group(sf_parser *p, xmpp_stanza_t *s, const char *ns, jingle_content *ct)
{
    if (ct->n_groups == JINGLE_MAX_GROUPS)
        return sf_bad(p, "more than %d ssrc-groups in content '%s'", JINGLE_MAX_GROUPS, ct->name);
    c2_ssrc_group *g = &ct->groups[ct->n_groups++];
    /* ssrc 0 and repeats are left to jingle_validate_sources */
    if (sf_parse_ssrc_group(p, s, ns, g, false) < 0)
        return -1;
    if (g->n_ssrcs == 0)
        return sf_bad(p, "empty ssrc-group %s in content '%s'", g->semantics, ct->name);
    return 0;
}

/* <source> and <ssrc-group> (ssma); 1 if c was one of them, 0 if not, -1. */
static int parse_source_or_group(sf_parser *p, xmpp_stanza_t *c, const char *cns,
                                 jingle_content *ct)
{
    if (sf_is_el(c, cns, "source", C2_NS_SSMA))
        return parse_source(p, c, cns, ct) < 0 ? -1 : 1;
    if (sf_is_el(c, cns, "ssrc-group", C2_NS_SSMA))
        return parse_group(p, c, cns, ct) < 0 ? -1 : 1;
    return 0;
}

static const char *const media_values[] = {"audio", "video", "application", NULL};

static int parse_description(sf_parser *p, xmpp_stanza_t *s, const char *ns, jingle_content *ct)
{
    const char *media = xmpp_stanza_get_attribute(s, "media");
    if (!media)
        return sf_bad(p, "<description> of content '%s' lacks the 'media' attribute", ct->name);
    if (sf_get_enum(p, s, "media", media_values, ct->media, sizeof ct->media) < 0)
        return sf_bad(p, "description media '%.32s' is not audio, video or application", media);
    uint32_t v;
    int rc = sf_get_num(p, s, "maxptime", 1, UINT32_MAX, false, &v);
    if (rc < 0)
        return -1;
    ct->maxptime = rc ? v : 0;
    SF_FOR_CHILD_TAGS(c, s)
    {
        const char *cns = sf_ns_of(c, ns);
        if (sf_is_el(c, cns, "payload-type", C2_NS_RTP)) {
            if (ct->n_payload_types == C2_MAX_PAYLOAD_TYPES)
                return sf_bad(p, "more than %d payload types in content '%s'", C2_MAX_PAYLOAD_TYPES,
                              ct->name);
            c2_payload_type *pt = &ct->payload_types[ct->n_payload_types];
            if (sf_parse_payload_type(p, c, cns, pt) < 0)
                return -1;
            for (size_t i = 0; i < ct->n_payload_types; i++)
                if (ct->payload_types[i].id == pt->id)
                    return sf_bad(p, "duplicate payload type %u in content '%s'", pt->id, ct->name);
            ct->n_payload_types++;
        } else if (sf_is_el(c, cns, "rtp-hdrext", C2_NS_HDREXT)) {
            if (parse_hdrext(p, c, ct) < 0)
                return -1;
        } else if (sf_is_el(c, cns, "extmap-allow-mixed", C2_NS_HDREXT)) {
            ct->extmap_allow_mixed = true;
        } else if (sf_is_el(c, cns, "rtcp-mux", C2_NS_RTP)) {
            ct->rtcp_mux = true;
        } else if (parse_source_or_group(p, c, cns, ct) < 0) {
            return -1;
        }
    }
    return 0;
}

/* ---- parsing: transport (colibri2's rules for candidates and fingerprints) ---- */

static int parse_sctpmap(sf_parser *p, xmpp_stanza_t *s, c2_transport *t)
{
    uint32_t v;
    if (t->sctp_present)
        return sf_bad(p, "more than one sctpmap");
    t->sctp_present = true;
    if (sf_get_num(p, s, "number", 1, 65535, true, &v) < 0)
        return -1;
    t->sctp_port = (uint16_t)v;
    if (sf_get_num(p, s, "streams", 0, 65535, false, &v) < 0)
        return -1;
    return 0;
}

static int parse_transport(sf_parser *p, xmpp_stanza_t *s, const char *ns, jingle_content *ct)
{
    c2_transport *t = &ct->transport;
    ct->has_transport = t->present = t->has_ice = true;
    if (sf_get_str(p, s, "ufrag", t->ufrag, sizeof t->ufrag, false) < 0 ||
        sf_get_str(p, s, "pwd", t->pwd, sizeof t->pwd, false) < 0)
        return -1;
    SF_FOR_CHILD_TAGS(c, s)
    {
        const char *cns = sf_ns_of(c, ns);
        /* a fingerprint's text may hold tab, CR and LF (ws true) */
        int rc = sf_parse_ice_child(p, c, cns, t, true);
        if (rc == 0 && sf_is_el(c, cns, "sctpmap", JINGLE_NS_SCTP))
            rc = parse_sctpmap(p, c, t);
        if (rc < 0)
            return -1;
    }
    return sf_check_ice_creds(p, t);
}

/* ---- parsing: content and session ---- */

static int parse_initial_last_n(sf_parser *p, xmpp_stanza_t *s, jingle_content *ct)
{
    if (ct->initial_last_n.present)
        return sf_bad(p, "more than one <initial-last-n>");
    if (sf_get_last_n(p, s, &ct->initial_last_n.value) < 0)
        return -1;
    ct->initial_last_n.present = true;
    return 0;
}

static const char *const creator_values[] = {"initiator", "responder", NULL};
static const char *const senders_values[] = {"both", "initiator", "responder", "none", NULL};

static int parse_content(sf_parser *p, xmpp_stanza_t *s, const char *ns, jingle_msg *m)
{
    if (m->n_contents == JINGLE_MAX_CONTENTS)
        return sf_bad(p, "more than %d contents", JINGLE_MAX_CONTENTS);
    jingle_content *ct = &m->contents[m->n_contents];
    if (sf_get_str(p, s, "name", ct->name, sizeof ct->name, true) < 0 ||
        sf_get_enum(p, s, "creator", creator_values, ct->creator, sizeof ct->creator) < 0 ||
        sf_get_enum(p, s, "senders", senders_values, ct->senders, sizeof ct->senders) < 0)
        return -1;
    for (size_t i = 0; i < m->n_contents; i++)
        if (!strcmp(m->contents[i].name, ct->name))
            return sf_bad(p, "duplicate content '%s'", ct->name);
    bool seen_desc = false;
    SF_FOR_CHILD_TAGS(c, s)
    {
        const char *cns = sf_ns_of(c, ns);
        if (sf_is_el(c, cns, "description", C2_NS_RTP)) {
            if (sf_once(p, &seen_desc, "description") < 0 || parse_description(p, c, cns, ct) < 0)
                return -1;
        } else if (sf_is_el(c, cns, "transport", C2_NS_ICE)) {
            if (ct->has_transport)
                return sf_bad(p, "more than one <transport> in content '%s'", ct->name);
            if (parse_transport(p, c, cns, ct) < 0)
                return -1;
        } else if (sf_is_el(c, cns, "initial-last-n", C2_NS)) {
            if (parse_initial_last_n(p, c, ct) < 0)
                return -1;
        } else if (parse_source_or_group(p, c, cns, ct) < 0) {
            return -1;
        }
    }
    m->n_contents++;
    return 0;
}

static int parse_bundle(sf_parser *p, xmpp_stanza_t *s, const char *ns, jingle_msg *m)
{
    if (m->has_bundle)
        return sf_bad(p, "more than one BUNDLE group");
    m->has_bundle = true;
    SF_FOR_CHILD_TAGS(c, s)
    {
        if (!sf_is_el(c, sf_ns_of(c, ns), "content", JINGLE_NS_GROUPING))
            continue;
        if (m->n_bundle == JINGLE_MAX_CONTENTS)
            return sf_bad(p, "more than %d contents in the BUNDLE group", JINGLE_MAX_CONTENTS);
        if (sf_get_str(p, c, "name", m->bundle[m->n_bundle], sizeof m->bundle[0], true) < 0)
            return -1;
        m->n_bundle++;
    }
    return 0;
}

static int parse_reason(sf_parser *p, xmpp_stanza_t *s, const char *ns, jingle_msg *m)
{
    bool seen_text = false;
    m->reason.present = true;
    SF_FOR_CHILD_TAGS(c, s)
    {
        const char *cns = sf_ns_of(c, ns);
        if (!str_eq(cns, JINGLE_NS))
            continue; /* application-specific condition */
        if (sf_is_el(c, cns, "text", JINGLE_NS)) {
            if (sf_once(p, &seen_text, "text") < 0 ||
                sf_get_text(p, c, "reason text", m->reason.text, sizeof m->reason.text, true) < 0)
                return -1;
            continue;
        }
        if (m->reason.condition[0])
            return sf_bad(p, "more than one reason condition");
        if (sf_copy_str(p, s, "condition", sf_el_name(c), m->reason.condition,
                        sizeof m->reason.condition, false) < 0)
            return -1;
    }
    if (!m->reason.condition[0])
        return sf_bad(p, "<reason> lacks a condition");
    return 0;
}

static int parse_bridge_session(sf_parser *p, xmpp_stanza_t *s, jingle_msg *m)
{
    if (m->bridge_session.present)
        return sf_bad(p, "more than one <bridge-session>");
    m->bridge_session.present = true;
    if (sf_get_str(p, s, "id", m->bridge_session.id, sizeof m->bridge_session.id, false) < 0 ||
        sf_get_str(p, s, "region", m->bridge_session.region, sizeof m->bridge_session.region,
                   false) < 0 ||
        sf_get_bool(p, s, "restart", &m->bridge_session.restart) < 0 ||
        sf_get_bool(p, s, "ice-restart", &m->bridge_session.ice_restart) < 0)
        return -1;
    return 0;
}

static int parse_jingle(sf_parser *p, xmpp_stanza_t *s, jingle_msg *m)
{
    const char *ns = xmpp_stanza_get_ns(s);
    if (!str_eq(xmpp_stanza_get_name(s), "jingle") || !str_eq(ns, JINGLE_NS))
        return sf_bad(p, "expected <jingle xmlns='%s'>", JINGLE_NS);
    const char *action = xmpp_stanza_get_attribute(s, "action");
    if (!action || !action[0])
        return sf_bad(p, "<jingle> lacks the 'action' attribute");
    m->action = jingle_action_from_name(action);
    if (sf_get_str(p, s, "sid", m->sid, sizeof m->sid, true) < 0 ||
        sf_get_str(p, s, "initiator", m->initiator, sizeof m->initiator, false) < 0 ||
        sf_get_str(p, s, "responder", m->responder, sizeof m->responder, false) < 0)
        return -1;
    if (m->action == JINGLE_UNKNOWN)
        return 0; /* the focus answers feature-not-implemented */
    bool seen_reason = false;
    SF_FOR_CHILD_TAGS(c, s)
    {
        const char *cns = sf_ns_of(c, ns);
        int rc = 0;
        if (sf_is_el(c, cns, "content", JINGLE_NS)) {
            rc = parse_content(p, c, cns, m);
        } else if (sf_is_el(c, cns, "group", JINGLE_NS_GROUPING)) {
            if (str_eq(xmpp_stanza_get_attribute(c, "semantics"), "BUNDLE"))
                rc = parse_bundle(p, c, cns, m);
        } else if (sf_is_el(c, cns, "reason", JINGLE_NS)) {
            rc = sf_once(p, &seen_reason, "reason");
            if (rc == 0)
                rc = parse_reason(p, c, cns, m);
        } else if (sf_is_el(c, cns, "bridge-session", JINGLE_NS_FOCUS)) {
            rc = parse_bridge_session(p, c, m);
        }
        if (rc < 0)
            return -1;
    }
    return 0;
}

int jingle_parse(const xmpp_stanza_t *jingle_el, jingle_msg *out, char *err, size_t errlen)
{
    sf_parser p = {.err = err, .errlen = errlen};
    memset(out, 0, sizeof *out);
    if (err && errlen)
        err[0] = '\0';
    if (!jingle_el)
        return sf_bad(&p, "no jingle element");
    if (parse_jingle(&p, MUT(jingle_el), out) < 0) {
        memset(out, 0, sizeof *out);
        return -1;
    }
    return 0;
}

/* ---- building helpers ---- */

/* ---- building ---- */

static void build_payload_types(xmpp_stanza_t *desc, const jingle_content *ct)
{
    sf_check_bound(ct->n_payload_types, C2_MAX_PAYLOAD_TYPES, "payload types");
    for (size_t i = 0; i < ct->n_payload_types; i++)
        sf_build_payload_type(desc, &ct->payload_types[i], NULL);
    sf_check_bound(ct->n_hdrexts, C2_MAX_HDREXTS, "rtp-hdrexts");
    for (size_t i = 0; i < ct->n_hdrexts; i++)
        sf_build_hdrext(desc, &ct->hdrexts[i]);
    if (ct->extmap_allow_mixed)
        sf_add_el(desc, "extmap-allow-mixed", C2_NS_HDREXT);
    if (ct->rtcp_mux)
        sf_add_el(desc, "rtcp-mux", NULL);
}

/* The sources, then the ssrc-groups, appended to parent. */
static void build_sources(xmpp_stanza_t *parent, const jingle_content *ct)
{
    sf_check_bound(ct->n_sources, JINGLE_MAX_SOURCES, "sources");
    sf_check_bound(ct->n_groups, JINGLE_MAX_GROUPS, "ssrc-groups");
    for (size_t i = 0; i < ct->n_sources; i++) {
        const jingle_source *src = &ct->sources[i];
        xmpp_stanza_t *s = sf_add_el(parent, "source", C2_NS_SSMA);
        sf_set_num(s, "ssrc", src->ssrc);
        sf_set_attr_opt(s, "name", src->name);
        sf_set_attr_opt(s, "videoType", src->video_type);
        if (src->owner[0])
            sf_set_attr(sf_add_el(s, "ssrc-info", JINGLE_NS_JITMEET), "owner", src->owner);
        if (src->msid[0]) {
            xmpp_stanza_t *pa = sf_add_el(s, "parameter", NULL);
            sf_set_attr(pa, "name", "msid");
            sf_set_attr(pa, "value", src->msid);
        }
    }
    for (size_t i = 0; i < ct->n_groups; i++)
        sf_build_ssrc_group(parent, &ct->groups[i], NULL);
}

static void build_transport(xmpp_stanza_t *parent, const c2_transport *t)
{
    sf_check_bound(t->n_candidates, C2_MAX_CANDIDATES, "candidates");
    sf_check_bound(t->n_fingerprints, C2_MAX_FINGERPRINTS, "fingerprints");
    xmpp_stanza_t *tr = sf_add_el(parent, "transport", C2_NS_ICE);
    sf_set_attr_opt(tr, "ufrag", t->ufrag);
    sf_set_attr_opt(tr, "pwd", t->pwd);
    if (t->sctp_present) {
        xmpp_stanza_t *sm = sf_add_el(tr, "sctpmap", JINGLE_NS_SCTP);
        sf_set_num(sm, "number", t->sctp_port);
        sf_set_attr(sm, "protocol", "webrtc-datachannel");
        sf_set_attr(sm, "streams", "1024");
    }
    if (t->rtcp_mux)
        sf_add_el(tr, "rtcp-mux", NULL);
    for (size_t i = 0; i < t->n_fingerprints; i++)
        sf_build_fingerprint(tr, &t->fingerprints[i], NULL, NULL);
    for (size_t i = 0; i < t->n_candidates; i++)
        sf_build_candidate(tr, &t->candidates[i], NULL);
    if (t->has_web_socket)
        sf_set_attr(sf_add_el(tr, "web-socket", C2_NS_WS), "url", t->web_socket_url);
}

static void build_content(xmpp_stanza_t *jingle, jingle_action action, const jingle_content *ct)
{
    bool sources_only = action == JINGLE_SOURCE_ADD || action == JINGLE_SOURCE_REMOVE;
    const char *creator = ct->creator, *senders = ct->senders;
    if (action == JINGLE_SESSION_INITIATE || action == JINGLE_SESSION_ACCEPT) {
        if (!creator[0])
            creator = action == JINGLE_SESSION_INITIATE ? "initiator" : "responder";
        if (!senders[0])
            senders = "both";
    }
    xmpp_stanza_t *c = sf_add_el(jingle, "content", NULL);
    sf_set_attr_opt(c, "creator", creator);
    sf_set_attr(c, "name", ct->name);
    sf_set_attr_opt(c, "senders", senders);
    if (ct->initial_last_n.present && !sources_only)
        sf_build_initial_last_n(c, ct->initial_last_n.value);
    if (ct->media[0]) {
        xmpp_stanza_t *d = sf_add_el(c, "description", C2_NS_RTP);
        sf_set_attr(d, "media", ct->media);
        if (!sources_only) {
            if (ct->maxptime)
                sf_set_num(d, "maxptime", ct->maxptime);
            build_payload_types(d, ct);
        }
        build_sources(d, ct);
    } else {
        build_sources(c, ct); /* lenient placement, kept as parsed */
    }
    if (ct->has_transport && !sources_only)
        build_transport(c, &ct->transport);
}

xmpp_stanza_t *jingle_build(xmpp_ctx_t *ctx, const jingle_msg *m)
{
    const char *action = jingle_action_name(m->action);
    if (!action[0])
        fatal("jingle: cannot build action %d", (int)m->action);
    sf_check_bound(m->n_contents, JINGLE_MAX_CONTENTS, "contents");
    sf_check_bound(m->n_bundle, JINGLE_MAX_CONTENTS, "bundle names");
    xmpp_stanza_t *j = sf_new_el(ctx, "jingle", JINGLE_NS);
    sf_set_attr(j, "action", action);
    sf_set_attr(j, "sid", m->sid);
    sf_set_attr_opt(j, "initiator", m->initiator);
    sf_set_attr_opt(j, "responder", m->responder);
    if (m->reason.present) {
        xmpp_stanza_t *r = sf_add_el(j, "reason", NULL);
        sf_add_el(r, m->reason.condition[0] ? m->reason.condition : "success", NULL);
        if (m->reason.text[0])
            sf_add_text(sf_add_el(r, "text", NULL), m->reason.text);
    }
    for (size_t i = 0; i < m->n_contents; i++)
        build_content(j, m->action, &m->contents[i]);
    if (m->has_bundle) {
        xmpp_stanza_t *g = sf_add_el(j, "group", JINGLE_NS_GROUPING);
        sf_set_attr(g, "semantics", "BUNDLE");
        size_t n = m->n_bundle ? m->n_bundle : m->n_contents;
        for (size_t i = 0; i < n; i++)
            sf_set_attr(sf_add_el(g, "content", NULL), "name",
                        m->n_bundle ? m->bundle[i] : m->contents[i].name);
    }
    if (m->bridge_session.present) {
        xmpp_stanza_t *b = sf_add_el(j, "bridge-session", JINGLE_NS_FOCUS);
        sf_set_attr_opt(b, "id", m->bridge_session.id);
        sf_set_attr_opt(b, "region", m->bridge_session.region);
        if (m->bridge_session.restart)
            sf_set_attr(b, "restart", "true");
        if (m->bridge_session.ice_restart)
            sf_set_attr(b, "ice-restart", "true");
    }
    return j;
}

jingle_content *jingle_add_content(jingle_msg *m, const char *name, const char *media)
{
    if (m->n_contents >= JINGLE_MAX_CONTENTS)
        return NULL;
    jingle_content *ct = &m->contents[m->n_contents++];
    memset(ct, 0, sizeof *ct);
    sf_copy_trunc(ct->name, sizeof ct->name, name);
    sf_copy_trunc(ct->media, sizeof ct->media, media);
    return ct;
}

/* ---- source validation ---- */

/* Index of ssrc among ct's sources, or -1. */
static int source_index(const jingle_content *ct, uint32_t ssrc)
{
    for (size_t i = 0; i < ct->n_sources; i++)
        if (ct->sources[i].ssrc == ssrc)
            return (int)i;
    return -1;
}

/* True if name is PREFIX-KIND<digits> (PREFIX == endpoint_id, or any
 * non-empty prefix when endpoint_id is NULL). */
static bool source_name_ok(const char *name, const char *endpoint_id, char kind)
{
    const char *dash = strrchr(name, '-');
    if (!dash || dash == name || dash[1] != kind || !dash[2])
        return false;
    for (const char *q = dash + 2; *q; q++)
        if (*q < '0' || *q > '9')
            return false;
    if (!endpoint_id)
        return true;
    size_t n = strlen(endpoint_id);
    return (size_t)(dash - name) == n && !strncmp(name, endpoint_id, n);
}

static int find_root(int *parent, int i)
{
    while (parent[i] != i)
        i = parent[i] = parent[parent[i]];
    return i;
}

static int validate_groups(sf_parser *p, const jingle_content *ct, int *parent)
{
    for (size_t i = 0; i < ct->n_sources; i++)
        parent[i] = (int)i;
    for (size_t g = 0; g < ct->n_groups; g++) {
        const c2_ssrc_group *gr = &ct->groups[g];
        size_t n = gr->n_ssrcs;
        if (!strcmp(gr->semantics, "FID") || !strcmp(gr->semantics, "FEC-FR")) {
            if (n != 2)
                return sf_bad(p, "%s ssrc-group in content '%s' has %zu SSRCs, not 2",
                              gr->semantics, ct->name, n);
        } else if (!strcmp(gr->semantics, "SIM")) {
            if (n < 2 || n > 3)
                return sf_bad(p, "SIM ssrc-group in content '%s' has %zu SSRCs, not 2 or 3",
                              ct->name, n);
        } else {
            return sf_bad(p, "ssrc-group semantics '%s' in content '%s' is not supported",
                          gr->semantics, ct->name);
        }
        int first = -1;
        for (size_t k = 0; k < n; k++) {
            uint32_t ssrc = gr->ssrcs[k];
            for (size_t l = 0; l < k; l++)
                if (gr->ssrcs[l] == ssrc)
                    return sf_bad(p, "ssrc %lu is repeated in a %s ssrc-group", (unsigned long)ssrc,
                                  gr->semantics);
            int idx = source_index(ct, ssrc);
            if (idx < 0)
                return sf_bad(
                    p, "%s ssrc-group in content '%s' names ssrc %lu, not one of its sources",
                    gr->semantics, ct->name, (unsigned long)ssrc);
            const jingle_source *src = &ct->sources[idx];
            if (!src->msid[0])
                return sf_bad(p, "source %lu of a %s ssrc-group has no msid", (unsigned long)ssrc,
                              gr->semantics);
            if (first < 0) {
                first = idx;
            } else {
                if (strcmp(src->msid, ct->sources[first].msid))
                    return sf_bad(p,
                                  "the sources of a %s ssrc-group in content '%s' have different "
                                  "msids",
                                  gr->semantics, ct->name);
                parent[find_root(parent, idx)] = find_root(parent, first);
            }
        }
    }
    return 0;
}

int jingle_validate_sources(const jingle_msg *m, const char *endpoint_id, int max_ssrcs, char *err,
                            size_t errlen)
{
    sf_parser p = {.err = err, .errlen = errlen};
    if (err && errlen)
        err[0] = '\0';
    size_t n_ssrcs = 0, n_groups = 0;
    for (size_t c = 0; c < m->n_contents && c < JINGLE_MAX_CONTENTS; c++) {
        n_ssrcs += m->contents[c].n_sources;
        n_groups += m->contents[c].n_groups;
    }
    size_t max = max_ssrcs > 0 ? (size_t)max_ssrcs : 0;
    if (n_ssrcs > max)
        return sf_bad(&p, "too many SSRCs: %zu (at most %zu)", n_ssrcs, max);
    if (n_groups > max)
        return sf_bad(&p, "too many ssrc-groups: %zu (at most %zu)", n_groups, max);

    /* per-content union-find of the sources linked by groups */
    int parent[JINGLE_MAX_CONTENTS][JINGLE_MAX_SOURCES];
    for (size_t c = 0; c < m->n_contents && c < JINGLE_MAX_CONTENTS; c++) {
        const jingle_content *ct = &m->contents[c];
        if (ct->n_sources > JINGLE_MAX_SOURCES || ct->n_groups > JINGLE_MAX_GROUPS)
            return sf_bad(&p, "content '%s' is over the source bounds", ct->name);
        if (!ct->n_sources && !ct->n_groups)
            continue;
        bool audio = !strcmp(ct->media, "audio");
        if (!audio && strcmp(ct->media, "video"))
            return sf_bad(&p, "content '%s' carries sources but is not an audio or video content",
                          ct->name);
        for (size_t i = 0; i < ct->n_sources; i++) {
            const jingle_source *src = &ct->sources[i];
            if (src->ssrc == 0)
                return sf_bad(&p, "ssrc 0 in content '%s' is not allowed", ct->name);
            if (src->name[0] && !source_name_ok(src->name, endpoint_id, audio ? 'a' : 'v'))
                return sf_bad(&p, "source name '%s' in content '%s' is not %s-%c<N>", src->name,
                              ct->name, endpoint_id ? endpoint_id : "ENDPOINT", audio ? 'a' : 'v');
            for (size_t d = 0; d <= c; d++)
                for (size_t j = 0; j < (d == c ? i : m->contents[d].n_sources); j++)
                    if (m->contents[d].sources[j].ssrc == src->ssrc)
                        return sf_bad(&p, "ssrc %lu is used more than once",
                                      (unsigned long)src->ssrc);
        }
        if (validate_groups(&p, ct, parent[c]) < 0)
            return -1;
    }

    /* an msid names one track: the sources sharing it must be linked by groups */
    for (size_t c = 0; c < m->n_contents && c < JINGLE_MAX_CONTENTS; c++) {
        const jingle_content *ct = &m->contents[c];
        for (size_t i = 0; i < ct->n_sources; i++) {
            const jingle_source *src = &ct->sources[i];
            if (!src->msid[0])
                continue;
            for (size_t d = 0; d <= c; d++)
                for (size_t j = 0; j < (d == c ? i : m->contents[d].n_sources); j++) {
                    const jingle_source *o = &m->contents[d].sources[j];
                    if (strcmp(o->msid, src->msid))
                        continue;
                    if (d != c || find_root(parent[c], (int)i) != find_root(parent[c], (int)j))
                        return sf_bad(&p,
                                      "msid '%s' is shared by ssrcs %lu and %lu, which no "
                                      "ssrc-group links",
                                      src->msid, (unsigned long)o->ssrc, (unsigned long)src->ssrc);
                }
        }
    }
    return 0;
}
