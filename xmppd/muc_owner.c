/* muc_owner: muc#owner (XEP-0045 section 10): the room configuration form
 * (get, submit, cancel) and destroy. */
#include "dataform.h"
#include "log.h"
#include "muc_room.h"
#include "router.h"
#include "stanza.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROOMCONFIG "http://jabber.org/protocol/muc#roomconfig"
#define F(x) "muc#roomconfig_" x

static void muc_owner_bool(xml_node *x, const char *var, const char *label, bool v)
{
    dataform_add_field(x, var, "boolean", label, v ? "1" : "0");
}

static void muc_owner_form(muc_room *r, xml_node *st)
{
    const muc_config *c = &r->cfg;
    xml_node *res = stanza_iq_result(st);
    xml_node *q = xml_add_child(res, "query", XMLNS_MUC_OWNER);
    xml_node *x = dataform_new(q, "form", ROOMCONFIG);
    dataform_add_field(x, F("roomname"), "text-single", "Name", c->name);
    dataform_add_field(x, F("roomdesc"), "text-single", "Description", c->desc);
    muc_owner_bool(x, F("persistentroom"), "Persistent", c->persistent);
    muc_owner_bool(x, F("publicroom"), "Listed", c->public_room);
    muc_owner_bool(x, F("membersonly"), "Members only", c->members_only);
    muc_owner_bool(x, F("moderatedroom"), "Moderated", c->moderated);
    muc_owner_bool(x, F("passwordprotectedroom"), "Password protected",
                   c->password && *c->password);
    dataform_add_field(x, F("roomsecret"), "text-private", "Password", c->password);
    char num[16];
    snprintf(num, sizeof num, "%d", c->max_users);
    xml_node *mu = dataform_add_field(x, F("maxusers"), "list-single", "Maximum occupants",
                                      c->max_users ? num : "0");
    dataform_add_option(mu, "no limit", "0");
    static const char *sizes[] = {"5", "10", "20", "50", "100", "500", "1000"};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        dataform_add_option(mu, sizes[i], sizes[i]);
    xml_node *w = dataform_add_field(x, F("whois"), "list-single", "Who may see real JIDs",
                                     c->whois_anyone ? "anyone" : "moderators");
    dataform_add_option(w, "moderators", "moderators");
    dataform_add_option(w, "anyone", "anyone");
    muc_owner_bool(x, F("changesubject"), "Occupants may change the subject", c->change_subject);
    muc_owner_bool(x, F("allowinvites"), "Occupants may invite", c->allow_invites);
    dataform_add_field(x, "muc#roominfo_meetingId", "text-single", "Meeting id", r->meeting_id);
    router_route_str(r->svc->srv, res);
    xml_free(st);
}

static const char *const muc_owner_fields[] = {
    "FORM_TYPE",       F("roomname"),    F("roomdesc"),      F("persistentroom"),
    F("publicroom"),   F("membersonly"), F("moderatedroom"), F("passwordprotectedroom"),
    F("roomsecret"),   F("maxusers"),    F("whois"),         F("changesubject"),
    F("allowinvites"),
};

/* Applies a submitted form; NULL or a reason for not-acceptable. */
static const char *muc_owner_apply(muc_room *r, const dataform *f, char *why, size_t whylen)
{
    for (size_t i = 0; i < f->nfields; i++) {
        const char *var = f->fields[i].var;
        bool known = !var;
        for (size_t k = 0; var && k < sizeof muc_owner_fields / sizeof *muc_owner_fields; k++)
            known |= strcmp(var, muc_owner_fields[k]) == 0;
        if (!known) {
            snprintf(why, whylen, "unknown field %.200s", var);
            return why;
        }
    }
    if (f->form_type && strcmp(f->form_type, ROOMCONFIG) != 0)
        return "wrong FORM_TYPE";
    muc_config c = r->cfg; /* applied only if everything is valid */
    struct {
        const char *var;
        bool *dst;
    } bools[] = {
        {F("persistentroom"), &c.persistent},    {F("publicroom"), &c.public_room},
        {F("membersonly"), &c.members_only},     {F("moderatedroom"), &c.moderated},
        {F("changesubject"), &c.change_subject}, {F("allowinvites"), &c.allow_invites},
    };
    for (size_t i = 0; i < sizeof bools / sizeof bools[0]; i++) {
        if (dataform_bool(f, bools[i].var, bools[i].dst) < 0) {
            snprintf(why, whylen, "%s must be a boolean", bools[i].var);
            return why;
        }
    }
    bool pw_on = c.password && *c.password, pw_flag;
    int has_flag = dataform_bool(f, F("passwordprotectedroom"), &pw_flag);
    if (has_flag < 0)
        return "passwordprotectedroom must be a boolean";
    const char *w = dataform_value(f, F("whois"));
    if (w && strcmp(w, "anyone") != 0 && strcmp(w, "moderators") != 0)
        return "whois must be anyone or moderators";
    const char *mu = dataform_value(f, F("maxusers"));
    int max_users = c.max_users;
    if (mu) {
        char *end;
        long v = strtol(mu, &end, 10);
        if (*end || end == mu || v < 0 || v > 100000)
            return "maxusers must be a number";
        max_users = (int)v;
    }
    const char *texts[2] = {dataform_value(f, F("roomname")), dataform_value(f, F("roomdesc"))};
    for (size_t i = 0; i < 2; i++)
        if (texts[i] && strlen(texts[i]) > 1024)
            return "name and description are limited to 1024 bytes";
    const char *secret = dataform_value(f, F("roomsecret"));
    if (secret && strlen(secret) > 1024)
        return "password too long";
    /* everything valid: apply */
    char *pw = secret ? xstrdup(secret) : (c.password ? xstrdup(c.password) : NULL);
    if (has_flag == 1 && !pw_flag) {
        free(pw);
        pw = NULL;
    }
    (void)pw_on;
    free(r->cfg.password);
    c.password = pw;
    if (texts[0]) {
        free(r->cfg.name);
        c.name = xstrdup(texts[0]);
    }
    if (texts[1]) {
        free(r->cfg.desc);
        c.desc = xstrdup(texts[1]);
    }
    if (w)
        c.whois_anyone = strcmp(w, "anyone") == 0;
    c.max_users = max_users;
    r->cfg = c;
    return NULL;
}

void muc_owner_iq(muc_room *r, xml_node *st, const char *from_bare)
{
    xmppd *srv = r->svc->srv;
    xml_node *q = stanza_iq_payload(st);
    if (muc_room_aff(r, from_bare) != AFF_OWNER) {
        router_send_error(srv, st, "auth", "forbidden", "owners only", NULL);
        return;
    }
    if (!str_eq(q->name, "query")) {
        router_send_error(srv, st, "modify", "bad-request", NULL, NULL);
        return;
    }
    if (strcmp(stanza_type(st), "get") == 0) {
        muc_owner_form(r, st);
        return;
    }
    xml_node *d = xml_child(q, "destroy", XMLNS_MUC_OWNER);
    if (d) {
        char *reason = NULL;
        xml_node *rn = xml_child(d, "reason", XMLNS_MUC_OWNER);
        if (rn)
            reason = xml_text(rn, NULL);
        router_route_str(srv, stanza_iq_result(st));
        char *alt = xml_attr_get(d, "jid") ? xstrdup(xml_attr_get(d, "jid")) : NULL;
        xml_free(st);
        muc_room_destroy(r, reason, alt);
        free(reason);
        free(alt);
        return;
    }
    xml_node *x = xml_child(q, "x", XMLNS_DATA);
    if (!x) {
        router_send_error(srv, st, "modify", "bad-request", "expected a data form or destroy",
                          NULL);
        return;
    }
    dataform f;
    const char *why = NULL;
    if (dataform_parse(x, &f, &why) != 0) {
        router_send_error(srv, st, "modify", "bad-request", why, NULL);
        return;
    }
    if (f.type && strcmp(f.type, "cancel") == 0) {
        dataform_clear(&f);
        router_route_str(srv, stanza_iq_result(st));
        xml_free(st);
        return;
    }
    if (!f.type || strcmp(f.type, "submit") != 0) {
        dataform_clear(&f);
        router_send_error(srv, st, "modify", "bad-request", "expected type submit", NULL);
        return;
    }
    bool was_persistent = r->cfg.persistent;
    char buf[256];
    const char *err = muc_owner_apply(r, &f, buf, sizeof buf);
    dataform_clear(&f);
    if (err) {
        router_send_error(srv, st, "modify", "not-acceptable", err, NULL);
        return;
    }
    if (r->cfg.persistent || was_persistent)
        muc_room_save(r);
    router_route_str(srv, stanza_iq_result(st));
    xml_free(st);
    log_info(NULL, "room %s configured by %s", r->jid, from_bare);
    /* members-only now: non-members leave (321) */
    if (r->cfg.members_only) {
        muc_occupant *out[256];
        size_t n = 0, i = 0;
        hmap_entry *e;
        while ((e = hmap_next(&r->by_nick, &i)) && n < 256)
            if (muc_room_aff(r, ((muc_occupant *)e->value)->real_bare) < AFF_MEMBER)
                out[n++] = e->value;
        static const int c321[] = {321, 0};
        for (size_t k = 0; k < n; k++) {
            muc_room_broadcast_presence(r, out[k], true, c321, NULL, NULL);
            if (muc_room_remove_occupant(r, out[k]))
                return;
        }
    }
    if (!r->cfg.persistent && r->noccupants == 0)
        muc_room_free(r);
}
