/* muc_admin: muc#admin (XEP-0045 sections 8-9): kick, voice, moderator,
 * ban, membership, admin and owner grants, and the lists. */
#include "log.h"
#include "muc_room.h"
#include "router.h"
#include "stanza.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define MUC_MAX_AFFILIATIONS 10000

static void muc_admin_list(muc_room *r, xml_node *st, const xml_node *item, muc_aff req_aff,
                           muc_role req_role)
{
    xmppd *srv = r->svc->srv;
    const char *a = xml_attr_get(item, "affiliation"), *ro = xml_attr_get(item, "role");
    int aff = muc_aff_parse(a), role = muc_role_parse(ro);
    if ((a && aff == -2) || (ro && role < 0) || (!a && !ro)) {
        router_send_error(srv, st, "modify", "bad-request", "list needs an affiliation or role",
                          NULL);
        return;
    }
    if ((a && req_aff < AFF_ADMIN) || (ro && req_role < ROLE_MODERATOR)) {
        router_send_error(srv, st, "auth", "forbidden", NULL, NULL);
        return;
    }
    xml_node *res = stanza_iq_result(st);
    xml_node *q = xml_add_child(res, "query", XMLNS_MUC_ADMIN);
    size_t i = 0;
    hmap_entry *e;
    if (a) {
        while ((e = hmap_next(&r->affs, &i))) {
            if (muc_room_aff(r, e->key) != aff)
                continue;
            xml_node *it = xml_add_child(q, "item", NULL);
            xml_set_attr(it, "affiliation", a);
            xml_set_attr(it, "jid", e->key);
        }
    } else {
        while ((e = hmap_next(&r->by_nick, &i))) {
            muc_occupant *o = e->value;
            if ((int)o->role != role || o->hidden)
                continue;
            xml_node *it = xml_add_child(q, "item", NULL);
            xml_set_attr(it, "role", ro);
            xml_set_attr(it, "nick", o->nick);
            xml_set_attr(it, "jid", o->fulls[0]);
            xml_set_attr(it, "affiliation", muc_aff_name(muc_room_aff(r, o->real_bare)));
        }
    }
    router_route_str(srv, res);
    xml_free(st);
}

/* The reason child of an item, copied for the presence, or NULL. */
static xml_node *muc_reason(const xml_node *item)
{
    xml_node *r = xml_child(item, "reason", XMLNS_MUC_ADMIN);
    if (!r)
        return NULL;
    xml_node *c = xml_new("reason", XMLNS_MUC_USER);
    char *t = xml_text(r, NULL);
    xml_add_text(c, t, strlen(t));
    free(t);
    return c;
}

/* Removes o from the room with a status code (307 kick, 301 ban, 321).
 * True if that emptied and freed the room. */
static bool muc_admin_remove(muc_room *r, muc_occupant *o, int code, const xml_node *item)
{
    int codes[2] = {code, 0};
    xml_node *reason = muc_reason(item);
    muc_room_broadcast_presence(r, o, true, codes, NULL, reason);
    xml_free(reason);
    return muc_room_remove_occupant(r, o);
}

/* One role change; returns NULL or the error condition. */
static const char *muc_admin_role(muc_room *r, const xml_node *item, muc_aff req_aff,
                                  muc_role req_role, int role, bool *gone)
{
    const char *nick = xml_attr_get(item, "nick");
    muc_occupant *o = nick ? hmap_get(&r->by_nick, nick) : NULL;
    if (!nick)
        return "bad-request";
    if (!o)
        return "item-not-found";
    muc_aff taff = muc_room_aff(r, o->real_bare);
    if (req_role < ROLE_MODERATOR)
        return "not-allowed";
    if (role == ROLE_MODERATOR && req_aff < AFF_ADMIN)
        return "not-allowed";
    /* nobody changes the role of an admin or owner, except a higher owner */
    if (taff >= AFF_ADMIN && !(req_aff == AFF_OWNER && taff < AFF_OWNER))
        return "not-allowed";
    if (role == ROLE_NONE) {
        *gone = muc_admin_remove(r, o, 307, item);
        return NULL;
    }
    o->role = (muc_role)role;
    muc_room_broadcast_presence(r, o, false, NULL, NULL, NULL);
    return NULL;
}

static size_t muc_owner_count(muc_room *r)
{
    size_t n = 0, i = 0;
    hmap_entry *e;
    while ((e = hmap_next(&r->affs, &i)))
        n += muc_room_aff(r, e->key) == AFF_OWNER;
    return n;
}

/* One affiliation change; returns NULL or the error condition. */
static const char *muc_admin_aff(muc_room *r, const xml_node *item, muc_aff req_aff, int aff,
                                 const char *req_bare, bool *gone)
{
    const char *j = xml_attr_get(item, "jid");
    char *bare = j ? jid_normalize(j, true) : NULL;
    if (!bare)
        return "bad-request";
    muc_aff old = muc_room_aff(r, bare);
    const char *err = NULL;
    if (req_aff < AFF_ADMIN)
        err = "not-allowed";
    else if ((aff >= AFF_ADMIN || old >= AFF_ADMIN) && req_aff < AFF_OWNER)
        err = "not-allowed";
    else if (old == AFF_OWNER && aff != AFF_OWNER && muc_owner_count(r) <= 1)
        err = "conflict"; /* the last owner stays */
    else if (old == AFF_NONE && aff != AFF_NONE && r->affs.len >= MUC_MAX_AFFILIATIONS)
        err = "resource-constraint";
    if (err) {
        free(bare);
        return err;
    }
    (void)req_bare;
    muc_room_set_aff(r, bare, (muc_aff)aff);
    /* occupants of that user see their new standing (or leave) */
    size_t i = 0;
    hmap_entry *e;
    muc_occupant *hit[64];
    size_t nhit = 0;
    while ((e = hmap_next(&r->by_nick, &i)) && nhit < 64)
        if (strcmp(((muc_occupant *)e->value)->real_bare, bare) == 0)
            hit[nhit++] = e->value;
    for (size_t k = 0; k < nhit && !*gone; k++) {
        muc_occupant *o = hit[k];
        if (aff == AFF_OUTCAST) {
            *gone = muc_admin_remove(r, o, 301, item);
        } else if (r->cfg.members_only && aff < AFF_MEMBER) {
            *gone = muc_admin_remove(r, o, 321, item);
        } else {
            o->role = muc_room_default_role(r, (muc_aff)aff);
            muc_room_broadcast_presence(r, o, false, NULL, NULL, NULL);
        }
    }
    free(bare);
    return NULL;
}

void muc_admin_iq(muc_room *r, xml_node *st, muc_occupant *from_occ, const char *from_bare)
{
    xmppd *srv = r->svc->srv;
    xml_node *q = stanza_iq_payload(st);
    muc_aff req_aff = muc_room_aff(r, from_bare);
    muc_role req_role = from_occ ? from_occ->role : ROLE_NONE;
    xml_node *first = xml_child(q, "item", XMLNS_MUC_ADMIN);
    if (!first || !str_eq(q->name, "query")) {
        router_send_error(srv, st, "modify", "bad-request", "expected query with items", NULL);
        return;
    }
    if (strcmp(stanza_type(st), "get") == 0) {
        muc_admin_list(r, st, first, req_aff, req_role);
        return;
    }
    /* validate every item before applying any */
    size_t n = 0;
    for (xml_node *it = NULL; (it = xml_next_child(q, it, "item", XMLNS_MUC_ADMIN));) {
        const char *a = xml_attr_get(it, "affiliation"), *ro = xml_attr_get(it, "role");
        if (++n > 64 || (a && ro) || (!a && !ro) || (a && muc_aff_parse(a) == -2) ||
            (ro && muc_role_parse(ro) < 0)) {
            router_send_error(srv, st, "modify", "bad-request", "malformed item", NULL);
            return;
        }
    }
    const char *err = NULL;
    bool gone = false;
    for (xml_node *it = NULL;
         !err && !gone && (it = xml_next_child(q, it, "item", XMLNS_MUC_ADMIN));) {
        const char *a = xml_attr_get(it, "affiliation");
        if (a)
            err = muc_admin_aff(r, it, req_aff, muc_aff_parse(a), from_bare, &gone);
        else
            err = muc_admin_role(r, it, req_aff, req_role, muc_role_parse(xml_attr_get(it, "role")),
                                 &gone);
    }
    if (!gone && r->cfg.persistent)
        muc_room_save(r);
    if (err) {
        router_send_error(srv, st, NULL, err, NULL, NULL);
        return;
    }
    router_route_str(srv, stanza_iq_result(st));
    xml_free(st);
}
