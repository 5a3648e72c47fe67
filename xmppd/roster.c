#include "roster.h"
#include "iq.h"
#include "jid.h"
#include "log.h"
#include "presence.h"
#include "router.h"
#include "stanza.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROSTER_MAX_NAME 1023

static void roster_item_xml(xml_node *query, const roster_item *it, bool removed)
{
    xml_node *e = xml_add_child(query, "item", NULL);
    xml_set_attr(e, "jid", it->contact);
    if (removed) {
        xml_set_attr(e, "subscription", "remove");
        return;
    }
    xml_set_attr(e, "subscription", roster_sub_name(it->sub));
    if (it->name)
        xml_set_attr(e, "name", it->name);
    if (it->ask)
        xml_set_attr(e, "ask", "subscribe");
    for (size_t i = 0; i < it->ngroups; i++)
        xml_add_text(xml_add_child(e, "group", NULL), it->groups[i], strlen(it->groups[i]));
}

void roster_push(xmppd *srv, const char *host, const char *user, const roster_item *item,
                 bool removed)
{
    char *bare = NULL;
    if (asprintf(&bare, "%s@%s", user, host) < 0)
        fatal("out of memory");
    xml_node *iq = xml_new("iq", XMLNS_CLIENT);
    xml_set_attr(iq, "type", "set");
    char id[17] = "push";
    random_id(id + 4, 12);
    xml_set_attr(iq, "id", id);
    roster_item_xml(xml_add_child(iq, "query", XMLNS_ROSTER), item, removed);
    for (conn *c = router_sessions(srv, bare); c; c = c->next_res) {
        if (!c->roster_requested)
            continue;
        xml_set_attr(iq, "to", c->full);
        router_deliver_copy(c, iq);
    }
    xml_free(iq);
    free(bare);
}

static void roster_get(conn *c, xml_node *st)
{
    roster_item *items;
    size_t n;
    if (store_roster_load(c->srv->store, c->vh->domain, c->user, &items, &n) != 0) {
        router_send_error(c->srv, st, NULL, "internal-server-error", NULL, c);
        return;
    }
    xml_node *r = stanza_iq_result(st);
    xml_set_attr(r, "from", NULL);
    xml_node *q = xml_add_child(r, "query", XMLNS_ROSTER);
    for (size_t i = 0; i < n; i++)
        roster_item_xml(q, &items[i], false);
    roster_items_free(items, n);
    c->roster_requested = true;
    conn_send_node(c, r);
    xml_free(r);
    xml_free(st);
}

static bool roster_text_ok(const char *s)
{
    size_t len = strlen(s);
    if (len > ROSTER_MAX_NAME)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20)
            return false;
    return true;
}

/* Fills it from an <item/> of a roster set; -1 with *why on bad input. */
static int roster_parse_item(const xml_node *e, roster_item *it, const char **why)
{
    memset(it, 0, sizeof *it);
    const char *j = xml_attr_get(e, "jid");
    if (!j || !(it->contact = jid_normalize(j, false)) || strchr(it->contact, '/')) {
        *why = "item needs a bare JID";
        return -1;
    }
    const char *name = xml_attr_get(e, "name");
    if (name && *name) {
        if (!roster_text_ok(name)) {
            *why = "bad name";
            return -1;
        }
        it->name = xstrdup(name);
    }
    for (xml_node *g = NULL; (g = xml_next_child(e, g, "group", XMLNS_ROSTER));) {
        char *t = xml_text(g, NULL);
        bool dup = false;
        for (size_t i = 0; i < it->ngroups; i++)
            dup |= strcmp(it->groups[i], t) == 0;
        if (!*t || !roster_text_ok(t) || dup || it->ngroups >= 64) {
            free(t);
            *why = "bad or duplicate group";
            return -1;
        }
        it->groups = xrealloc(it->groups, (it->ngroups + 1) * sizeof *it->groups);
        it->groups[it->ngroups++] = t;
    }
    return 0;
}

static void roster_set(conn *c, xml_node *st)
{
    xmppd *srv = c->srv;
    const char *host = c->vh->domain;
    xml_node *q = stanza_iq_payload(st);
    xml_node *e = xml_child(q, "item", XMLNS_ROSTER);
    if (!e || xml_element_count(q) != 1) {
        router_send_error(srv, st, "modify", "bad-request", "exactly one item", c);
        return;
    }
    roster_item it;
    const char *why = NULL;
    if (roster_parse_item(e, &it, &why) != 0) {
        roster_item_clear(&it);
        router_send_error(srv, st, "modify", "bad-request", why, c);
        return;
    }
    roster_item old;
    int have = store_roster_get(srv->store, host, c->user, it.contact, &old);
    if (have < 0) {
        roster_item_clear(&it);
        router_send_error(srv, st, NULL, "internal-server-error", NULL, c);
        return;
    }
    if (str_eq(xml_attr_get(e, "subscription"), "remove")) {
        if (have == 1) {
            presence_roster_removed(c, &old);
            store_roster_delete(srv->store, host, c->user, it.contact);
            store_pending_remove(srv->store, host, c->user, it.contact);
            roster_push(srv, host, c->user, &old, true);
            roster_item_clear(&old);
        } else {
            roster_item_clear(&it);
            router_send_error(srv, st, NULL, "item-not-found", NULL, c);
            return;
        }
    } else {
        if (have == 1) {
            it.sub = old.sub;
            it.ask = old.ask;
            roster_item_clear(&old);
        } else {
            roster_item *all;
            size_t n = 0;
            if (store_roster_load(srv->store, host, c->user, &all, &n) == 0)
                roster_items_free(all, n);
            if (n >= ROSTER_MAX_ITEMS) {
                roster_item_clear(&it);
                router_send_error(srv, st, NULL, "resource-constraint", "roster is full", c);
                return;
            }
        }
        if (store_roster_put(srv->store, host, c->user, &it) != 0) {
            roster_item_clear(&it);
            router_send_error(srv, st, NULL, "internal-server-error", NULL, c);
            return;
        }
        roster_push(srv, host, c->user, &it, false);
    }
    roster_item_clear(&it);
    xml_node *r = stanza_iq_result(st);
    xml_set_attr(r, "from", NULL);
    conn_send_node(c, r);
    xml_free(r);
    xml_free(st);
}

void roster_iq(conn *c, xml_node *st)
{
    const char *type = stanza_type(st);
    if (strcmp(type, "get") == 0)
        roster_get(c, st);
    else if (strcmp(type, "set") == 0)
        roster_set(c, st);
    else
        xml_free(st);
}
