/* muc_presence: joining, presence updates, nick changes and leaving. */
#include "log.h"
#include "muc_room.h"
#include "router.h"
#include "stanza.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define MUC_MAX_ROOM_NAME 256

/* The occupant's presence as the room keeps it: no from/to, no client
 * supplied muc or muc#user payloads. Caller owns it. */
static xml_node *muc_strip(const xml_node *st)
{
    xml_node *p = xml_copy(st);
    xml_set_attr(p, "from", NULL);
    xml_set_attr(p, "to", NULL);
    for (size_t i = p->nchildren; i-- > 0;) {
        xml_node *c = p->children[i];
        if (c->name && str_eq(c->name, "x") &&
            (str_eq(c->ns, XMLNS_MUC) || str_eq(c->ns, XMLNS_MUC_USER))) {
            xml_detach(c);
            xml_free(c);
        }
    }
    return p;
}

static void muc_error(xmppd *srv, xml_node *st, const char *type, const char *cond,
                      const char *text)
{
    router_send_error(srv, st, type, cond, text, NULL);
}

/* Sends every other visible occupant's presence to the joining session. */
static void muc_send_occupants(muc_room *r, muc_occupant *o, const char *full)
{
    size_t i = 0;
    hmap_entry *e;
    while ((e = hmap_next(&r->by_nick, &i))) {
        muc_occupant *v = e->value;
        if (v == o || !muc_room_can_see(r, o, v))
            continue;
        xml_node *p = v->presence ? xml_copy(v->presence) : xml_new("presence", XMLNS_CLIENT);
        xml_set_attr(p, "from", v->occ_jid);
        xml_node *item = xml_add_child(xml_add_child(p, "x", XMLNS_MUC_USER), "item", NULL);
        muc_aff aff = muc_room_aff(r, v->real_bare);
        xml_set_attr(item, "affiliation", muc_aff_name(aff));
        xml_set_attr(item, "role", muc_role_name(v->role));
        if (r->cfg.whois_anyone || o->role == ROLE_MODERATOR)
            xml_set_attr(item, "jid", v->fulls[0]);
        muc_send(r->svc->srv, full, p);
        xml_free(p);
    }
}

static void muc_send_subject(muc_room *r, const char *full)
{
    xml_node *m = xml_new("message", XMLNS_CLIENT);
    xml_set_attr(m, "type", "groupchat");
    xml_set_attr(m, "from", r->subject_from ? r->subject_from : r->jid);
    xml_node *s = xml_add_child(m, "subject", NULL);
    if (r->subject)
        xml_add_text(s, r->subject, strlen(r->subject));
    muc_send(r->svc->srv, full, m);
    xml_free(m);
}

static bool muc_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > MUC_MAX_ROOM_NAME)
        return false;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return false;
    return true;
}

static void muc_join(muc_service *svc, xml_node *st, const jid *to, const char *from,
                     const char *bare)
{
    xmppd *srv = svc->srv;
    if (!muc_name_ok(to->node) || strlen(to->resource) > 1023) {
        muc_error(srv, st, "modify", "jid-malformed", "invalid room name or nick");
        return;
    }
    const xml_node *mx = xml_child(st, "x", XMLNS_MUC);
    muc_room *r = hmap_get(&svc->rooms, to->node);
    muc_join_ctx ctx = {svc, r, from, bare, to->resource, mx, AFF_NONE, NULL, NULL, NULL};
    bool created = false;
    if (!r) {
        if (muc_hooks_may_create(&ctx) != 0) {
            muc_error(srv, st, ctx.err_type, ctx.err_cond, ctx.err_text);
            return;
        }
        r = muc_room_new(svc, to->node);
        muc_room_set_aff(r, bare, AFF_OWNER);
        created = true;
        log_info(NULL, "room %s created by %s", r->jid, from);
    }
    ctx.room = r;
    ctx.aff = muc_room_aff(r, bare);
    muc_occupant *holder = hmap_get(&r->by_nick, to->resource);
    if (holder && strcmp(holder->real_bare, bare) != 0) {
        muc_error(srv, st, "cancel", "conflict", "that nickname is in use");
        return;
    }
    if (!created && muc_hooks_may_join(&ctx) != 0) {
        muc_error(srv, st, ctx.err_type, ctx.err_cond, ctx.err_text);
        return;
    }
    muc_occupant *o = holder;
    if (o) { /* another session of the same user under the same nick */
        o->fulls = xrealloc(o->fulls, (o->nfulls + 1) * sizeof *o->fulls);
        o->fulls[o->nfulls++] = xstrdup(from);
        hmap_put(&r->by_full, from, o);
    } else {
        o = xcalloc(1, sizeof *o);
        o->nick = xstrdup(to->resource);
        if (asprintf(&o->occ_jid, "%s/%s", r->jid, o->nick) < 0)
            fatal("out of memory");
        o->real_bare = xstrdup(bare);
        o->fulls = xmalloc(sizeof *o->fulls);
        o->fulls[0] = xstrdup(from);
        o->nfulls = 1;
        o->role = muc_room_default_role(r, ctx.aff);
        o->hidden = muc_hidden_is(srv, bare);
        hmap_put(&r->by_nick, o->nick, o);
        hmap_put(&r->by_full, from, o);
        r->noccupants++;
    }
    xml_free(o->presence);
    o->presence = muc_strip(st);
    muc_send_occupants(r, o, from);
    int self_codes[3] = {0, 0, 0}, n = 0;
    if (r->cfg.whois_anyone)
        self_codes[n++] = 100;
    if (created)
        self_codes[n++] = 201;
    if (holder) {
        /* only the new session needs the room state; the others know it */
        int mine[4] = {self_codes[0], self_codes[1], 110, 0};
        if (!mine[1])
            mine[1] = 110, mine[2] = 0;
        if (!mine[0])
            mine[0] = 110, mine[1] = 0;
        xml_node *p = xml_copy(o->presence);
        xml_set_attr(p, "from", o->occ_jid);
        xml_node *x = xml_add_child(p, "x", XMLNS_MUC_USER);
        xml_node *item = xml_add_child(x, "item", NULL);
        xml_set_attr(item, "affiliation", muc_aff_name(ctx.aff));
        xml_set_attr(item, "role", muc_role_name(o->role));
        xml_set_attr(item, "jid", from);
        for (int *c = mine; *c; c++) {
            char num[8];
            snprintf(num, sizeof num, "%d", *c);
            xml_set_attr(xml_add_child(x, "status", NULL), "code", num);
        }
        muc_send(srv, from, p);
        xml_free(p);
    } else {
        muc_room_broadcast_presence(r, o, false, NULL, self_codes, NULL);
    }
    muc_hooks_joined(r, o, from, mx);
    muc_send_subject(r, from);
    xml_free(st);
}

static void muc_leave(muc_room *r, muc_occupant *o, const char *from, xml_node *st)
{
    xmppd *srv = r->svc->srv;
    if (o->nfulls > 1) {
        /* one of several sessions leaves: only it is told */
        for (size_t k = 0; k < o->nfulls; k++) {
            if (strcmp(o->fulls[k], from) == 0) {
                free(o->fulls[k]);
                o->fulls[k] = o->fulls[--o->nfulls];
                break;
            }
        }
        hmap_del(&r->by_full, from);
        xml_node *p = muc_strip(st);
        xml_set_attr(p, "type", "unavailable");
        xml_set_attr(p, "from", o->occ_jid);
        xml_node *x = xml_add_child(p, "x", XMLNS_MUC_USER);
        xml_node *item = xml_add_child(x, "item", NULL);
        xml_set_attr(item, "affiliation", "none");
        xml_set_attr(item, "role", "none");
        xml_set_attr(xml_add_child(x, "status", NULL), "code", "110");
        muc_send(srv, from, p);
        xml_free(p);
        xml_free(st);
        return;
    }
    xml_free(o->presence);
    o->presence = muc_strip(st);
    xml_set_attr(o->presence, "type", "unavailable");
    muc_room_broadcast_presence(r, o, true, NULL, NULL, NULL);
    muc_room_remove_occupant(r, o);
    xml_free(st);
}

static void muc_nick_change(muc_room *r, muc_occupant *o, xml_node *st, const jid *to)
{
    xmppd *srv = r->svc->srv;
    if (strlen(to->resource) > 1023) {
        muc_error(srv, st, "modify", "jid-malformed", "invalid nick");
        return;
    }
    if (hmap_get(&r->by_nick, to->resource)) {
        muc_error(srv, st, "cancel", "conflict", "that nickname is in use");
        return;
    }
    xml_node *nick = xml_new("@nick", NULL);
    xml_add_text(nick, to->resource, strlen(to->resource));
    static const int c303[] = {303, 0};
    muc_room_broadcast_presence(r, o, true, c303, NULL, nick);
    xml_free(nick);
    hmap_del(&r->by_nick, o->nick);
    free(o->nick);
    free(o->occ_jid);
    o->nick = xstrdup(to->resource);
    if (asprintf(&o->occ_jid, "%s/%s", r->jid, o->nick) < 0)
        fatal("out of memory");
    hmap_put(&r->by_nick, o->nick, o);
    xml_free(o->presence);
    o->presence = muc_strip(st);
    muc_room_broadcast_presence(r, o, false, NULL, NULL, NULL);
    xml_free(st);
}

void muc_presence(muc_service *svc, xml_node *st, const jid *to)
{
    xmppd *srv = svc->srv;
    const char *type = stanza_type(st);
    const char *from = xml_attr_get(st, "from");
    char *bare = from ? jid_normalize(from, true) : NULL;
    muc_room *r = hmap_get(&svc->rooms, to->node);
    muc_occupant *o = r && from ? hmap_get(&r->by_full, from) : NULL;
    if (!bare) {
        xml_free(st);
    } else if (strcmp(type, "unavailable") == 0 || strcmp(type, "error") == 0) {
        if (o)
            muc_leave(r, o, from, st);
        else
            xml_free(st);
    } else if (*type) {
        xml_free(st); /* subscriptions and probes mean nothing to a room */
    } else if (!to->resource) {
        muc_error(srv, st, "modify", "jid-malformed", "join a room as room@service/nick");
    } else if (!o) {
        muc_join(svc, st, to, from, bare);
    } else if (strcmp(o->nick, to->resource) != 0) {
        muc_nick_change(r, o, st, to);
    } else {
        xml_free(o->presence);
        o->presence = muc_strip(st);
        muc_room_broadcast_presence(r, o, false, NULL, NULL, NULL);
        xml_free(st);
    }
    free(bare);
}
