/* muc_disco: service discovery (XEP-0030) for the MUC services and rooms,
 * with the muc#roominfo form (occupants, description, subject, meeting id). */
#include "dataform.h"
#include "muc_room.h"
#include "router.h"
#include "stanza.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DISCO_INFO "http://jabber.org/protocol/disco#info"
#define DISCO_ITEMS "http://jabber.org/protocol/disco#items"

static void muc_feature(xml_node *q, const char *var)
{
    xml_set_attr(xml_add_child(q, "feature", NULL), "var", var);
}

void muc_disco_service(muc_service *svc, xml_node *st)
{
    xml_node *p = stanza_iq_payload(st);
    bool get = strcmp(stanza_type(st), "get") == 0;
    if (!get || !p || !str_eq(p->name, "query") ||
        (!str_eq(p->ns, DISCO_INFO) && !str_eq(p->ns, DISCO_ITEMS))) {
        if (get && p && str_eq(p->name, "ping") && str_eq(p->ns, "urn:xmpp:ping")) {
            router_route_str(svc->srv, stanza_iq_result(st));
            xml_free(st);
            return;
        }
        router_send_error(svc->srv, st, NULL, "service-unavailable", NULL, NULL);
        return;
    }
    xml_node *res = stanza_iq_result(st);
    xml_node *q = xml_add_child(res, "query", p->ns);
    if (str_eq(p->ns, DISCO_INFO)) {
        xml_node *id = xml_add_child(q, "identity", NULL);
        xml_set_attr(id, "category", "conference");
        xml_set_attr(id, "type", "text");
        xml_set_attr(id, "name", svc->internal ? "Internal rooms" : "Meeting rooms");
        muc_feature(q, DISCO_INFO);
        muc_feature(q, DISCO_ITEMS);
        muc_feature(q, XMLNS_MUC);
    } else {
        size_t i = 0, n = 0;
        hmap_entry *e;
        while ((e = hmap_next(&svc->rooms, &i)) && n < 1000) {
            muc_room *r = e->value;
            if (!r->cfg.public_room || svc->internal)
                continue;
            xml_node *it = xml_add_child(q, "item", NULL);
            xml_set_attr(it, "jid", r->jid);
            xml_set_attr(it, "name", r->cfg.name ? r->cfg.name : r->name);
            n++;
        }
    }
    router_route_str(svc->srv, res);
    xml_free(st);
}

void muc_disco_room(muc_room *r, xml_node *st)
{
    xml_node *p = stanza_iq_payload(st);
    if (strcmp(stanza_type(st), "get") != 0 || !str_eq(p->name, "query") ||
        xml_attr_get(p, "node")) {
        router_send_error(r->svc->srv, st, NULL, "item-not-found", NULL, NULL);
        return;
    }
    xml_node *res = stanza_iq_result(st);
    xml_node *q = xml_add_child(res, "query", p->ns);
    const muc_config *c = &r->cfg;
    if (str_eq(p->ns, DISCO_INFO)) {
        xml_node *id = xml_add_child(q, "identity", NULL);
        xml_set_attr(id, "category", "conference");
        xml_set_attr(id, "type", "text");
        xml_set_attr(id, "name", c->name ? c->name : r->name);
        muc_feature(q, DISCO_INFO);
        muc_feature(q, DISCO_ITEMS);
        muc_feature(q, XMLNS_MUC);
        muc_feature(q, c->persistent ? "muc_persistent" : "muc_temporary");
        muc_feature(q, c->members_only ? "muc_membersonly" : "muc_open");
        muc_feature(q, c->moderated ? "muc_moderated" : "muc_unmoderated");
        muc_feature(q, c->whois_anyone ? "muc_nonanonymous" : "muc_semianonymous");
        muc_feature(q, c->password && *c->password ? "muc_passwordprotected" : "muc_unsecured");
        muc_feature(q, c->public_room ? "muc_public" : "muc_hidden");
        xml_node *x = dataform_new(q, "result", "http://jabber.org/protocol/muc#roominfo");
        dataform_add_field(x, "muc#roominfo_description", NULL, "Description",
                           c->desc ? c->desc : "");
        dataform_add_field(x, "muc#roominfo_subject", NULL, "Subject",
                           r->subject ? r->subject : "");
        char num[24];
        snprintf(num, sizeof num, "%zu", muc_room_visible_count(r));
        dataform_add_field(x, "muc#roominfo_occupants", NULL, "Occupants", num);
        dataform_add_field(x, "muc#roominfo_meetingId", NULL, "Meeting id", r->meeting_id);
        dataform_add_field(x, "muc#roomconfig_changesubject", NULL, "Subject changes",
                           c->change_subject ? "1" : "0");
    } else if (c->whois_anyone) {
        size_t i = 0;
        hmap_entry *e;
        while ((e = hmap_next(&r->by_nick, &i))) {
            muc_occupant *o = e->value;
            if (!o->hidden)
                xml_set_attr(xml_add_child(q, "item", NULL), "jid", o->occ_jid);
        }
    }
    router_route_str(r->svc->srv, res);
    xml_free(st);
}
