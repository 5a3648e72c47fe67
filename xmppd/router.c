#include "router.h"
#include "component.h"
#include "iq.h"
#include "log.h"
#include "muc.h"
#include "presence.h"
#include "stanza.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

conn *router_sessions(xmppd *srv, const char *bare)
{
    return hmap_get(&srv->sessions, bare);
}

conn *router_find(xmppd *srv, const char *full)
{
    const char *slash = strchr(full, '/');
    char bare[2048]; /* a hot path (every MUC delivery): no allocation */
    if (!slash || (size_t)(slash - full) >= sizeof bare)
        return NULL;
    memcpy(bare, full, (size_t)(slash - full));
    bare[slash - full] = '\0';
    conn *c = router_sessions(srv, bare);
    for (; c; c = c->next_res)
        if (strcmp(c->full, full) == 0)
            return c;
    return NULL;
}

bool router_is_local(xmppd *srv, const char *domain)
{
    return settings_vhost(&srv->set, domain) != NULL;
}

bool router_user_exists(xmppd *srv, const char *host, const char *user)
{
    char *bare = NULL;
    if (asprintf(&bare, "%s@%s", user, host) < 0)
        fatal("out of memory");
    bool online = router_sessions(srv, bare) != NULL;
    free(bare);
    if (online)
        return true;
    account_creds cr;
    return store_account_get(srv->store, host, user, &cr) == 1;
}

void router_bind(conn *c, const char *resource)
{
    xmppd *srv = c->srv;
    if (asprintf(&c->bare, "%s@%s", c->user, c->vh->domain) < 0 ||
        asprintf(&c->full, "%s/%s", c->bare, resource) < 0)
        fatal("out of memory");
    conn *old = router_find(srv, c->full);
    if (old && old != c)
        conn_close(old, "conflict", "replaced by a new connection");
    c->next_res = router_sessions(srv, c->bare);
    hmap_put(&srv->sessions, c->bare, c);
    conn_update_ctx(c);
}

void router_unbind(conn *c)
{
    xmppd *srv = c->srv;
    conn *head = router_sessions(srv, c->bare);
    if (head == c) {
        if (c->next_res)
            hmap_put(&srv->sessions, c->bare, c->next_res);
        else
            hmap_del(&srv->sessions, c->bare);
    } else {
        for (conn *p = head; p; p = p->next_res)
            if (p->next_res == c) {
                p->next_res = c->next_res;
                break;
            }
    }
    c->next_res = NULL;
    if (c->anonymous && !router_sessions(srv, c->bare)) {
        /* an anonymous account ends with its last session */
        store_roster_clear(srv->store, c->vh->domain, c->user);
        store_account_delete(srv->store, c->vh->domain, c->user);
    }
    free(c->full);
    c->full = NULL; /* unbound; bare stays for logs until free */
}

void router_deliver_copy(conn *target, const xml_node *st)
{
    if (!target->closing)
        conn_send_node(target, st);
}

void router_send_error(xmppd *srv, xml_node *st, const char *etype, const char *cond,
                       const char *text, conn *reply_to)
{
    if (stanza_no_error_reply(st)) {
        xml_free(st);
        return;
    }
    stanza_make_error(st, etype, cond, text);
    if (reply_to) {
        conn_send_node(reply_to, st);
        xml_free(st);
        return;
    }
    router_route_str(srv, st);
}

void router_route_str(xmppd *srv, xml_node *st)
{
    jid to;
    const char *t = xml_attr_get(st, "to");
    if (!t || jid_parse(t, &to) != 0) {
        xml_free(st);
        return;
    }
    router_route(srv, st, &to);
    jid_clear(&to);
}

static void router_message(xmppd *srv, xml_node *st, const jid *to)
{
    const char *type = stanza_type(st);
    bool groupchat = strcmp(type, "groupchat") == 0, headline = strcmp(type, "headline") == 0,
         error = strcmp(type, "error") == 0;
    char *bare = jid_bare(to);
    if (to->resource) {
        char *full = jid_full(to);
        conn *t = router_find(srv, full);
        free(full);
        if (t && !t->closing) {
            router_deliver_copy(t, st);
            goto done;
        }
        if (groupchat) {
            router_send_error(srv, st, NULL, "service-unavailable", NULL, NULL);
            st = NULL;
            goto done;
        }
        if (headline || error)
            goto done;
    }
    if (groupchat) {
        router_send_error(srv, st, NULL, "service-unavailable", NULL, NULL);
        st = NULL;
        goto done;
    }
    int best = -1;
    for (conn *c = router_sessions(srv, bare); c; c = c->next_res)
        if (c->presence && !c->closing && c->priority >= 0 && c->priority > best)
            best = c->priority;
    if (best >= 0) {
        for (conn *c = router_sessions(srv, bare); c; c = c->next_res)
            if (c->presence && !c->closing && c->priority >= 0 && (headline || c->priority == best))
                router_deliver_copy(c, st);
        goto done;
    }
    if (!headline && !error) {
        router_send_error(srv, st, NULL, "service-unavailable", NULL, NULL);
        st = NULL;
    }
done:
    free(bare);
    xml_free(st);
}

static void router_iq(xmppd *srv, xml_node *st, const jid *to)
{
    if (!to->resource) {
        iq_account(srv, st, to);
        return;
    }
    char *full = jid_full(to);
    conn *t = router_find(srv, full);
    free(full);
    if (t && !t->closing) {
        router_deliver_copy(t, st);
        xml_free(st);
        return;
    }
    router_send_error(srv, st, NULL, "service-unavailable", NULL, NULL);
}

void router_route(xmppd *srv, xml_node *st, const jid *to)
{
    conn *comp = component_find(srv, to->domain);
    if (comp && !comp->closing) {
        conn_send_node(comp, st);
        xml_free(st);
        return;
    }
    if (settings_component(&srv->set, to->domain)) {
        router_send_error(srv, st, NULL, "service-unavailable", "component not connected", NULL);
        return;
    }
    if (muc_is_service(srv, to->domain)) {
        muc_route(srv, st, to);
        return;
    }
    if (!router_is_local(srv, to->domain)) {
        /* no server-to-server yet: every remote domain is unreachable */
        router_send_error(srv, st, NULL, "remote-server-not-found", NULL, NULL);
        return;
    }
    if (!to->node) {
        if (strcmp(st->name, "iq") == 0) {
            iq_server(srv, st);
        } else if (strcmp(st->name, "message") == 0) {
            const char *t = stanza_type(st);
            if (strcmp(t, "headline") == 0 || strcmp(t, "groupchat") == 0)
                xml_free(st);
            else
                router_send_error(srv, st, NULL, "service-unavailable", NULL, NULL);
        } else {
            xml_free(st); /* presence to the server itself: nothing to do */
        }
        return;
    }
    if (strcmp(st->name, "presence") == 0)
        presence_inbound(srv, st, to);
    else if (strcmp(st->name, "message") == 0)
        router_message(srv, st, to);
    else
        router_iq(srv, st, to);
}

static bool router_iq_valid(const xml_node *st)
{
    const char *type = stanza_type(st);
    if (!xml_attr_get(st, "id"))
        return false;
    if (strcmp(type, "get") == 0 || strcmp(type, "set") == 0)
        return stanza_iq_payload(st) != NULL;
    return strcmp(type, "result") == 0 || strcmp(type, "error") == 0;
}

void router_from_client(conn *c, xml_node *st)
{
    xmppd *srv = c->srv;
    const char *from = xml_attr_get(st, "from");
    if (from) {
        char *n = jid_normalize(from, false);
        bool ok = n && (strcmp(n, c->full) == 0 || strcmp(n, c->bare) == 0);
        free(n);
        if (!ok) {
            xml_free(st);
            conn_close(c, "invalid-from", "from does not match your session");
            return;
        }
    }
    xml_set_attr(st, "from", c->full);
    bool is_iq = strcmp(st->name, "iq") == 0;
    if (is_iq && !router_iq_valid(st)) {
        router_send_error(srv, st, "modify", "bad-request", "malformed IQ", c);
        return;
    }
    const char *to_s = xml_attr_get(st, "to");
    jid to = {0};
    if (to_s) {
        if (jid_parse(to_s, &to) != 0) {
            /* the error comes from our domain: the bad address cannot be a 'from' */
            xml_set_attr(st, "to", c->vh->domain);
            router_send_error(srv, st, "modify", "jid-malformed", NULL, c);
            return;
        }
        char *norm = jid_full(&to);
        xml_set_attr(st, "to", norm);
        free(norm);
    }
    if (strcmp(st->name, "presence") == 0) {
        presence_from_client(c, st, to_s ? &to : NULL);
        jid_clear(&to);
        return;
    }
    if (!to_s) {
        if (is_iq) {
            iq_from_client_to_self(c, st);
            return;
        }
        /* a message without 'to' is addressed to the sender's own bare JID */
        xml_set_attr(st, "to", c->bare);
        if (jid_parse(c->bare, &to) != 0) {
            xml_free(st);
            return;
        }
    }
    router_route(srv, st, &to);
    jid_clear(&to);
}
