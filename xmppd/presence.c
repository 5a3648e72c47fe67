#include "presence.h"
#include "log.h"
#include "roster.h"
#include "router.h"
#include "stanza.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static bool sub_from(roster_sub s)
{
    return s == SUB_FROM || s == SUB_BOTH;
}

static bool sub_to(roster_sub s)
{
    return s == SUB_TO || s == SUB_BOTH;
}

/* Sends a copy of p (borrowed) to every available resource of bare, with
 * to= that resource, skipping skip. */
static void presence_to_resources(xmppd *srv, const char *bare, xml_node *p, const conn *skip)
{
    for (conn *r = router_sessions(srv, bare); r; r = r->next_res) {
        if (!r->presence || r == skip || r->closing)
            continue;
        xml_set_attr(p, "to", r->full);
        router_deliver_copy(r, p);
    }
}

/* Sends a copy of st (borrowed, 'to' kept) to bare's available resources. */
static void presence_deliver_available(xmppd *srv, const char *bare, const xml_node *st)
{
    for (conn *r = router_sessions(srv, bare); r; r = r->next_res)
        if (r->presence && !r->closing)
            router_deliver_copy(r, st);
}

/* Broadcasts p (borrowed; from = c->full) to c's FROM/BOTH contacts and to
 * c's own available resources (self included when include_self). */
static void presence_broadcast(conn *c, xml_node *p, bool include_self)
{
    xmppd *srv = c->srv;
    roster_item *items;
    size_t n;
    if (store_roster_load(srv->store, c->vh->domain, c->user, &items, &n) == 0) {
        for (size_t i = 0; i < n; i++)
            if (sub_from(items[i].sub))
                presence_to_resources(srv, items[i].contact, p, NULL);
        roster_items_free(items, n);
    }
    presence_to_resources(srv, c->bare, p, include_self ? NULL : c);
}

/* Presence of every available resource of bare, sent to target (full). */
static void presence_send_current(xmppd *srv, const char *bare, conn *target, const conn *skip)
{
    for (conn *r = router_sessions(srv, bare); r; r = r->next_res) {
        if (!r->presence || r == skip || r->closing)
            continue;
        xml_node *p = xml_copy(r->presence);
        xml_set_attr(p, "to", target->full);
        router_deliver_copy(target, p);
        xml_free(p);
    }
}

static void presence_initial_extras(xmppd *srv, conn *c);

static void presence_pending_cb(void *ud, const char *contact)
{
    conn *c = ud;
    xml_node *p = xml_new("presence", XMLNS_CLIENT);
    xml_set_attr(p, "type", "subscribe");
    xml_set_attr(p, "from", contact);
    xml_set_attr(p, "to", c->bare);
    router_deliver_copy(c, p);
    xml_free(p);
}

/* After initial presence: contacts' presence (probes, answered locally), our
 * other resources, and subscription requests that waited for us. */
static void presence_initial_extras(xmppd *srv, conn *c)
{
    roster_item *items;
    size_t n;
    if (store_roster_load(srv->store, c->vh->domain, c->user, &items, &n) == 0) {
        for (size_t i = 0; i < n; i++)
            if (sub_to(items[i].sub))
                presence_send_current(srv, items[i].contact, c, NULL);
        roster_items_free(items, n);
    }
    presence_send_current(srv, c->bare, c, c);
    store_pending_list(srv->store, c->vh->domain, c->user, presence_pending_cb, c);
}

static void presence_unavailable(conn *c, xml_node *p)
{
    xml_free(c->presence);
    c->presence = NULL;
    presence_broadcast(c, p, false);
    for (size_t i = 0; i < c->ndirected; i++) {
        xml_node *u = xml_copy(p);
        xml_set_attr(u, "to", c->directed[i]);
        router_route_str(c->srv, u);
        free(c->directed[i]);
    }
    free(c->directed);
    c->directed = NULL;
    c->ndirected = 0;
}

#define PRESENCE_MAX_DIRECTED 1000

/* Remembers (or forgets) a directed presence target so the matching
 * unavailable can follow when the session ends. False if the list is full:
 * the presence must then not be sent, or it could never be taken back. */
static bool presence_track_directed(conn *c, const char *to, bool available)
{
    for (size_t i = 0; i < c->ndirected; i++) {
        if (strcmp(c->directed[i], to) == 0) {
            if (!available) {
                free(c->directed[i]);
                c->directed[i] = c->directed[--c->ndirected];
            }
            return true;
        }
    }
    if (!available)
        return true;
    if (c->ndirected >= PRESENCE_MAX_DIRECTED)
        return false;
    c->directed = xrealloc(c->directed, (c->ndirected + 1) * sizeof *c->directed);
    c->directed[c->ndirected++] = xstrdup(to);
    return true;
}

static void presence_available(conn *c, xml_node *st)
{
    bool initial = c->presence == NULL;
    xml_node *prio = xml_child(st, "priority", XMLNS_CLIENT);
    c->priority = 0;
    if (prio) {
        char *t = xml_text(prio, NULL);
        long v = strtol(t, NULL, 10);
        c->priority = v < -128 ? -128 : v > 127 ? 127 : (int)v;
        free(t);
    }
    xml_free(c->presence);
    c->presence = xml_copy(st);
    xml_set_attr(c->presence, "to", NULL);
    presence_broadcast(c, st, true);
    if (initial)
        presence_initial_extras(c->srv, c);
}

static void presence_roster_save(xmppd *srv, const char *host, const char *user,
                                 const roster_item *it)
{
    if (store_roster_put(srv->store, host, user, it) == 0)
        roster_push(srv, host, user, it, false);
}

static xml_node *presence_new(const char *type, const char *from, const char *to)
{
    xml_node *p = xml_new("presence", XMLNS_CLIENT);
    if (type)
        xml_set_attr(p, "type", type);
    xml_set_attr(p, "from", from);
    xml_set_attr(p, "to", to);
    return p;
}

/* Sends the presence (available, or unavailable when unavail) of each of
 * bare's available resources to contact (a bare JID, routed). */
static void presence_share(xmppd *srv, const char *bare, const char *contact, bool unavail)
{
    for (conn *r = router_sessions(srv, bare); r; r = r->next_res) {
        if (!r->presence || r->closing)
            continue;
        xml_node *p =
            unavail ? presence_new("unavailable", r->full, contact) : xml_copy(r->presence);
        xml_set_attr(p, "to", contact);
        router_route_str(srv, p);
    }
}

/* A subscription stanza from user c to contact (bare). */
static void presence_outbound_sub(conn *c, xml_node *st, const char *type, const char *contact)
{
    xmppd *srv = c->srv;
    const char *host = c->vh->domain, *user = c->user;
    xml_set_attr(st, "from", c->bare);
    xml_set_attr(st, "to", contact);
    roster_item it;
    int have = store_roster_get(srv->store, host, user, contact, &it);
    if (have < 0) {
        xml_free(st);
        return;
    }
    if (have == 0) {
        memset(&it, 0, sizeof it);
        it.contact = xstrdup(contact);
    }
    bool route = true, share = false, share_unavail = false;
    if (strcmp(type, "subscribe") == 0) {
        if (!sub_to(it.sub) && !it.ask) {
            it.ask = true;
            presence_roster_save(srv, host, user, &it);
        }
    } else if (strcmp(type, "subscribed") == 0) {
        int pending = store_pending_has(srv->store, host, user, contact);
        if (pending == 1 && !sub_from(it.sub)) {
            it.sub = it.sub == SUB_TO ? SUB_BOTH : SUB_FROM;
            presence_roster_save(srv, host, user, &it);
            share = true;
        } else {
            route = false; /* nothing was asked, or already approved */
        }
        store_pending_remove(srv->store, host, user, contact);
    } else if (strcmp(type, "unsubscribe") == 0) {
        if (have == 1 && (sub_to(it.sub) || it.ask)) {
            it.sub = it.sub == SUB_BOTH ? SUB_FROM : (it.sub == SUB_TO ? SUB_NONE : it.sub);
            it.ask = false;
            presence_roster_save(srv, host, user, &it);
        }
    } else { /* unsubscribed */
        int pending = store_pending_has(srv->store, host, user, contact);
        if (pending == 1)
            store_pending_remove(srv->store, host, user, contact);
        if (have == 1 && sub_from(it.sub)) {
            it.sub = it.sub == SUB_BOTH ? SUB_TO : SUB_NONE;
            presence_roster_save(srv, host, user, &it);
            share_unavail = true;
        } else if (pending != 1) {
            route = false;
        }
    }
    roster_item_clear(&it);
    if (route)
        router_route_str(srv, st);
    else
        xml_free(st);
    if (share)
        presence_share(srv, c->bare, contact, false);
    if (share_unavail)
        presence_share(srv, c->bare, contact, true);
}

/* A subscription stanza for local account host/user (bare cb) from the
 * bare JID from. */
static void presence_inbound_sub(xmppd *srv, xml_node *st, const char *type, const jid *to,
                                 const char *from)
{
    const char *host = to->domain, *user = to->node;
    char *cb = jid_bare(to);
    xml_set_attr(st, "to", cb);
    xml_set_attr(st, "from", from);
    if (!router_user_exists(srv, host, user)) {
        if (strcmp(type, "subscribe") == 0)
            router_route_str(srv, presence_new("unsubscribed", cb, from));
        xml_free(st);
        free(cb);
        return;
    }
    roster_item it;
    int have = store_roster_get(srv->store, host, user, from, &it);
    if (have < 0) {
        xml_free(st);
        free(cb);
        return;
    }
    if (have == 0) {
        memset(&it, 0, sizeof it);
        it.contact = xstrdup(from);
    }
    bool deliver = false;
    if (strcmp(type, "subscribe") == 0) {
        if (have == 1 && sub_from(it.sub)) {
            /* already approved: answer on the contact's behalf */
            router_route_str(srv, presence_new("subscribed", cb, from));
        } else {
            store_pending_add(srv->store, host, user, from);
            deliver = true;
        }
    } else if (strcmp(type, "subscribed") == 0) {
        if (have == 1 && !sub_to(it.sub) && it.ask) {
            it.sub = it.sub == SUB_FROM ? SUB_BOTH : SUB_TO;
            it.ask = false;
            presence_roster_save(srv, host, user, &it);
            deliver = true;
        }
    } else if (strcmp(type, "unsubscribe") == 0) {
        bool pending = store_pending_has(srv->store, host, user, from) == 1;
        if (pending)
            store_pending_remove(srv->store, host, user, from);
        if (have == 1 && sub_from(it.sub)) {
            it.sub = it.sub == SUB_BOTH ? SUB_TO : SUB_NONE;
            presence_roster_save(srv, host, user, &it);
            presence_share(srv, cb, from, true);
            deliver = true;
        } else {
            deliver = pending;
        }
    } else { /* unsubscribed */
        if (have == 1 && (sub_to(it.sub) || it.ask)) {
            it.sub = it.sub == SUB_BOTH ? SUB_FROM : (it.sub == SUB_TO ? SUB_NONE : it.sub);
            it.ask = false;
            presence_roster_save(srv, host, user, &it);
            deliver = true;
        }
    }
    roster_item_clear(&it);
    if (deliver)
        presence_deliver_available(srv, cb, st);
    xml_free(st);
    free(cb);
}

static void presence_probe(xmppd *srv, xml_node *st, const jid *to, const char *from_full,
                           const char *from_bare)
{
    roster_item it;
    if (store_roster_get(srv->store, to->domain, to->node, from_bare, &it) == 1) {
        if (sub_from(it.sub)) {
            char *cb = jid_bare(to);
            conn *target = router_find(srv, from_full);
            if (target)
                presence_send_current(srv, cb, target, NULL);
            free(cb);
        }
        roster_item_clear(&it);
    }
    xml_free(st);
}

static bool presence_is_sub(const char *type)
{
    return strcmp(type, "subscribe") == 0 || strcmp(type, "subscribed") == 0 ||
           strcmp(type, "unsubscribe") == 0 || strcmp(type, "unsubscribed") == 0;
}

void presence_inbound(xmppd *srv, xml_node *st, const jid *to)
{
    const char *type = stanza_type(st);
    const char *from = xml_attr_get(st, "from");
    char *from_bare = from ? jid_normalize(from, true) : NULL;
    if (!from_bare) {
        xml_free(st);
        return;
    }
    if (presence_is_sub(type)) {
        presence_inbound_sub(srv, st, type, to, from_bare);
    } else if (strcmp(type, "probe") == 0) {
        presence_probe(srv, st, to, from, from_bare);
    } else if (to->resource) {
        char *full = jid_full(to);
        conn *t = router_find(srv, full);
        free(full);
        if (t)
            router_deliver_copy(t, st);
        xml_free(st);
    } else {
        char *bare = jid_bare(to);
        presence_deliver_available(srv, bare, st);
        free(bare);
        xml_free(st);
    }
    free(from_bare);
}

void presence_from_client(conn *c, xml_node *st, const jid *to)
{
    const char *type = stanza_type(st);
    if (!to) {
        if (!*type)
            presence_available(c, st);
        else if (strcmp(type, "unavailable") == 0 && c->presence)
            presence_unavailable(c, st);
        xml_free(st);
        return;
    }
    if (presence_is_sub(type)) {
        char *contact = jid_bare(to);
        presence_outbound_sub(c, st, type, contact);
        free(contact);
        return;
    }
    if (!*type || strcmp(type, "unavailable") == 0) {
        char *full = jid_full(to);
        bool ok = presence_track_directed(c, full, !*type);
        free(full);
        if (!ok) {
            router_send_error(c->srv, st, "wait", "resource-constraint",
                              "too many directed presences (rooms joined)", c);
            return;
        }
    } else if (strcmp(type, "probe") != 0 && strcmp(type, "error") != 0) {
        router_send_error(c->srv, st, "modify", "bad-request", "unknown presence type", c);
        return;
    }
    router_route(c->srv, st, to);
}

void presence_session_end(conn *c)
{
    if (!c->presence && !c->ndirected)
        return;
    xml_node *p = presence_new("unavailable", c->full, NULL);
    if (c->presence) {
        presence_unavailable(c, p);
    } else {
        xml_free(c->presence);
        c->presence = NULL;
        presence_unavailable(c, p);
    }
    xml_free(p);
}

void presence_roster_removed(conn *c, const roster_item *old)
{
    if (sub_to(old->sub) || old->ask)
        router_route_str(c->srv, presence_new("unsubscribe", c->bare, old->contact));
    if (sub_from(old->sub)) {
        router_route_str(c->srv, presence_new("unsubscribed", c->bare, old->contact));
        presence_share(c->srv, c->bare, old->contact, true);
    }
}
