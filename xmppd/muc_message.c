/* muc_message: groupchat (and subject changes), private messages and IQs
 * through occupant JIDs, and mediated invitations. */
#include "log.h"
#include "muc_room.h"
#include "router.h"
#include "stanza.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MUC_MAX_PENDING_IQS 4096

/* Sends the serialized groupchat (no 'to') to every occupant who may see
 * the sender. */
static void muc_fanout(muc_room *r, muc_occupant *sender, const xml_node *m)
{
    size_t len;
    char *s = xml_to_string(m, XMLNS_CLIENT, &len);
    size_t i = 0;
    hmap_entry *e;
    while ((e = hmap_next(&r->by_nick, &i))) {
        muc_occupant *v = e->value;
        if (sender && !muc_room_can_see(r, v, sender))
            continue;
        for (size_t k = 0; k < v->nfulls; k++)
            muc_send_raw(r->svc->srv, v->fulls[k], s, len);
    }
    free(s);
}

static void muc_groupchat(muc_room *r, muc_occupant *o, xml_node *st)
{
    xmppd *srv = r->svc->srv;
    xml_node *subject = xml_child(st, "subject", XMLNS_CLIENT);
    bool has_body = xml_child(st, "body", XMLNS_CLIENT) != NULL;
    if (subject && !has_body) {
        if (o->role != ROLE_MODERATOR && !(r->cfg.change_subject && o->role >= ROLE_PARTICIPANT)) {
            router_send_error(srv, st, "auth", "forbidden", "you may not change the subject", NULL);
            return;
        }
        free(r->subject);
        free(r->subject_from);
        r->subject = xml_text(subject, NULL);
        r->subject_from = xstrdup(o->occ_jid);
        if (r->cfg.persistent)
            muc_room_save(r);
    } else if (o->role < ROLE_PARTICIPANT) {
        router_send_error(srv, st, "auth", "forbidden", "visitors may not speak here", NULL);
        return;
    }
    xml_set_attr(st, "from", o->occ_jid);
    xml_set_attr(st, "to", NULL);
    muc_fanout(r, o, st);
    if (has_body)
        muc_hooks_message(r, st);
    xml_free(st);
}

static void muc_invite(muc_room *r, muc_occupant *o, xml_node *st, xml_node *x)
{
    xmppd *srv = r->svc->srv;
    if (!r->cfg.allow_invites && o->role != ROLE_MODERATOR) {
        router_send_error(srv, st, "auth", "forbidden", "invitations are off", NULL);
        return;
    }
    int sent = 0;
    for (xml_node *inv = NULL;
         (inv = xml_next_child(x, inv, "invite", XMLNS_MUC_USER)) && sent < 20;) {
        const char *to = xml_attr_get(inv, "to");
        char *target = to ? jid_normalize(to, false) : NULL;
        if (!target)
            continue;
        if (r->cfg.members_only && muc_room_aff(r, o->real_bare) >= AFF_ADMIN) {
            char *tb = jid_normalize(target, true);
            if (tb && muc_room_aff(r, tb) < AFF_MEMBER) {
                muc_room_set_aff(r, tb, AFF_MEMBER);
                muc_room_save(r);
            }
            free(tb);
        }
        xml_node *m = xml_new("message", XMLNS_CLIENT);
        xml_set_attr(m, "from", r->jid);
        xml_set_attr(m, "to", target);
        xml_node *ux = xml_add_child(m, "x", XMLNS_MUC_USER);
        xml_node *i2 = xml_add_child(ux, "invite", NULL);
        xml_set_attr(i2, "from", o->fulls[0]);
        xml_node *reason = xml_child(inv, "reason", XMLNS_MUC_USER);
        if (reason)
            xml_append(i2, xml_copy(reason));
        if (r->cfg.password && *r->cfg.password)
            xml_add_text(xml_add_child(ux, "password", NULL), r->cfg.password,
                         strlen(r->cfg.password));
        router_route_str(srv, m);
        free(target);
        sent++;
    }
    if (!sent)
        router_send_error(srv, st, "modify", "bad-request", "invite needs a valid 'to'", NULL);
    else
        xml_free(st);
}

void muc_message(muc_service *svc, xml_node *st, const jid *to)
{
    xmppd *srv = svc->srv;
    const char *type = stanza_type(st);
    const char *from = xml_attr_get(st, "from");
    muc_room *r = hmap_get(&svc->rooms, to->node);
    muc_occupant *o = r && from ? hmap_get(&r->by_full, from) : NULL;
    if (strcmp(type, "error") == 0) {
        xml_free(st);
        return;
    }
    if (!r) {
        router_send_error(srv, st, "cancel", "item-not-found", "no such room", NULL);
        return;
    }
    if (!to->resource) {
        xml_node *x = xml_child(st, "x", XMLNS_MUC_USER);
        if (o && x && xml_child(x, "invite", XMLNS_MUC_USER)) {
            muc_invite(r, o, st, x);
        } else if (!o) {
            router_send_error(srv, st, "modify", "not-acceptable", "join the room first", NULL);
        } else if (strcmp(type, "groupchat") == 0) {
            muc_groupchat(r, o, st);
        } else {
            router_send_error(srv, st, "modify", "bad-request", "use type groupchat", NULL);
        }
        return;
    }
    /* a private message to an occupant */
    muc_occupant *target = hmap_get(&r->by_nick, to->resource);
    if (!o) {
        router_send_error(srv, st, "modify", "not-acceptable", "join the room first", NULL);
    } else if (strcmp(type, "groupchat") == 0) {
        router_send_error(srv, st, "modify", "bad-request", "no groupchat to occupants", NULL);
    } else if (!target || !muc_room_can_see(r, o, target)) {
        router_send_error(srv, st, "cancel", "item-not-found", "no such occupant", NULL);
    } else {
        xml_set_attr(st, "from", o->occ_jid);
        xml_node *x = xml_child(st, "x", XMLNS_MUC_USER);
        if (!x)
            xml_add_child(st, "x", XMLNS_MUC_USER);
        for (size_t k = 0; k < target->nfulls; k++)
            muc_send(srv, target->fulls[k], st);
        xml_free(st);
    }
}

void muc_occupant_iq(muc_service *svc, xml_node *st, const jid *to)
{
    xmppd *srv = svc->srv;
    const char *from = xml_attr_get(st, "from");
    muc_room *r = hmap_get(&svc->rooms, to->node);
    muc_occupant *o = r && from ? hmap_get(&r->by_full, from) : NULL;
    muc_occupant *target = r ? hmap_get(&r->by_nick, to->resource) : NULL;
    bool reply = stanza_no_error_reply(st);
    if (!o || !target || !muc_room_can_see(r, o, target)) {
        if (reply)
            xml_free(st);
        else
            router_send_error(srv, st, "cancel", o ? "item-not-found" : "not-acceptable", NULL,
                              NULL);
        return;
    }
    char *asking = xstrdup(from); /* 'from' dies with the rewrite below */
    xml_set_attr(st, "from", o->occ_jid);
    from = asking;
    const char *id = xml_attr_get(st, "id");
    char *key = NULL;
    if (reply) {
        /* an answer: back to the session that asked, if we know it */
        if (id && asprintf(&key, "%s\n%s", from, id) < 0)
            fatal("out of memory");
        char *asker = key ? hmap_del(&r->pending_iqs, key) : NULL;
        muc_send(srv, asker ? asker : target->fulls[0], st);
        free(asker);
    } else {
        /* a request goes to the occupant's first session; remember who asked */
        if (id && r->pending_iqs.len < MUC_MAX_PENDING_IQS &&
            asprintf(&key, "%s\n%s", target->fulls[0], id) >= 0)
            free(hmap_put(&r->pending_iqs, key, xstrdup(from)));
        muc_send(srv, target->fulls[0], st);
    }
    free(key);
    free(asking);
    xml_free(st);
}
