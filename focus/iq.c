/* iq: IQ requests the focus sends (Colibri2, healthchecks, Jingle, recorder
 * start/stop, muc#admin) with a time bound each, and the small stanza
 * helpers every module uses. A pending request remembers a key (what it was
 * about) and a generation, never a pointer, so an answer for something that
 * went away meanwhile is recognised and dropped by its callback. */
#include "focus.h"
#include "log.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct pending_iq {
    focus *f;
    char id[48];
    char *to; /* an answer must come from here */
    char *key;
    unsigned gen;
    iq_cb cb;
    struct event *timer;
} pending_iq;

static void pending_free(pending_iq *p)
{
    event_free(p->timer);
    free(p->key);
    free(p->to);
    free(p);
}

static void iq_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    pending_iq *p = arg;
    focus *f = p->f;
    hmap_del(&f->pending, p->id);
    if (p->cb)
        p->cb(f, NULL, p->key, p->gen);
    pending_free(p);
}

void focus_send(focus *f, xmpp_stanza_t *st)
{
    if (!xmpp_stanza_get_from(st))
        xmpp_stanza_set_from(st, f->jid);
    xmpp_ev_send(f->xmpp, st);
}

void iq_send(focus *f, xmpp_stanza_t *iq, int timeout_ms, iq_cb cb, const char *key, unsigned gen)
{
    pending_iq *p = xcalloc(1, sizeof *p);
    p->f = f;
    /* unguessable: an answer is only believed with the right id and sender */
    char rnd[17];
    random_id(rnd, 16);
    snprintf(p->id, sizeof p->id, "f%lu-%s", ++f->iq_seq, rnd);
    const char *to = xmpp_stanza_get_to(iq);
    p->to = xstrdup(to ? to : "");
    p->key = xstrdup(key ? key : "");
    p->gen = gen;
    p->cb = cb;
    xmpp_stanza_set_id(iq, p->id);
    p->timer = evtimer_new(f->base, iq_timeout_cb, p);
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    evtimer_add(p->timer, &tv);
    hmap_put(&f->pending, p->id, p);
    focus_send(f, iq);
}

bool iq_on_answer(focus *f, xmpp_stanza_t *st)
{
    const char *id = xmpp_stanza_get_id(st);
    if (!id)
        return false;
    pending_iq *p = hmap_get(&f->pending, id);
    const char *from = xmpp_stanza_get_from(st);
    if (!p || !from || strcasecmp(from, p->to) != 0)
        return false;
    hmap_del(&f->pending, id);
    if (p->cb)
        p->cb(f, st, p->key, p->gen);
    pending_free(p);
    return true;
}

void iq_fail_all(focus *f)
{
    /* a snapshot: callbacks may send new requests */
    size_t n = f->pending.len, k = 0, it = 0;
    pending_iq **all = xcalloc(n ? n : 1, sizeof *all);
    hmap_entry *e;
    while ((e = hmap_next(&f->pending, &it)) && k < n)
        all[k++] = e->value;
    for (size_t i = 0; i < k; i++) {
        hmap_del(&f->pending, all[i]->id);
        if (all[i]->cb)
            all[i]->cb(f, NULL, all[i]->key, all[i]->gen);
        pending_free(all[i]);
    }
    free(all);
}

xmpp_stanza_t *st_new(focus *f, const char *name, const char *ns)
{
    xmpp_stanza_t *s = xmpp_stanza_new(xmpp_ev_ctx(f->xmpp));
    xmpp_stanza_set_name(s, name);
    if (ns)
        xmpp_stanza_set_ns(s, ns);
    return s;
}

void st_add(xmpp_stanza_t *parent, xmpp_stanza_t *child)
{
    xmpp_stanza_add_child_ex(parent, child, 0);
}

void st_text(focus *f, xmpp_stanza_t *parent, const char *text)
{
    xmpp_stanza_t *t = xmpp_stanza_new(xmpp_ev_ctx(f->xmpp));
    xmpp_stanza_set_text(t, text);
    st_add(parent, t);
}

void iq_result(focus *f, xmpp_stanza_t *req, xmpp_stanza_t *child)
{
    xmpp_stanza_t *r = xmpp_iq_new(xmpp_ev_ctx(f->xmpp), "result", xmpp_stanza_get_id(req));
    const char *from = xmpp_stanza_get_from(req), *to = xmpp_stanza_get_to(req);
    if (from)
        xmpp_stanza_set_to(r, from);
    xmpp_stanza_set_from(r, to ? to : f->jid);
    if (child)
        st_add(r, child);
    xmpp_ev_send(f->xmpp, r);
    xmpp_stanza_release(r);
}

void iq_error(focus *f, xmpp_stanza_t *req, const char *type, const char *cond, const char *text,
              xmpp_stanza_t *extra)
{
    xmpp_stanza_t *r = xmpp_iq_new(xmpp_ev_ctx(f->xmpp), "error", xmpp_stanza_get_id(req));
    const char *from = xmpp_stanza_get_from(req), *to = xmpp_stanza_get_to(req);
    if (from)
        xmpp_stanza_set_to(r, from);
    xmpp_stanza_set_from(r, to ? to : f->jid);
    xmpp_stanza_t *e = st_new(f, "error", NULL);
    xmpp_stanza_set_type(e, type);
    st_add(e, st_new(f, cond, "urn:ietf:params:xml:ns:xmpp-stanzas"));
    if (text) {
        xmpp_stanza_t *t = st_new(f, "text", "urn:ietf:params:xml:ns:xmpp-stanzas");
        st_text(f, t, text);
        st_add(e, t);
    }
    if (extra)
        st_add(e, extra);
    st_add(r, e);
    xmpp_ev_send(f->xmpp, r);
    xmpp_stanza_release(r);
}
