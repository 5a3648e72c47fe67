#include "muc_room.h"
#include "component.h"
#include "conn.h"
#include "log.h"
#include "router.h"
#include "store.h"
#include "util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MUC_HISTORY_DEFAULT 20

muc_room *muc_room_new(muc_service *svc, const char *name)
{
    muc_room *r = xcalloc(1, sizeof *r);
    r->svc = svc;
    r->name = xstrdup(name);
    if (asprintf(&r->jid, "%s@%s", name, svc->domain) < 0)
        fatal("out of memory");
    unsigned char u[16];
    random_bytes(u, sizeof u);
    u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);
    u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
    snprintf(r->meeting_id, sizeof r->meeting_id,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
             u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
             u[15]);
    r->cfg.whois_anyone = true; /* conference rooms are non-anonymous (protocol.md) */
    r->cfg.allow_invites = true;
    r->cfg.public_room = true;
    r->hist_cap = MUC_HISTORY_DEFAULT;
    hmap_init(&r->affs);
    hmap_init(&r->by_nick);
    hmap_init(&r->by_full);
    hmap_init(&r->pending_iqs);
    hmap_put(&svc->rooms, name, r);
    return r;
}

static void muc_occupant_free(muc_occupant *o)
{
    free(o->nick);
    free(o->occ_jid);
    free(o->real_bare);
    for (size_t i = 0; i < o->nfulls; i++)
        free(o->fulls[i]);
    free(o->fulls);
    xml_free(o->presence);
    free(o);
}

void muc_room_free(muc_room *r)
{
    hmap_del(&r->svc->rooms, r->name);
    size_t i = 0;
    hmap_entry *e;
    while ((e = hmap_next(&r->by_nick, &i)))
        muc_occupant_free(e->value);
    hmap_free(&r->by_nick);
    hmap_free(&r->by_full);
    hmap_free(&r->affs);
    i = 0;
    while ((e = hmap_next(&r->pending_iqs, &i)))
        free(e->value);
    hmap_free(&r->pending_iqs);
    muc_history_free(r);
    free(r->cfg.name);
    free(r->cfg.desc);
    free(r->cfg.password);
    free(r->subject);
    free(r->subject_from);
    free(r->name);
    free(r->jid);
    free(r);
}

muc_aff muc_room_aff(const muc_room *r, const char *bare)
{
    void *v = hmap_get(&r->affs, bare);
    return v ? (muc_aff)((intptr_t)v - 2) : AFF_NONE;
}

void muc_room_set_aff(muc_room *r, const char *bare, muc_aff aff)
{
    if (aff == AFF_NONE)
        hmap_del(&r->affs, bare);
    else
        hmap_put(&r->affs, bare, (void *)(intptr_t)(aff + 2));
}

const char *muc_aff_name(muc_aff a)
{
    switch (a) {
    case AFF_OUTCAST:
        return "outcast";
    case AFF_MEMBER:
        return "member";
    case AFF_ADMIN:
        return "admin";
    case AFF_OWNER:
        return "owner";
    default:
        return "none";
    }
}

const char *muc_role_name(muc_role r)
{
    static const char *n[] = {"none", "visitor", "participant", "moderator"};
    return n[r];
}

int muc_aff_parse(const char *s)
{
    static const char *n[] = {"outcast", "none", "member", "admin", "owner"};
    for (int i = 0; s && i < 5; i++)
        if (strcmp(s, n[i]) == 0)
            return i - 1;
    return -2;
}

int muc_role_parse(const char *s)
{
    for (int i = 0; s && i < 4; i++)
        if (strcmp(s, muc_role_name((muc_role)i)) == 0)
            return i;
    return -1;
}

muc_role muc_room_default_role(const muc_room *r, muc_aff aff)
{
    if (aff >= AFF_ADMIN)
        return ROLE_MODERATOR;
    if (r->cfg.moderated && aff < AFF_MEMBER)
        return ROLE_VISITOR;
    return ROLE_PARTICIPANT;
}

bool muc_room_can_see(const muc_room *r, const muc_occupant *viewer, const muc_occupant *target)
{
    if (!target->hidden || viewer == target)
        return true;
    return muc_room_aff(r, viewer->real_bare) == AFF_OWNER;
}

size_t muc_room_visible_count(const muc_room *r)
{
    size_t n = 0, i = 0;
    hmap_entry *e;
    while ((e = hmap_next(&r->by_nick, &i)))
        n += !((muc_occupant *)e->value)->hidden;
    return n;
}

/* The connection that takes stanzas for the real JID full, or NULL. */
static conn *muc_target(xmppd *srv, const char *full)
{
    const char *at = strchr(full, '@'), *slash = strchr(full, '/');
    const char *d = at && (!slash || at < slash) ? at + 1 : full;
    size_t dl = slash && slash > d ? (size_t)(slash - d) : strlen(d);
    char domain[1024];
    if (dl >= sizeof domain)
        return NULL;
    memcpy(domain, d, dl);
    domain[dl] = '\0';
    conn *c = component_find(srv, domain);
    if (!c)
        c = router_find(srv, full);
    return c && !c->closing ? c : NULL;
}

void muc_send_raw(xmppd *srv, const char *full, const char *xml, size_t len)
{
    conn *c = muc_target(srv, full);
    if (!c)
        return;
    /* xml is "<name ...": insert to='full' after the element name */
    size_t n = 1;
    while (n < len && xml[n] != ' ' && xml[n] != '>' && xml[n] != '/')
        n++;
    sbuf esc;
    sbuf_init(&esc);
    size_t flen = strlen(full);
    const char *to = full;
    if (strpbrk(full, "&'<>\"")) {
        sbuf_add_xml_escaped(&esc, full, flen);
        to = esc.data;
        flen = esc.len;
    }
    struct iovec v[5] = {
        {(void *)xml, n}, {(void *)" to='", 5},         {(void *)to, flen},
        {(void *)"'", 1}, {(void *)(xml + n), len - n},
    };
    conn_send_iov(c, v, 5);
    srv->stats.stanzas_out++;
    sbuf_free(&esc);
}

void muc_send(xmppd *srv, const char *full, const xml_node *st)
{
    xml_node *copy = xml_copy(st);
    xml_set_attr(copy, "to", NULL);
    size_t len;
    char *s = xml_to_string(copy, XMLNS_CLIENT, &len);
    muc_send_raw(srv, full, s, len);
    free(s);
    xml_free(copy);
}

/* Builds o's presence as viewers see it; with_jid adds the real JID. */
static char *muc_presence_xml(muc_room *r, muc_occupant *o, bool unavail, const int *codes,
                              bool with_jid, const xml_node *extra, size_t *len)
{
    xml_node *p;
    const char *ptype = o->presence ? xml_attr_get(o->presence, "type") : NULL;
    /* a leave keeps the occupant's own unavailable presence (its status) */
    if (o->presence && (!unavail || str_eq(ptype, "unavailable"))) {
        p = xml_copy(o->presence);
    } else {
        p = xml_new("presence", XMLNS_CLIENT);
        xml_set_attr(p, "type", "unavailable");
    }
    xml_set_attr(p, "from", o->occ_jid);
    xml_set_attr(p, "to", NULL);
    xml_node *x = xml_add_child(p, "x", XMLNS_MUC_USER);
    xml_node *item = xml_add_child(x, "item", NULL);
    muc_aff aff = muc_room_aff(r, o->real_bare);
    xml_set_attr(item, "affiliation", muc_aff_name(aff));
    bool nick_change = codes && codes[0] == 303; /* not leaving: the role stays */
    xml_set_attr(item, "role", unavail && !nick_change ? "none" : muc_role_name(o->role));
    if (with_jid)
        xml_set_attr(item, "jid", o->fulls[0]);
    if (extra && strcmp(extra->name, "@nick") == 0) { /* a nick change: the new nick */
        char *nick = xml_text(extra, NULL);
        xml_set_attr(item, "nick", nick);
        free(nick);
    } else if (extra) {
        xml_append(unavail && strcmp(extra->name, "destroy") == 0 ? x : item, xml_copy(extra));
    }
    for (const int *c = codes; c && *c; c++) {
        char num[8];
        snprintf(num, sizeof num, "%d", *c);
        xml_set_attr(xml_add_child(x, "status", NULL), "code", num);
    }
    char *s = xml_to_string(p, XMLNS_CLIENT, len);
    xml_free(p);
    return s;
}

void muc_room_broadcast_presence(muc_room *r, muc_occupant *o, bool unavail, const int *codes,
                                 const int *self_codes, const xml_node *extra)
{
    xmppd *srv = r->svc->srv;
    char *variant[2] = {NULL, NULL}; /* [with_jid] */
    size_t vlen[2] = {0, 0};
    size_t i = 0;
    hmap_entry *e;
    while ((e = hmap_next(&r->by_nick, &i))) {
        muc_occupant *v = e->value;
        if (v == o || !muc_room_can_see(r, v, o))
            continue;
        bool with_jid = r->cfg.whois_anyone || v->role == ROLE_MODERATOR;
        if (!variant[with_jid])
            variant[with_jid] =
                muc_presence_xml(r, o, unavail, codes, with_jid, extra, &vlen[with_jid]);
        for (size_t k = 0; k < v->nfulls; k++)
            muc_send_raw(srv, v->fulls[k], variant[with_jid], vlen[with_jid]);
    }
    free(variant[0]);
    free(variant[1]);
    /* the occupant itself: 110 plus its own codes, real JID always shown */
    int mine[16], n = 0;
    for (const int *c = codes; c && *c && n < 8; c++)
        mine[n++] = *c;
    for (const int *c = self_codes; c && *c && n < 14; c++)
        mine[n++] = *c;
    mine[n++] = 110;
    mine[n] = 0;
    size_t len;
    char *s = muc_presence_xml(r, o, unavail, mine, true, extra, &len);
    for (size_t k = 0; k < o->nfulls; k++)
        muc_send_raw(srv, o->fulls[k], s, len);
    free(s);
}

bool muc_room_remove_occupant(muc_room *r, muc_occupant *o)
{
    for (size_t k = 0; k < o->nfulls; k++)
        hmap_del(&r->by_full, o->fulls[k]);
    hmap_del(&r->by_nick, o->nick);
    r->noccupants--;
    muc_occupant_free(o);
    if (r->noccupants == 0 && !r->cfg.persistent) {
        log_debug(NULL, "room %s: empty, removed", r->jid);
        muc_room_free(r);
        return true;
    }
    return false;
}

void muc_room_save(muc_room *r)
{
    store *st = r->svc->srv->store;
    if (!r->cfg.persistent) {
        store_muc_delete(st, r->svc->domain, r->name);
        return;
    }
    sbuf b;
    sbuf_init(&b);
    const muc_config *c = &r->cfg;
    sbuf_printf(&b,
                "persistent=1\npublic=%d\nmembers_only=%d\nmoderated=%d\nwhois_anyone=%d\n"
                "change_subject=%d\nallow_invites=%d\nmax_users=%d\nmeeting_id=%s\n",
                c->public_room, c->members_only, c->moderated, c->whois_anyone, c->change_subject,
                c->allow_invites, c->max_users, r->meeting_id);
    /* free-text values last, one per line, with newlines escaped */
    const char *texts[][2] = {
        {"name", c->name}, {"desc", c->desc}, {"password", c->password}, {"subject", r->subject}};
    for (size_t i = 0; i < 4; i++) {
        if (!texts[i][1])
            continue;
        sbuf_printf(&b, "%s=", texts[i][0]);
        for (const char *p = texts[i][1]; *p; p++) {
            if (*p == '\n')
                sbuf_adds(&b, "\\n");
            else if (*p == '\\')
                sbuf_adds(&b, "\\\\");
            else
                sbuf_addc(&b, *p);
        }
        sbuf_addc(&b, '\n');
    }
    store_muc_put(st, r->svc->domain, r->name, b.data);
    sbuf_free(&b);
    store_muc_affs_clear(st, r->svc->domain, r->name);
    size_t i = 0;
    hmap_entry *e;
    while ((e = hmap_next(&r->affs, &i)))
        store_muc_aff_put(st, r->svc->domain, r->name, e->key, (int)((intptr_t)e->value - 2));
}

void muc_room_destroy(muc_room *r, const char *reason, const char *alt)
{
    xml_node *d = xml_new("destroy", XMLNS_MUC_USER);
    if (alt)
        xml_set_attr(d, "jid", alt);
    if (reason)
        xml_add_text(xml_add_child(d, "reason", NULL), reason, strlen(reason));
    size_t i = 0;
    hmap_entry *e;
    /* everyone is told; no one needs to see anyone else leave */
    while ((e = hmap_next(&r->by_nick, &i))) {
        muc_occupant *o = e->value;
        size_t len;
        char *s = muc_presence_xml(r, o, true, NULL, false, d, &len);
        for (size_t k = 0; k < o->nfulls; k++)
            muc_send_raw(r->svc->srv, o->fulls[k], s, len);
        free(s);
    }
    xml_free(d);
    store_muc_delete(r->svc->srv->store, r->svc->domain, r->name);
    log_info(NULL, "room %s destroyed", r->jid);
    muc_room_free(r);
}
