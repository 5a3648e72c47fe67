/* colibri2: parsing and building of Colibri2 conference-modify /
 * conference-modified elements and Colibri2 error IQs on libstrophe stanzas.
 * See colibri2.h for the contract. */
#include "colibri2.h"
#include "util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libstrophe's getters take non-const stanzas but do not modify them. */
#define MUT(s) ((xmpp_stanza_t *)(s))

/* ---- errors ---- */

static void copy_trunc(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= cap)
        n = cap - 1;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

void c2_error_set(c2_error *e, const char *type, const char *condition, const char *reason,
                  const char *endpoint_id, const char *fmt, ...)
{
    if (!e)
        return;
    copy_trunc(e->type, sizeof e->type, type);
    copy_trunc(e->condition, sizeof e->condition, condition);
    copy_trunc(e->reason, sizeof e->reason, reason);
    copy_trunc(e->endpoint_id, sizeof e->endpoint_id, endpoint_id);
    e->text[0] = '\0';
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->text, sizeof e->text, fmt, ap);
        va_end(ap);
    }
}

/* ---- parsing helpers ---- */

typedef struct c2_parser {
    c2_error *err;
    const char *ep; /* endpoint id for error reports ("" outside an endpoint) */
} c2_parser;

static int bad(c2_parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(c2_parser *p, const char *fmt, ...)
{
    if (p->err) {
        char text[sizeof p->err->text];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(text, sizeof text, fmt, ap);
        va_end(ap);
        c2_error_set(p->err, "modify", "bad-request", NULL, p->ep, "%s", text);
    }
    return -1;
}

static int not_implemented(c2_parser *p, const char *what)
{
    c2_error_set(p->err, "cancel", "feature-not-implemented", "feature_not_implemented", p->ep,
                 "<%s> is not supported", what);
    return -1;
}

static const char *el_name(xmpp_stanza_t *s)
{
    const char *n = xmpp_stanza_get_name(s);
    return n ? n : "?";
}

/* The namespace s is in: its own, else the one it inherits. */
static const char *ns_of(xmpp_stanza_t *s, const char *parent_ns)
{
    const char *ns = xmpp_stanza_get_ns(s);
    return ns ? ns : parent_ns;
}

/* True if tag c (in namespace cns) is <name xmlns=ns>. */
static bool is_el(xmpp_stanza_t *c, const char *cns, const char *name, const char *ns)
{
    return str_eq(xmpp_stanza_get_name(c), name) && str_eq(cns, ns);
}

/* Iterates over the element children of s. */
#define FOR_CHILD_TAGS(c, s)                                                                       \
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(s); c; c = xmpp_stanza_get_next(c))           \
        if (xmpp_stanza_is_tag(c))

/* Copies v into dst (cap bytes with the NUL): -1 (bad request) if too long
 * or holding a control character, else 0. */
static int copy_str(c2_parser *p, xmpp_stanza_t *s, const char *what, const char *v, char *dst,
                    size_t cap)
{
    size_t n = strlen(v);
    if (n >= cap)
        return bad(p, "%s of <%s> is longer than %zu bytes", what, el_name(s), cap - 1);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
            return bad(p, "%s of <%s> contains a control character", what, el_name(s));
    memcpy(dst, v, n + 1);
    return 0;
}

/* Attribute attr of s into dst. A required attribute must be present and
 * non-empty. Returns 1 if present and non-empty, 0 if absent or empty (dst
 * ""), -1 on a bad request. */
static int get_str(c2_parser *p, xmpp_stanza_t *s, const char *attr, char *dst, size_t cap,
                   bool required)
{
    const char *v = xmpp_stanza_get_attribute(s, attr);
    dst[0] = '\0';
    if (!v || !v[0]) {
        if (required)
            return bad(p, "<%s> lacks the '%s' attribute", el_name(s), attr);
        return 0;
    }
    char what[64];
    snprintf(what, sizeof what, "attribute '%s'", attr);
    return copy_str(p, s, what, v, dst, cap) == 0 ? 1 : -1;
}

/* Parses a decimal number of only digits into *out, within [min, max]. */
static bool parse_decimal(const char *v, uint32_t min, uint32_t max, uint32_t *out)
{
    uint64_t x = 0;
    if (!v[0])
        return false;
    for (const char *q = v; *q; q++) {
        if (*q < '0' || *q > '9')
            return false;
        x = x * 10 + (uint64_t)(*q - '0');
        if (x > max)
            return false;
    }
    if (x < min)
        return false;
    *out = (uint32_t)x;
    return true;
}

/* Numeric attribute in [min, max]. Returns 1 if present (*out set), 0 if
 * absent and not required, -1 on a bad request. */
static int get_num(c2_parser *p, xmpp_stanza_t *s, const char *attr, uint32_t min, uint32_t max,
                   bool required, uint32_t *out)
{
    const char *v = xmpp_stanza_get_attribute(s, attr);
    if (!v) {
        if (required)
            return bad(p, "<%s> lacks the '%s' attribute", el_name(s), attr);
        return 0;
    }
    if (!parse_decimal(v, min, max, out))
        return bad(p, "attribute '%s' of <%s> is not a number in %lu..%lu", attr, el_name(s),
                   (unsigned long)min, (unsigned long)max);
    return 1;
}

/* xs:boolean attribute (true/false/1/0); absent is false. 0 or -1. */
static int get_bool(c2_parser *p, xmpp_stanza_t *s, const char *attr, bool *out)
{
    const char *v = xmpp_stanza_get_attribute(s, attr);
    *out = false;
    if (!v || !strcmp(v, "false") || !strcmp(v, "0"))
        return 0;
    if (!strcmp(v, "true") || !strcmp(v, "1")) {
        *out = true;
        return 0;
    }
    return bad(p, "attribute '%s' of <%s> is not a boolean", attr, el_name(s));
}

static int get_media_type(c2_parser *p, xmpp_stanza_t *s, c2_media_type *out)
{
    const char *v = xmpp_stanza_get_attribute(s, "type");
    if (str_eq(v, "audio"))
        *out = C2_MEDIA_AUDIO;
    else if (str_eq(v, "video"))
        *out = C2_MEDIA_VIDEO;
    else
        return bad(p, "<%s> type must be audio or video", el_name(s));
    return 0;
}

static bool is_ip_literal(const char *s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
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

static int parse_payload_type(c2_parser *p, xmpp_stanza_t *s, const char *ns, c2_payload_type *pt)
{
    uint32_t v;
    if (get_num(p, s, "id", 0, 127, true, &v) < 0)
        return -1;
    pt->id = (uint8_t)v;
    if (get_str(p, s, "name", pt->name, sizeof pt->name, true) < 0)
        return -1;
    int rc = get_num(p, s, "clockrate", 1, UINT32_MAX, false, &v);
    if (rc < 0)
        return -1;
    pt->clockrate = rc ? v : 0;
    rc = get_num(p, s, "channels", 1, 255, false, &v);
    if (rc < 0)
        return -1;
    pt->channels = rc ? (uint8_t)v : 0;
    FOR_CHILD_TAGS(c, s)
    {
        const char *cns = ns_of(c, ns);
        if (is_el(c, cns, "parameter", C2_NS_RTP)) {
            if (pt->n_params == C2_MAX_PARAMS)
                return bad(p, "more than %d parameters in payload type %u", C2_MAX_PARAMS, pt->id);
            c2_param *pa = &pt->params[pt->n_params++];
            if (get_str(p, c, "name", pa->name, sizeof pa->name, true) < 0 ||
                get_str(p, c, "value", pa->value, sizeof pa->value, false) < 0)
                return -1;
        } else if (is_el(c, cns, "rtcp-fb", C2_NS_RTCP_FB)) {
            if (pt->n_rtcp_fbs == C2_MAX_RTCP_FB)
                return bad(p, "more than %d rtcp-fb in payload type %u", C2_MAX_RTCP_FB, pt->id);
            c2_rtcp_fb *fb = &pt->rtcp_fbs[pt->n_rtcp_fbs++];
            if (get_str(p, c, "type", fb->type, sizeof fb->type, true) < 0 ||
                get_str(p, c, "subtype", fb->subtype, sizeof fb->subtype, false) < 0)
                return -1;
        }
    }
    return 0;
}

static int parse_media(c2_parser *p, xmpp_stanza_t *s, const char *ns, c2_media *m)
{
    if (get_media_type(p, s, &m->type) < 0)
        return -1;
    FOR_CHILD_TAGS(c, s)
    {
        const char *cns = ns_of(c, ns);
        if (is_el(c, cns, "payload-type", C2_NS_RTP)) {
            if (m->n_payload_types == C2_MAX_PAYLOAD_TYPES)
                return bad(p, "more than %d payload types in a media", C2_MAX_PAYLOAD_TYPES);
            c2_payload_type *pt = &m->payload_types[m->n_payload_types];
            if (parse_payload_type(p, c, cns, pt) < 0)
                return -1;
            for (size_t i = 0; i < m->n_payload_types; i++)
                if (m->payload_types[i].id == pt->id)
                    return bad(p, "duplicate payload type %u", pt->id);
            m->n_payload_types++;
        } else if (is_el(c, cns, "rtp-hdrext", C2_NS_HDREXT)) {
            if (m->n_hdrexts == C2_MAX_HDREXTS)
                return bad(p, "more than %d rtp-hdrext in a media", C2_MAX_HDREXTS);
            c2_hdrext *h = &m->hdrexts[m->n_hdrexts];
            uint32_t v;
            if (get_num(p, c, "id", 1, 255, true, &v) < 0)
                return -1;
            h->id = (uint8_t)v;
            if (get_str(p, c, "uri", h->uri, sizeof h->uri, true) < 0)
                return -1;
            for (size_t i = 0; i < m->n_hdrexts; i++)
                if (m->hdrexts[i].id == h->id)
                    return bad(p, "duplicate rtp-hdrext id %u", h->id);
            m->n_hdrexts++;
        } else if (is_el(c, cns, "extmap-allow-mixed", C2_NS_HDREXT)) {
            m->extmap_allow_mixed = true;
        }
    }
    return 0;
}

/* ---- parsing: transport ---- */

static int parse_candidate(c2_parser *p, xmpp_stanza_t *s, c2_candidate *cd)
{
    uint32_t v;
    int rc;
    if (get_num(p, s, "component", 1, 255, true, &v) < 0)
        return -1;
    cd->component = (uint8_t)v;
    if (get_str(p, s, "foundation", cd->foundation, sizeof cd->foundation, true) < 0)
        return -1;
    if ((rc = get_num(p, s, "generation", 0, UINT32_MAX, false, &v)) < 0)
        return -1;
    cd->generation = rc ? v : 0;
    if (get_str(p, s, "id", cd->id, sizeof cd->id, false) < 0)
        return -1;
    if (get_str(p, s, "ip", cd->ip, sizeof cd->ip, true) < 0)
        return -1;
    if (!is_ip_literal(cd->ip)) {
        /* browsers hide host addresses behind mDNS names (RFC 8828) */
        size_t n = strlen(cd->ip);
        bool mdns = n > 6 && strcmp(cd->ip + n - 6, ".local") == 0;
        for (size_t i = 0; mdns && i < n; i++)
            mdns = isalnum((unsigned char)cd->ip[i]) || cd->ip[i] == '-' || cd->ip[i] == '.';
        if (!mdns)
            return bad(p, "candidate ip '%s' is not an IP address or an mDNS name", cd->ip);
        cd->mdns = true;
    }
    if (get_num(p, s, "port", 1, 65535, true, &v) < 0)
        return -1;
    cd->port = (uint16_t)v;
    if (get_num(p, s, "priority", 0, UINT32_MAX, true, &cd->priority) < 0)
        return -1;
    if (get_str(p, s, "protocol", cd->protocol, sizeof cd->protocol, true) < 0)
        return bad(p, "candidate protocol must be udp or tcp");
    if (strcmp(cd->protocol, "udp") == 0)
        cd->is_tcp = false;
    else if (strcmp(cd->protocol, "tcp") == 0)
        cd->is_tcp = true;
    else
        return bad(p, "candidate protocol must be udp or tcp");
    if (get_str(p, s, "type", cd->type, sizeof cd->type, true) < 0 ||
        (strcmp(cd->type, "host") && strcmp(cd->type, "srflx") && strcmp(cd->type, "prflx") &&
         strcmp(cd->type, "relay")))
        return bad(p, "candidate type must be host, srflx, prflx or relay");
    if ((rc = get_str(p, s, "rel-addr", cd->rel_addr, sizeof cd->rel_addr, false)) < 0)
        return bad(p, "candidate rel-addr is not an IP address");
    if (rc && !is_ip_literal(cd->rel_addr))
        return bad(p, "candidate rel-addr '%s' is not an IP address", cd->rel_addr);
    if ((rc = get_num(p, s, "rel-port", 0, 65535, false, &v)) < 0)
        return -1;
    cd->rel_port = rc ? (uint16_t)v : 0;
    if ((rc = get_num(p, s, "network", 0, UINT32_MAX, false, &v)) < 0)
        return -1;
    cd->network = rc ? v : 0;
    return 0;
}

static int parse_fingerprint(c2_parser *p, xmpp_stanza_t *s, c2_fingerprint *fp)
{
    if (get_str(p, s, "hash", fp->hash, sizeof fp->hash, true) < 0)
        return -1;
    const char *setup = xmpp_stanza_get_attribute(s, "setup");
    if (!setup || (strcmp(setup, "active") && strcmp(setup, "passive") &&
                   strcmp(setup, "actpass") && strcmp(setup, "holdconn")))
        return bad(p, "fingerprint setup must be active, passive, actpass or holdconn");
    copy_trunc(fp->setup, sizeof fp->setup, setup);

    xmpp_ctx_t *ctx = xmpp_stanza_get_context(s);
    char *text = xmpp_stanza_get_text(s);
    const char *b = text ? text : "";
    while (*b == ' ' || *b == '\t' || *b == '\r' || *b == '\n')
        b++;
    size_t n = strlen(b);
    while (n && (b[n - 1] == ' ' || b[n - 1] == '\t' || b[n - 1] == '\r' || b[n - 1] == '\n'))
        n--;
    int rc = 0;
    if (n == 0)
        rc = bad(p, "empty fingerprint");
    else if (n > C2_FP_MAX)
        rc = bad(p, "fingerprint is longer than %d bytes", C2_FP_MAX);
    else {
        char tmp[C2_FP_MAX + 1];
        memcpy(tmp, b, n);
        tmp[n] = '\0';
        rc = copy_str(p, s, "text", tmp, fp->value, sizeof fp->value);
    }
    if (text)
        xmpp_free(ctx, text);
    return rc;
}

/* The ice-udp <transport>. */
static int parse_ice(c2_parser *p, xmpp_stanza_t *s, const char *ns, c2_transport *t)
{
    t->has_ice = true;
    if (get_str(p, s, "ufrag", t->ufrag, sizeof t->ufrag, false) < 0 ||
        get_str(p, s, "pwd", t->pwd, sizeof t->pwd, false) < 0)
        return -1;
    FOR_CHILD_TAGS(c, s)
    {
        const char *cns = ns_of(c, ns);
        if (is_el(c, cns, "rtcp-mux", C2_NS_ICE)) {
            t->rtcp_mux = true;
        } else if (is_el(c, cns, "fingerprint", C2_NS_DTLS)) {
            if (t->n_fingerprints == C2_MAX_FINGERPRINTS)
                return bad(p, "more than %d fingerprints", C2_MAX_FINGERPRINTS);
            if (parse_fingerprint(p, c, &t->fingerprints[t->n_fingerprints++]) < 0)
                return -1;
        } else if (is_el(c, cns, "candidate", C2_NS_ICE)) {
            if (t->n_candidates == C2_MAX_CANDIDATES)
                return bad(p, "more than %d candidates", C2_MAX_CANDIDATES);
            if (parse_candidate(p, c, &t->candidates[t->n_candidates++]) < 0)
                return -1;
        } else if (is_el(c, cns, "web-socket", C2_NS_WS)) {
            if (t->has_web_socket)
                return bad(p, "more than one web-socket");
            t->has_web_socket = true;
            if (get_str(p, c, "url", t->web_socket_url, sizeof t->web_socket_url, true) < 0)
                return -1;
        }
    }
    if ((t->n_candidates || t->n_fingerprints) && (!t->ufrag[0] || !t->pwd[0]))
        return bad(p, "ice-udp transport with candidates or a fingerprint lacks ufrag/pwd");
    return 0;
}

/* The colibri2 <transport>. */
static int parse_transport(c2_parser *p, xmpp_stanza_t *s, const char *ns, c2_transport *t)
{
    t->present = true;
    if (get_bool(p, s, "ice-controlling", &t->ice_controlling) < 0 ||
        get_bool(p, s, "ice-restart", &t->ice_restart) < 0 ||
        get_bool(p, s, "use-unique-port", &t->use_unique_port) < 0)
        return -1;
    FOR_CHILD_TAGS(c, s)
    {
        const char *cns = ns_of(c, ns);
        if (is_el(c, cns, "transport", C2_NS_ICE)) {
            if (t->has_ice)
                return bad(p, "more than one ice-udp transport");
            if (parse_ice(p, c, cns, t) < 0)
                return -1;
        } else if (is_el(c, cns, "sctp", C2_NS)) {
            if (t->sctp_present)
                return bad(p, "more than one sctp");
            t->sctp_present = true;
            uint32_t v;
            int rc = get_num(p, c, "port", 1, 65535, false, &v);
            if (rc < 0)
                return -1;
            t->sctp_port = rc ? (uint16_t)v : 0;
            const char *role = xmpp_stanza_get_attribute(c, "role");
            if (role && strcmp(role, "client") && strcmp(role, "server"))
                return bad(p, "sctp role must be client or server");
            copy_trunc(t->sctp_role, sizeof t->sctp_role, role);
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

static int parse_group(c2_parser *p, xmpp_stanza_t *s, const char *ns, c2_ssrc_group *g)
{
    if (get_str(p, s, "semantics", g->semantics, sizeof g->semantics, true) < 0)
        return -1;
    FOR_CHILD_TAGS(c, s)
    {
        if (!is_el(c, ns_of(c, ns), "source", C2_NS_SSMA))
            continue;
        if (g->n_ssrcs == C2_MAX_GROUP_SSRCS)
            return bad(p, "more than %d ssrcs in an ssrc-group", C2_MAX_GROUP_SSRCS);
        uint32_t v;
        if (get_num(p, c, "ssrc", 1, UINT32_MAX, true, &v) < 0)
            return -1;
        for (size_t i = 0; i < g->n_ssrcs; i++)
            if (g->ssrcs[i] == v)
                return bad(p, "ssrc %lu repeated in an ssrc-group", (unsigned long)v);
        g->ssrcs[g->n_ssrcs++] = v;
    }
    if (g->n_ssrcs == 0)
        return bad(p, "empty ssrc-group");
    return 0;
}

static int parse_media_source(c2_parser *p, xmpp_stanza_t *s, const char *ns, c2_media_source *ms)
{
    if (get_media_type(p, s, &ms->type) < 0 || get_str(p, s, "id", ms->id, sizeof ms->id, true) < 0)
        return -1;
    FOR_CHILD_TAGS(c, s)
    {
        const char *cns = ns_of(c, ns);
        if (is_el(c, cns, "source", C2_NS_SSMA)) {
            if (ms->n_sources == C2_MAX_SOURCES)
                return bad(p, "more than %d sources in a media-source", C2_MAX_SOURCES);
            c2_source *src = &ms->sources[ms->n_sources++];
            if (get_num(p, c, "ssrc", 1, UINT32_MAX, true, &src->ssrc) < 0 ||
                get_str(p, c, "name", src->name, sizeof src->name, false) < 0 ||
                get_str(p, c, "videoType", src->video_type, sizeof src->video_type, false) < 0)
                return -1;
        } else if (is_el(c, cns, "ssrc-group", C2_NS_SSMA)) {
            if (ms->n_groups == C2_MAX_GROUPS)
                return bad(p, "more than %d ssrc-groups in a media-source", C2_MAX_GROUPS);
            if (parse_group(p, c, cns, &ms->groups[ms->n_groups++]) < 0)
                return -1;
        }
    }
    for (size_t i = 0; i < ms->n_groups; i++)
        for (size_t j = 0; j < ms->groups[i].n_ssrcs; j++)
            if (!ms_has_ssrc(ms, ms->groups[i].ssrcs[j]))
                return bad(p,
                           "ssrc-group %s of media-source %s names ssrc %lu, not one of its "
                           "sources",
                           ms->groups[i].semantics, ms->id, (unsigned long)ms->groups[i].ssrcs[j]);
    return 0;
}

static int parse_sources(c2_parser *p, xmpp_stanza_t *s, const char *ns, c2_endpoint *ep)
{
    ep->has_sources = true;
    FOR_CHILD_TAGS(c, s)
    {
        const char *cns = ns_of(c, ns);
        if (!is_el(c, cns, "media-source", C2_NS))
            continue;
        if (ep->n_media_sources == C2_MAX_MEDIA_SOURCES)
            return bad(p, "more than %d media-sources", C2_MAX_MEDIA_SOURCES);
        c2_media_source *ms = &ep->media_sources[ep->n_media_sources];
        if (parse_media_source(p, c, cns, ms) < 0)
            return -1;
        for (size_t i = 0; i < ep->n_media_sources; i++)
            if (!strcmp(ep->media_sources[i].id, ms->id))
                return bad(p, "duplicate media-source %s", ms->id);
        ep->n_media_sources++;
    }
    return 0;
}

/* ---- parsing: endpoint and request ---- */

/* Rejects a second occurrence of a singleton child. */
static int once(c2_parser *p, bool *seen, const char *name)
{
    if (*seen)
        return bad(p, "more than one <%s>", name);
    *seen = true;
    return 0;
}

static int parse_endpoint(c2_parser *p, xmpp_stanza_t *s, const char *ns, c2_endpoint *ep)
{
    const char *id = xmpp_stanza_get_attribute(s, "id");
    if (!id || !endpoint_id_ok(id))
        return bad(p, "endpoint id must be 1..%d characters of [A-Za-z0-9._-]", C2_ID_MAX);
    memcpy(ep->id, id, strlen(id) + 1);
    p->ep = ep->id;
    if (get_bool(p, s, "create", &ep->create) < 0 || get_bool(p, s, "expire", &ep->expire) < 0 ||
        get_str(p, s, "stats-id", ep->stats_id, sizeof ep->stats_id, false) < 0 ||
        get_str(p, s, "muc-role", ep->muc_role, sizeof ep->muc_role, false) < 0)
        return -1;
    if (ep->create && ep->expire)
        return bad(p, "endpoint %s has both create and expire", ep->id);
    bool seen_sources = false, seen_fm = false, seen_ln = false;
    FOR_CHILD_TAGS(c, s)
    {
        const char *cns = ns_of(c, ns);
        if (!str_eq(cns, C2_NS))
            continue;
        const char *name = el_name(c);
        if (!strcmp(name, "media")) {
            if (ep->n_media == C2_MAX_MEDIA)
                return bad(p, "more than %d media", C2_MAX_MEDIA);
            c2_media *m = &ep->media[ep->n_media];
            if (parse_media(p, c, cns, m) < 0)
                return -1;
            for (size_t i = 0; i < ep->n_media; i++)
                if (ep->media[i].type == m->type)
                    return bad(p, "duplicate media type");
            ep->n_media++;
        } else if (!strcmp(name, "transport")) {
            if (ep->transport.present)
                return bad(p, "more than one <transport>");
            if (parse_transport(p, c, cns, &ep->transport) < 0)
                return -1;
        } else if (!strcmp(name, "sources")) {
            if (once(p, &seen_sources, name) < 0 || parse_sources(p, c, cns, ep) < 0)
                return -1;
        } else if (!strcmp(name, "capability")) {
            const char *cap = xmpp_stanza_get_attribute(c, "name");
            if (!cap || !cap[0])
                return bad(p, "<capability> lacks the 'name' attribute");
            if (!strcmp(cap, "source-names"))
                ep->capabilities.source_names = true;
            else if (!strcmp(cap, "ssrc-rewriting"))
                ep->capabilities.ssrc_rewriting = true;
            else if (!strcmp(cap, "private-address-connectivity"))
                ep->capabilities.private_address_connectivity = true;
            else
                ep->capabilities.n_unknown++;
        } else if (!strcmp(name, "force-mute")) {
            if (once(p, &seen_fm, name) < 0)
                return -1;
            ep->force_mute.present = true;
            if (get_bool(p, c, "audio", &ep->force_mute.audio) < 0 ||
                get_bool(p, c, "video", &ep->force_mute.video) < 0)
                return -1;
        } else if (!strcmp(name, "initial-last-n")) {
            if (once(p, &seen_ln, name) < 0)
                return -1;
            const char *v = xmpp_stanza_get_attribute(c, "value");
            uint32_t n;
            if (str_eq(v, "-1"))
                ep->initial_last_n.value = -1;
            else if (v && parse_decimal(v, 0, 1000000, &n))
                ep->initial_last_n.value = (int32_t)n;
            else
                return bad(p, "initial-last-n value must be a number in -1..1000000");
            ep->initial_last_n.present = true;
        }
    }
    if (ep->create && !ep->capabilities.source_names)
        return bad(p, "Source name support is mandatory");
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
static int check_ssrcs_unique(c2_parser *p, const c2_request *r)
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
            rc = bad(p, "ssrc %lu is used more than once", (unsigned long)refs[i].ssrc);
        }
    free(refs);
    return rc;
}

static int parse_request(c2_parser *p, xmpp_stanza_t *s, c2_request *out)
{
    const char *ns = xmpp_stanza_get_ns(s);
    if (!str_eq(xmpp_stanza_get_name(s), "conference-modify") || !str_eq(ns, C2_NS))
        return bad(p, "expected <conference-modify xmlns='%s'>", C2_NS);
    if (get_str(p, s, "meeting-id", out->meeting_id, sizeof out->meeting_id, true) < 0 ||
        get_str(p, s, "name", out->name, sizeof out->name, false) < 0 ||
        get_bool(p, s, "create", &out->create) < 0 || get_bool(p, s, "expire", &out->expire) < 0)
        return -1;
    if (out->create && out->expire)
        return bad(p, "conference has both create and expire");
    size_t n = 0;
    FOR_CHILD_TAGS(c, s)
    {
        const char *cns = ns_of(c, ns);
        if (is_el(c, cns, "endpoint", C2_NS)) {
            if (++n > C2_MAX_ENDPOINTS)
                return bad(p, "more than %d endpoints", C2_MAX_ENDPOINTS);
        } else if (is_el(c, cns, "relay", C2_NS) || is_el(c, cns, "connects", C2_NS)) {
            return not_implemented(p, el_name(c));
        }
    }
    if (n == 0)
        return 0;
    out->endpoints = xcalloc(n, sizeof *out->endpoints);
    FOR_CHILD_TAGS(c, s)
    {
        const char *cns = ns_of(c, ns);
        if (!is_el(c, cns, "endpoint", C2_NS))
            continue;
        c2_endpoint *ep = &out->endpoints[out->n_endpoints];
        p->ep = "";
        if (parse_endpoint(p, c, cns, ep) < 0)
            return -1;
        out->n_endpoints++;
        for (size_t i = 0; i + 1 < out->n_endpoints; i++)
            if (!strcmp(out->endpoints[i].id, ep->id))
                return bad(p, "endpoint %s appears more than once", ep->id);
    }
    p->ep = "";
    return check_ssrcs_unique(p, out);
}

int c2_parse_request(const xmpp_stanza_t *conference_modify, c2_request *out, c2_error *err)
{
    c2_parser p = {err, ""};
    memset(out, 0, sizeof *out);
    if (!conference_modify)
        return bad(&p, "no conference-modify");
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

static xmpp_stanza_t *new_el(xmpp_ctx_t *ctx, const char *name, const char *ns)
{
    xmpp_stanza_t *s = xmpp_stanza_new(ctx);
    if (!s || xmpp_stanza_set_name(s, name) != XMPP_EOK ||
        (ns && xmpp_stanza_set_ns(s, ns) != XMPP_EOK))
        fatal("colibri2: out of memory");
    return s;
}

/* Appends a new <name xmlns=ns> to parent and returns it (owned by parent). */
static xmpp_stanza_t *add_el(xmpp_stanza_t *parent, const char *name, const char *ns)
{
    xmpp_stanza_t *s = new_el(xmpp_stanza_get_context(parent), name, ns);
    if (xmpp_stanza_add_child_ex(parent, s, 0) != XMPP_EOK)
        fatal("colibri2: out of memory");
    return s;
}

static void set_attr(xmpp_stanza_t *s, const char *key, const char *value)
{
    if (xmpp_stanza_set_attribute(s, key, value) != XMPP_EOK)
        fatal("colibri2: out of memory");
}

/* Sets key only when value is non-empty. */
static void set_attr_opt(xmpp_stanza_t *s, const char *key, const char *value)
{
    if (value && value[0])
        set_attr(s, key, value);
}

static void set_num(xmpp_stanza_t *s, const char *key, unsigned long value)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%lu", value);
    set_attr(s, key, buf);
}

static void add_text(xmpp_stanza_t *parent, const char *text)
{
    xmpp_stanza_t *t = xmpp_stanza_new(xmpp_stanza_get_context(parent));
    if (!t || xmpp_stanza_set_text(t, text) != XMPP_EOK ||
        xmpp_stanza_add_child_ex(parent, t, 0) != XMPP_EOK)
        fatal("colibri2: out of memory");
}

static void check_bound(size_t n, size_t max, const char *what)
{
    if (n > max)
        fatal("colibri2: %zu %s (at most %zu)", n, what, max);
}

static const char *media_type_name(c2_media_type t)
{
    return t == C2_MEDIA_AUDIO ? "audio" : "video";
}

static void build_candidate(xmpp_stanza_t *parent, const c2_candidate *cd)
{
    xmpp_stanza_t *c = add_el(parent, "candidate", C2_NS_ICE);
    set_num(c, "component", cd->component ? cd->component : 1);
    set_attr_opt(c, "foundation", cd->foundation);
    set_num(c, "generation", cd->generation);
    set_attr_opt(c, "id", cd->id);
    set_attr_opt(c, "ip", cd->ip);
    set_num(c, "network", cd->network);
    set_num(c, "port", cd->port);
    set_num(c, "priority", cd->priority);
    set_attr(c, "protocol", cd->protocol[0] ? cd->protocol : "udp");
    set_attr_opt(c, "type", cd->type);
    if (cd->rel_addr[0] || cd->rel_port) {
        set_attr_opt(c, "rel-addr", cd->rel_addr);
        set_num(c, "rel-port", cd->rel_port);
    }
}

static void build_fingerprint(xmpp_stanza_t *parent, const c2_fingerprint *fp,
                              const char *default_hash, const char *default_setup)
{
    xmpp_stanza_t *f = add_el(parent, "fingerprint", C2_NS_DTLS);
    set_attr_opt(f, "hash", fp->hash[0] ? fp->hash : default_hash);
    set_attr_opt(f, "setup", fp->setup[0] ? fp->setup : default_setup);
    add_text(f, fp->value);
}

static void build_web_socket(xmpp_stanza_t *parent, const char *url)
{
    set_attr(add_el(parent, "web-socket", C2_NS_WS), "url", url);
}

static void build_sctp(xmpp_stanza_t *parent, uint16_t port, const char *role)
{
    xmpp_stanza_t *s = add_el(parent, "sctp", C2_NS);
    if (port)
        set_num(s, "port", port);
    set_attr_opt(s, "role", role);
}

/* ---- building the request ---- */

static void build_media(xmpp_stanza_t *parent, const c2_media *m)
{
    check_bound(m->n_payload_types, C2_MAX_PAYLOAD_TYPES, "payload types");
    check_bound(m->n_hdrexts, C2_MAX_HDREXTS, "rtp-hdrexts");
    xmpp_stanza_t *me = add_el(parent, "media", C2_NS);
    set_attr(me, "type", media_type_name(m->type));
    for (size_t i = 0; i < m->n_payload_types; i++) {
        const c2_payload_type *pt = &m->payload_types[i];
        check_bound(pt->n_params, C2_MAX_PARAMS, "parameters");
        check_bound(pt->n_rtcp_fbs, C2_MAX_RTCP_FB, "rtcp-fbs");
        xmpp_stanza_t *e = add_el(me, "payload-type", C2_NS_RTP);
        set_num(e, "id", pt->id);
        set_attr_opt(e, "name", pt->name);
        if (pt->clockrate)
            set_num(e, "clockrate", pt->clockrate);
        if (pt->channels)
            set_num(e, "channels", pt->channels);
        for (size_t j = 0; j < pt->n_params; j++) {
            xmpp_stanza_t *pa = add_el(e, "parameter", C2_NS_RTP);
            set_attr_opt(pa, "name", pt->params[j].name);
            set_attr_opt(pa, "value", pt->params[j].value);
        }
        for (size_t j = 0; j < pt->n_rtcp_fbs; j++) {
            xmpp_stanza_t *fb = add_el(e, "rtcp-fb", C2_NS_RTCP_FB);
            set_attr_opt(fb, "type", pt->rtcp_fbs[j].type);
            set_attr_opt(fb, "subtype", pt->rtcp_fbs[j].subtype);
        }
    }
    for (size_t i = 0; i < m->n_hdrexts; i++) {
        xmpp_stanza_t *h = add_el(me, "rtp-hdrext", C2_NS_HDREXT);
        set_num(h, "id", m->hdrexts[i].id);
        set_attr_opt(h, "uri", m->hdrexts[i].uri);
    }
    if (m->extmap_allow_mixed)
        add_el(me, "extmap-allow-mixed", C2_NS_HDREXT);
}

static void build_transport(xmpp_stanza_t *parent, const c2_transport *t)
{
    xmpp_stanza_t *tr = add_el(parent, "transport", C2_NS);
    if (t->ice_controlling)
        set_attr(tr, "ice-controlling", "true");
    if (t->ice_restart)
        set_attr(tr, "ice-restart", "true");
    if (t->use_unique_port)
        set_attr(tr, "use-unique-port", "true");
    if (t->has_ice) {
        check_bound(t->n_candidates, C2_MAX_CANDIDATES, "candidates");
        check_bound(t->n_fingerprints, C2_MAX_FINGERPRINTS, "fingerprints");
        xmpp_stanza_t *ice = add_el(tr, "transport", C2_NS_ICE);
        set_attr_opt(ice, "ufrag", t->ufrag);
        set_attr_opt(ice, "pwd", t->pwd);
        for (size_t i = 0; i < t->n_candidates; i++)
            build_candidate(ice, &t->candidates[i]);
        if (t->rtcp_mux)
            add_el(ice, "rtcp-mux", C2_NS_ICE);
        for (size_t i = 0; i < t->n_fingerprints; i++)
            build_fingerprint(ice, &t->fingerprints[i], NULL, NULL);
        if (t->has_web_socket)
            build_web_socket(ice, t->web_socket_url);
    }
    if (t->sctp_present)
        build_sctp(tr, t->sctp_port, t->sctp_role);
}

static void build_sources(xmpp_stanza_t *parent, const c2_endpoint *ep)
{
    check_bound(ep->n_media_sources, C2_MAX_MEDIA_SOURCES, "media-sources");
    xmpp_stanza_t *ss = add_el(parent, "sources", C2_NS);
    for (size_t i = 0; i < ep->n_media_sources; i++) {
        const c2_media_source *ms = &ep->media_sources[i];
        check_bound(ms->n_sources, C2_MAX_SOURCES, "sources");
        check_bound(ms->n_groups, C2_MAX_GROUPS, "ssrc-groups");
        xmpp_stanza_t *m = add_el(ss, "media-source", C2_NS);
        set_attr(m, "type", media_type_name(ms->type));
        set_attr_opt(m, "id", ms->id);
        for (size_t j = 0; j < ms->n_sources; j++) {
            xmpp_stanza_t *s = add_el(m, "source", C2_NS_SSMA);
            set_num(s, "ssrc", ms->sources[j].ssrc);
            set_attr_opt(s, "name", ms->sources[j].name);
            set_attr_opt(s, "videoType", ms->sources[j].video_type);
        }
        for (size_t j = 0; j < ms->n_groups; j++) {
            const c2_ssrc_group *g = &ms->groups[j];
            check_bound(g->n_ssrcs, C2_MAX_GROUP_SSRCS, "group ssrcs");
            xmpp_stanza_t *ge = add_el(m, "ssrc-group", C2_NS_SSMA);
            set_attr_opt(ge, "semantics", g->semantics);
            for (size_t k = 0; k < g->n_ssrcs; k++)
                set_num(add_el(ge, "source", C2_NS_SSMA), "ssrc", g->ssrcs[k]);
        }
    }
}

static void build_endpoint(xmpp_stanza_t *parent, const c2_endpoint *ep)
{
    check_bound(ep->n_media, C2_MAX_MEDIA, "media");
    xmpp_stanza_t *e = add_el(parent, "endpoint", C2_NS);
    set_attr(e, "id", ep->id);
    if (ep->create)
        set_attr(e, "create", "true");
    if (ep->expire)
        set_attr(e, "expire", "true");
    set_attr_opt(e, "stats-id", ep->stats_id);
    set_attr_opt(e, "muc-role", ep->muc_role);
    for (size_t i = 0; i < ep->n_media; i++)
        build_media(e, &ep->media[i]);
    if (ep->transport.present)
        build_transport(e, &ep->transport);
    if (ep->has_sources)
        build_sources(e, ep);
    if (ep->capabilities.source_names)
        set_attr(add_el(e, "capability", C2_NS), "name", "source-names");
    if (ep->capabilities.ssrc_rewriting)
        set_attr(add_el(e, "capability", C2_NS), "name", "ssrc-rewriting");
    if (ep->capabilities.private_address_connectivity)
        set_attr(add_el(e, "capability", C2_NS), "name", "private-address-connectivity");
    if (ep->force_mute.present) {
        xmpp_stanza_t *fm = add_el(e, "force-mute", C2_NS);
        set_attr(fm, "audio", ep->force_mute.audio ? "true" : "false");
        set_attr(fm, "video", ep->force_mute.video ? "true" : "false");
    }
    if (ep->initial_last_n.present) {
        char buf[16];
        snprintf(buf, sizeof buf, "%ld", (long)ep->initial_last_n.value);
        set_attr(add_el(e, "initial-last-n", C2_NS), "value", buf);
    }
}

xmpp_stanza_t *c2_build_request(xmpp_ctx_t *ctx, const c2_request *r)
{
    check_bound(r->n_endpoints, C2_MAX_ENDPOINTS, "endpoints");
    xmpp_stanza_t *cm = new_el(ctx, "conference-modify", C2_NS);
    set_attr(cm, "meeting-id", r->meeting_id);
    set_attr_opt(cm, "name", r->name);
    if (r->create)
        set_attr(cm, "create", "true");
    if (r->expire)
        set_attr(cm, "expire", "true");
    for (size_t i = 0; i < r->n_endpoints; i++)
        build_endpoint(cm, &r->endpoints[i]);
    return cm;
}

/* ---- the answer ---- */

xmpp_stanza_t *c2_build_modified(xmpp_ctx_t *ctx, const c2_answer *a)
{
    check_bound(a->n_endpoints, C2_MAX_ENDPOINTS, "endpoints");
    xmpp_stanza_t *cm = new_el(ctx, "conference-modified", C2_NS);
    for (size_t i = 0; i < a->n_endpoints; i++) {
        const c2_answer_endpoint *ae = &a->endpoints[i];
        xmpp_stanza_t *e = add_el(cm, "endpoint", C2_NS);
        set_attr(e, "id", ae->id);
        if (!ae->has_transport)
            continue;
        check_bound(ae->n_candidates, C2_MAX_CANDIDATES, "candidates");
        xmpp_stanza_t *tr = add_el(e, "transport", C2_NS);
        xmpp_stanza_t *ice = add_el(tr, "transport", C2_NS_ICE);
        set_attr_opt(ice, "ufrag", ae->ufrag);
        set_attr_opt(ice, "pwd", ae->pwd);
        for (size_t j = 0; j < ae->n_candidates; j++)
            build_candidate(ice, &ae->candidates[j]);
        add_el(ice, "rtcp-mux", C2_NS_ICE);
        if (ae->fingerprint.value[0])
            build_fingerprint(ice, &ae->fingerprint, "sha-256", "actpass");
        if (ae->ws_url[0])
            build_web_socket(ice, ae->ws_url);
        if (ae->sctp_port)
            build_sctp(tr, ae->sctp_port, ae->sctp_role[0] ? ae->sctp_role : "server");
    }
    if (a->include_sources) {
        xmpp_stanza_t *ss = add_el(cm, "sources", C2_NS);
        const c2_feedback_source *fb[2] = {&a->audio, &a->video};
        for (int i = 0; i < 2; i++) {
            if (fb[i]->ssrc == 0)
                continue;
            const char *name = fb[i]->name[0] ? fb[i]->name : i == 0 ? "jvb-a0" : "jvb-v0";
            xmpp_stanza_t *m = add_el(ss, "media-source", C2_NS);
            set_attr(m, "type", i == 0 ? "audio" : "video");
            set_attr(m, "id", name);
            xmpp_stanza_t *s = add_el(m, "source", C2_NS_SSMA);
            set_num(s, "ssrc", fb[i]->ssrc);
            set_attr(s, "name", name);
        }
    }
    return cm;
}

/* An answer endpoint's transport, parsed with the request's transport rules. */
static int parse_answer_transport(c2_parser *p, xmpp_stanza_t *s, const char *ns,
                                  c2_answer_endpoint *ae)
{
    c2_transport *t = xcalloc(1, sizeof *t);
    int rc = parse_transport(p, s, ns, t);
    if (rc == 0 && t->n_fingerprints > 1)
        rc = bad(p, "more than one fingerprint in an answer");
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

static int parse_answer_sources(c2_parser *p, xmpp_stanza_t *s, const char *ns, c2_answer *out)
{
    bool seen[2] = {false, false};
    out->include_sources = true;
    FOR_CHILD_TAGS(c, s)
    {
        const char *cns = ns_of(c, ns);
        if (!is_el(c, cns, "media-source", C2_NS))
            continue;
        c2_media_type type = C2_MEDIA_AUDIO;
        if (get_media_type(p, c, &type) < 0)
            return -1;
        if (seen[type])
            return bad(p, "more than one %s media-source", media_type_name(type));
        seen[type] = true;
        c2_feedback_source *fb = type == C2_MEDIA_AUDIO ? &out->audio : &out->video;
        if (get_str(p, c, "id", fb->name, sizeof fb->name, true) < 0)
            return -1;
        bool found = false;
        FOR_CHILD_TAGS(src, c)
        {
            if (!is_el(src, ns_of(src, cns), "source", C2_NS_SSMA))
                continue;
            if (found)
                return bad(p, "more than one feedback source in media-source %s", fb->name);
            if (get_num(p, src, "ssrc", 1, UINT32_MAX, true, &fb->ssrc) < 0)
                return -1;
            found = true;
        }
        if (!found)
            return bad(p, "media-source %s has no source", fb->name);
    }
    return 0;
}

static int parse_modified(c2_parser *p, xmpp_stanza_t *s, c2_answer *out)
{
    const char *ns = xmpp_stanza_get_ns(s);
    if (!str_eq(xmpp_stanza_get_name(s), "conference-modified") || !str_eq(ns, C2_NS))
        return bad(p, "expected <conference-modified xmlns='%s'>", C2_NS);
    size_t n = 0;
    FOR_CHILD_TAGS(c, s)
    {
        if (is_el(c, ns_of(c, ns), "endpoint", C2_NS) && ++n > C2_MAX_ENDPOINTS)
            return bad(p, "more than %d endpoints", C2_MAX_ENDPOINTS);
    }
    if (n)
        out->endpoints = xcalloc(n, sizeof *out->endpoints);
    bool seen_sources = false;
    FOR_CHILD_TAGS(c, s)
    {
        const char *cns = ns_of(c, ns);
        p->ep = "";
        if (is_el(c, cns, "sources", C2_NS)) {
            if (once(p, &seen_sources, "sources") < 0 || parse_answer_sources(p, c, cns, out) < 0)
                return -1;
            continue;
        }
        if (!is_el(c, cns, "endpoint", C2_NS))
            continue;
        c2_answer_endpoint *ae = &out->endpoints[out->n_endpoints];
        const char *id = xmpp_stanza_get_attribute(c, "id");
        if (!id || !endpoint_id_ok(id))
            return bad(p, "endpoint id must be 1..%d characters of [A-Za-z0-9._-]", C2_ID_MAX);
        memcpy(ae->id, id, strlen(id) + 1);
        p->ep = ae->id;
        for (size_t i = 0; i < out->n_endpoints; i++)
            if (!strcmp(out->endpoints[i].id, ae->id))
                return bad(p, "endpoint %s appears more than once", ae->id);
        FOR_CHILD_TAGS(t, c)
        {
            if (!is_el(t, ns_of(t, cns), "transport", C2_NS))
                continue;
            if (ae->has_transport)
                return bad(p, "more than one <transport>");
            if (parse_answer_transport(p, t, ns_of(t, cns), ae) < 0)
                return -1;
        }
        out->n_endpoints++;
    }
    p->ep = "";
    return 0;
}

int c2_parse_modified(const xmpp_stanza_t *conference_modified, c2_answer *out, c2_error *err)
{
    c2_parser p = {err, ""};
    memset(out, 0, sizeof *out);
    if (!conference_modified)
        return bad(&p, "no conference-modified");
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
    xmpp_stanza_t *iq = new_el(ctx, "iq", NULL);
    set_attr(iq, "type", "error");
    if (req) {
        set_attr_opt(iq, "to", xmpp_stanza_get_from(req));
        set_attr_opt(iq, "from", xmpp_stanza_get_to(req));
        set_attr_opt(iq, "id", xmpp_stanza_get_id(req));
    }
    xmpp_stanza_t *er = add_el(iq, "error", NULL);
    set_attr(er, "type", e->type[0] ? e->type : "cancel");
    add_el(er, e->condition[0] ? e->condition : "undefined-condition", C2_NS_STANZAS);
    if (e->text[0])
        add_text(add_el(er, "text", C2_NS_STANZAS), e->text);
    if (e->reason[0]) {
        set_attr(add_el(er, "error", C2_NS), "reason", e->reason);
        if (!strcmp(e->reason, "unknown_endpoint") && e->endpoint_id[0])
            set_attr(add_el(er, "endpoint", C2_NS), "id", e->endpoint_id);
    }
    return iq;
}
