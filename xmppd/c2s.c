#include "c2s.h"
#include "jid.h"
#include "log.h"
#include "presence.h"
#include "router.h"
#include "sasl.h"
#include "stanza.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define XMLNS_TLS "urn:ietf:params:xml:ns:xmpp-tls"
#define XMLNS_BIND "urn:ietf:params:xml:ns:xmpp-bind"
#define XMLNS_SESSION "urn:ietf:params:xml:ns:xmpp-session"

static void c2s_send_features(conn *c)
{
    xml_node *f = xml_new("features", XMLNS_STREAM);
    if (!c->authed) {
        bool tls_possible = c->srv->tls && !c->tls && c->tr->can_starttls;
        if (tls_possible) {
            xml_node *st = xml_add_child(f, "starttls", XMLNS_TLS);
            if (c->srv->set.require_encryption)
                xml_add_child(st, "required", NULL);
        }
        if (c->tls || !c->srv->set.require_encryption)
            sasl_features(c, f);
    } else {
        xml_add_child(f, "bind", XMLNS_BIND);
        xml_node *s = xml_add_child(f, "session", XMLNS_SESSION);
        xml_add_child(s, "optional", NULL);
    }
    /* one element, written with the stream: prefix our header declared */
    sbuf b;
    sbuf_init(&b);
    sbuf_adds(&b, "<stream:features>");
    for (size_t i = 0; i < f->nchildren; i++)
        xml_serialize(f->children[i], XMLNS_CLIENT, &b);
    sbuf_adds(&b, "</stream:features>");
    conn_send_raw(c, b.data, b.len);
    sbuf_free(&b);
    xml_free(f);
}

static void c2s_stream_open(conn *c, const xml_node *header)
{
    if (c->closing)
        return;
    random_id(c->stream_id, sizeof c->stream_id - 1);
    const char *to = xml_attr_get(header, "to");
    char *domain = to ? jid_prep_domain(to) : NULL;
    const vhost *vh = settings_vhost(&c->srv->set, domain);
    free(domain);
    if (vh && (!c->vh || c->vh == vh))
        c->vh = vh;
    if (!str_eq(xml_attr_get(header, "xmlns"), XMLNS_CLIENT)) {
        conn_close(c, "invalid-namespace", "the stream's namespace must be jabber:client");
        return;
    }
    if (!vh || vh != c->vh) {
        conn_close(c, "host-unknown", "this server does not serve that domain");
        return;
    }
    const char *version = xml_attr_get(header, "version");
    if (!version || strtol(version, NULL, 10) < 1) {
        conn_close(c, "unsupported-version", "XMPP 1.0 streams only");
        return;
    }
    conn_send_header(c);
    c2s_send_features(c);
    c->state = c->authed ? CONN_AUTHED : CONN_NEGOTIATING;
}

static void c2s_restart(conn *c)
{
    xml_stream_restart(c->xs);
    c->header_sent = false;
    c->state = CONN_WAIT_HEADER;
}

static void c2s_starttls(conn *c)
{
    if (c->tls || !c->srv->tls || !c->tr->can_starttls) {
        conn_send_raw(c, "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", 50);
        conn_close(c, NULL, NULL);
        return;
    }
    conn_send_raw(c, "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", 50);
    c2s_restart(c);
    conn_starttls(c);
}

static void c2s_bind(conn *c, xml_node *iq)
{
    xml_node *bind = xml_child(iq, "bind", XMLNS_BIND);
    xml_node *res = xml_child(bind, "resource", XMLNS_BIND);
    char *resource = NULL;
    if (res) {
        char *t = xml_text(res, NULL);
        if (*t && !(resource = jid_prep_resource(t))) {
            free(t);
            router_send_error(c->srv, iq, "modify", "bad-request", "invalid resource", c);
            return;
        }
        free(t);
    }
    if (!resource) {
        resource = xmalloc(17);
        random_id(resource, 16);
    }
    router_bind(c, resource);
    free(resource);
    xml_node *r = stanza_iq_result(iq);
    xml_set_attr(r, "from", NULL);
    xml_set_attr(r, "to", NULL);
    xml_node *b = xml_add_child(r, "bind", XMLNS_BIND);
    xml_node *j = xml_add_child(b, "jid", NULL);
    xml_add_text(j, c->full, strlen(c->full));
    conn_send_node(c, r);
    xml_free(r);
    xml_free(iq);
    c->state = CONN_BOUND;
    log_info(c->ctx, "session started");
}

static void c2s_authed_stanza(conn *c, xml_node *st)
{
    if (strcmp(st->name, "iq") == 0 && str_eq(stanza_type(st), "set") &&
        xml_child(st, "bind", XMLNS_BIND)) {
        c2s_bind(c, st);
        return;
    }
    xml_free(st);
    conn_close(c, "not-authorized", "bind a resource first");
}

static void c2s_stanza(conn *c, xml_node *st)
{
    if (c->state == CONN_BOUND) {
        if (str_eq(st->ns, XMLNS_CLIENT) && stanza_is_stanza(st)) {
            router_from_client(c, st);
            return;
        }
        xml_free(st);
        conn_close(c, "unsupported-stanza-type", NULL);
        return;
    }
    if (c->state == CONN_AUTHED) {
        if (str_eq(st->ns, XMLNS_CLIENT)) {
            c2s_authed_stanza(c, st);
            return;
        }
    } else if (c->state == CONN_NEGOTIATING) {
        if (str_eq(st->ns, XMLNS_TLS) && strcmp(st->name, "starttls") == 0) {
            xml_free(st);
            c2s_starttls(c);
            return;
        }
        if (str_eq(st->ns, XMLNS_SASL)) {
            int ok = sasl_handle(c, st);
            xml_free(st);
            if (ok == 1) {
                c->authed = true;
                if (c->timer && !c->closing)
                    evtimer_del(c->timer);
                c2s_restart(c);
            }
            return;
        }
    }
    xml_free(st);
    conn_close(c, "not-authorized", "authenticate first");
}

static void c2s_session_end(conn *c)
{
    if (!c->full)
        return;
    presence_session_end(c);
    router_unbind(c);
}

static void c2s_conn_free(conn *c)
{
    sasl_free(c);
    free(c->user);
    free(c->bare);
    free(c->full);
    xml_free(c->presence);
    for (size_t i = 0; i < c->ndirected; i++)
        free(c->directed[i]);
    free(c->directed);
}

const conn_ops c2s_ops = {
    .stream_ns = XMLNS_CLIENT,
    .rate_limited = true,
    .stream_open = c2s_stream_open,
    .stanza = c2s_stanza,
    .session_end = c2s_session_end,
    .free = c2s_conn_free,
};
