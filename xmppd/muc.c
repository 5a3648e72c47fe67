#include "muc.h"
#include "log.h"
#include "muc_room.h"
#include "router.h"
#include "stanza.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* The services live in srv->muc (two entries: conference, brewery). */

static muc_service *muc_service_get(xmppd *srv, const char *domain)
{
    for (size_t i = 0; i < 2; i++)
        if (srv->muc[i] && domain && strcmp(srv->muc[i]->domain, domain) == 0)
            return srv->muc[i];
    return NULL;
}

bool muc_is_service(xmppd *srv, const char *domain)
{
    return muc_service_get(srv, domain) != NULL;
}

/* Parses one stored room's KEY=value text into r. */
static void muc_load_config(muc_room *r, const char *text)
{
    char *copy = xstrdup(text), *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = '\0';
        char *v = eq + 1;
        /* unescape \n and \\ in place */
        char *w = v;
        for (char *p = v; *p; p++) {
            if (*p == '\\' && p[1]) {
                p++;
                *w++ = *p == 'n' ? '\n' : *p;
            } else {
                *w++ = *p;
            }
        }
        *w = '\0';
        muc_config *c = &r->cfg;
        bool b = strcmp(v, "1") == 0;
        if (strcmp(line, "persistent") == 0)
            c->persistent = b;
        else if (strcmp(line, "public") == 0)
            c->public_room = b;
        else if (strcmp(line, "members_only") == 0)
            c->members_only = b;
        else if (strcmp(line, "moderated") == 0)
            c->moderated = b;
        else if (strcmp(line, "whois_anyone") == 0)
            c->whois_anyone = b;
        else if (strcmp(line, "change_subject") == 0)
            c->change_subject = b;
        else if (strcmp(line, "allow_invites") == 0)
            c->allow_invites = b;
        else if (strcmp(line, "max_users") == 0)
            c->max_users = atoi(v);
        else if (strcmp(line, "meeting_id") == 0)
            snprintf(r->meeting_id, sizeof r->meeting_id, "%s", v);
        else if (strcmp(line, "name") == 0)
            c->name = xstrdup(v);
        else if (strcmp(line, "desc") == 0)
            c->desc = xstrdup(v);
        else if (strcmp(line, "password") == 0)
            c->password = xstrdup(v);
        else if (strcmp(line, "subject") == 0)
            r->subject = xstrdup(v);
    }
    free(copy);
}

static void muc_load_aff_cb(void *ud, const char *jid, const char *aff)
{
    int a = atoi(aff);
    if (a >= AFF_OUTCAST && a <= AFF_OWNER)
        muc_room_set_aff(ud, jid, (muc_aff)a);
}

static void muc_load_room_cb(void *ud, const char *name, const char *config)
{
    muc_service *svc = ud;
    muc_room *r = muc_room_new(svc, name);
    muc_load_config(r, config);
    r->cfg.persistent = true;
    store_muc_affs_load(svc->srv->store, svc->domain, name, muc_load_aff_cb, r);
}

int muc_init(xmppd *srv)
{
    const char *domains[2] = {srv->set.muc_domain, srv->set.internal_muc_domain};
    for (size_t i = 0; i < 2; i++) {
        muc_service *svc = xcalloc(1, sizeof *svc);
        svc->srv = srv;
        svc->domain = xstrdup(domains[i]);
        svc->internal = i == 1;
        hmap_init(&svc->rooms);
        srv->muc[i] = svc;
        if (store_muc_load(srv->store, svc->domain, muc_load_room_cb, svc) != 0)
            return -1;
        log_info(NULL, "MUC %s: %zu persistent rooms", svc->domain, svc->rooms.len);
    }
    return 0;
}

void muc_free(xmppd *srv)
{
    for (size_t i = 0; i < 2; i++) {
        muc_service *svc = srv->muc[i];
        if (!svc)
            continue;
        size_t it = 0;
        hmap_entry *e;
        while ((e = hmap_next(&svc->rooms, &it)))
            muc_room_free(e->value); /* removes itself from the map */
        hmap_free(&svc->rooms);
        free(svc->domain);
        free(svc);
        srv->muc[i] = NULL;
    }
}

static void muc_room_iq(muc_service *svc, xml_node *st, const jid *to)
{
    xmppd *srv = svc->srv;
    if (stanza_no_error_reply(st)) {
        xml_free(st);
        return;
    }
    muc_room *r = hmap_get(&svc->rooms, to->node);
    xml_node *p = stanza_iq_payload(st);
    const char *from = xml_attr_get(st, "from");
    char *from_bare = from ? jid_normalize(from, true) : NULL;
    if (!r || !p || !from_bare) {
        router_send_error(srv, st, NULL, "item-not-found", NULL, NULL);
    } else if (str_eq(p->ns, "http://jabber.org/protocol/disco#info") ||
               str_eq(p->ns, "http://jabber.org/protocol/disco#items")) {
        muc_disco_room(r, st);
    } else if (str_eq(p->ns, XMLNS_MUC_ADMIN)) {
        muc_admin_iq(r, st, hmap_get(&r->by_full, from), from_bare);
    } else if (str_eq(p->ns, XMLNS_MUC_OWNER)) {
        muc_owner_iq(r, st, from_bare);
    } else if (str_eq(p->name, "ping") && str_eq(p->ns, "urn:xmpp:ping")) {
        router_route_str(srv, stanza_iq_result(st));
        xml_free(st);
    } else {
        router_send_error(srv, st, NULL, "service-unavailable", NULL, NULL);
    }
    free(from_bare);
}

void muc_route(xmppd *srv, xml_node *st, const jid *to)
{
    muc_service *svc = muc_service_get(srv, to->domain);
    if (!svc) {
        xml_free(st);
        return;
    }
    bool iq = strcmp(st->name, "iq") == 0;
    if (!to->node) {
        if (iq && !stanza_no_error_reply(st))
            muc_disco_service(svc, st);
        else if (strcmp(st->name, "message") == 0)
            router_send_error(srv, st, NULL, "service-unavailable", NULL, NULL);
        else
            xml_free(st);
        return;
    }
    if (strcmp(st->name, "presence") == 0)
        muc_presence(svc, st, to);
    else if (strcmp(st->name, "message") == 0)
        muc_message(svc, st, to);
    else if (to->resource)
        muc_occupant_iq(svc, st, to);
    else
        muc_room_iq(svc, st, to);
}

void muc_domain_gone(xmppd *srv, const char *domain)
{
    size_t dl = strlen(domain);
    for (size_t i = 0; i < 2; i++) {
        muc_service *svc = srv->muc[i];
        if (!svc)
            continue;
        /* collect first: leaving may free rooms */
        char **fulls = NULL, **rooms = NULL;
        size_t n = 0, it = 0;
        hmap_entry *e;
        while ((e = hmap_next(&svc->rooms, &it))) {
            muc_room *r = e->value;
            size_t jt = 0;
            hmap_entry *f;
            while ((f = hmap_next(&r->by_full, &jt))) {
                const char *full = f->key;
                const char *at = strchr(full, '@'), *slash = strchr(full, '/');
                const char *d = at && (!slash || at < slash) ? at + 1 : full;
                if (strncmp(d, domain, dl) == 0 && (d[dl] == '/' || d[dl] == '\0')) {
                    fulls = xrealloc(fulls, (n + 1) * sizeof *fulls);
                    rooms = xrealloc(rooms, (n + 1) * sizeof *rooms);
                    fulls[n] = xstrdup(full);
                    rooms[n++] = xstrdup(r->name);
                }
            }
        }
        for (size_t k = 0; k < n; k++) {
            muc_room *r = hmap_get(&svc->rooms, rooms[k]);
            muc_occupant *o = r ? hmap_get(&r->by_full, fulls[k]) : NULL;
            if (o) {
                xml_node *p = xml_new("presence", XMLNS_CLIENT);
                xml_set_attr(p, "type", "unavailable");
                xml_set_attr(p, "from", fulls[k]);
                char *occ = xstrdup(o->occ_jid);
                jid to;
                if (jid_parse(occ, &to) == 0) {
                    muc_presence(svc, p, &to);
                    jid_clear(&to);
                } else {
                    xml_free(p);
                }
                free(occ);
            }
            free(fulls[k]);
            free(rooms[k]);
        }
        free(fulls);
        free(rooms);
    }
}
