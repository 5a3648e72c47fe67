/* conference: conference rooms as the focus sees them.
 *
 * The conference IQ (jitsi-protocol.md §1) makes the focus join ROOM as
 * `focus` (xmppd lets only the focus create rooms) and answers
 * ready='true' focusjid='focus.DOMAIN' once the focus is in; bad requests
 * get bad-request. Occupant presence drives everything else: participants
 * come and go, the first non-hidden participant is made owner (moderator)
 * and the next in line when the owner leaves, hidden (recorder) occupants
 * never are; from two participants on everyone is invited (session.c); a
 * participant left alone loses its session after
 * FOCUS_SINGLE_PARTICIPANT_TIMEOUT; an empty room ends the conference. */
#include "focus.h"
#include "log.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_FOCUS "http://jitsi.org/protocol/focus"
#define NS_MUC "http://jabber.org/protocol/muc"
#define NS_MUC_USER "http://jabber.org/protocol/muc#user"
#define NS_MUC_ADMIN "http://jabber.org/protocol/muc#admin"
#define CONF_JOIN_TIMEOUT_S 15

static void conf_ctx(const fconf *c, char *out, size_t n)
{
    snprintf(out, n, "[room=%s meeting_id=%s]", c->room, c->meeting_id);
}

fconf *conf_find(focus *f, const char *room)
{
    return hmap_get(&f->confs, room);
}

static participant *conf_participant_by_epid(fconf *c, const char *epid)
{
    for (int i = 0; i < c->nparts; i++)
        if (strcmp(c->parts[i]->epid, epid) == 0)
            return c->parts[i];
    return NULL;
}

participant *conf_participant(fconf *c, const char *nick)
{
    for (int i = 0; i < c->nparts; i++)
        if (strcmp(c->parts[i]->nick, nick) == 0)
            return c->parts[i];
    return NULL;
}

int conf_active_count(const fconf *c)
{
    int n = 0;
    for (int i = 0; i < c->nparts; i++)
        n += !c->parts[i]->hidden;
    return n;
}

static void uuid(char out[37])
{
    unsigned char b[16];
    random_bytes(b, sizeof b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

/* The focus's presence in the room: join (first time), conference
 * properties, bridge availability, recording status. */
void conf_send_presence(fconf *c)
{
    focus *f = c->f;
    xmpp_stanza_t *p = xmpp_presence_new(xmpp_ev_ctx(f->xmpp));
    char to[600];
    snprintf(to, sizeof to, "%s/%s", c->room, FOCUS_NICK);
    xmpp_stanza_set_to(p, to);
    if (!c->joined) {
        xmpp_stanza_t *x = st_new(f, "x", NS_MUC);
        xmpp_stanza_t *h = st_new(f, "history", NULL);
        xmpp_stanza_set_attribute(h, "maxstanzas", "0");
        st_add(x, h);
        st_add(p, x);
    }
    xmpp_stanza_t *v = st_new(f, "versions", "http://jitsi.org/jitmeet");
    xmpp_stanza_t *comp = st_new(f, "component", NULL);
    xmpp_stanza_set_attribute(comp, "name", "focus");
    st_text(f, comp, PARLEY_VERSION);
    st_add(v, comp);
    st_add(p, v);
    xmpp_stanza_t *props = st_new(f, "conference-properties", NS_FOCUS);
    xmpp_stanza_t *pr = st_new(f, "property", NULL);
    xmpp_stanza_set_attribute(pr, "key", "support-terminate-restart");
    xmpp_stanza_set_attribute(pr, "value", "true");
    st_add(props, pr);
    pr = st_new(f, "property", NULL);
    xmpp_stanza_set_attribute(pr, "key", "bridge-count");
    xmpp_stanza_set_attribute(pr, "value", c->bridge_occupant[0] ? "1" : "0");
    st_add(props, pr);
    st_add(p, props);
    if (!bridges_any_usable(f))
        st_add(p, st_new(f, "bridgeNotAvailable", NS_FOCUS));
    if (c->rec_status[0] && strcmp(c->rec_status, "pending") != 0) {
        xmpp_stanza_t *r = st_new(f, "jibri-recording-status", "http://jitsi.org/protocol/jibri");
        xmpp_stanza_set_attribute(r, "status", c->rec_status);
        if (c->rec_session[0])
            xmpp_stanza_set_attribute(r, "session_id", c->rec_session);
        xmpp_stanza_set_attribute(r, "recording_mode", "file");
        if (c->rec_initiator[0])
            xmpp_stanza_set_attribute(
                r, strcmp(c->rec_status, "on") == 0 ? "initiator" : "terminator", c->rec_initiator);
        st_add(p, r);
    }
    focus_send(f, p);
    xmpp_stanza_release(p);
}

static void conf_answer(fconf *c, xmpp_stanza_t *iq, bool ready)
{
    focus *f = c->f;
    xmpp_stanza_t *q = st_new(f, "conference", NS_FOCUS);
    xmpp_stanza_set_attribute(q, "room", c->room);
    xmpp_stanza_set_attribute(q, "focusjid", f->set.focus_domain);
    xmpp_stanza_set_attribute(q, "ready", ready ? "true" : "false");
    static const char *props[][2] = {{"authentication", "false"},
                                     {"visitors-supported", "false"},
                                     {"sipGatewayEnabled", "false"}};
    for (size_t i = 0; i < sizeof props / sizeof props[0]; i++) {
        xmpp_stanza_t *pr = st_new(f, "property", NULL);
        xmpp_stanza_set_attribute(pr, "name", props[i][0]);
        xmpp_stanza_set_attribute(pr, "value", props[i][1]);
        st_add(q, pr);
    }
    iq_result(f, iq, q);
}

static void conf_flush_waiting(fconf *c, bool ok)
{
    for (int i = 0; i < c->nwaiting; i++) {
        if (ok)
            conf_answer(c, c->waiting[i], true);
        else
            iq_error(c->f, c->waiting[i], "wait", "service-unavailable",
                     "the focus could not join the room", NULL);
        xmpp_stanza_release(c->waiting[i]);
    }
    c->nwaiting = 0;
}

static void join_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    fconf *c = arg;
    if (c->nparts == 0)
        conf_end(c, "nobody joined");
}

static fconf *conf_new(focus *f, const char *room)
{
    fconf *c = xcalloc(1, sizeof *c);
    c->f = f;
    snprintf(c->room, sizeof c->room, "%s", room);
    uuid(c->meeting_id);
    uuid(c->bridge_session);
    c->created_ms = now_ms();
    c->bridge_gen = ++f->gen_seq;
    /* a conference IQ nobody follows with a join must not stay forever */
    c->join_timer = evtimer_new(f->base, join_timeout_cb, c);
    struct timeval tv = {CONF_JOIN_TIMEOUT_S, 0};
    evtimer_add(c->join_timer, &tv);
    hmap_put(&f->confs, c->room, c);
    f->c.conferences_created++;
    char ctx[700];
    conf_ctx(c, ctx, sizeof ctx);
    log_info(ctx, "conference created");
    conf_send_presence(c);
    return c;
}

void conf_request(focus *f, xmpp_stanza_t *iq)
{
    f->c.conference_requests++;
    xmpp_stanza_t *q =
        xmpp_stanza_get_child_by_name_and_ns(iq, "conference", "http://jitsi.org/protocol/focus");
    const char *room = q ? xmpp_stanza_get_attribute(q, "room") : NULL;
    const char *type = xmpp_stanza_get_type(iq);
    if (!type || strcmp(type, "set") != 0) {
        iq_error(f, iq, "modify", "bad-request", "the conference request is an iq set", NULL);
        return;
    }
    if (!room || !*room) {
        iq_error(f, iq, "modify", "bad-request", "missing room", NULL);
        return;
    }
    const char *at = strchr(room, '@');
    size_t rl = strlen(room);
    bool ok =
        at && at > room && !strchr(room, '/') && rl < 500 && strcmp(at + 1, f->set.muc_domain) == 0;
    for (const char *p = room; ok && p < at; p++)
        ok = (unsigned char)*p > ' ' && *p != '"' && *p != '&' && *p != '\'' && *p != ':' &&
             *p != '<' && *p != '>' && *p != '@';
    if (!ok) {
        char text[200];
        snprintf(text, sizeof text, "room must be a bare JID on %s", f->set.muc_domain);
        iq_error(f, iq, "modify", "bad-request", text, NULL);
        return;
    }
    char lower[512];
    for (size_t i = 0; i <= rl; i++)
        lower[i] = (room[i] >= 'A' && room[i] <= 'Z') ? (char)(room[i] + 32) : room[i];
    fconf *c = conf_find(f, lower);
    if (!c)
        c = conf_new(f, lower);
    if (c->joined) {
        conf_answer(c, iq, true);
    } else if (c->nwaiting < (int)(sizeof c->waiting / sizeof c->waiting[0])) {
        c->waiting[c->nwaiting++] = xmpp_stanza_copy(iq);
    } else {
        conf_answer(c, iq, false); /* the client retries */
    }
}

static void grant_owner_cb(focus *f, xmpp_stanza_t *answer, const char *key, unsigned gen)
{
    if (!answer || strcmp(xmpp_stanza_get_type(answer), "result") != 0)
        log_warn(NULL, "granting owner to %s failed%s", key, answer ? "" : " (timeout)");
}

static void grant_owner(participant *p)
{
    fconf *c = p->conf;
    focus *f = c->f;
    char bare[3072];
    snprintf(bare, sizeof bare, "%s", p->real_jid);
    char *slash = strchr(bare, '/');
    if (slash)
        *slash = 0;
    if (!bare[0])
        return;
    xmpp_stanza_t *iq = xmpp_iq_new(xmpp_ev_ctx(f->xmpp), "set", NULL);
    xmpp_stanza_set_to(iq, c->room);
    xmpp_stanza_t *q = st_new(f, "query", NS_MUC_ADMIN);
    xmpp_stanza_t *item = st_new(f, "item", NULL);
    xmpp_stanza_set_attribute(item, "affiliation", "owner");
    xmpp_stanza_set_attribute(item, "jid", bare);
    st_add(q, item);
    st_add(iq, q);
    p->moderator = true;
    char ctx[700];
    conf_ctx(c, ctx, sizeof ctx);
    log_info(ctx, "%s (%s) is now the moderator", p->nick, bare);
    iq_send(f, iq, f->set.iq_timeout_ms, grant_owner_cb, p->occupant, 0);
    xmpp_stanza_release(iq);
}

/* Makes sure some non-hidden participant is moderator: the earliest. */
static void elect_owner(fconf *c)
{
    participant *best = NULL;
    for (int i = 0; i < c->nparts; i++) {
        participant *p = c->parts[i];
        if (p->hidden)
            continue;
        if (p->moderator)
            return;
        if (!best || p->seq < best->seq)
            best = p;
    }
    if (best)
        grant_owner(best);
}

static void lone_cb(evutil_socket_t fd, short what, void *arg)
{
    fconf *c = arg;
    if (conf_active_count(c) > 1)
        return;
    for (int i = 0; i < c->nparts; i++)
        if (c->parts[i]->state != PS_NONE) {
            char ctx[700];
            conf_ctx(c, ctx, sizeof ctx);
            log_info(ctx, "%s is alone: ending its session", c->parts[i]->nick);
            session_remove(c->parts[i], false);
        }
}

static void conf_check_lone(fconf *c)
{
    if (conf_active_count(c) != 1)
        return;
    if (!c->lone_timer)
        c->lone_timer = evtimer_new(c->f->base, lone_cb, c);
    struct timeval tv = {c->f->set.single_participant_timeout_s, 0};
    evtimer_add(c->lone_timer, &tv);
}

static void participant_free_at(fconf *c, int i)
{
    free(c->parts[i]);
    memmove(&c->parts[i], &c->parts[i + 1], (size_t)(c->nparts - i - 1) * sizeof c->parts[0]);
    c->nparts--;
}

static void conf_remove_participant(fconf *c, participant *p, const char *why)
{
    char ctx[700];
    conf_ctx(c, ctx, sizeof ctx);
    log_info(ctx, "%s left (%s)", p->nick, why);
    c->f->c.participants_left++;
    bool was_mod = p->moderator;
    session_remove(p, true);
    for (int i = 0; i < c->nparts; i++)
        if (c->parts[i] == p) {
            participant_free_at(c, i);
            break;
        }
    if (c->nparts == 0) {
        conf_end(c, "the room is empty");
        return;
    }
    if (was_mod)
        elect_owner(c);
    conf_check_lone(c);
}

void conf_end(fconf *c, const char *why)
{
    focus *f = c->f;
    char ctx[700];
    conf_ctx(c, ctx, sizeof ctx);
    log_info(ctx, "conference ended (%s)", why);
    while (c->nparts) {
        session_remove(c->parts[c->nparts - 1], false);
        participant_free_at(c, c->nparts - 1);
    }
    session_expire_conference(c);
    if (xmpp_ev_connected(f->xmpp)) {
        xmpp_stanza_t *p = xmpp_presence_new(xmpp_ev_ctx(f->xmpp));
        char to[600];
        snprintf(to, sizeof to, "%s/%s", c->room, FOCUS_NICK);
        xmpp_stanza_set_to(p, to);
        xmpp_stanza_set_type(p, "unavailable");
        focus_send(f, p);
        xmpp_stanza_release(p);
    }
    conf_flush_waiting(c, false);
    if (c->lone_timer)
        event_free(c->lone_timer);
    if (c->join_timer)
        event_free(c->join_timer);
    hmap_del(&f->confs, c->room);
    f->c.conferences_ended++;
    free(c);
}

static const char *child_text(xmpp_stanza_t *p, const char *name, char *buf, size_t n)
{
    xmpp_stanza_t *e = xmpp_stanza_get_child_by_name(p, name);
    char *t = e ? xmpp_stanza_get_text(e) : NULL;
    snprintf(buf, n, "%s", t ? t : "");
    if (t)
        xmpp_free(xmpp_stanza_get_context(p), t);
    return buf;
}

static void nick_to_epid(const char *nick, char out[65])
{
    size_t i = 0;
    for (; nick[i] && i < 64; i++) {
        char ch = nick[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.';
        out[i] = ok ? ch : '_';
    }
    out[i] = 0;
}

void conf_presence(focus *f, xmpp_stanza_t *st)
{
    const char *from = xmpp_stanza_get_from(st);
    const char *slash = strchr(from, '/');
    char room[512];
    size_t rl = (size_t)(slash - from);
    if (rl >= sizeof room)
        return;
    memcpy(room, from, rl);
    room[rl] = 0;
    const char *nick = slash + 1;
    fconf *c = conf_find(f, room);
    if (!c)
        return;
    const char *type = xmpp_stanza_get_type(st);
    char ctx[700];
    conf_ctx(c, ctx, sizeof ctx);
    if (strcmp(nick, FOCUS_NICK) == 0) {
        if (type && strcmp(type, "error") == 0) {
            log_error(ctx, "the focus cannot join the room");
            conf_end(c, "cannot join");
        } else if (type && strcmp(type, "unavailable") == 0) {
            if (c->joined) {
                c->joined = false;
                log_warn(ctx, "the focus was removed from the room");
                conf_end(c, "focus removed");
            }
        } else if (!c->joined) {
            c->joined = true;
            log_info(ctx, "focus joined the room");
            /* a rejoin: occupants not listed again are gone */
            for (int i = c->nparts - 1; i >= 0; i--)
                if (c->parts[i]->seen_round != c->round) {
                    conf_remove_participant(c, c->parts[i], "gone while the focus was away");
                    if (!conf_find(f, room))
                        return;
                }
            conf_flush_waiting(c, true);
        }
        return;
    }
    participant *p = conf_participant(c, nick);
    if (type && strcmp(type, "unavailable") == 0) {
        if (p)
            conf_remove_participant(c, p, "left the room");
        return;
    }
    if (type && strcmp(type, "error") == 0)
        return;
    if (!p) {
        if (c->nparts == (int)(sizeof c->parts / sizeof c->parts[0])) {
            log_warn(ctx, "too many participants: %s is not handled", nick);
            return;
        }
        p = xcalloc(1, sizeof *p);
        p->conf = c;
        snprintf(p->nick, sizeof p->nick, "%s", nick);
        nick_to_epid(nick, p->epid);
        /* two nicks may sanitize to one id: the bridge needs them unique */
        for (unsigned n = 2; conf_participant_by_epid(c, p->epid); n++) {
            char base[65];
            nick_to_epid(nick, base);
            snprintf(p->epid, sizeof p->epid, "%.48s-%u", base, n % 100000);
        }
        snprintf(p->occupant, sizeof p->occupant, "%s/%s", c->room, nick);
        xmpp_stanza_t *x = xmpp_stanza_get_child_by_name_and_ns(st, "x", NS_MUC_USER);
        xmpp_stanza_t *item = x ? xmpp_stanza_get_child_by_name(x, "item") : NULL;
        const char *jid = item ? xmpp_stanza_get_attribute(item, "jid") : NULL;
        snprintf(p->real_jid, sizeof p->real_jid, "%s", jid ? jid : "");
        const char *at = strchr(p->real_jid, '@');
        const char *dom = at ? at + 1 : p->real_jid;
        size_t hl = strlen(f->set.hidden_domain);
        p->hidden = strncmp(dom, f->set.hidden_domain, hl) == 0 && (dom[hl] == 0 || dom[hl] == '/');
        const char *aff = item ? xmpp_stanza_get_attribute(item, "affiliation") : NULL;
        p->moderator = aff && strcmp(aff, "owner") == 0 && !p->hidden;
        p->joined_ms = now_ms();
        p->seq = c->next_seq++;
        c->parts[c->nparts++] = p;
        f->c.participants_joined++;
        if (c->join_timer)
            evtimer_del(c->join_timer);
        log_info(ctx, "%s joined%s (%s)", nick, p->hidden ? " hidden" : "", p->real_jid);
    }
    p->seen_round = c->round;
    child_text(st, "jitsi_participant_region", p->region, sizeof p->region);
    child_text(st, "stats-id", p->stats_id, sizeof p->stats_id);
    if (!c->joined)
        return; /* the room's occupant list before our own presence */
    elect_owner(c);
    if (conf_active_count(c) >= 2) {
        if (c->lone_timer)
            evtimer_del(c->lone_timer);
        session_invite_all(c);
    }
}
