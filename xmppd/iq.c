#include "iq.h"
#include "parley_version.h"
#include "roster.h"
#include "router.h"
#include "stanza.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static void iq_reply(xmppd *srv, xml_node *st, xml_node *result)
{
    xml_free(st);
    router_route_str(srv, result);
}

static void iq_add_feature(xml_node *q, const char *var)
{
    xml_set_attr(xml_add_child(q, "feature", NULL), "var", var);
}

static bool iq_is(const xml_node *payload, const char *name, const char *ns)
{
    return payload && str_eq(payload->name, name) && str_eq(payload->ns, ns);
}

/* Answers the IQs common to the server and accounts; false if not one. */
static bool iq_common(xmppd *srv, xml_node *st, xml_node *p, bool server)
{
    const char *type = stanza_type(st);
    bool get = strcmp(type, "get") == 0;
    if (iq_is(p, "ping", XMLNS_PING) && get) {
        iq_reply(srv, st, stanza_iq_result(st));
        return true;
    }
    if (iq_is(p, "query", XMLNS_DISCO_INFO) && get) {
        if (xml_attr_get(p, "node")) {
            router_send_error(srv, st, NULL, "item-not-found", NULL, NULL);
            return true;
        }
        xml_node *r = stanza_iq_result(st);
        xml_node *q = xml_add_child(r, "query", XMLNS_DISCO_INFO);
        xml_node *id = xml_add_child(q, "identity", NULL);
        xml_set_attr(id, "category", server ? "server" : "account");
        xml_set_attr(id, "type", server ? "im" : "registered");
        if (server)
            xml_set_attr(id, "name", "parley");
        iq_add_feature(q, XMLNS_DISCO_INFO);
        iq_add_feature(q, XMLNS_DISCO_ITEMS);
        iq_add_feature(q, XMLNS_PING);
        if (server) {
            iq_add_feature(q, XMLNS_VERSION);
            iq_add_feature(q, XMLNS_ROSTER);
            iq_add_feature(q, "urn:ietf:params:xml:ns:xmpp-session");
        }
        iq_reply(srv, st, r);
        return true;
    }
    if (iq_is(p, "query", XMLNS_DISCO_ITEMS) && get) {
        xml_node *r = stanza_iq_result(st);
        xml_add_child(r, "query", XMLNS_DISCO_ITEMS);
        iq_reply(srv, st, r);
        return true;
    }
    return false;
}

void iq_server(xmppd *srv, xml_node *st)
{
    if (stanza_no_error_reply(st)) {
        xml_free(st);
        return;
    }
    xml_node *p = stanza_iq_payload(st);
    if (iq_common(srv, st, p, true))
        return;
    const char *type = stanza_type(st);
    if (iq_is(p, "query", XMLNS_VERSION) && strcmp(type, "get") == 0) {
        xml_node *r = stanza_iq_result(st);
        xml_node *q = xml_add_child(r, "query", XMLNS_VERSION);
        xml_add_text(xml_add_child(q, "name", NULL), "parley xmppd", 12);
        xml_add_text(xml_add_child(q, "version", NULL), PARLEY_VERSION, strlen(PARLEY_VERSION));
        iq_reply(srv, st, r);
        return;
    }
    if (iq_is(p, "session", "urn:ietf:params:xml:ns:xmpp-session") && strcmp(type, "set") == 0) {
        iq_reply(srv, st, stanza_iq_result(st));
        return;
    }
    router_send_error(srv, st, NULL, "service-unavailable", NULL, NULL);
}

void iq_account(xmppd *srv, xml_node *st, const jid *to)
{
    if (stanza_no_error_reply(st)) {
        xml_free(st);
        return;
    }
    xml_node *p = stanza_iq_payload(st);
    const char *from = xml_attr_get(st, "from");
    if (iq_is(p, "query", XMLNS_ROSTER)) {
        conn *c = from ? router_find(srv, from) : NULL;
        if (c && !c->closing && c->vh && str_eq(c->user, to->node) &&
            str_eq(c->vh->domain, to->domain)) {
            roster_iq(c, st);
            return;
        }
        router_send_error(srv, st, NULL, "forbidden", NULL, NULL);
        return;
    }
    if (!router_user_exists(srv, to->domain, to->node)) {
        router_send_error(srv, st, NULL, "service-unavailable", NULL, NULL);
        return;
    }
    if (iq_common(srv, st, p, false))
        return;
    router_send_error(srv, st, NULL, "service-unavailable", NULL, NULL);
}

void iq_from_client_to_self(conn *c, xml_node *st)
{
    xml_node *p = stanza_iq_payload(st);
    if (iq_is(p, "query", XMLNS_ROSTER)) {
        roster_iq(c, st);
        return;
    }
    /* other payloads without 'to' are for the server (RFC 6120 10.3.3) */
    if (stanza_no_error_reply(st)) {
        xml_free(st);
        return;
    }
    iq_server(c->srv, st);
}
