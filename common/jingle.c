/* jingle: parsing and building of Jingle (`urn:xmpp:jingle:1`) elements
 * between the focus and the clients on libstrophe stanzas, and the check of
 * a client's source set. See jingle.h for the contract. */
#include "jingle.h"
#include "util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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

/* ---- parsing helpers ---- */

typedef struct jparser {
    char *err;
    size_t errlen;
} jparser;

static int bad(jparser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(jparser *p, const char *fmt, ...)
{
    if (p->err && p->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err, p->errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static void copy_trunc(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= cap)
        n = cap - 1;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
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

/* Copies v into dst (cap bytes with the NUL): -1 if too long or holding a
 * control character (tab, CR and LF allowed when text), else 0. */
static int copy_str(jparser *p, xmpp_stanza_t *s, const char *what, const char *v, char *dst,
                    size_t cap, bool text)
{
    size_t n = strlen(v);
    if (n >= cap)
        return bad(p, "%s of <%s> is longer than %zu bytes", what, el_name(s), cap - 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)v[i];
        if ((ch < 0x20 || ch == 0x7f) && !(text && (ch == '\t' || ch == '\r' || ch == '\n')))
            return bad(p, "%s of <%s> contains a control character", what, el_name(s));
    }
    memcpy(dst, v, n + 1);
    return 0;
}

/* Attribute attr of s into dst. A required attribute must be present and
 * non-empty. Returns 1 if present and non-empty, 0 if absent or empty (dst
 * ""), -1 on error. */
static int get_str(jparser *p, xmpp_stanza_t *s, const char *attr, char *dst, size_t cap,
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
    return copy_str(p, s, what, v, dst, cap, false) == 0 ? 1 : -1;
}

/* Optional attribute that, when present, must be one of the NULL-terminated
 * values. 0 or -1. */
static int get_enum(jparser *p, xmpp_stanza_t *s, const char *attr, const char *const *values,
                    char *dst, size_t cap)
{
    const char *v = xmpp_stanza_get_attribute(s, attr);
    dst[0] = '\0';
    if (!v)
        return 0;
    for (size_t i = 0; values[i]; i++)
        if (!strcmp(v, values[i])) {
            copy_trunc(dst, cap, v);
            return 0;
        }
    return bad(p, "attribute '%s' of <%s> has an unknown value", attr, el_name(s));
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
 * absent and not required, -1 on error. */
static int get_num(jparser *p, xmpp_stanza_t *s, const char *attr, uint32_t min, uint32_t max,
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
static int get_bool(jparser *p, xmpp_stanza_t *s, const char *attr, bool *out)
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

/* The element's text, whitespace-trimmed, into dst. 0 or -1. */
static int get_text(jparser *p, xmpp_stanza_t *s, const char *what, char *dst, size_t cap)
{
    xmpp_ctx_t *ctx = xmpp_stanza_get_context(s);
    char *text = xmpp_stanza_get_text(s);
    const char *b = text ? text : "";
    while (*b == ' ' || *b == '\t' || *b == '\r' || *b == '\n')
        b++;
    size_t n = strlen(b);
    while (n && (b[n - 1] == ' ' || b[n - 1] == '\t' || b[n - 1] == '\r' || b[n - 1] == '\n'))
        n--;
    int rc;
    if (n >= cap) {
        rc = bad(p, "%s is longer than %zu bytes", what, cap - 1);
    } else {
        char *tmp = xstrndup(b, n);
        rc = copy_str(p, s, "text", tmp, dst, cap, true);
        free(tmp);
    }
    if (text)
        xmpp_free(ctx, text);
    return rc;
}

/* Rejects a second occurrence of a singleton child. */
static int once(jparser *p, bool *seen, const char *name)
{
    if (*seen)
        return bad(p, "more than one <%s>", name);
    *seen = true;
    return 0;
}

static bool is_ip_literal(const char *s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* ---- parsing: description (colibri2's rules for payload types and hdrexts) ---- */

static int parse_payload_type(jparser *p, xmpp_stanza_t *s, const char *ns, c2_payload_type *pt)
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

static int parse_hdrext(jparser *p, xmpp_stanza_t *s, jingle_content *ct)
{
    if (ct->n_hdrexts == C2_MAX_HDREXTS)
        return bad(p, "more than %d rtp-hdrext in content '%s'", C2_MAX_HDREXTS, ct->name);
    c2_hdrext *h = &ct->hdrexts[ct->n_hdrexts];
    uint32_t v;
    if (get_num(p, s, "id", 1, 255, true, &v) < 0)
        return -1;
    h->id = (uint8_t)v;
    if (get_str(p, s, "uri", h->uri, sizeof h->uri, true) < 0)
        return -1;
    for (size_t i = 0; i < ct->n_hdrexts; i++)
        if (ct->hdrexts[i].id == h->id)
            return bad(p, "duplicate rtp-hdrext id %u in content '%s'", h->id, ct->name);
    ct->n_hdrexts++;
    return 0;
}

static int parse_source(jparser *p, xmpp_stanza_t *s, const char *ns, jingle_content *ct)
{
    if (ct->n_sources == JINGLE_MAX_SOURCES)
        return bad(p, "more than %d sources in content '%s'", JINGLE_MAX_SOURCES, ct->name);
    jingle_source *src = &ct->sources[ct->n_sources++];
    if (get_num(p, s, "ssrc", 0, UINT32_MAX, true, &src->ssrc) < 0 ||
        get_str(p, s, "name", src->name, sizeof src->name, false) < 0 ||
        get_str(p, s, "videoType", src->video_type, sizeof src->video_type, false) < 0)
        return -1;
    bool seen_msid = false, seen_info = false;
    FOR_CHILD_TAGS(c, s)
    {
        const char *cns = ns_of(c, ns);
        if (is_el(c, cns, "parameter", C2_NS_SSMA) || is_el(c, cns, "parameter", C2_NS_RTP)) {
            if (!str_eq(xmpp_stanza_get_attribute(c, "name"), "msid"))
                continue; /* cname, mslabel, label: not used */
            if (once(p, &seen_msid, "parameter name='msid'") < 0 ||
                get_str(p, c, "value", src->msid, sizeof src->msid, false) < 0)
                return -1;
        } else if (is_el(c, cns, "ssrc-info", JINGLE_NS_JITMEET)) {
            if (once(p, &seen_info, "ssrc-info") < 0 ||
                get_str(p, c, "owner", src->owner, sizeof src->owner, false) < 0)
                return -1;
        }
    }
    return 0;
}

static int parse_group(jparser *p, xmpp_stanza_t *s, const char *ns, jingle_content *ct)
{
    if (ct->n_groups == JINGLE_MAX_GROUPS)
        return bad(p, "more than %d ssrc-groups in content '%s'", JINGLE_MAX_GROUPS, ct->name);
    c2_ssrc_group *g = &ct->groups[ct->n_groups++];
    if (get_str(p, s, "semantics", g->semantics, sizeof g->semantics, true) < 0)
        return -1;
    FOR_CHILD_TAGS(c, s)
    {
        if (!is_el(c, ns_of(c, ns), "source", C2_NS_SSMA))
            continue;
        if (g->n_ssrcs == C2_MAX_GROUP_SSRCS)
            return bad(p, "more than %d ssrcs in an ssrc-group", C2_MAX_GROUP_SSRCS);
        if (get_num(p, c, "ssrc", 0, UINT32_MAX, true, &g->ssrcs[g->n_ssrcs]) < 0)
            return -1;
        g->n_ssrcs++;
    }
    if (g->n_ssrcs == 0)
        return bad(p, "empty ssrc-group %s in content '%s'", g->semantics, ct->name);
    return 0;
}

/* <source> and <ssrc-group> (ssma); 1 if c was one of them, 0 if not, -1. */
static int parse_source_or_group(jparser *p, xmpp_stanza_t *c, const char *cns, jingle_content *ct)
{
    if (is_el(c, cns, "source", C2_NS_SSMA))
        return parse_source(p, c, cns, ct) < 0 ? -1 : 1;
    if (is_el(c, cns, "ssrc-group", C2_NS_SSMA))
        return parse_group(p, c, cns, ct) < 0 ? -1 : 1;
    return 0;
}

static const char *const media_values[] = {"audio", "video", "application", NULL};

static int parse_description(jparser *p, xmpp_stanza_t *s, const char *ns, jingle_content *ct)
{
    const char *media = xmpp_stanza_get_attribute(s, "media");
    if (!media)
        return bad(p, "<description> of content '%s' lacks the 'media' attribute", ct->name);
    if (get_enum(p, s, "media", media_values, ct->media, sizeof ct->media) < 0)
        return bad(p, "description media '%.32s' is not audio, video or application", media);
    uint32_t v;
    int rc = get_num(p, s, "maxptime", 1, UINT32_MAX, false, &v);
    if (rc < 0)
        return -1;
    ct->maxptime = rc ? v : 0;
    FOR_CHILD_TAGS(c, s)
    {
        const char *cns = ns_of(c, ns);
        if (is_el(c, cns, "payload-type", C2_NS_RTP)) {
            if (ct->n_payload_types == C2_MAX_PAYLOAD_TYPES)
                return bad(p, "more than %d payload types in content '%s'", C2_MAX_PAYLOAD_TYPES,
                           ct->name);
            c2_payload_type *pt = &ct->payload_types[ct->n_payload_types];
            if (parse_payload_type(p, c, cns, pt) < 0)
                return -1;
            for (size_t i = 0; i < ct->n_payload_types; i++)
                if (ct->payload_types[i].id == pt->id)
                    return bad(p, "duplicate payload type %u in content '%s'", pt->id, ct->name);
            ct->n_payload_types++;
        } else if (is_el(c, cns, "rtp-hdrext", C2_NS_HDREXT)) {
            if (parse_hdrext(p, c, ct) < 0)
                return -1;
        } else if (is_el(c, cns, "extmap-allow-mixed", C2_NS_HDREXT)) {
            ct->extmap_allow_mixed = true;
        } else if (is_el(c, cns, "rtcp-mux", C2_NS_RTP)) {
            ct->rtcp_mux = true;
        } else if (parse_source_or_group(p, c, cns, ct) < 0) {
            return -1;
        }
    }
    return 0;
}

/* ---- parsing: transport (colibri2's rules for candidates and fingerprints) ---- */

static int parse_candidate(jparser *p, xmpp_stanza_t *s, c2_candidate *cd)
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

static int parse_fingerprint(jparser *p, xmpp_stanza_t *s, c2_fingerprint *fp)
{
    if (get_str(p, s, "hash", fp->hash, sizeof fp->hash, true) < 0)
        return -1;
    const char *setup = xmpp_stanza_get_attribute(s, "setup");
    if (!setup || (strcmp(setup, "active") && strcmp(setup, "passive") &&
                   strcmp(setup, "actpass") && strcmp(setup, "holdconn")))
        return bad(p, "fingerprint setup must be active, passive, actpass or holdconn");
    copy_trunc(fp->setup, sizeof fp->setup, setup);
    if (get_text(p, s, "fingerprint", fp->value, sizeof fp->value) < 0)
        return -1;
    if (!fp->value[0])
        return bad(p, "empty fingerprint");
    return 0;
}

static int parse_sctpmap(jparser *p, xmpp_stanza_t *s, c2_transport *t)
{
    uint32_t v;
    if (t->sctp_present)
        return bad(p, "more than one sctpmap");
    t->sctp_present = true;
    if (get_num(p, s, "number", 1, 65535, true, &v) < 0)
        return -1;
    t->sctp_port = (uint16_t)v;
    if (get_num(p, s, "streams", 0, 65535, false, &v) < 0)
        return -1;
    return 0;
}

static int parse_transport(jparser *p, xmpp_stanza_t *s, const char *ns, jingle_content *ct)
{
    c2_transport *t = &ct->transport;
    ct->has_transport = t->present = t->has_ice = true;
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
        } else if (is_el(c, cns, "sctpmap", JINGLE_NS_SCTP)) {
            if (parse_sctpmap(p, c, t) < 0)
                return -1;
        }
    }
    if ((t->n_candidates || t->n_fingerprints) && (!t->ufrag[0] || !t->pwd[0]))
        return bad(p, "ice-udp transport with candidates or a fingerprint lacks ufrag/pwd");
    return 0;
}

/* ---- parsing: content and session ---- */

static int parse_initial_last_n(jparser *p, xmpp_stanza_t *s, jingle_content *ct)
{
    const char *v = xmpp_stanza_get_attribute(s, "value");
    uint32_t n;
    if (ct->initial_last_n.present)
        return bad(p, "more than one <initial-last-n>");
    if (str_eq(v, "-1"))
        ct->initial_last_n.value = -1;
    else if (v && parse_decimal(v, 0, 1000000, &n))
        ct->initial_last_n.value = (int32_t)n;
    else
        return bad(p, "initial-last-n value must be a number in -1..1000000");
    ct->initial_last_n.present = true;
    return 0;
}

static const char *const creator_values[] = {"initiator", "responder", NULL};
static const char *const senders_values[] = {"both", "initiator", "responder", "none", NULL};

static int parse_content(jparser *p, xmpp_stanza_t *s, const char *ns, jingle_msg *m)
{
    if (m->n_contents == JINGLE_MAX_CONTENTS)
        return bad(p, "more than %d contents", JINGLE_MAX_CONTENTS);
    jingle_content *ct = &m->contents[m->n_contents];
    if (get_str(p, s, "name", ct->name, sizeof ct->name, true) < 0 ||
        get_enum(p, s, "creator", creator_values, ct->creator, sizeof ct->creator) < 0 ||
        get_enum(p, s, "senders", senders_values, ct->senders, sizeof ct->senders) < 0)
        return -1;
    for (size_t i = 0; i < m->n_contents; i++)
        if (!strcmp(m->contents[i].name, ct->name))
            return bad(p, "duplicate content '%s'", ct->name);
    bool seen_desc = false;
    FOR_CHILD_TAGS(c, s)
    {
        const char *cns = ns_of(c, ns);
        if (is_el(c, cns, "description", C2_NS_RTP)) {
            if (once(p, &seen_desc, "description") < 0 || parse_description(p, c, cns, ct) < 0)
                return -1;
        } else if (is_el(c, cns, "transport", C2_NS_ICE)) {
            if (ct->has_transport)
                return bad(p, "more than one <transport> in content '%s'", ct->name);
            if (parse_transport(p, c, cns, ct) < 0)
                return -1;
        } else if (is_el(c, cns, "initial-last-n", C2_NS)) {
            if (parse_initial_last_n(p, c, ct) < 0)
                return -1;
        } else if (parse_source_or_group(p, c, cns, ct) < 0) {
            return -1;
        }
    }
    m->n_contents++;
    return 0;
}

static int parse_bundle(jparser *p, xmpp_stanza_t *s, const char *ns, jingle_msg *m)
{
    if (m->has_bundle)
        return bad(p, "more than one BUNDLE group");
    m->has_bundle = true;
    FOR_CHILD_TAGS(c, s)
    {
        if (!is_el(c, ns_of(c, ns), "content", JINGLE_NS_GROUPING))
            continue;
        if (m->n_bundle == JINGLE_MAX_CONTENTS)
            return bad(p, "more than %d contents in the BUNDLE group", JINGLE_MAX_CONTENTS);
        if (get_str(p, c, "name", m->bundle[m->n_bundle], sizeof m->bundle[0], true) < 0)
            return -1;
        m->n_bundle++;
    }
    return 0;
}

static int parse_reason(jparser *p, xmpp_stanza_t *s, const char *ns, jingle_msg *m)
{
    bool seen_text = false;
    m->reason.present = true;
    FOR_CHILD_TAGS(c, s)
    {
        const char *cns = ns_of(c, ns);
        if (!str_eq(cns, JINGLE_NS))
            continue; /* application-specific condition */
        if (is_el(c, cns, "text", JINGLE_NS)) {
            if (once(p, &seen_text, "text") < 0 ||
                get_text(p, c, "reason text", m->reason.text, sizeof m->reason.text) < 0)
                return -1;
            continue;
        }
        if (m->reason.condition[0])
            return bad(p, "more than one reason condition");
        if (copy_str(p, s, "condition", el_name(c), m->reason.condition, sizeof m->reason.condition,
                     false) < 0)
            return -1;
    }
    if (!m->reason.condition[0])
        return bad(p, "<reason> lacks a condition");
    return 0;
}

static int parse_bridge_session(jparser *p, xmpp_stanza_t *s, jingle_msg *m)
{
    if (m->bridge_session.present)
        return bad(p, "more than one <bridge-session>");
    m->bridge_session.present = true;
    if (get_str(p, s, "id", m->bridge_session.id, sizeof m->bridge_session.id, false) < 0 ||
        get_str(p, s, "region", m->bridge_session.region, sizeof m->bridge_session.region, false) <
            0 ||
        get_bool(p, s, "restart", &m->bridge_session.restart) < 0 ||
        get_bool(p, s, "ice-restart", &m->bridge_session.ice_restart) < 0)
        return -1;
    return 0;
}

static int parse_jingle(jparser *p, xmpp_stanza_t *s, jingle_msg *m)
{
    const char *ns = xmpp_stanza_get_ns(s);
    if (!str_eq(xmpp_stanza_get_name(s), "jingle") || !str_eq(ns, JINGLE_NS))
        return bad(p, "expected <jingle xmlns='%s'>", JINGLE_NS);
    const char *action = xmpp_stanza_get_attribute(s, "action");
    if (!action || !action[0])
        return bad(p, "<jingle> lacks the 'action' attribute");
    m->action = jingle_action_from_name(action);
    if (get_str(p, s, "sid", m->sid, sizeof m->sid, true) < 0 ||
        get_str(p, s, "initiator", m->initiator, sizeof m->initiator, false) < 0 ||
        get_str(p, s, "responder", m->responder, sizeof m->responder, false) < 0)
        return -1;
    if (m->action == JINGLE_UNKNOWN)
        return 0; /* the focus answers feature-not-implemented */
    bool seen_reason = false;
    FOR_CHILD_TAGS(c, s)
    {
        const char *cns = ns_of(c, ns);
        int rc = 0;
        if (is_el(c, cns, "content", JINGLE_NS)) {
            rc = parse_content(p, c, cns, m);
        } else if (is_el(c, cns, "group", JINGLE_NS_GROUPING)) {
            if (str_eq(xmpp_stanza_get_attribute(c, "semantics"), "BUNDLE"))
                rc = parse_bundle(p, c, cns, m);
        } else if (is_el(c, cns, "reason", JINGLE_NS)) {
            rc = once(p, &seen_reason, "reason");
            if (rc == 0)
                rc = parse_reason(p, c, cns, m);
        } else if (is_el(c, cns, "bridge-session", JINGLE_NS_FOCUS)) {
            rc = parse_bridge_session(p, c, m);
        }
        if (rc < 0)
            return -1;
    }
    return 0;
}

int jingle_parse(const xmpp_stanza_t *jingle_el, jingle_msg *out, char *err, size_t errlen)
{
    jparser p = {err, errlen};
    memset(out, 0, sizeof *out);
    if (err && errlen)
        err[0] = '\0';
    if (!jingle_el)
        return bad(&p, "no jingle element");
    if (parse_jingle(&p, MUT(jingle_el), out) < 0) {
        memset(out, 0, sizeof *out);
        return -1;
    }
    return 0;
}

/* ---- building helpers ---- */

static xmpp_stanza_t *new_el(xmpp_ctx_t *ctx, const char *name, const char *ns)
{
    xmpp_stanza_t *s = xmpp_stanza_new(ctx);
    if (!s || xmpp_stanza_set_name(s, name) != XMPP_EOK ||
        (ns && xmpp_stanza_set_ns(s, ns) != XMPP_EOK))
        fatal("jingle: out of memory");
    return s;
}

/* Appends a new <name xmlns=ns> to parent and returns it (owned by parent);
 * ns NULL means the element inherits the parent's namespace. */
static xmpp_stanza_t *add_el(xmpp_stanza_t *parent, const char *name, const char *ns)
{
    xmpp_stanza_t *s = new_el(xmpp_stanza_get_context(parent), name, ns);
    if (xmpp_stanza_add_child_ex(parent, s, 0) != XMPP_EOK)
        fatal("jingle: out of memory");
    return s;
}

static void set_attr(xmpp_stanza_t *s, const char *key, const char *value)
{
    if (xmpp_stanza_set_attribute(s, key, value) != XMPP_EOK)
        fatal("jingle: out of memory");
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
        fatal("jingle: out of memory");
}

static void check_bound(size_t n, size_t max, const char *what)
{
    if (n > max)
        fatal("jingle: %zu %s (at most %zu)", n, what, max);
}

/* ---- building ---- */

static void build_payload_types(xmpp_stanza_t *desc, const jingle_content *ct)
{
    check_bound(ct->n_payload_types, C2_MAX_PAYLOAD_TYPES, "payload types");
    for (size_t i = 0; i < ct->n_payload_types; i++) {
        const c2_payload_type *pt = &ct->payload_types[i];
        check_bound(pt->n_params, C2_MAX_PARAMS, "parameters");
        check_bound(pt->n_rtcp_fbs, C2_MAX_RTCP_FB, "rtcp-fbs");
        xmpp_stanza_t *e = add_el(desc, "payload-type", NULL);
        set_num(e, "id", pt->id);
        set_attr_opt(e, "name", pt->name);
        if (pt->clockrate)
            set_num(e, "clockrate", pt->clockrate);
        if (pt->channels)
            set_num(e, "channels", pt->channels);
        for (size_t j = 0; j < pt->n_params; j++) {
            xmpp_stanza_t *pa = add_el(e, "parameter", NULL);
            set_attr_opt(pa, "name", pt->params[j].name);
            set_attr_opt(pa, "value", pt->params[j].value);
        }
        for (size_t j = 0; j < pt->n_rtcp_fbs; j++) {
            xmpp_stanza_t *fb = add_el(e, "rtcp-fb", C2_NS_RTCP_FB);
            set_attr_opt(fb, "type", pt->rtcp_fbs[j].type);
            set_attr_opt(fb, "subtype", pt->rtcp_fbs[j].subtype);
        }
    }
    check_bound(ct->n_hdrexts, C2_MAX_HDREXTS, "rtp-hdrexts");
    for (size_t i = 0; i < ct->n_hdrexts; i++) {
        xmpp_stanza_t *h = add_el(desc, "rtp-hdrext", C2_NS_HDREXT);
        set_num(h, "id", ct->hdrexts[i].id);
        set_attr_opt(h, "uri", ct->hdrexts[i].uri);
    }
    if (ct->extmap_allow_mixed)
        add_el(desc, "extmap-allow-mixed", C2_NS_HDREXT);
    if (ct->rtcp_mux)
        add_el(desc, "rtcp-mux", NULL);
}

/* The sources, then the ssrc-groups, appended to parent. */
static void build_sources(xmpp_stanza_t *parent, const jingle_content *ct)
{
    check_bound(ct->n_sources, JINGLE_MAX_SOURCES, "sources");
    check_bound(ct->n_groups, JINGLE_MAX_GROUPS, "ssrc-groups");
    for (size_t i = 0; i < ct->n_sources; i++) {
        const jingle_source *src = &ct->sources[i];
        xmpp_stanza_t *s = add_el(parent, "source", C2_NS_SSMA);
        set_num(s, "ssrc", src->ssrc);
        set_attr_opt(s, "name", src->name);
        set_attr_opt(s, "videoType", src->video_type);
        if (src->owner[0])
            set_attr(add_el(s, "ssrc-info", JINGLE_NS_JITMEET), "owner", src->owner);
        if (src->msid[0]) {
            xmpp_stanza_t *pa = add_el(s, "parameter", NULL);
            set_attr(pa, "name", "msid");
            set_attr(pa, "value", src->msid);
        }
    }
    for (size_t i = 0; i < ct->n_groups; i++) {
        const c2_ssrc_group *g = &ct->groups[i];
        check_bound(g->n_ssrcs, C2_MAX_GROUP_SSRCS, "group ssrcs");
        xmpp_stanza_t *ge = add_el(parent, "ssrc-group", C2_NS_SSMA);
        set_attr_opt(ge, "semantics", g->semantics);
        for (size_t k = 0; k < g->n_ssrcs; k++)
            set_num(add_el(ge, "source", NULL), "ssrc", g->ssrcs[k]);
    }
}

static void build_candidate(xmpp_stanza_t *parent, const c2_candidate *cd)
{
    xmpp_stanza_t *c = add_el(parent, "candidate", NULL);
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

static void build_transport(xmpp_stanza_t *parent, const c2_transport *t)
{
    check_bound(t->n_candidates, C2_MAX_CANDIDATES, "candidates");
    check_bound(t->n_fingerprints, C2_MAX_FINGERPRINTS, "fingerprints");
    xmpp_stanza_t *tr = add_el(parent, "transport", C2_NS_ICE);
    set_attr_opt(tr, "ufrag", t->ufrag);
    set_attr_opt(tr, "pwd", t->pwd);
    if (t->sctp_present) {
        xmpp_stanza_t *sm = add_el(tr, "sctpmap", JINGLE_NS_SCTP);
        set_num(sm, "number", t->sctp_port);
        set_attr(sm, "protocol", "webrtc-datachannel");
        set_attr(sm, "streams", "1024");
    }
    if (t->rtcp_mux)
        add_el(tr, "rtcp-mux", NULL);
    for (size_t i = 0; i < t->n_fingerprints; i++) {
        const c2_fingerprint *fp = &t->fingerprints[i];
        xmpp_stanza_t *f = add_el(tr, "fingerprint", C2_NS_DTLS);
        set_attr_opt(f, "hash", fp->hash);
        set_attr_opt(f, "setup", fp->setup);
        add_text(f, fp->value);
    }
    for (size_t i = 0; i < t->n_candidates; i++)
        build_candidate(tr, &t->candidates[i]);
    if (t->has_web_socket)
        set_attr(add_el(tr, "web-socket", C2_NS_WS), "url", t->web_socket_url);
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
    xmpp_stanza_t *c = add_el(jingle, "content", NULL);
    set_attr_opt(c, "creator", creator);
    set_attr(c, "name", ct->name);
    set_attr_opt(c, "senders", senders);
    if (ct->initial_last_n.present && !sources_only) {
        char buf[16];
        snprintf(buf, sizeof buf, "%ld", (long)ct->initial_last_n.value);
        set_attr(add_el(c, "initial-last-n", C2_NS), "value", buf);
    }
    if (ct->media[0]) {
        xmpp_stanza_t *d = add_el(c, "description", C2_NS_RTP);
        set_attr(d, "media", ct->media);
        if (!sources_only) {
            if (ct->maxptime)
                set_num(d, "maxptime", ct->maxptime);
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
    check_bound(m->n_contents, JINGLE_MAX_CONTENTS, "contents");
    check_bound(m->n_bundle, JINGLE_MAX_CONTENTS, "bundle names");
    xmpp_stanza_t *j = new_el(ctx, "jingle", JINGLE_NS);
    set_attr(j, "action", action);
    set_attr(j, "sid", m->sid);
    set_attr_opt(j, "initiator", m->initiator);
    set_attr_opt(j, "responder", m->responder);
    if (m->reason.present) {
        xmpp_stanza_t *r = add_el(j, "reason", NULL);
        add_el(r, m->reason.condition[0] ? m->reason.condition : "success", NULL);
        if (m->reason.text[0])
            add_text(add_el(r, "text", NULL), m->reason.text);
    }
    for (size_t i = 0; i < m->n_contents; i++)
        build_content(j, m->action, &m->contents[i]);
    if (m->has_bundle) {
        xmpp_stanza_t *g = add_el(j, "group", JINGLE_NS_GROUPING);
        set_attr(g, "semantics", "BUNDLE");
        size_t n = m->n_bundle ? m->n_bundle : m->n_contents;
        for (size_t i = 0; i < n; i++)
            set_attr(add_el(g, "content", NULL), "name",
                     m->n_bundle ? m->bundle[i] : m->contents[i].name);
    }
    if (m->bridge_session.present) {
        xmpp_stanza_t *b = add_el(j, "bridge-session", JINGLE_NS_FOCUS);
        set_attr_opt(b, "id", m->bridge_session.id);
        set_attr_opt(b, "region", m->bridge_session.region);
        if (m->bridge_session.restart)
            set_attr(b, "restart", "true");
        if (m->bridge_session.ice_restart)
            set_attr(b, "ice-restart", "true");
    }
    return j;
}

jingle_content *jingle_add_content(jingle_msg *m, const char *name, const char *media)
{
    if (m->n_contents >= JINGLE_MAX_CONTENTS)
        return NULL;
    jingle_content *ct = &m->contents[m->n_contents++];
    memset(ct, 0, sizeof *ct);
    copy_trunc(ct->name, sizeof ct->name, name);
    copy_trunc(ct->media, sizeof ct->media, media);
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

static int validate_groups(jparser *p, const jingle_content *ct, int *parent)
{
    for (size_t i = 0; i < ct->n_sources; i++)
        parent[i] = (int)i;
    for (size_t g = 0; g < ct->n_groups; g++) {
        const c2_ssrc_group *gr = &ct->groups[g];
        size_t n = gr->n_ssrcs;
        if (!strcmp(gr->semantics, "FID") || !strcmp(gr->semantics, "FEC-FR")) {
            if (n != 2)
                return bad(p, "%s ssrc-group in content '%s' has %zu SSRCs, not 2", gr->semantics,
                           ct->name, n);
        } else if (!strcmp(gr->semantics, "SIM")) {
            if (n < 2 || n > 3)
                return bad(p, "SIM ssrc-group in content '%s' has %zu SSRCs, not 2 or 3", ct->name,
                           n);
        } else {
            return bad(p, "ssrc-group semantics '%s' in content '%s' is not supported",
                       gr->semantics, ct->name);
        }
        int first = -1;
        for (size_t k = 0; k < n; k++) {
            uint32_t ssrc = gr->ssrcs[k];
            for (size_t l = 0; l < k; l++)
                if (gr->ssrcs[l] == ssrc)
                    return bad(p, "ssrc %lu is repeated in a %s ssrc-group", (unsigned long)ssrc,
                               gr->semantics);
            int idx = source_index(ct, ssrc);
            if (idx < 0)
                return bad(p,
                           "%s ssrc-group in content '%s' names ssrc %lu, not one of its sources",
                           gr->semantics, ct->name, (unsigned long)ssrc);
            const jingle_source *src = &ct->sources[idx];
            if (!src->msid[0])
                return bad(p, "source %lu of a %s ssrc-group has no msid", (unsigned long)ssrc,
                           gr->semantics);
            if (first < 0) {
                first = idx;
            } else {
                if (strcmp(src->msid, ct->sources[first].msid))
                    return bad(p,
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
    jparser p = {err, errlen};
    if (err && errlen)
        err[0] = '\0';
    size_t n_ssrcs = 0, n_groups = 0;
    for (size_t c = 0; c < m->n_contents && c < JINGLE_MAX_CONTENTS; c++) {
        n_ssrcs += m->contents[c].n_sources;
        n_groups += m->contents[c].n_groups;
    }
    size_t max = max_ssrcs > 0 ? (size_t)max_ssrcs : 0;
    if (n_ssrcs > max)
        return bad(&p, "too many SSRCs: %zu (at most %zu)", n_ssrcs, max);
    if (n_groups > max)
        return bad(&p, "too many ssrc-groups: %zu (at most %zu)", n_groups, max);

    /* per-content union-find of the sources linked by groups */
    int parent[JINGLE_MAX_CONTENTS][JINGLE_MAX_SOURCES];
    for (size_t c = 0; c < m->n_contents && c < JINGLE_MAX_CONTENTS; c++) {
        const jingle_content *ct = &m->contents[c];
        if (ct->n_sources > JINGLE_MAX_SOURCES || ct->n_groups > JINGLE_MAX_GROUPS)
            return bad(&p, "content '%s' is over the source bounds", ct->name);
        if (!ct->n_sources && !ct->n_groups)
            continue;
        bool audio = !strcmp(ct->media, "audio");
        if (!audio && strcmp(ct->media, "video"))
            return bad(&p, "content '%s' carries sources but is not an audio or video content",
                       ct->name);
        for (size_t i = 0; i < ct->n_sources; i++) {
            const jingle_source *src = &ct->sources[i];
            if (src->ssrc == 0)
                return bad(&p, "ssrc 0 in content '%s' is not allowed", ct->name);
            if (src->name[0] && !source_name_ok(src->name, endpoint_id, audio ? 'a' : 'v'))
                return bad(&p, "source name '%s' in content '%s' is not %s-%c<N>", src->name,
                           ct->name, endpoint_id ? endpoint_id : "ENDPOINT", audio ? 'a' : 'v');
            for (size_t d = 0; d <= c; d++)
                for (size_t j = 0; j < (d == c ? i : m->contents[d].n_sources); j++)
                    if (m->contents[d].sources[j].ssrc == src->ssrc)
                        return bad(&p, "ssrc %lu is used more than once", (unsigned long)src->ssrc);
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
                        return bad(&p,
                                   "msid '%s' is shared by ssrcs %lu and %lu, which no "
                                   "ssrc-group links",
                                   src->msid, (unsigned long)o->ssrc, (unsigned long)src->ssrc);
                }
        }
    }
    return 0;
}
