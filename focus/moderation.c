/* moderation: what a moderator asks of the focus through its occupant JID
 * ROOM@MUC/focus (the sender's role is checked first):
 *
 * - mute (jitsi-protocol.md §3.7): <mute xmlns='http://jitsi.org/jitmeet/
 *   audio|video|desktop' jid='ROOM/NICK'>true</mute> is relayed to the
 *   target with actor='ROOM/MODERATOR'.
 * - recording (§6, the IQ side): <jibri action='start' recording_mode=
 *   'file'/> picks an idle, healthy recorder from the recorder brewery,
 *   sends it action='start' with a session id and the room, answers the
 *   moderator with the session id, and shows <jibri-recording-status> in
 *   the focus's room presence when the recorder reports 'on' / 'off'.
 *   action='stop' stops it. Errors: not-allowed (not a moderator),
 *   service-unavailable (no recorder), resource-constraint (all busy),
 *   unexpected-request (already recording / nothing to stop). */
#include "focus.h"
#include "log.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_JIBRI "http://jitsi.org/protocol/jibri"
#define NS_HEALTH "http://jitsi.org/protocol/health"

/* The conference and participant an occupant JID (from) names. */
static participant *sender_of(focus *f, xmpp_stanza_t *iq, fconf **conf)
{
    const char *from = xmpp_stanza_get_from(iq);
    const char *slash = from ? strchr(from, '/') : NULL;
    char room[512];
    *conf = NULL;
    if (!slash || (size_t)(slash - from) >= sizeof room)
        return NULL;
    memcpy(room, from, (size_t)(slash - from));
    room[slash - from] = 0;
    fconf *c = conf_find(f, room);
    *conf = c;
    return c ? conf_participant(c, slash + 1) : NULL;
}

void mute_request(focus *f, xmpp_stanza_t *iq)
{
    fconf *c;
    participant *p = sender_of(f, iq, &c);
    xmpp_stanza_t *mute = xmpp_stanza_get_children(iq);
    while (mute && !xmpp_stanza_is_tag(mute))
        mute = xmpp_stanza_get_next(mute);
    if (!p) {
        iq_error(f, iq, "cancel", "item-not-found", "not a participant of a conference", NULL);
        return;
    }
    if (!p->moderator) {
        iq_error(f, iq, "cancel", "not-allowed", "only moderators may mute others", NULL);
        return;
    }
    const char *target_jid = xmpp_stanza_get_attribute(mute, "jid");
    const char *slash = target_jid ? strchr(target_jid, '/') : NULL;
    participant *t = NULL;
    if (slash && (size_t)(slash - target_jid) == strlen(c->room) &&
        strncmp(target_jid, c->room, strlen(c->room)) == 0)
        t = conf_participant(c, slash + 1);
    if (!t) {
        iq_error(f, iq, "cancel", "item-not-found", "no such participant", NULL);
        return;
    }
    char *text = xmpp_stanza_get_text(mute);
    bool on = text && strcmp(text, "true") == 0;
    if (text)
        xmpp_free(xmpp_ev_ctx(f->xmpp), text);
    xmpp_stanza_t *out = xmpp_iq_new(xmpp_ev_ctx(f->xmpp), "set", NULL);
    xmpp_stanza_set_to(out, t->occupant);
    xmpp_stanza_t *m = st_new(f, "mute", xmpp_stanza_get_ns(mute));
    xmpp_stanza_set_attribute(m, "actor", p->occupant);
    xmpp_stanza_set_attribute(m, "jid", t->occupant);
    st_text(f, m, on ? "true" : "false");
    st_add(out, m);
    iq_send(f, out, f->set.iq_timeout_ms, NULL, t->occupant, 0);
    xmpp_stanza_release(out);
    f->c.mutes++;
    iq_result(f, iq, NULL);
}

void jibri_presence(focus *f, xmpp_stanza_t *p)
{
    const char *from = xmpp_stanza_get_from(p);
    const char *nick = strchr(from, '/') + 1;
    const char *type = xmpp_stanza_get_type(p);
    if (strcmp(nick, FOCUS_NICK) == 0) {
        f->in_jibri_brewery = !type || (strcmp(type, "unavailable") && strcmp(type, "error"));
        return;
    }
    recorder *r = hmap_get(&f->recorders, from);
    if (type && (strcmp(type, "unavailable") == 0 || strcmp(type, "error") == 0)) {
        if (r) {
            log_info(NULL, "recorder %s left", nick);
            hmap_del(&f->recorders, from);
            free(r);
            size_t it = 0;
            hmap_entry *e;
            while ((e = hmap_next(&f->confs, &it))) {
                fconf *c = e->value;
                if (strcmp(c->rec_occupant, from) == 0 && c->rec_status[0] &&
                    strcmp(c->rec_status, "off") != 0) {
                    snprintf(c->rec_status, sizeof c->rec_status, "off");
                    conf_send_presence(c);
                }
            }
        }
        return;
    }
    xmpp_stanza_t *st = xmpp_stanza_get_child_by_name_and_ns(p, "jibri-status", NS_JIBRI);
    if (!st)
        return;
    if (!r) {
        r = xcalloc(1, sizeof *r);
        snprintf(r->occupant, sizeof r->occupant, "%s", from);
        hmap_put(&f->recorders, r->occupant, r);
        log_info(NULL, "recorder %s joined", nick);
    }
    xmpp_stanza_t *busy = xmpp_stanza_get_child_by_name(st, "busy-status");
    xmpp_stanza_t *health = xmpp_stanza_get_child_by_name_and_ns(st, "health-status", NS_HEALTH);
    const char *b = busy ? xmpp_stanza_get_attribute(busy, "status") : NULL;
    const char *h = health ? xmpp_stanza_get_attribute(health, "status") : NULL;
    r->idle = b && strcmp(b, "idle") == 0;
    r->healthy = !h || strcmp(h, "healthy") == 0;
}

static xmpp_stanza_t *jibri_el(focus *f, const char *action, const char *session)
{
    xmpp_stanza_t *j = st_new(f, "jibri", NS_JIBRI);
    if (action)
        xmpp_stanza_set_attribute(j, "action", action);
    if (session)
        xmpp_stanza_set_attribute(j, "session_id", session);
    return j;
}

/* The moderator's request waits for the recorder's answer: the key is
 * "ROOM\nIQ-ID\nFROM" so the answer can be sent without keeping the IQ. */
static void jibri_start_cb(focus *f, xmpp_stanza_t *answer, const char *key, unsigned gen)
{
    char room[512], id[256], from[3072];
    if (sscanf(key, "%511[^\n]\n%255[^\n]\n%3071[^\n]", room, id, from) != 3)
        return;
    fconf *c = conf_find(f, room);
    xmpp_stanza_t *req = xmpp_iq_new(xmpp_ev_ctx(f->xmpp), "set", id);
    xmpp_stanza_set_from(req, from);
    xmpp_stanza_set_to(req, f->jid); /* the answer goes out from the focus's own JID */
    const char *status = NULL;
    xmpp_stanza_t *j =
        answer ? xmpp_stanza_get_child_by_name_and_ns(answer, "jibri", NS_JIBRI) : NULL;
    if (j)
        status = xmpp_stanza_get_attribute(j, "status");
    bool ok = answer && strcmp(xmpp_stanza_get_type(answer), "result") == 0 &&
              (!status || strcmp(status, "off") != 0);
    if (!c) {
        xmpp_stanza_release(req);
        return;
    }
    if (!ok) {
        const char *fr = j ? xmpp_stanza_get_attribute(j, "failure_reason") : NULL;
        log_warn(NULL, "recorder %s did not start (%s)", c->rec_occupant,
                 !answer ? "timeout"
                 : fr    ? fr
                         : "error");
        c->rec_status[0] = 0;
        c->rec_session[0] = 0;
        iq_error(f, req, "wait",
                 fr && strcmp(fr, "busy") == 0 ? "resource-constraint" : "service-unavailable",
                 "the recorder did not start", NULL);
        xmpp_stanza_release(req);
        return;
    }
    iq_result(f, req, jibri_el(f, NULL, c->rec_session));
    xmpp_stanza_release(req);
    if (status && strcmp(status, "on") == 0) {
        snprintf(c->rec_status, sizeof c->rec_status, "on");
        conf_send_presence(c);
    }
}

static void jibri_from_recorder(focus *f, xmpp_stanza_t *iq, xmpp_stanza_t *j)
{
    const char *sid = xmpp_stanza_get_attribute(j, "session_id");
    const char *status = xmpp_stanza_get_attribute(j, "status");
    size_t it = 0;
    hmap_entry *e;
    while ((e = hmap_next(&f->confs, &it))) {
        fconf *c = e->value;
        if (!sid || strcmp(c->rec_session, sid) != 0)
            continue;
        iq_result(f, iq, NULL);
        if (status && (strcmp(status, "on") == 0 || strcmp(status, "off") == 0)) {
            log_info(NULL, "recording %s in %s is %s", sid, c->room, status);
            snprintf(c->rec_status, sizeof c->rec_status, "%s", status);
            conf_send_presence(c);
            if (strcmp(status, "off") == 0)
                f->c.recordings_stopped++;
        }
        return;
    }
    iq_error(f, iq, "cancel", "item-not-found", "unknown recording session", NULL);
}

void jibri_request(focus *f, xmpp_stanza_t *iq)
{
    xmpp_stanza_t *j = xmpp_stanza_get_child_by_name_and_ns(iq, "jibri", NS_JIBRI);
    const char *from = xmpp_stanza_get_from(iq);
    if (from && hmap_get(&f->recorders, from)) {
        jibri_from_recorder(f, iq, j);
        return;
    }
    fconf *c;
    participant *p = sender_of(f, iq, &c);
    if (!p) {
        iq_error(f, iq, "cancel", "item-not-found", "not a participant of a conference", NULL);
        return;
    }
    if (!p->moderator) {
        iq_error(f, iq, "cancel", "not-allowed", "only moderators may record", NULL);
        return;
    }
    const char *action = xmpp_stanza_get_attribute(j, "action");
    bool recording = c->rec_status[0] && strcmp(c->rec_status, "off") != 0;
    if (action && strcmp(action, "start") == 0) {
        const char *mode = xmpp_stanza_get_attribute(j, "recording_mode");
        if (mode && strcmp(mode, "file") != 0) {
            iq_error(f, iq, "modify", "bad-request", "only recording_mode='file' is supported",
                     NULL);
            return;
        }
        if (recording) {
            iq_error(f, iq, "wait", "unexpected-request", "already recording", NULL);
            return;
        }
        recorder *best = NULL;
        size_t it = 0, known = 0;
        hmap_entry *e;
        while ((e = hmap_next(&f->recorders, &it))) {
            recorder *r = e->value;
            known += r->healthy;
            if (r->idle && r->healthy && (!best || r->selected_ms < best->selected_ms))
                best = r;
        }
        if (!best) {
            iq_error(f, iq, known ? "wait" : "cancel",
                     known ? "resource-constraint" : "service-unavailable",
                     known ? "every recorder is busy" : "no recorder is available", NULL);
            return;
        }
        best->selected_ms = now_ms();
        char sid[37];
        unsigned char b[8];
        random_bytes(b, sizeof b);
        snprintf(sid, sizeof sid, "%02x%02x%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4],
                 b[5], b[6], b[7]);
        snprintf(c->rec_session, sizeof c->rec_session, "%s", sid);
        snprintf(c->rec_occupant, sizeof c->rec_occupant, "%s", best->occupant);
        snprintf(c->rec_initiator, sizeof c->rec_initiator, "%s", p->occupant);
        snprintf(c->rec_status, sizeof c->rec_status, "pending");
        xmpp_stanza_t *out = xmpp_iq_new(xmpp_ev_ctx(f->xmpp), "set", NULL);
        xmpp_stanza_set_to(out, best->occupant);
        xmpp_stanza_t *je = jibri_el(f, "start", sid);
        xmpp_stanza_set_attribute(je, "recording_mode", "file");
        xmpp_stanza_set_attribute(je, "room", c->room);
        st_add(out, je);
        char key[4096];
        snprintf(key, sizeof key, "%s\n%s\n%s", c->room, xmpp_stanza_get_id(iq), from);
        f->c.recordings_started++;
        log_info(NULL, "recording requested by %s in %s: recorder %s, session %s", p->nick, c->room,
                 best->occupant, sid);
        iq_send(f, out, f->set.iq_timeout_ms, jibri_start_cb, key, 0);
        xmpp_stanza_release(out);
        return;
    }
    if (action && strcmp(action, "stop") == 0) {
        if (!recording) {
            iq_error(f, iq, "wait", "unexpected-request", "not recording", NULL);
            return;
        }
        xmpp_stanza_t *out = xmpp_iq_new(xmpp_ev_ctx(f->xmpp), "set", NULL);
        xmpp_stanza_set_to(out, c->rec_occupant);
        st_add(out, jibri_el(f, "stop", c->rec_session));
        iq_send(f, out, f->set.iq_timeout_ms, NULL, c->rec_occupant, 0);
        xmpp_stanza_release(out);
        iq_result(f, iq, jibri_el(f, NULL, c->rec_session));
        snprintf(c->rec_status, sizeof c->rec_status, "off");
        snprintf(c->rec_initiator, sizeof c->rec_initiator, "%s", p->occupant);
        f->c.recordings_stopped++;
        conf_send_presence(c);
        return;
    }
    iq_error(f, iq, "modify", "bad-request", "action must be start or stop", NULL);
}
