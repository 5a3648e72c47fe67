/* stanza_fields: bounded attribute/text readers, the parsers of the element
 * types Colibri2 and Jingle share, and the stanza builders both use. See
 * stanza_fields.h for the contract. */
#include "stanza_fields.h"
#include "util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- errors ---- */

int sf_bad(sf_parser *p, const char *fmt, ...)
{
    va_list ap;
    if (p->c2) {
        char text[sizeof p->c2->text];
        va_start(ap, fmt);
        vsnprintf(text, sizeof text, fmt, ap);
        va_end(ap);
        c2_error_set(p->c2, "modify", "bad-request", NULL, p->ep, "%s", text);
    } else if (p->err && p->errlen) {
        va_start(ap, fmt);
        vsnprintf(p->err, p->errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* ---- reading ---- */

void sf_copy_trunc(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= cap)
        n = cap - 1;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

const char *sf_el_name(xmpp_stanza_t *s)
{
    const char *n = xmpp_stanza_get_name(s);
    return n ? n : "?";
}

const char *sf_ns_of(xmpp_stanza_t *s, const char *parent_ns)
{
    const char *ns = xmpp_stanza_get_ns(s);
    return ns ? ns : parent_ns;
}

bool sf_is_el(xmpp_stanza_t *c, const char *cns, const char *name, const char *ns)
{
    return str_eq(xmpp_stanza_get_name(c), name) && str_eq(cns, ns);
}

int sf_copy_str(sf_parser *p, xmpp_stanza_t *s, const char *what, const char *v, char *dst,
                size_t cap, bool text)
{
    size_t n = strlen(v);
    if (n >= cap)
        return sf_bad(p, "%s of <%s> is longer than %zu bytes", what, sf_el_name(s), cap - 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)v[i];
        if ((ch < 0x20 || ch == 0x7f) && !(text && (ch == '\t' || ch == '\r' || ch == '\n')))
            return sf_bad(p, "%s of <%s> contains a control character", what, sf_el_name(s));
    }
    memcpy(dst, v, n + 1);
    return 0;
}

int sf_get_str(sf_parser *p, xmpp_stanza_t *s, const char *attr, char *dst, size_t cap,
               bool required)
{
    const char *v = xmpp_stanza_get_attribute(s, attr);
    dst[0] = '\0';
    if (!v || !v[0]) {
        if (required)
            return sf_bad(p, "<%s> lacks the '%s' attribute", sf_el_name(s), attr);
        return 0;
    }
    char what[64];
    snprintf(what, sizeof what, "attribute '%s'", attr);
    return sf_copy_str(p, s, what, v, dst, cap, false) == 0 ? 1 : -1;
}

int sf_get_enum(sf_parser *p, xmpp_stanza_t *s, const char *attr, const char *const *values,
                char *dst, size_t cap)
{
    const char *v = xmpp_stanza_get_attribute(s, attr);
    dst[0] = '\0';
    if (!v)
        return 0;
    for (size_t i = 0; values[i]; i++)
        if (!strcmp(v, values[i])) {
            sf_copy_trunc(dst, cap, v);
            return 0;
        }
    return sf_bad(p, "attribute '%s' of <%s> has an unknown value", attr, sf_el_name(s));
}

/* Parses a non-empty run of decimal digits into *out if within [min, max]. */
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

int sf_get_num(sf_parser *p, xmpp_stanza_t *s, const char *attr, uint32_t min, uint32_t max,
               bool required, uint32_t *out)
{
    const char *v = xmpp_stanza_get_attribute(s, attr);
    if (!v) {
        if (required)
            return sf_bad(p, "<%s> lacks the '%s' attribute", sf_el_name(s), attr);
        return 0;
    }
    if (!parse_decimal(v, min, max, out))
        return sf_bad(p, "attribute '%s' of <%s> is not a number in %lu..%lu", attr, sf_el_name(s),
                      (unsigned long)min, (unsigned long)max);
    return 1;
}

int sf_get_bool(sf_parser *p, xmpp_stanza_t *s, const char *attr, bool *out)
{
    const char *v = xmpp_stanza_get_attribute(s, attr);
    *out = false;
    if (!v || !strcmp(v, "false") || !strcmp(v, "0"))
        return 0;
    if (!strcmp(v, "true") || !strcmp(v, "1")) {
        *out = true;
        return 0;
    }
    return sf_bad(p, "attribute '%s' of <%s> is not a boolean", attr, sf_el_name(s));
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int sf_get_text(sf_parser *p, xmpp_stanza_t *s, const char *what, char *dst, size_t cap, bool ws)
{
    xmpp_ctx_t *ctx = xmpp_stanza_get_context(s);
    char *text = xmpp_stanza_get_text(s);
    const char *b = text ? text : "";
    while (is_ws(*b))
        b++;
    size_t n = strlen(b);
    while (n && is_ws(b[n - 1]))
        n--;
    int rc;
    if (n >= cap) {
        rc = sf_bad(p, "%s is longer than %zu bytes", what, cap - 1);
    } else {
        char *tmp = xstrndup(b, n);
        rc = sf_copy_str(p, s, "text", tmp, dst, cap, ws);
        free(tmp);
    }
    if (text)
        xmpp_free(ctx, text);
    return rc;
}

int sf_once(sf_parser *p, bool *seen, const char *name)
{
    if (*seen)
        return sf_bad(p, "more than one <%s>", name);
    *seen = true;
    return 0;
}

static bool is_ip_literal(const char *s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* ---- parsing the shared elements ---- */

int sf_parse_payload_type(sf_parser *p, xmpp_stanza_t *s, const char *ns, c2_payload_type *pt)
{
    uint32_t v;
    if (sf_get_num(p, s, "id", 0, 127, true, &v) < 0)
        return -1;
    pt->id = (uint8_t)v;
    if (sf_get_str(p, s, "name", pt->name, sizeof pt->name, true) < 0)
        return -1;
    int rc = sf_get_num(p, s, "clockrate", 1, UINT32_MAX, false, &v);
    if (rc < 0)
        return -1;
    pt->clockrate = rc ? v : 0;
    rc = sf_get_num(p, s, "channels", 1, 255, false, &v);
    if (rc < 0)
        return -1;
    pt->channels = rc ? (uint8_t)v : 0;
    SF_FOR_CHILD_TAGS(c, s)
    {
        const char *cns = sf_ns_of(c, ns);
        if (sf_is_el(c, cns, "parameter", C2_NS_RTP)) {
            if (pt->n_params == C2_MAX_PARAMS)
                return sf_bad(p, "more than %d parameters in payload type %u", C2_MAX_PARAMS,
                              pt->id);
            c2_param *pa = &pt->params[pt->n_params++];
            if (sf_get_str(p, c, "name", pa->name, sizeof pa->name, true) < 0 ||
                sf_get_str(p, c, "value", pa->value, sizeof pa->value, false) < 0)
                return -1;
        } else if (sf_is_el(c, cns, "rtcp-fb", C2_NS_RTCP_FB)) {
            if (pt->n_rtcp_fbs == C2_MAX_RTCP_FB)
                return sf_bad(p, "more than %d rtcp-fb in payload type %u", C2_MAX_RTCP_FB, pt->id);
            c2_rtcp_fb *fb = &pt->rtcp_fbs[pt->n_rtcp_fbs++];
            if (sf_get_str(p, c, "type", fb->type, sizeof fb->type, true) < 0 ||
                sf_get_str(p, c, "subtype", fb->subtype, sizeof fb->subtype, false) < 0)
                return -1;
        }
    }
    return 0;
}

int sf_parse_hdrext(sf_parser *p, xmpp_stanza_t *s, c2_hdrext *h)
{
    uint32_t v;
    if (sf_get_num(p, s, "id", 1, 255, true, &v) < 0)
        return -1;
    h->id = (uint8_t)v;
    if (sf_get_str(p, s, "uri", h->uri, sizeof h->uri, true) < 0)
        return -1;
    return 0;
}

/* True if ip is an RFC 8828 mDNS name: [A-Za-z0-9.-]+ ending in ".local". */
static bool is_mdns_name(const char *ip)
{
    size_t n = strlen(ip);
    bool mdns = n > 6 && strcmp(ip + n - 6, ".local") == 0;
    for (size_t i = 0; mdns && i < n; i++)
        mdns = isalnum((unsigned char)ip[i]) || ip[i] == '-' || ip[i] == '.';
    return mdns;
}

/* An ICE <candidate>, as described at sf_parse_ice_child. */
static int parse_candidate(sf_parser *p, xmpp_stanza_t *s, c2_candidate *cd)
{
    uint32_t v;
    int rc;
    if (sf_get_num(p, s, "component", 1, 255, true, &v) < 0)
        return -1;
    cd->component = (uint8_t)v;
    if (sf_get_str(p, s, "foundation", cd->foundation, sizeof cd->foundation, true) < 0)
        return -1;
    if ((rc = sf_get_num(p, s, "generation", 0, UINT32_MAX, false, &v)) < 0)
        return -1;
    cd->generation = rc ? v : 0;
    if (sf_get_str(p, s, "id", cd->id, sizeof cd->id, false) < 0)
        return -1;
    if (sf_get_str(p, s, "ip", cd->ip, sizeof cd->ip, true) < 0)
        return -1;
    if (!is_ip_literal(cd->ip)) {
        /* browsers hide host addresses behind mDNS names (RFC 8828) */
        if (!is_mdns_name(cd->ip))
            return sf_bad(p, "candidate ip '%s' is not an IP address or an mDNS name", cd->ip);
        cd->mdns = true;
    }
    if (sf_get_num(p, s, "port", 1, 65535, true, &v) < 0)
        return -1;
    cd->port = (uint16_t)v;
    if (sf_get_num(p, s, "priority", 0, UINT32_MAX, true, &cd->priority) < 0)
        return -1;
    if (sf_get_str(p, s, "protocol", cd->protocol, sizeof cd->protocol, true) < 0)
        return sf_bad(p, "candidate protocol must be udp or tcp");
    if (strcmp(cd->protocol, "udp") == 0)
        cd->is_tcp = false;
    else if (strcmp(cd->protocol, "tcp") == 0)
        cd->is_tcp = true;
    else
        return sf_bad(p, "candidate protocol must be udp or tcp");
    if (sf_get_str(p, s, "type", cd->type, sizeof cd->type, true) < 0 ||
        (strcmp(cd->type, "host") && strcmp(cd->type, "srflx") && strcmp(cd->type, "prflx") &&
         strcmp(cd->type, "relay")))
        return sf_bad(p, "candidate type must be host, srflx, prflx or relay");
    if ((rc = sf_get_str(p, s, "rel-addr", cd->rel_addr, sizeof cd->rel_addr, false)) < 0)
        return sf_bad(p, "candidate rel-addr is not an IP address");
    if (rc && !is_ip_literal(cd->rel_addr))
        return sf_bad(p, "candidate rel-addr '%s' is not an IP address", cd->rel_addr);
    if ((rc = sf_get_num(p, s, "rel-port", 0, 65535, false, &v)) < 0)
        return -1;
    cd->rel_port = rc ? (uint16_t)v : 0;
    if ((rc = sf_get_num(p, s, "network", 0, UINT32_MAX, false, &v)) < 0)
        return -1;
    cd->network = rc ? v : 0;
    return 0;
}

/* A DTLS <fingerprint>, as described at sf_parse_ice_child. */
static int parse_fingerprint(sf_parser *p, xmpp_stanza_t *s, c2_fingerprint *fp, bool ws)
{
    if (sf_get_str(p, s, "hash", fp->hash, sizeof fp->hash, true) < 0)
        return -1;
    const char *setup = xmpp_stanza_get_attribute(s, "setup");
    if (!setup || (strcmp(setup, "active") && strcmp(setup, "passive") &&
                   strcmp(setup, "actpass") && strcmp(setup, "holdconn")))
        return sf_bad(p, "fingerprint setup must be active, passive, actpass or holdconn");
    sf_copy_trunc(fp->setup, sizeof fp->setup, setup);
    if (sf_get_text(p, s, "fingerprint", fp->value, sizeof fp->value, ws) < 0)
        return -1;
    if (!fp->value[0])
        return sf_bad(p, "empty fingerprint");
    return 0;
}

int sf_parse_ssrc_group(sf_parser *p, xmpp_stanza_t *s, const char *ns, c2_ssrc_group *g,
                        bool strict)
{
    if (sf_get_str(p, s, "semantics", g->semantics, sizeof g->semantics, true) < 0)
        return -1;
    SF_FOR_CHILD_TAGS(c, s)
    {
        if (!sf_is_el(c, sf_ns_of(c, ns), "source", C2_NS_SSMA))
            continue;
        if (g->n_ssrcs == C2_MAX_GROUP_SSRCS)
            return sf_bad(p, "more than %d ssrcs in an ssrc-group", C2_MAX_GROUP_SSRCS);
        uint32_t v;
        if (sf_get_num(p, c, "ssrc", strict ? 1 : 0, UINT32_MAX, true, &v) < 0)
            return -1;
        for (size_t i = 0; strict && i < g->n_ssrcs; i++)
            if (g->ssrcs[i] == v)
                return sf_bad(p, "ssrc %lu repeated in an ssrc-group", (unsigned long)v);
        g->ssrcs[g->n_ssrcs++] = v;
    }
    return 0;
}

int sf_parse_ice_child(sf_parser *p, xmpp_stanza_t *c, const char *cns, c2_transport *t, bool ws)
{
    if (sf_is_el(c, cns, "rtcp-mux", C2_NS_ICE)) {
        t->rtcp_mux = true;
    } else if (sf_is_el(c, cns, "fingerprint", C2_NS_DTLS)) {
        if (t->n_fingerprints == C2_MAX_FINGERPRINTS)
            return sf_bad(p, "more than %d fingerprints", C2_MAX_FINGERPRINTS);
        if (parse_fingerprint(p, c, &t->fingerprints[t->n_fingerprints++], ws) < 0)
            return -1;
    } else if (sf_is_el(c, cns, "candidate", C2_NS_ICE)) {
        if (t->n_candidates == C2_MAX_CANDIDATES)
            return sf_bad(p, "more than %d candidates", C2_MAX_CANDIDATES);
        if (parse_candidate(p, c, &t->candidates[t->n_candidates++]) < 0)
            return -1;
    } else if (sf_is_el(c, cns, "web-socket", C2_NS_WS)) {
        if (t->has_web_socket)
            return sf_bad(p, "more than one web-socket");
        t->has_web_socket = true;
        if (sf_get_str(p, c, "url", t->web_socket_url, sizeof t->web_socket_url, true) < 0)
            return -1;
    } else {
        return 0;
    }
    return 1;
}

int sf_check_ice_creds(sf_parser *p, const c2_transport *t)
{
    if ((t->n_candidates || t->n_fingerprints) && (!t->ufrag[0] || !t->pwd[0]))
        return sf_bad(p, "ice-udp transport with candidates or a fingerprint lacks ufrag/pwd");
    return 0;
}

int sf_get_last_n(sf_parser *p, xmpp_stanza_t *s, int32_t *out)
{
    const char *v = xmpp_stanza_get_attribute(s, "value");
    uint32_t n;
    if (str_eq(v, "-1"))
        *out = -1;
    else if (v && parse_decimal(v, 0, 1000000, &n))
        *out = (int32_t)n;
    else
        return sf_bad(p, "initial-last-n value must be a number in -1..1000000");
    return 0;
}

/* ---- building ---- */

xmpp_stanza_t *sf_new_el(xmpp_ctx_t *ctx, const char *name, const char *ns)
{
    xmpp_stanza_t *s = xmpp_stanza_new(ctx);
    if (!s || xmpp_stanza_set_name(s, name) != XMPP_EOK ||
        (ns && xmpp_stanza_set_ns(s, ns) != XMPP_EOK))
        fatal("stanza: out of memory");
    return s;
}

xmpp_stanza_t *sf_add_el(xmpp_stanza_t *parent, const char *name, const char *ns)
{
    xmpp_stanza_t *s = sf_new_el(xmpp_stanza_get_context(parent), name, ns);
    if (xmpp_stanza_add_child_ex(parent, s, 0) != XMPP_EOK)
        fatal("stanza: out of memory");
    return s;
}

void sf_set_attr(xmpp_stanza_t *s, const char *key, const char *value)
{
    if (xmpp_stanza_set_attribute(s, key, value) != XMPP_EOK)
        fatal("stanza: out of memory");
}

void sf_set_attr_opt(xmpp_stanza_t *s, const char *key, const char *value)
{
    if (value && value[0])
        sf_set_attr(s, key, value);
}

void sf_set_num(xmpp_stanza_t *s, const char *key, unsigned long value)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%lu", value);
    sf_set_attr(s, key, buf);
}

void sf_add_text(xmpp_stanza_t *parent, const char *text)
{
    xmpp_stanza_t *t = xmpp_stanza_new(xmpp_stanza_get_context(parent));
    if (!t || xmpp_stanza_set_text(t, text) != XMPP_EOK ||
        xmpp_stanza_add_child_ex(parent, t, 0) != XMPP_EOK)
        fatal("stanza: out of memory");
}

void sf_check_bound(size_t n, size_t max, const char *what)
{
    if (n > max)
        fatal("stanza: %zu %s (at most %zu)", n, what, max);
}

void sf_build_payload_type(xmpp_stanza_t *parent, const c2_payload_type *pt, const char *ns)
{
    sf_check_bound(pt->n_params, C2_MAX_PARAMS, "parameters");
    sf_check_bound(pt->n_rtcp_fbs, C2_MAX_RTCP_FB, "rtcp-fbs");
    xmpp_stanza_t *e = sf_add_el(parent, "payload-type", ns);
    sf_set_num(e, "id", pt->id);
    sf_set_attr_opt(e, "name", pt->name);
    if (pt->clockrate)
        sf_set_num(e, "clockrate", pt->clockrate);
    if (pt->channels)
        sf_set_num(e, "channels", pt->channels);
    for (size_t j = 0; j < pt->n_params; j++) {
        xmpp_stanza_t *pa = sf_add_el(e, "parameter", ns);
        sf_set_attr_opt(pa, "name", pt->params[j].name);
        sf_set_attr_opt(pa, "value", pt->params[j].value);
    }
    for (size_t j = 0; j < pt->n_rtcp_fbs; j++) {
        xmpp_stanza_t *fb = sf_add_el(e, "rtcp-fb", C2_NS_RTCP_FB);
        sf_set_attr_opt(fb, "type", pt->rtcp_fbs[j].type);
        sf_set_attr_opt(fb, "subtype", pt->rtcp_fbs[j].subtype);
    }
}

void sf_build_hdrext(xmpp_stanza_t *parent, const c2_hdrext *h)
{
    xmpp_stanza_t *e = sf_add_el(parent, "rtp-hdrext", C2_NS_HDREXT);
    sf_set_num(e, "id", h->id);
    sf_set_attr_opt(e, "uri", h->uri);
}

void sf_build_candidate(xmpp_stanza_t *parent, const c2_candidate *cd, const char *ns)
{
    xmpp_stanza_t *c = sf_add_el(parent, "candidate", ns);
    sf_set_num(c, "component", cd->component ? cd->component : 1);
    sf_set_attr_opt(c, "foundation", cd->foundation);
    sf_set_num(c, "generation", cd->generation);
    sf_set_attr_opt(c, "id", cd->id);
    sf_set_attr_opt(c, "ip", cd->ip);
    sf_set_num(c, "network", cd->network);
    sf_set_num(c, "port", cd->port);
    sf_set_num(c, "priority", cd->priority);
    sf_set_attr(c, "protocol", cd->protocol[0] ? cd->protocol : "udp");
    sf_set_attr_opt(c, "type", cd->type);
    if (cd->rel_addr[0] || cd->rel_port) {
        sf_set_attr_opt(c, "rel-addr", cd->rel_addr);
        sf_set_num(c, "rel-port", cd->rel_port);
    }
}

void sf_build_fingerprint(xmpp_stanza_t *parent, const c2_fingerprint *fp, const char *default_hash,
                          const char *default_setup)
{
    xmpp_stanza_t *f = sf_add_el(parent, "fingerprint", C2_NS_DTLS);
    sf_set_attr_opt(f, "hash", fp->hash[0] ? fp->hash : default_hash);
    sf_set_attr_opt(f, "setup", fp->setup[0] ? fp->setup : default_setup);
    sf_add_text(f, fp->value);
}

void sf_build_initial_last_n(xmpp_stanza_t *parent, int32_t value)
{
    char buf[16];
    snprintf(buf, sizeof buf, "%ld", (long)value);
    sf_set_attr(sf_add_el(parent, "initial-last-n", C2_NS), "value", buf);
}

void sf_build_ssrc_group(xmpp_stanza_t *parent, const c2_ssrc_group *g, const char *source_ns)
{
    sf_check_bound(g->n_ssrcs, C2_MAX_GROUP_SSRCS, "group ssrcs");
    xmpp_stanza_t *ge = sf_add_el(parent, "ssrc-group", C2_NS_SSMA);
    sf_set_attr_opt(ge, "semantics", g->semantics);
    for (size_t k = 0; k < g->n_ssrcs; k++)
        sf_set_num(sf_add_el(ge, "source", source_ns), "ssrc", g->ssrcs[k]);
}
