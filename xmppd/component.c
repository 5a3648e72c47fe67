#include "component.h"
#include "jid.h"
#include "log.h"
#include "muc.h"
#include "router.h"
#include "stanza.h"
#include "util.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

conn *component_find(xmppd *srv, const char *domain)
{
    return hmap_get(&srv->components, domain);
}

void component_rename_ns(xml_node *node, const char *from_ns, const char *to_ns)
{
    if (!node->name)
        return;
    if (strcmp(node->ns, from_ns) == 0) {
        free(node->ns);
        node->ns = xstrdup(to_ns);
    }
    for (size_t i = 0; i < node->nchildren; i++)
        component_rename_ns(node->children[i], from_ns, to_ns);
}

static void component_stream_open(conn *c, const xml_node *header)
{
    if (c->closing)
        return;
    random_id(c->stream_id, sizeof c->stream_id - 1);
    if (!str_eq(xml_attr_get(header, "xmlns"), XMLNS_COMPONENT)) {
        conn_close(c, "invalid-namespace", "expected jabber:component:accept");
        return;
    }
    const char *to = xml_attr_get(header, "to");
    char *domain = to ? jid_prep_domain(to) : NULL;
    const component_cfg *cfg = settings_component(&c->srv->set, domain);
    if (!cfg) {
        free(domain);
        conn_close(c, "host-unknown", "no component is configured for that domain");
        return;
    }
    c->component = domain;
    snprintf(c->ctx, sizeof c->ctx, "[component=%.90s ip=%s]", domain, c->ip);
    conn_send_header(c);
    c->state = CONN_NEGOTIATING;
}

/* True if text is the lower- or upper-case hex SHA-1 of id + secret. */
static bool component_handshake_ok(const char *id, const char *secret, const char *text)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha1(), NULL);
    EVP_DigestUpdate(ctx, id, strlen(id));
    EVP_DigestUpdate(ctx, secret, strlen(secret));
    EVP_DigestFinal_ex(ctx, md, &mdlen);
    EVP_MD_CTX_free(ctx);
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    for (unsigned i = 0; i < mdlen; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    char got[2 * EVP_MAX_MD_SIZE + 1];
    size_t n = strlen(text);
    if (n != 2 * mdlen)
        return false;
    for (size_t i = 0; i < n; i++)
        got[i] = (char)((text[i] >= 'A' && text[i] <= 'F') ? text[i] - 'A' + 'a' : text[i]);
    return CRYPTO_memcmp(got, hex, n) == 0;
}

static void component_handshake(conn *c, xml_node *st)
{
    char *text = xml_text(st, NULL);
    const component_cfg *cfg = settings_component(&c->srv->set, c->component);
    bool ok = cfg && component_handshake_ok(c->stream_id, cfg->secret, text);
    free(text);
    xml_free(st);
    if (!ok) {
        c->srv->stats.auth_failures++;
        log_warn(c->ctx, "component handshake failed");
        conn_close(c, "not-authorized", "bad handshake");
        return;
    }
    conn *other = component_find(c->srv, c->component);
    if (other && !other->closing) {
        log_warn(c->ctx, "component already connected");
        conn_close(c, "conflict", "this component is already connected");
        return;
    }
    hmap_put(&c->srv->components, c->component, c);
    c->authed = true;
    c->state = CONN_BOUND;
    evtimer_del(c->timer);
    conn_send_raw(c, "<handshake/>", 12);
    log_info(c->ctx, "component connected");
}

static bool component_owns(const conn *c, const jid *j)
{
    return strcmp(j->domain, c->component) == 0;
}

static void component_stanza(conn *c, xml_node *st)
{
    if (c->state != CONN_BOUND) {
        if (c->state == CONN_NEGOTIATING && str_eq(st->name, "handshake") &&
            str_eq(st->ns, XMLNS_COMPONENT)) {
            component_handshake(c, st);
            return;
        }
        xml_free(st);
        conn_close(c, "not-authorized", "handshake first");
        return;
    }
    if (!str_eq(st->ns, XMLNS_COMPONENT) || !stanza_is_stanza(st)) {
        xml_free(st);
        conn_close(c, "unsupported-stanza-type", NULL);
        return;
    }
    component_rename_ns(st, XMLNS_COMPONENT, XMLNS_CLIENT);
    jid from, to;
    const char *f = xml_attr_get(st, "from"), *t = xml_attr_get(st, "to");
    if (!f || jid_parse(f, &from) != 0 || !component_owns(c, &from)) {
        if (f)
            jid_clear(&from);
        xml_free(st);
        conn_close(c, "invalid-from", "from must be inside the component's domain");
        return;
    }
    char *norm = jid_full(&from);
    xml_set_attr(st, "from", norm);
    free(norm);
    jid_clear(&from);
    if (!t || jid_parse(t, &to) != 0) {
        router_send_error(c->srv, st, "modify", "jid-malformed", "missing or bad 'to'", c);
        return;
    }
    norm = jid_full(&to);
    xml_set_attr(st, "to", norm);
    free(norm);
    router_route(c->srv, st, &to);
    jid_clear(&to);
}

static void component_session_end(conn *c)
{
    if (c->component && component_find(c->srv, c->component) == c) {
        hmap_del(&c->srv->components, c->component);
        log_info(c->ctx, "component disconnected");
        muc_domain_gone(c->srv, c->component);
    }
}

static void component_free(conn *c)
{
    free(c->component);
    c->component = NULL;
}

const conn_ops component_ops = {
    .stream_ns = XMLNS_COMPONENT,
    .rate_limited = false, /* trusted, internal, and the focus is chatty */
    .stream_open = component_stream_open,
    .stanza = component_stanza,
    .session_end = component_session_end,
    .free = component_free,
};
