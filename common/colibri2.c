/* colibri2: parsing and building of Colibri2 conference-modify /
 * conference-modified elements and Colibri2 error IQs on libstrophe stanzas.
 * See colibri2.h for the contract. */
#include "colibri2.h"
#include "stanza_fields.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libstrophe's getters take non-const stanzas but do not modify them. */
#define MUT(s) ((xmpp_stanza_t *)(s))

/* ---- errors ---- */

void c2_error_set(c2_error *e, const char *type, const char *condition, const char *reason,
                  const char *endpoint_id, const char *fmt, ...)
{
    if (!e)
        return;
    sf_copy_trunc(e->type, sizeof e->type, type);
    sf_copy_trunc(e->condition, sizeof e->condition, condition);
    sf_copy_trunc(e->reason, sizeof e->reason, reason);
    sf_copy_trunc(e->endpoint_id, sizeof e->endpoint_id, endpoint_id);
    e->text[0] = '\0';
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->text, sizeof e->text, fmt, ap);
        va_end(ap);
    }
}

/* ---- parsing helpers ---- */

/* A parser reporting to err (may be NULL) as modify/bad-request. */
static sf_parser c2_parser(c2_error *err)
{
    return (sf_parser){.c2 = err, .ep = ""};
}

static int not_implemented(sf_parser *p, const char *what)
{
    c2_error_set(p->c2, "cancel", "feature-not-implemented", "feature_not_implemented", p->ep,
                 "<%s> is not supported", what);
    return -1;
}

static int get_media_type(sf_parser *p, xmpp_stanza_t *s, c2_media_type *out)
{
    const char *v = xmpp_stanza_get_attribute(s, "type");
    if (str_eq(v, "audio"))
        *out = C2_MEDIA_AUDIO;
    else if (str_eq(v, "video"))
        *out = C2_MEDIA_VIDEO;
    else
        return sf_bad(p, "<%s> type must be audio or video", sf_el_name(s));
    return 0;
}

static bool endpoint_id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > C2_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* ---- parsing: media ---- */

static int parse_media(sf_parser *p, xmpp_stanza_t *s, const char *ns, c2_media *m)
{
    if (get_media_type(p, s, &m->type) < 0)
        return -1;
    SF_FOR_CHILD_TAGS(c, s)
    {
        const char *cns = sf_ns_of(c, ns);
        if (sf_is_el(c, cns, "payload-type", C2_NS_RTP)) {
            if (m->n_payload_types == C2_MAX_PAYLOAD_TYPES)
                return sf_bad(p, "more than %d payload types in a media", C2_MAX_PAYLOAD_TYPES);
            c2_payload_type *pt = &m->payload_types[m->n_payload_types];
            if (sf_parse_payload_type(p, c, cns, pt) < 0)
                return -1;
            for (size_t i = 0; i < m->n_payload_types; i++)
                if (m->payload_types[i].id == pt->id)
                    return sf_bad(p, "duplicate payload type %u", pt->id);
            m->n_payload_types++;
        } else if (sf_is_el(c, cns, "rtp-hdrext", C2_NS_HDREXT)) {
            if (m->n_hdrexts == C2_MAX_HDREXTS)
                return sf_bad(p, "more than %d rtp-hdrext in a media", C2_MAX_HDREXTS);
            c2_hdrext *h = &m->hdrexts[m->n_hdrexts];
            if (sf_parse_hdrext(p, c, h) < 0)
                return -1;
            for (size_t i = 0; i < m->n_hdrexts; i++)
                if (m->hdrexts[i].id == h->id)
                    return sf_bad(p, "duplicate rtp-hdrext id %u", h->id);
            m->n_hdrexts++;
        } else if (sf_is_el(c, cns, "extmap-allow-mixed", C2_NS_HDREXT)) {
            m->extmap_allow_mixed = true;
        }
    }
    return 0;
}

/* ---- parsing: transport ---- */

/* The ice-udp <transport>. */
static int parse_ice(sf_parser *p, xmpp_stanza_t *s, const char *ns, c2_transport *t)
{
    t->has_ice = true;
    if (sf_get_str(p, s, "ufrag", t->ufrag, sizeof t->ufrag, false) < 0 ||
        sf_get_str(p, s, "pwd", t->pwd, sizeof t->pwd, false) < 0)
        return -1;
    SF_FOR_CHILD_TAGS(c, s)
    {
        if (sf_parse_ice_child(p, c, sf_ns_of(c, ns), t, false) < 0)
            return -1;
    }
    return sf_check_ice_creds(p, t);
}

/* The colibri2 <transport>. */
static int parse_transport(sf_parser *p, xmpp_stanza_t *s, const char *ns, c2_transport *t)
{
    t->present = true;
    if (sf_get_bool(p, s, "ice-controlling", &t->ice_controlling) < 0 ||
        sf_get_bool(p, s, "ice-restart", &t->ice_restart) < 0 ||
        sf_get_bool(p, s, "use-unique-port", &t->use_unique_port) < 0)
        return -1;
    SF_FOR_CHILD_TAGS(c, s)
    {
        const char *cns = sf_ns_of(c, ns);
        if (sf_is_el(c, cns, "transport", C2_NS_ICE)) {
            if (t->has_ice)
                return sf_bad(p, "more than one ice-udp transport");
            if (parse_ice(p, c, cns, t) < 0)
                return -1;
        } else if (sf_is_el(c, cns, "sctp", C2_NS)) {
            if (t->sctp_present)
                return sf_bad(p, "more than one sctp");
            t->sctp_present = true;
            uint32_t v;
            int rc = sf_get_num(p, c, "port", 1, 65535, false, &v);
            if (rc < 0)
                return -1;
            t->sctp_port = rc ? (uint16_t)v : 0;
            const char *role = xmpp_stanza_get_attribute(c, "role");
            if (role && strcmp(role, "client") && strcmp(role, "server"))
                return sf_bad(p, "sctp role must be client or server");
            sf_copy_trunc(t->sctp_role, sizeof t->sctp_role, role);
        }
    }
    return 0;
}

/* ---- parsing: sources ---- */

static bool ms_has_ssrc(const c2_media_source *ms, uint32_t ssrc)
{
    for (size_t i = 0; i < ms->n_sources; i++)
        if (ms->sources[i].ssrc == ssrc)
            return true;
    return false;
}

/* An ssrc-group of non-zero, distinct ssrcs. */
static int parse_group(sf_parser *p, xmpp_stanza_t *s, const char *ns, c2_ssrc_group *g)
{
    if (sf_parse_ssrc_group(p, s, ns, g, true) < 0)
        return -1;
    if (g->n_ssrcs == 0)
        return sf_bad(p, "empty ssrc-group");
    return 0;
}

static int parse_media_source(sf_parser *p, xmpp_stanza_t *s, const char *ns, c2_media_source *ms)
{
    if (get_media_type(p, s, &ms->type) < 0 ||
        sf_get_str(p, s, "id", ms->id, sizeof ms->id, true) < 0)
        return -1;
    SF_FOR_CHILD_TAGS(c, s)
    {
        const char *cns = sf_ns_of(c, ns);
        if (sf_is_el(c, cns, "source", C2_NS_SSMA)) {
            if (ms->n_sources == C2_MAX_SOURCES)
                return sf_bad(p, "more than %d sources in a media-source", C2_MAX_SOURCES);
            c2_source *src = &ms->sources[ms->n_sources++];
            if (sf_get_num(p, c, "ssrc", 1, UINT32_MAX, true, &src->ssrc) < 0 ||
                sf_get_str(p, c, "name", src->name, sizeof src->name, false) < 0 ||
                sf_get_str(p, c, "videoType", src->video_type, sizeof src->video_type, false) < 0)
                return -1;
        } else if (sf_is_el(c, cns, "ssrc-group", C2_NS_SSMA)) {
            if (ms->n_groups == C2_MAX_GROUPS)
                return sf_bad(p, "more than %d ssrc-groups in a media-source", C2_MAX_GROUPS);
            if (parse_group(p, c, cns, &ms->groups[ms->n_groups++]) < 0)
                return -1;
        }
    }
    for (size_t i = 0; i < ms->n_groups; i++)
        for (size_t j = 0; j < ms->groups[i].n_ssrcs; j++)
            if (!ms_has_ssrc(ms, ms->groups[i].ssrcs[j]))
                return sf_bad(p,
                              "ssrc-group %s of media-source %s names ssrc %lu, not one of its "
                              "sources",
                              ms->groups[i].semantics, ms->id,
                              (unsigned long)ms->groups[i].ssrcs[j]);
    return 0;
}

static int parse_sources(sf_parser *p, xmpp_stanza_t *s, const char *ns, c2_endpoint *ep)
{
    ep->has_sources = true;
    SF_FOR_CHILD_TAGS(c, s)
    {
        const char *cns = sf_ns_of(c, ns);
        if (!sf_is_el(c, cns, "media-source", C2_NS))
            continue;
        if (ep->n_media_sources == C2_MAX_MEDIA_SOURCES)
            return sf_bad(p, "more than %d media-sources", C2_MAX_MEDIA_SOURCES);
        c2_media_source *ms = &ep->media_sources[ep->n_media_sources];
        if (parse_media_source(p, c, cns, ms) < 0)
            return -1;
        for (size_t i = 0; i < ep->n_media_sources; i++)
            if (!strcmp(ep->media_sources[i].id, ms->id))
                return sf_bad(p, "duplicate media-source %s", ms->id);
        ep->n_media_sources++;
    }
    return 0;
}

/* ---- parsing: endpoint and request ---- */

static int parse_endpoint(sf_parser *p, xmpp_stanza_t *s, const char *ns, c2_endpoint *ep)
{
    const char *id = xmpp_stanza_get_attribute(s, "id");
    if (!id || !endpoint_id_ok(id))
        return sf_bad(p, "endpoint id must be 1..%d characters of [A-Za-z0-9._-]", C2_ID_MAX);
    memcpy(ep->id, id, strlen(id) + 1);
    p->ep = ep->id;
    if (sf_get_bool(p, s, "create", &ep->create) < 0 ||
        sf_get_bool(p, s, "expire", &ep->expire) < 0 ||
        sf_get_str(p, s, "stats-id", ep->stats_id, sizeof ep->stats_id, false) < 0 ||
        sf_get_str(p, s, "muc-role", ep->muc_role, sizeof ep->muc_role, false) < 0)
        return -1;
    if (ep->create && ep->expire)
        return sf_bad(p, "endpoint %s has both create and expire", ep->id);
    bool seen_sources = false, seen_fm = false, seen_ln = false;
    SF_FOR_CHILD_TAGS(c, s)
    {
        const char *cns = sf_ns_of(c, ns);
        if (!str_eq(cns, C2_NS))
            continue;
        const char *name = sf_el_name(c);
        if (!strcmp(name, "media")) {
            if (ep->n_media == C2_MAX_MEDIA)
                return sf_bad(p, "more than %d media", C2_MAX_MEDIA);
            c2_media *m = &ep->media[ep->n_media];
            if (parse_media(p, c, cns, m) < 0)
                return -1;
            for (size_t i = 0; i < ep->n_media; i++)
                if (ep->media[i].type == m->type)
                    return sf_bad(p, "duplicate media type");
            ep->n_media++;
        } else if (!strcmp(name, "transport")) {
            if (ep->transport.present)
                return sf_bad(p, "more than one <transport>");
            if (parse_transport(p, c, cns, &ep->transport) < 0)
                return -1;
        } else if (!strcmp(name, "sources")) {
            if (sf_once(p, &seen_sources, name) < 0 || parse_sources(p, c, cns, ep) < 0)
                return -1;
        } else if (!strcmp(name, "capability")) {
            const char *cap = xmpp_stanza_get_attribute(c, "name");
            if (!cap || !cap[0])
                return sf_bad(p, "<capability> lacks the 'name' attribute");
            if (!strcmp(cap, "source-names"))
                ep->capabilities.source_names = true;
            else if (!strcmp(cap, "ssrc-rewriting"))
                ep->capabilities.ssrc_rewriting = true;
            else if (!strcmp(cap, "private-address-connectivity"))
                ep->capabilities.private_address_connectivity = true;
            else
                ep->capabilities.n_unknown++;
        } else if (!strcmp(name, "force-mute")) {
            if (sf_once(p, &seen_fm, name) < 0)
                return -1;
            ep->force_mute.present = true;
            if (sf_get_bool(p, c, "audio", &ep->force_mute.audio) < 0 ||
                sf_get_bool(p, c, "video", &ep->force_mute.video) < 0)
                return -1;
        } else if (!strcmp(name, "initial-last-n")) {
            if (sf_once(p, &seen_ln, name) < 0 ||
                sf_get_last_n(p, c, &ep->initial_last_n.value) < 0)
                return -1;
            ep->initial_last_n.present = true;
        }
    }
    if (ep->create && !ep->capabilities.source_names)
        return sf_bad(p, "Source name support is mandatory");
    return 0;
}

typedef struct ssrc_ref {
    uint32_t ssrc;
    uint32_t ep; /* endpoint index */
} ssrc_ref;

static int ssrc_ref_cmp(const void *a, const void *b)
{
    const ssrc_ref *x = a, *y = b;
    if (x->ssrc != y->ssrc)
        return x->ssrc < y->ssrc ? -1 : 1;
    return x->ep < y->ep ? -1 : x->ep > y->ep;
}

/* Every source ssrc appears once in the whole request. */
static int check_ssrcs_unique(sf_parser *p, const c2_request *r)
{
    size_t n = 0;
    for (size_t e = 0; e < r->n_endpoints; e++)
        for (size_t m = 0; m < r->endpoints[e].n_media_sources; m++)
            n += r->endpoints[e].media_sources[m].n_sources;
    if (n < 2)
        return 0;
    ssrc_ref *refs = xcalloc(n, sizeof *refs);
    size_t k = 0;
    for (size_t e = 0; e < r->n_endpoints; e++)
        for (size_t m = 0; m < r->endpoints[e].n_media_sources; m++) {
            const c2_media_source *ms = &r->endpoints[e].media_sources[m];
            for (size_t i = 0; i < ms->n_sources; i++)
                refs[k++] = (ssrc_ref){ms->sources[i].ssrc, (uint32_t)e};
        }
    qsort(refs, n, sizeof *refs, ssrc_ref_cmp);
    int rc = 0;
    for (size_t i = 1; i < n && rc == 0; i++)
        if (refs[i].ssrc == refs[i - 1].ssrc) {
            p->ep = r->endpoints[refs[i].ep].id;
            rc = sf_bad(p, "ssrc %lu is used more than once", (unsigned long)refs[i].ssrc);
        }
    free(refs);
    return rc;
}

static int parse_request(sf_parser *p, xmpp_stanza_t *s, c2_request *out)
{
    const char *ns = xmpp_stanza_get_ns(s);
    if (!str_eq(xmpp_stanza_get_name(s), "conference-modify") || !str_eq(ns, C2_NS))
        return sf_bad(p, "expected <conference-modify xmlns='%s'>", C2_NS);
    if (sf_get_str(p, s, "meeting-id", out->meeting_id, sizeof out->meeting_id, true) < 0 ||
        sf_get_str(p, s, "name", out->name, sizeof out->name, false) < 0 ||
        sf_get_bool(p, s, "create", &out->create) < 0 ||
        sf_get_bool(p, s, "expire", &out->expire) < 0)
        return -1;
    if (out->create && out->expire)
        return sf_bad(p, "conference has both create and expire");
    size_t n = 0;
    SF_FOR_CHILD_TAGS(c, s)
    {
        const char *cns = sf_ns_of(c, ns);
        if (sf_is_el(c, cns, "endpoint", C2_NS)) {
            if (++n > C2_MAX_ENDPOINTS)
                return sf_bad(p, "more than %d endpoints", C2_MAX_ENDPOINTS);
        } else if (sf_is_el(c, cns, "relay", C2_NS) || sf_is_el(c, cns, "connects", C2_NS)) {
            return not_implemented(p, sf_el_name(c));
        }
    }
    if (n == 0)
        return 0;
    out->endpoints = xcalloc(n, sizeof *out->endpoints);
    SF_FOR_CHILD_TAGS(c, s)
    {
        const char *cns = sf_ns_of(c, ns);
        if (!sf_is_el(c, cns, "endpoint", C2_NS))
            continue;
        c2_endpoint *ep = &out->endpoints[out->n_endpoints];
        p->ep = "";
        if (parse_endpoint(p, c, cns, ep) < 0)
            return -1;
        out->n_endpoints++;
        for (size_t i = 0; i + 1 < out->n_endpoints; i++)
            if (!strcmp(out->endpoints[i].id, ep->id))
                return sf_bad(p, "endpoint %s appears more than once", ep->id);
    }
    p->ep = "";
    return check_ssrcs_unique(p, out);
}

int c2_parse_request(const xmpp_stanza_t *conference_modify, c2_request *out, c2_error *err)
{
    sf_parser p = c2_parser(err);
    memset(out, 0, sizeof *out);
    if (!conference_modify)
        return sf_bad(&p, "no conference-modify");
    if (parse_request(&p, MUT(conference_modify), out) < 0) {
        c2_request_free(out);
        return -1;
    }
    return 0;
}

void c2_request_free(c2_request *r)
{
    if (!r)
        return;
    free(r->endpoints);
    memset(r, 0, sizeof *r);
}

/* ---- building helpers ---- */

static const char *media_type_name(c2_media_type t)
{
    return t == C2_MEDIA_AUDIO ? "audio" : "video";
}

static void build_web_socket(xmpp_stanza_t *parent, const char *url)
{
    sf_set_attr(sf_add_el(parent, "web-socket", C2_NS_WS), "url", url);
}

static void build_sctp(xmpp_stanza_t *parent, uint16_t port, const char *role)
{
    xmpp_stanza_t *s = sf_add_el(parent, "sctp", C2_NS);
    if (port)
        sf_set_num(s, "port", port);
    sf_set_attr_opt(s, "role", role);
}

/* ---- building the request ---- */

static void build_media(xmpp_stanza_t *parent, const c2_media *m)
{
    sf_check_bound(m->n_payload_types, C2_MAX_PAYLOAD_TYPES, "payload types");
    sf_check_bound(m->n_hdrexts, C2_MAX_HDREXTS, "rtp-hdrexts");
    xmpp_stanza_t *me = sf_add_el(parent, "media", C2_NS);
    sf_set_attr(me, "type", media_type_name(m->type));
    for (size_t i = 0; i < m->n_payload_types; i++)
        sf_build_payload_type(me, &m->payload_types[i], C2_NS_RTP);
    for (size_t i = 0; i < m->n_hdrexts; i++)
        sf_build_hdrext(me, &m->hdrexts[i]);
    if (m->extmap_allow_mixed)
        sf_add_el(me, "extmap-allow-mixed", C2_NS_HDREXT);
}

static void build_transport(xmpp_stanza_t *parent, const c2_transport *t)
{
    xmpp_stanza_t *tr = sf_add_el(parent, "transport", C2_NS);
    if (t->ice_controlling)
        sf_set_attr(tr, "ice-controlling", "true");
    if (t->ice_restart)
        sf_set_attr(tr, "ice-restart", "true");
    if (t->use_unique_port)
        sf_set_attr(tr, "use-unique-port", "true");
    if (t->has_ice) {
        sf_check_bound(t->n_candidates, C2_MAX_CANDIDATES, "candidates");
        sf_check_bound(t->n_fingerprints, C2_MAX_FINGERPRINTS, "fingerprints");
        xmpp_stanza_t *ice = sf_add_el(tr, "transport", C2_NS_ICE);
        sf_set_attr_opt(ice, "ufrag", t->ufrag);
        sf_set_attr_opt(ice, "pwd", t->pwd);
        for (size_t i = 0; i < t->n_candidates; i++)
            sf_build_candidate(ice, &t->candidates[i], C2_NS_ICE);
        if (t->rtcp_mux)
            sf_add_el(ice, "rtcp-mux", C2_NS_ICE);
        for (size_t i = 0; i < t->n_fingerprints; i++)
            sf_build_fingerprint(ice, &t->fingerprints[i], NULL, NULL);
        if (t->has_web_socket)
            build_web_socket(ice, t->web_socket_url);
    }
    if (t->sctp_present)
        build_sctp(tr, t->sctp_port, t->sctp_role);
}

static void build_sources(xmpp_stanza_t *parent, const c2_endpoint *ep)
{
    sf_check_bound(ep->n_media_sources, C2_MAX_MEDIA_SOURCES, "media-sources");
    xmpp_stanza_t *ss = sf_add_el(parent, "sources", C2_NS);
    for (size_t i = 0; i < ep->n_media_sources; i++) {
        const c2_media_source *ms = &ep->media_sources[i];
        sf_check_bound(ms->n_sources, C2_MAX_SOURCES, "sources");
        sf_check_bound(ms->n_groups, C2_MAX_GROUPS, "ssrc-groups");
        xmpp_stanza_t *m = sf_add_el(ss, "media-source", C2_NS);
        sf_set_attr(m, "type", media_type_name(ms->type));
        sf_set_attr_opt(m, "id", ms->id);
        for (size_t j = 0; j < ms->n_sources; j++) {
            xmpp_stanza_t *s = sf_add_el(m, "source", C2_NS_SSMA);
            sf_set_num(s, "ssrc", ms->sources[j].ssrc);
            sf_set_attr_opt(s, "name", ms->sources[j].name);
            sf_set_attr_opt(s, "videoType", ms->sources[j].video_type);
        }
        for (size_t j = 0; j < ms->n_groups; j++)
            sf_build_ssrc_group(m, &ms->groups[j], C2_NS_SSMA);
    }
}

static void build_endpoint(xmpp_stanza_t *parent, const c2_endpoint *ep)
{
    sf_check_bound(ep->n_media, C2_MAX_MEDIA, "media");
    xmpp_stanza_t *e = sf_add_el(parent, "endpoint", C2_NS);
    sf_set_attr(e, "id", ep->id);
    if (ep->create)
        sf_set_attr(e, "create", "true");
    if (ep->expire)
        sf_set_attr(e, "expire", "true");
    sf_set_attr_opt(e, "stats-id", ep->stats_id);
    sf_set_attr_opt(e, "muc-role", ep->muc_role);
    for (size_t i = 0; i < ep->n_media; i++)
        build_media(e, &ep->media[i]);
    if (ep->transport.present)
        build_transport(e, &ep->transport);
    if (ep->has_sources)
        build_sources(e, ep);
    if (ep->capabilities.source_names)
        sf_set_attr(sf_add_el(e, "capability", C2_NS), "name", "source-names");
    if (ep->capabilities.ssrc_rewriting)
        sf_set_attr(sf_add_el(e, "capability", C2_NS), "name", "ssrc-rewriting");
    if (ep->capabilities.private_address_connectivity)
        sf_set_attr(sf_add_el(e, "capability", C2_NS), "name", "private-address-connectivity");
    if (ep->force_mute.present) {
        xmpp_stanza_t *fm = sf_add_el(e, "force-mute", C2_NS);
        sf_set_attr(fm, "audio", ep->force_mute.audio ? "true" : "false");
        sf_set_attr(fm, "video", ep->force_mute.video ? "true" : "false");
    }
    if (ep->initial_last_n.present)
        sf_build_initial_last_n(e, ep->initial_last_n.value);
}

xmpp_stanza_t *c2_build_request(xmpp_ctx_t *ctx, const c2_request *r)
{
    sf_check_bound(r->n_endpoints, C2_MAX_ENDPOINTS, "endpoints");
    xmpp_stanza_t *cm = sf_new_el(ctx, "conference-modify", C2_NS);
    sf_set_attr(cm, "meeting-id", r->meeting_id);
    sf_set_attr_opt(cm, "name", r->name);
    if (r->create)
        sf_set_attr(cm, "create", "true");
    if (r->expire)
        sf_set_attr(cm, "expire", "true");
    for (size_t i = 0; i < r->n_endpoints; i++)
        build_endpoint(cm, &r->endpoints[i]);
    return cm;
}

/* ---- the answer ---- */

xmpp_stanza_t *c2_build_modified(xmpp_ctx_t *ctx, const c2_answer *a)
{
    sf_check_bound(a->n_endpoints, C2_MAX_ENDPOINTS, "endpoints");
    xmpp_stanza_t *cm = sf_new_el(ctx, "conference-modified", C2_NS);
    for (size_t i = 0; i < a->n_endpoints; i++) {
        const c2_answer_endpoint *ae = &a->endpoints[i];
        xmpp_stanza_t *e = sf_add_el(cm, "endpoint", C2_NS);
        sf_set_attr(e, "id", ae->id);
        if (!ae->has_transport)
            continue;
        sf_check_bound(ae->n_candidates, C2_MAX_CANDIDATES, "candidates");
        xmpp_stanza_t *tr = sf_add_el(e, "transport", C2_NS);
        xmpp_stanza_t *ice = sf_add_el(tr, "transport", C2_NS_ICE);
        sf_set_attr_opt(ice, "ufrag", ae->ufrag);
        sf_set_attr_opt(ice, "pwd", ae->pwd);
        for (size_t j = 0; j < ae->n_candidates; j++)
            sf_build_candidate(ice, &ae->candidates[j], C2_NS_ICE);
        sf_add_el(ice, "rtcp-mux", C2_NS_ICE);
        if (ae->fingerprint.value[0])
            sf_build_fingerprint(ice, &ae->fingerprint, "sha-256", "actpass");
        if (ae->ws_url[0])
            build_web_socket(ice, ae->ws_url);
        if (ae->sctp_port)
            build_sctp(tr, ae->sctp_port, ae->sctp_role[0] ? ae->sctp_role : "server");
    }
    if (a->include_sources) {
        xmpp_stanza_t *ss = sf_add_el(cm, "sources", C2_NS);
        const c2_feedback_source *fb[2] = {&a->audio, &a->video};
        for (int i = 0; i < 2; i++) {
            if (fb[i]->ssrc == 0)
                continue;
            const char *name = fb[i]->name[0] ? fb[i]->name : i == 0 ? "jvb-a0" : "jvb-v0";
            xmpp_stanza_t *m = sf_add_el(ss, "media-source", C2_NS);
            sf_set_attr(m, "type", i == 0 ? "audio" : "video");
            sf_set_attr(m, "id", name);
            xmpp_stanza_t *s = sf_add_el(m, "source", C2_NS_SSMA);
            sf_set_num(s, "ssrc", fb[i]->ssrc);
            sf_set_attr(s, "name", name);
        }
    }
    return cm;
}

/* An answer endpoint's transport, parsed with the request's transport rules. */
static int parse_answer_transport(sf_parser *p, xmpp_stanza_t *s, const char *ns,
                                  c2_answer_endpoint *ae)
{
    c2_transport *t = xcalloc(1, sizeof *t);
    int rc = parse_transport(p, s, ns, t);
    if (rc == 0 && t->n_fingerprints > 1)
        rc = sf_bad(p, "more than one fingerprint in an answer");
    if (rc == 0) {
        ae->has_transport = true;
        memcpy(ae->ufrag, t->ufrag, sizeof ae->ufrag);
        memcpy(ae->pwd, t->pwd, sizeof ae->pwd);
        if (t->n_fingerprints)
            ae->fingerprint = t->fingerprints[0];
        memcpy(ae->candidates, t->candidates, t->n_candidates * sizeof t->candidates[0]);
        ae->n_candidates = t->n_candidates;
        if (t->has_web_socket)
            memcpy(ae->ws_url, t->web_socket_url, sizeof ae->ws_url);
        ae->sctp_port = t->sctp_port;
        memcpy(ae->sctp_role, t->sctp_role, sizeof ae->sctp_role);
    }
    free(t);
    return rc;
}

static int parse_answer_sources(sf_parser *p, xmpp_stanza_t *s, const char *ns, c2_answer *out)
{
    bool seen[2] = {false, false};
    out->include_sources = true;
    SF_FOR_CHILD_TAGS(c, s)
    {
        const char *cns = sf_ns_of(c, ns);
        if (!sf_is_el(c, cns, "media-source", C2_NS))
            continue;
        c2_media_type type = C2_MEDIA_AUDIO;
        if (get_media_type(p, c, &type) < 0)
            return -1;
        if (seen[type])
            return sf_bad(p, "more than one %s media-source", media_type_name(type));
        seen[type] = true;
        c2_feedback_source *fb = type == C2_MEDIA_AUDIO ? &out->audio : &out->video;
        if (sf_get_str(p, c, "id", fb->name, sizeof fb->name, true) < 0)
            return -1;
        bool found = false;
        SF_FOR_CHILD_TAGS(src, c)
        {
            if (!sf_is_el(src, sf_ns_of(src, cns), "source", C2_NS_SSMA))
                continue;
            if (found)
                return sf_bad(p, "more than one feedback source in media-source %s", fb->name);
            if (sf_get_num(p, src, "ssrc", 1, UINT32_MAX, true, &fb->ssrc) < 0)
                return -1;
            found = true;
        }
        if (!found)
            return sf_bad(p, "media-source %s has no source", fb->name);
    }
    return 0;
}

static int parse_modified(sf_parser *p, xmpp_stanza_t *s, c2_answer *out)
{
    const char *ns = xmpp_stanza_get_ns(s);
    if (!str_eq(xmpp_stanza_get_name(s), "conference-modified") || !str_eq(ns, C2_NS))
        return sf_bad(p, "expected <conference-modified xmlns='%s'>", C2_NS);
    size_t n = 0;
    SF_FOR_CHILD_TAGS(c, s)
    {
        if (sf_is_el(c, sf_ns_of(c, ns), "endpoint", C2_NS) && ++n > C2_MAX_ENDPOINTS)
            return sf_bad(p, "more than %d endpoints", C2_MAX_ENDPOINTS);
    }
    if (n)
        out->endpoints = xcalloc(n, sizeof *out->endpoints);
    bool seen_sources = false;
    SF_FOR_CHILD_TAGS(c, s)
    {
        const char *cns = sf_ns_of(c, ns);
        p->ep = "";
        if (sf_is_el(c, cns, "sources", C2_NS)) {
            if (sf_once(p, &seen_sources, "sources") < 0 ||
                parse_answer_sources(p, c, cns, out) < 0)
                return -1;
            continue;
        }
        if (!sf_is_el(c, cns, "endpoint", C2_NS))
            continue;
        c2_answer_endpoint *ae = &out->endpoints[out->n_endpoints];
        const char *id = xmpp_stanza_get_attribute(c, "id");
        if (!id || !endpoint_id_ok(id))
            return sf_bad(p, "endpoint id must be 1..%d characters of [A-Za-z0-9._-]", C2_ID_MAX);
        memcpy(ae->id, id, strlen(id) + 1);
        p->ep = ae->id;
        for (size_t i = 0; i < out->n_endpoints; i++)
            if (!strcmp(out->endpoints[i].id, ae->id))
                return sf_bad(p, "endpoint %s appears more than once", ae->id);
        SF_FOR_CHILD_TAGS(t, c)
        {
            if (!sf_is_el(t, sf_ns_of(t, cns), "transport", C2_NS))
                continue;
            if (ae->has_transport)
                return sf_bad(p, "more than one <transport>");
            if (parse_answer_transport(p, t, sf_ns_of(t, cns), ae) < 0)
                return -1;
        }
        out->n_endpoints++;
    }
    p->ep = "";
    return 0;
}

int c2_parse_modified(const xmpp_stanza_t *conference_modified, c2_answer *out, c2_error *err)
{
    sf_parser p = c2_parser(err);
    memset(out, 0, sizeof *out);
    if (!conference_modified)
        return sf_bad(&p, "no conference-modified");
    if (parse_modified(&p, MUT(conference_modified), out) < 0) {
        c2_answer_free(out);
        return -1;
    }
    return 0;
}

void c2_answer_free(c2_answer *a)
{
    if (!a)
        return;
    free(a->endpoints);
    memset(a, 0, sizeof *a);
}

/* ---- errors on the wire ---- */

xmpp_stanza_t *c2_build_error_iq(xmpp_ctx_t *ctx, const xmpp_stanza_t *request_iq,
                                 const c2_error *e)
{
    xmpp_stanza_t *req = MUT(request_iq);
    xmpp_stanza_t *iq = sf_new_el(ctx, "iq", NULL);
    sf_set_attr(iq, "type", "error");
    if (req) {
        sf_set_attr_opt(iq, "to", xmpp_stanza_get_from(req));
        sf_set_attr_opt(iq, "from", xmpp_stanza_get_to(req));
        sf_set_attr_opt(iq, "id", xmpp_stanza_get_id(req));
    }
    xmpp_stanza_t *er = sf_add_el(iq, "error", NULL);
    sf_set_attr(er, "type", e->type[0] ? e->type : "cancel");
    sf_add_el(er, e->condition[0] ? e->condition : "undefined-condition", C2_NS_STANZAS);
    if (e->text[0])
        sf_add_text(sf_add_el(er, "text", C2_NS_STANZAS), e->text);
    if (e->reason[0]) {
        sf_set_attr(sf_add_el(er, "error", C2_NS), "reason", e->reason);
        if (!strcmp(e->reason, "unknown_endpoint") && e->endpoint_id[0])
            sf_set_attr(sf_add_el(er, "endpoint", C2_NS), "id", e->endpoint_id);
    }
    return iq;
}
