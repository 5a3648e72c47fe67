/* xmpp: the focus's one XMPP connection, the component focus.DOMAIN
 * (xmpp_ev: libstrophe on the focus's loop, reconnecting with backoff),
 * and the dispatch of what arrives: IQ results to the pending requests,
 * IQ requests by their child element (conference, Jingle, mute, jibri,
 * disco, ping), presence by room (breweries, conference rooms). On every
 * (re)connection it joins the breweries and rejoins its conference rooms. */
#include "focus.h"
#include "log.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_FOCUS "http://jitsi.org/protocol/focus"
#define NS_JINGLE "urn:xmpp:jingle:1"
#define NS_JIBRI "http://jitsi.org/protocol/jibri"
#define NS_DISCO_INFO "http://jabber.org/protocol/disco#info"

static xmpp_stanza_t *first_child(xmpp_stanza_t *st)
{
    xmpp_stanza_t *c = xmpp_stanza_get_children(st);
    while (c && !xmpp_stanza_is_tag(c))
        c = xmpp_stanza_get_next(c);
    return c;
}

static bool ns_is(xmpp_stanza_t *c, const char *name, const char *ns)
{
    const char *n = xmpp_stanza_get_name(c), *s = xmpp_stanza_get_ns(c);
    return n && s && strcmp(n, name) == 0 && strcmp(s, ns) == 0;
}

static void disco_info(focus *f, xmpp_stanza_t *iq)
{
    xmpp_stanza_t *q = st_new(f, "query", NS_DISCO_INFO);
    xmpp_stanza_t *id = st_new(f, "identity", NULL);
    xmpp_stanza_set_attribute(id, "category", "component");
    xmpp_stanza_set_attribute(id, "type", "focus");
    xmpp_stanza_set_attribute(id, "name", "parley focus");
    st_add(q, id);
    static const char *features[] = {NS_DISCO_INFO,
                                     NS_FOCUS,
                                     NS_JINGLE,
                                     "urn:xmpp:ping",
                                     "http://jitsi.org/protocol/jibri",
                                     "http://jitsi.org/jitmeet/audio",
                                     "http://jitsi.org/jitmeet/video"};
    for (size_t i = 0; i < sizeof features / sizeof features[0]; i++) {
        xmpp_stanza_t *fe = st_new(f, "feature", NULL);
        xmpp_stanza_set_attribute(fe, "var", features[i]);
        st_add(q, fe);
    }
    iq_result(f, iq, q);
}

static int focus_iq_handler(xmpp_conn_t *conn, xmpp_stanza_t *iq, void *ud)
{
    focus *f = ud;
    const char *type = xmpp_stanza_get_type(iq);
    if (!type)
        return 1;
    if (strcmp(type, "result") == 0 || strcmp(type, "error") == 0) {
        iq_on_answer(f, iq);
        return 1;
    }
    if (strcmp(type, "get") != 0 && strcmp(type, "set") != 0) {
        iq_error(f, iq, "modify", "bad-request", "unknown iq type", NULL);
        return 1;
    }
    xmpp_stanza_t *c = first_child(iq);
    const char *ns = c ? xmpp_stanza_get_ns(c) : NULL;
    if (!c || !ns) {
        iq_error(f, iq, "modify", "bad-request", "an iq request needs one child element", NULL);
    } else if (ns_is(c, "conference", NS_FOCUS)) {
        conf_request(f, iq);
    } else if (ns_is(c, "jingle", NS_JINGLE)) {
        session_on_jingle(f, iq);
    } else if (strcmp(xmpp_stanza_get_name(c), "mute") == 0 &&
               (strcmp(ns, "http://jitsi.org/jitmeet/audio") == 0 ||
                strcmp(ns, "http://jitsi.org/jitmeet/video") == 0 ||
                strcmp(ns, "http://jitsi.org/jitmeet/desktop") == 0)) {
        mute_request(f, iq);
    } else if (ns_is(c, "jibri", NS_JIBRI)) {
        jibri_request(f, iq);
    } else if (ns_is(c, "query", NS_DISCO_INFO) && strcmp(type, "get") == 0) {
        disco_info(f, iq);
    } else if (ns_is(c, "ping", "urn:xmpp:ping")) {
        iq_result(f, iq, NULL);
    } else {
        iq_error(f, iq, "cancel", "service-unavailable", NULL, NULL);
    }
    return 1;
}

static bool from_room(const char *from, const char *room, const char *domain)
{
    /* from = ROOM@DOMAIN/NICK where ROOM@DOMAIN is room (or domain is domain) */
    const char *at = strchr(from, '@'), *slash = strchr(from, '/');
    if (!at || !slash || slash < at)
        return false;
    if (room)
        return (size_t)(slash - from) == strlen(room) && strncmp(from, room, strlen(room)) == 0;
    return (size_t)(slash - at - 1) == strlen(domain) &&
           strncmp(at + 1, domain, strlen(domain)) == 0;
}

static int focus_presence_handler(xmpp_conn_t *conn, xmpp_stanza_t *p, void *ud)
{
    focus *f = ud;
    const char *from = xmpp_stanza_get_from(p);
    if (!from)
        return 1;
    char brewery[512];
    snprintf(brewery, sizeof brewery, "%s@%s", f->set.jvb_brewery, f->set.internal_muc_domain);
    if (from_room(from, brewery, NULL)) {
        bridges_presence(f, p);
        return 1;
    }
    snprintf(brewery, sizeof brewery, "%s@%s", f->set.jibri_brewery, f->set.internal_muc_domain);
    if (from_room(from, brewery, NULL)) {
        jibri_presence(f, p);
        return 1;
    }
    if (from_room(from, NULL, f->set.muc_domain))
        conf_presence(f, p);
    return 1;
}

static void join_room(focus *f, const char *room)
{
    xmpp_stanza_t *p = xmpp_presence_new(xmpp_ev_ctx(f->xmpp));
    char to[600];
    snprintf(to, sizeof to, "%s/%s", room, FOCUS_NICK);
    xmpp_stanza_set_to(p, to);
    xmpp_stanza_t *x = st_new(f, "x", "http://jabber.org/protocol/muc");
    xmpp_stanza_t *h = st_new(f, "history", NULL);
    xmpp_stanza_set_attribute(h, "maxstanzas", "0");
    st_add(x, h);
    st_add(p, x);
    focus_send(f, p);
    xmpp_stanza_release(p);
}

void focus_join_breweries(focus *f)
{
    char room[512];
    snprintf(room, sizeof room, "%s@%s", f->set.jvb_brewery, f->set.internal_muc_domain);
    join_room(f, room);
    snprintf(room, sizeof room, "%s@%s", f->set.jibri_brewery, f->set.internal_muc_domain);
    join_room(f, room);
}

static void focus_state(xmpp_ev *x, bool connected, void *ud)
{
    focus *f = ud;
    if (!connected) {
        f->in_jvb_brewery = f->in_jibri_brewery = false;
        iq_fail_all(f);
        /* the breweries list their occupants again when the focus rejoins */
        size_t it = 0;
        hmap_entry *e;
        while ((e = hmap_next(&f->bridges, &it))) {
            free(e->value);
            hmap_del(&f->bridges, e->key);
        }
        it = 0;
        while ((e = hmap_next(&f->recorders, &it))) {
            free(e->value);
            hmap_del(&f->recorders, e->key);
        }
        return;
    }
    xmpp_conn_t *conn = xmpp_ev_conn(x);
    xmpp_handler_add(conn, focus_iq_handler, NULL, "iq", NULL, f);
    xmpp_handler_add(conn, focus_presence_handler, NULL, "presence", NULL, f);
    focus_join_breweries(f);
    size_t it = 0;
    hmap_entry *e;
    while ((e = hmap_next(&f->confs, &it))) {
        fconf *c = e->value;
        c->joined = false;
        c->round++; /* occupants not listed again in this round are gone */
        conf_send_presence(c);
    }
}

void focus_xmpp_start(focus *f)
{
    char ctx[600];
    snprintf(ctx, sizeof ctx, "[component=%s]", f->set.focus_domain);
    if (asprintf(&f->jid, "%s/%s", f->set.focus_domain, FOCUS_NICK) < 0)
        fatal("out of memory");
    xmpp_ev_opts o = {
        .jid = f->set.focus_domain,
        .password = f->set.secret,
        .host = f->set.xmpp_host,
        .port = (unsigned short)f->set.component_port,
        .component = true,
        .backoff_max_s = 30,
        .log_ctx = ctx,
    };
    f->xmpp = xmpp_ev_new(f->base, &o, focus_state, f);
}

void focus_xmpp_stop(focus *f)
{
    xmpp_ev_free(f->xmpp);
    f->xmpp = NULL;
    free(f->jid);
    f->jid = NULL;
}
