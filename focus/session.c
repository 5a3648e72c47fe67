/* session: each participant's media session: a Colibri2 endpoint on the
 * conference's bridge and a Jingle session with the participant.
 *
 * From two participants on, everyone without a session is invited: one
 * Colibri2 request allocates the endpoints (creating the conference on the
 * bridge the first time), and each participant gets a session-initiate with
 * the bridge's transport, the codecs and header extensions, BUNDLE,
 * <bridge-session>, the bridge's feedback sources and everyone else's
 * sources (jitsi-protocol.md §3.2). Every Jingle IQ a participant sends is
 * answered. session-accept and transport-info hand its transport and its
 * validated sources to the bridge, and source-add goes to the others;
 * source-add / source-remove from a participant are relayed the same way;
 * leaving or session-terminate sends source-remove to the others and
 * expires the endpoint; session-terminate with restart='true' re-invites.
 *
 * When the conference's bridge fails, every participant gets
 * session-terminate and a new session-initiate against another bridge. */
#include "focus.h"
#include "log.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define URI_AUDIO_LEVEL "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
#define URI_ABS_SEND_TIME "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"

static void sess_ctx(const fconf *c, char *out, size_t n)
{
    snprintf(out, n, "[room=%s meeting_id=%s]", c->room, c->meeting_id);
}

/* ---- the offer: codecs and header extensions ---- */

static void pt_set(c2_payload_type *pt, int id, const char *name, uint32_t rate, int channels)
{
    memset(pt, 0, sizeof *pt);
    pt->id = (uint8_t)id;
    snprintf(pt->name, sizeof pt->name, "%s", name);
    pt->clockrate = rate;
    pt->channels = (uint8_t)channels;
}

static void pt_param(c2_payload_type *pt, const char *n, const char *v)
{
    c2_param *p = &pt->params[pt->n_params++];
    snprintf(p->name, sizeof p->name, "%s", n);
    snprintf(p->value, sizeof p->value, "%s", v);
}

static void pt_fb(c2_payload_type *pt, const char *type, const char *sub)
{
    c2_rtcp_fb *fb = &pt->rtcp_fbs[pt->n_rtcp_fbs++];
    snprintf(fb->type, sizeof fb->type, "%s", type);
    snprintf(fb->subtype, sizeof fb->subtype, "%s", sub ? sub : "");
}

/* Fills payload types and hdrexts of one media type (both the Colibri2
 * <media> and the Jingle description use these). */
static void offer_codecs(bool video, c2_payload_type *pts, size_t *npt, c2_hdrext *ext,
                         size_t *next)
{
    if (!video) {
        pt_set(&pts[0], 111, "opus", 48000, 2);
        pt_param(&pts[0], "minptime", "10");
        pt_param(&pts[0], "useinbandfec", "1");
        *npt = 1;
        ext[0].id = 1;
        snprintf(ext[0].uri, sizeof ext[0].uri, URI_AUDIO_LEVEL);
        *next = 1;
        return;
    }
    pt_set(&pts[0], 100, "VP8", 90000, 0);
    pt_fb(&pts[0], "ccm", "fir");
    pt_fb(&pts[0], "nack", NULL);
    pt_fb(&pts[0], "nack", "pli");
    pt_fb(&pts[0], "goog-remb", NULL);
    pt_set(&pts[1], 96, "rtx", 90000, 0);
    pt_param(&pts[1], "apt", "100");
    *npt = 2;
    ext[0].id = 3;
    snprintf(ext[0].uri, sizeof ext[0].uri, URI_ABS_SEND_TIME);
    *next = 1;
}

/* ---- sources ---- */

static bool source_is_video(const psource *s)
{
    return s->video;
}

/* Adds p's sources (and groups) to the audio/video contents of m. */
static void add_participant_sources(jingle_msg *m, const participant *p)
{
    for (size_t ci = 0; ci < m->n_contents; ci++) {
        jingle_content *jc = &m->contents[ci];
        bool video = strcmp(jc->name, "video") == 0;
        for (int i = 0; i < p->nsources && jc->n_sources < JINGLE_MAX_SOURCES; i++) {
            const psource *s = &p->sources[i];
            if (source_is_video(s) != video)
                continue;
            jingle_source *js = &jc->sources[jc->n_sources++];
            memset(js, 0, sizeof *js);
            js->ssrc = s->ssrc;
            snprintf(js->name, sizeof js->name, "%s", s->name);
            snprintf(js->msid, sizeof js->msid, "%s", s->msid);
            snprintf(js->owner, sizeof js->owner, "%s", p->nick);
            snprintf(js->video_type, sizeof js->video_type, "%s", s->video_type);
        }
        if (!video)
            continue;
        for (int g = 0; g < p->ngroups && jc->n_groups < JINGLE_MAX_GROUPS; g++)
            jc->groups[jc->n_groups++] = p->groups[g];
    }
}

static jingle_msg *msg_new(jingle_action a, const char *sid)
{
    jingle_msg *m = xcalloc(1, sizeof *m);
    m->action = a;
    snprintf(m->sid, sizeof m->sid, "%s", sid);
    return m;
}

static void jingle_iq_cb(focus *f, xmpp_stanza_t *answer, const char *key, unsigned gen)
{
    if (!answer)
        log_warn(NULL, "no answer from %s to a Jingle request", key);
    else if (strcmp(xmpp_stanza_get_type(answer), "error") == 0)
        log_warn(NULL, "%s refused a Jingle request", key);
}

static void send_jingle(participant *p, jingle_msg *m)
{
    focus *f = p->conf->f;
    xmpp_stanza_t *iq = xmpp_iq_new(xmpp_ev_ctx(f->xmpp), "set", NULL);
    xmpp_stanza_set_to(iq, p->occupant);
    st_add(iq, jingle_build(xmpp_ev_ctx(f->xmpp), m));
    iq_send(f, iq, f->set.iq_timeout_ms, jingle_iq_cb, p->occupant, p->invite_gen);
    xmpp_stanza_release(iq);
}

/* source-add / source-remove of src's sources (or of the given subset) to
 * every other participant with a session. */
static void signal_sources(participant *src, jingle_action a, const psource *only, int nonly,
                           const c2_ssrc_group *groups, int ngroups)
{
    fconf *c = src->conf;
    participant tmp;
    const participant *from = src;
    if (only) {
        memset(&tmp, 0, sizeof tmp);
        snprintf(tmp.epid, sizeof tmp.epid, "%s", src->epid);
        memcpy(tmp.sources, only, (size_t)nonly * sizeof *only);
        tmp.nsources = nonly;
        if (groups)
            memcpy(tmp.groups, groups, (size_t)ngroups * sizeof *groups);
        tmp.ngroups = groups ? ngroups : 0;
        from = &tmp;
    }
    if (from->nsources == 0)
        return;
    for (int i = 0; i < c->nparts; i++) {
        participant *q = c->parts[i];
        if (q == src || (q->state != PS_INITIATED && q->state != PS_ACTIVE))
            continue;
        jingle_msg *m = msg_new(a, q->sid);
        jingle_add_content(m, "audio", "audio");
        jingle_add_content(m, "video", "video");
        add_participant_sources(m, from);
        /* drop empty contents */
        size_t k = 0;
        for (size_t ci = 0; ci < m->n_contents; ci++)
            if (m->contents[ci].n_sources)
                m->contents[k++] = m->contents[ci];
        m->n_contents = k;
        send_jingle(q, m);
        free(m);
        c->f->c.source_adds += a == JINGLE_SOURCE_ADD;
        c->f->c.source_removes += a == JINGLE_SOURCE_REMOVE;
    }
}

/* ---- Colibri2 ---- */

static c2_request *c2_req_new(fconf *c, size_t neps)
{
    c2_request *r = xcalloc(1, sizeof *r);
    snprintf(r->meeting_id, sizeof r->meeting_id, "%s", c->meeting_id);
    r->endpoints = xcalloc(neps ? neps : 1, sizeof *r->endpoints);
    r->n_endpoints = neps;
    return r;
}

static void c2_req_free(c2_request *r)
{
    c2_request_free(r);
    free(r);
}

static void colibri_send_key(fconf *c, c2_request *r, iq_cb cb, const char *key)
{
    focus *f = c->f;
    xmpp_stanza_t *iq = xmpp_iq_new(xmpp_ev_ctx(f->xmpp), "set", NULL);
    xmpp_stanza_set_to(iq, c->bridge_occupant);
    st_add(iq, c2_build_request(xmpp_ev_ctx(f->xmpp), r));
    f->c.colibri_requests++;
    iq_send(f, iq, f->set.iq_timeout_ms, cb, key, c->bridge_gen);
    xmpp_stanza_release(iq);
}

static void colibri_send(fconf *c, c2_request *r, iq_cb cb)
{
    colibri_send_key(c, r, cb, c->room);
}

/* The condition and colibri2 reason of an error answer. */
static void answer_error(xmpp_stanza_t *answer, char *cond, size_t cn, char *reason, size_t rn)
{
    cond[0] = reason[0] = 0;
    xmpp_stanza_t *e = xmpp_stanza_get_child_by_name(answer, "error");
    for (xmpp_stanza_t *k = e ? xmpp_stanza_get_children(e) : NULL; k;
         k = xmpp_stanza_get_next(k)) {
        const char *n = xmpp_stanza_get_name(k), *ns = xmpp_stanza_get_ns(k);
        if (!n || !ns)
            continue;
        if (strcmp(ns, "urn:ietf:params:xml:ns:xmpp-stanzas") == 0 && strcmp(n, "text") != 0)
            snprintf(cond, cn, "%s", n);
        else if (strcmp(ns, C2_NS) == 0 && strcmp(n, "error") == 0 &&
                 xmpp_stanza_get_attribute(k, "reason"))
            snprintf(reason, rn, "%s", xmpp_stanza_get_attribute(k, "reason"));
    }
}

/* A Colibri2 failure that means the bridge cannot serve the conference. */
static bool bridge_fault(const char *cond, const char *reason)
{
    return strcmp(cond, "internal-server-error") == 0 || strcmp(cond, "service-unavailable") == 0 ||
           strcmp(cond, "remote-server-not-found") == 0 ||
           strcmp(cond, "recipient-unavailable") == 0 || strcmp(reason, "graceful_shutdown") == 0;
}

static void colibri_update_cb(focus *f, xmpp_stanza_t *answer, const char *room, unsigned gen)
{
    fconf *c = conf_find(f, room);
    if (!c || gen != c->bridge_gen)
        return;
    char ctx[700];
    sess_ctx(c, ctx, sizeof ctx);
    if (!answer && !xmpp_ev_connected(f->xmpp))
        return; /* our own connection went away, not the bridge */
    if (!answer) {
        f->c.colibri_timeouts++;
        bridges_mark_down(f, c->bridge_occupant, "a Colibri2 request timed out");
        return;
    }
    if (strcmp(xmpp_stanza_get_type(answer), "error") != 0)
        return;
    f->c.colibri_errors++;
    char cond[64], reason[64];
    answer_error(answer, cond, sizeof cond, reason, sizeof reason);
    log_warn(ctx, "Colibri2 update refused: %s %s", cond, reason);
    if (bridge_fault(cond, reason)) {
        bridges_mark_down(f, c->bridge_occupant, "a Colibri2 request failed");
    } else if (strcmp(reason, "conference_not_found") == 0) {
        /* the bridge expired it (idle): only this conference starts over */
        session_move_conference(c, "the bridge no longer has the conference");
    } else if (strcmp(reason, "unknown_endpoint") == 0) {
        xmpp_stanza_t *e = xmpp_stanza_get_child_by_name(answer, "error");
        xmpp_stanza_t *ep = e ? xmpp_stanza_get_child_by_name_and_ns(e, "endpoint", C2_NS) : NULL;
        const char *id = ep ? xmpp_stanza_get_attribute(ep, "id") : NULL;
        for (int i = 0; id && i < c->nparts; i++) {
            participant *p = c->parts[i];
            if (strcmp(p->epid, id) != 0 || p->state == PS_NONE)
                continue;
            log_info(ctx, "the bridge no longer has %s: inviting it again", p->nick);
            p->on_bridge = false; /* nothing to expire there */
            session_remove(p, false);
            session_invite_all(c);
            break;
        }
    }
}

static void endpoint_sources_to_c2(const participant *p, c2_endpoint *e)
{
    e->has_sources = true;
    for (int i = 0; i < p->nsources; i++) {
        const psource *s = &p->sources[i];
        char def[C2_STR_MAX + 1];
        snprintf(def, sizeof def, "%s-%s0", p->epid, s->video ? "v" : "a");
        const char *name = s->name[0] ? s->name : def;
        c2_media_source *ms = NULL;
        for (size_t k = 0; k < e->n_media_sources; k++)
            if (strcmp(e->media_sources[k].id, name) == 0)
                ms = &e->media_sources[k];
        if (!ms) {
            if (e->n_media_sources == C2_MAX_MEDIA_SOURCES)
                continue;
            ms = &e->media_sources[e->n_media_sources++];
            ms->type = s->video ? C2_MEDIA_VIDEO : C2_MEDIA_AUDIO;
            snprintf(ms->id, sizeof ms->id, "%s", name);
        }
        if (ms->n_sources == C2_MAX_SOURCES)
            continue;
        c2_source *cs = &ms->sources[ms->n_sources++];
        cs->ssrc = s->ssrc;
        snprintf(cs->name, sizeof cs->name, "%s", name);
        snprintf(cs->video_type, sizeof cs->video_type, "%s", s->video_type);
    }
    for (int g = 0; g < p->ngroups; g++) {
        for (size_t k = 0; k < e->n_media_sources; k++) {
            c2_media_source *ms = &e->media_sources[k];
            bool has = false;
            for (size_t s = 0; s < ms->n_sources; s++)
                has |= ms->sources[s].ssrc == p->groups[g].ssrcs[0];
            if (has && ms->n_groups < C2_MAX_GROUPS) {
                ms->groups[ms->n_groups++] = p->groups[g];
                break;
            }
        }
    }
}

/* Sends the participant's transport (if t) and complete source set. */
static void colibri_update(participant *p, const c2_transport *t)
{
    fconf *c = p->conf;
    if (!c->bridge_created || !p->on_bridge)
        return;
    c2_request *r = c2_req_new(c, 1);
    c2_endpoint *e = &r->endpoints[0];
    snprintf(e->id, sizeof e->id, "%s", p->epid);
    if (t) {
        e->transport = *t;
        e->transport.present = true;
        e->transport.ice_controlling = false;
        e->transport.has_web_socket = false;
        e->transport.sctp_present = false;
    }
    endpoint_sources_to_c2(p, e);
    colibri_send(c, r, colibri_update_cb);
    c2_req_free(r);
}

static void colibri_expire_endpoint(participant *p)
{
    fconf *c = p->conf;
    if (!c->bridge_created || !p->on_bridge)
        return;
    c2_request *r = c2_req_new(c, 1);
    snprintf(r->endpoints[0].id, sizeof r->endpoints[0].id, "%s", p->epid);
    r->endpoints[0].expire = true;
    colibri_send(c, r, colibri_update_cb);
    c2_req_free(r);
    p->on_bridge = false;
}

static void ignore_cb(focus *f, xmpp_stanza_t *answer, const char *key, unsigned gen)
{
}

void session_expire_conference(fconf *c)
{
    if (!c->bridge_created || !c->bridge_occupant[0])
        return;
    c2_request *r = c2_req_new(c, 0);
    r->expire = true;
    colibri_send(c, r, ignore_cb);
    c2_req_free(r);
    c->bridge_created = false;
    fbridge *b = hmap_get(&c->f->bridges, c->bridge_occupant);
    if (b && b->conferences > 0)
        b->conferences--;
}

/* ---- invitation ---- */

static void send_initiate(participant *p, const c2_answer_endpoint *ae)
{
    fconf *c = p->conf;
    focus *f = c->f;
    jingle_msg *m = msg_new(JINGLE_SESSION_INITIATE, "");
    random_id(p->sid, 12);
    snprintf(m->sid, sizeof m->sid, "%s", p->sid);
    snprintf(m->initiator, sizeof m->initiator, "%s", f->jid);
    c2_transport t;
    memset(&t, 0, sizeof t);
    t.present = t.has_ice = t.rtcp_mux = true;
    snprintf(t.ufrag, sizeof t.ufrag, "%s", ae->ufrag);
    snprintf(t.pwd, sizeof t.pwd, "%s", ae->pwd);
    if (ae->fingerprint.value[0]) {
        t.fingerprints[0] = ae->fingerprint;
        if (!t.fingerprints[0].hash[0])
            snprintf(t.fingerprints[0].hash, sizeof t.fingerprints[0].hash, "sha-256");
        if (!t.fingerprints[0].setup[0])
            snprintf(t.fingerprints[0].setup, sizeof t.fingerprints[0].setup, "actpass");
        t.n_fingerprints = 1;
    }
    memcpy(t.candidates, ae->candidates, ae->n_candidates * sizeof ae->candidates[0]);
    t.n_candidates = ae->n_candidates;
    if (ae->ws_url[0]) {
        t.has_web_socket = true;
        snprintf(t.web_socket_url, sizeof t.web_socket_url, "%s", ae->ws_url);
    }
    for (int v = 0; v < 2; v++) {
        jingle_content *jc = jingle_add_content(m, v ? "video" : "audio", v ? "video" : "audio");
        snprintf(jc->creator, sizeof jc->creator, "initiator");
        snprintf(jc->senders, sizeof jc->senders, "both");
        offer_codecs(v, jc->payload_types, &jc->n_payload_types, jc->hdrexts, &jc->n_hdrexts);
        jc->rtcp_mux = true;
        jc->has_transport = true;
        jc->transport = t;
        uint32_t fb = v ? c->fb_video_ssrc : c->fb_audio_ssrc;
        if (fb) {
            jingle_source *js = &jc->sources[jc->n_sources++];
            js->ssrc = fb;
            snprintf(js->name, sizeof js->name, "jvb-%s0", v ? "v" : "a");
            snprintf(js->owner, sizeof js->owner, "jvb");
            snprintf(js->msid, sizeof js->msid, "mixedmslabel mixedlabel%s0",
                     v ? "video" : "audio");
        }
    }
    for (int i = 0; i < c->nparts; i++)
        if (c->parts[i] != p)
            add_participant_sources(m, c->parts[i]);
    m->has_bundle = true;
    m->bridge_session.present = true;
    snprintf(m->bridge_session.id, sizeof m->bridge_session.id, "%s", c->bridge_session);
    fbridge *b = hmap_get(&f->bridges, c->bridge_occupant);
    if (b)
        snprintf(m->bridge_session.region, sizeof m->bridge_session.region, "%s", b->region);
    p->state = PS_INITIATED;
    f->c.sessions_initiated++;
    char ctx[700];
    sess_ctx(c, ctx, sizeof ctx);
    log_info(ctx, "session-initiate to %s (bridge %s)", p->nick, b ? b->nick : c->bridge_occupant);
    send_jingle(p, m);
    free(m);
}

/* One endpoint's allocation answered (key "ROOM\nENDPOINT"). */
static void colibri_alloc_cb(focus *f, xmpp_stanza_t *answer, const char *key, unsigned gen)
{
    char room[512], epid[65];
    if (sscanf(key, "%511[^\n]\n%64s", room, epid) != 2)
        return;
    fconf *c = conf_find(f, room);
    if (!c || gen != c->bridge_gen)
        return;
    char ctx[700];
    sess_ctx(c, ctx, sizeof ctx);
    participant *p = NULL;
    for (int i = 0; i < c->nparts; i++)
        if (strcmp(c->parts[i]->epid, epid) == 0 && c->parts[i]->state == PS_ALLOCATING)
            p = c->parts[i];
    bool was_create = c->create_pending;
    c->create_pending = false;
    if (!answer && !xmpp_ev_connected(f->xmpp)) {
        /* our own connection went away: invite again once it is back */
        if (was_create)
            c->bridge_created = false;
        if (p)
            p->state = PS_NONE;
        return;
    }
    if (!answer) {
        f->c.colibri_timeouts++;
        bridges_mark_down(f, c->bridge_occupant, "a Colibri2 allocation timed out");
        return;
    }
    if (strcmp(xmpp_stanza_get_type(answer), "error") == 0) {
        f->c.colibri_errors++;
        char cond[64], reason[64];
        answer_error(answer, cond, sizeof cond, reason, sizeof reason);
        log_warn(ctx, "Colibri2 allocation for %s refused: %s %s", epid, cond, reason);
        if (bridge_fault(cond, reason)) {
            bridges_mark_down(f, c->bridge_occupant, "a Colibri2 allocation failed");
            return;
        }
        if (strcmp(reason, "conference_not_found") == 0) {
            session_move_conference(c, "the bridge no longer has the conference");
            return;
        }
        if (p) {
            p->state = PS_NONE;
            p->alloc_failures++; /* given up after a few: it must not block the others */
        }
        session_invite_all(c);
        return;
    }
    c->bridge_created = true;
    xmpp_stanza_t *cm = xmpp_stanza_get_child_by_name_and_ns(answer, "conference-modified", C2_NS);
    c2_answer ans;
    c2_error err;
    if (!cm || c2_parse_modified(cm, &ans, &err) != 0) {
        log_warn(ctx, "bad Colibri2 answer from %s", c->bridge_occupant);
        if (p) {
            p->state = PS_NONE;
            p->alloc_failures++;
        }
        session_invite_all(c);
        return;
    }
    if (ans.audio.ssrc)
        c->fb_audio_ssrc = ans.audio.ssrc;
    if (ans.video.ssrc)
        c->fb_video_ssrc = ans.video.ssrc;
    for (size_t k = 0; p && k < ans.n_endpoints; k++) {
        const c2_answer_endpoint *ae = &ans.endpoints[k];
        if (strcmp(p->epid, ae->id) == 0 && ae->has_transport) {
            p->on_bridge = true;
            send_initiate(p, ae);
        }
    }
    if (p && p->state == PS_ALLOCATING)
        p->state = PS_NONE;
    c2_answer_free(&ans);
    /* who joined meanwhile (and, after the create, everyone else) */
    session_invite_all(c);
}

/* Allocates one participant's endpoint (creating the conference on the
 * bridge with the first one). */
static void allocate(fconf *c, participant *p, fbridge *b)
{
    c2_request *r = c2_req_new(c, 1);
    if (!c->bridge_created) {
        r->create = true;
        snprintf(r->name, sizeof r->name, "%s", c->room);
        c->create_pending = true;
    }
    c2_endpoint *e = &r->endpoints[0];
    snprintf(e->id, sizeof e->id, "%s", p->epid);
    e->create = true;
    snprintf(e->stats_id, sizeof e->stats_id, "%s", p->stats_id[0] ? p->stats_id : p->nick);
    e->n_media = 2;
    for (int v = 0; v < 2; v++) {
        e->media[v].type = v ? C2_MEDIA_VIDEO : C2_MEDIA_AUDIO;
        offer_codecs(v, e->media[v].payload_types, &e->media[v].n_payload_types,
                     e->media[v].hdrexts, &e->media[v].n_hdrexts);
    }
    e->transport.present = true;
    e->transport.ice_controlling = true;
    e->capabilities.source_names = true;
    p->state = PS_ALLOCATING;
    p->invite_gen++;
    b->recently_added++;
    char key[600];
    snprintf(key, sizeof key, "%s\n%s", c->room, p->epid);
    colibri_send_key(c, r, colibri_alloc_cb, key);
    c2_req_free(r);
}

void session_invite_all(fconf *c)
{
    focus *f = c->f;
    if (c->create_pending || conf_active_count(c) < 2 || !xmpp_ev_connected(f->xmpp))
        return;
    char ctx[700];
    sess_ctx(c, ctx, sizeof ctx);
    fbridge *b = c->bridge_occupant[0] ? hmap_get(&f->bridges, c->bridge_occupant) : NULL;
    if (c->bridge_occupant[0] && !b) {
        /* its bridge is not in the brewery (any more): once the focus knows the
         * brewery's occupants, the conference moves */
        if (!f->in_jvb_brewery)
            return;
        session_move_conference(c, "its bridge is not in the brewery");
        return;
    }
    if (!b || !b->operational) {
        const char *region = NULL;
        participant *first = NULL;
        for (int i = 0; i < c->nparts; i++)
            if (!c->parts[i]->hidden && (!first || c->parts[i]->seq < first->seq))
                first = c->parts[i];
        if (first && first->region[0])
            region = first->region;
        b = bridges_select(f, region);
        if (!b) {
            log_warn(ctx, "no bridge available");
            conf_send_presence(c);
            return;
        }
        snprintf(c->bridge_occupant, sizeof c->bridge_occupant, "%s", b->occupant);
        c->bridge_created = false;
        b->conferences++;
        log_info(ctx, "bridge %s selected (region '%s', stress %.3f)", b->nick, b->region,
                 b->stress);
        conf_send_presence(c);
    }
    for (int i = 0; i < c->nparts && !c->create_pending; i++) {
        participant *p = c->parts[i];
        if (p->state != PS_NONE)
            continue;
        if (p->alloc_failures >= 3) {
            if (p->alloc_failures++ == 3)
                log_warn(ctx, "giving up on a session for %s", p->nick);
            continue;
        }
        allocate(c, p, b);
    }
}

void session_invite(participant *p)
{
    session_invite_all(p->conf);
}

/* ---- ending sessions ---- */

static void send_terminate(participant *p, const char *cond, const char *text)
{
    jingle_msg *m = msg_new(JINGLE_SESSION_TERMINATE, p->sid);
    m->reason.present = true;
    snprintf(m->reason.condition, sizeof m->reason.condition, "%s", cond);
    snprintf(m->reason.text, sizeof m->reason.text, "%s", text);
    m->bridge_session.present = true;
    snprintf(m->bridge_session.id, sizeof m->bridge_session.id, "%s", p->conf->bridge_session);
    send_jingle(p, m);
    free(m);
    p->conf->f->c.sessions_terminated++;
}

void session_remove(participant *p, bool left_room)
{
    if (p->state == PS_INITIATED || p->state == PS_ACTIVE) {
        signal_sources(p, JINGLE_SOURCE_REMOVE, NULL, 0, NULL, 0);
        if (!left_room)
            send_terminate(p, "success", "session ended");
    }
    colibri_expire_endpoint(p);
    p->state = PS_NONE;
    p->invite_gen++;
    p->nsources = 0;
    p->ngroups = 0;
    p->sid[0] = 0;
}

void session_move_conference(fconf *c, const char *why)
{
    focus *f = c->f;
    char ctx[700];
    sess_ctx(c, ctx, sizeof ctx);
    log_warn(ctx, "moving the conference off %s (%s)", c->bridge_occupant, why);
    f->c.conferences_moved++;
    /* best effort: tell the old bridge, if it still listens */
    session_expire_conference(c);
    c->bridge_gen = ++f->gen_seq;
    c->bridge_occupant[0] = 0;
    c->bridge_created = false;
    c->create_pending = false;
    c->fb_audio_ssrc = c->fb_video_ssrc = 0;
    for (int i = 0; i < c->nparts; i++) {
        participant *p = c->parts[i];
        if (p->state == PS_INITIATED || p->state == PS_ACTIVE)
            send_terminate(p, "success", "the bridge failed; a new session follows");
        if (p->state != PS_NONE)
            f->c.reinvites++;
        p->state = PS_NONE;
        p->on_bridge = false;
        p->invite_gen++;
        /* a new session brings new sources (a new peer connection): the
         * others learn them from its session-accept */
        p->nsources = p->ngroups = 0;
    }
    session_invite_all(c);
}

/* ---- Jingle from participants ---- */

/* Sources of a parsed message as psources / groups. */
static int take_sources(const jingle_msg *m, psource *out, int cap, c2_ssrc_group *groups, int gcap,
                        int *ngroups)
{
    int n = 0;
    *ngroups = 0;
    for (size_t ci = 0; ci < m->n_contents; ci++) {
        const jingle_content *jc = &m->contents[ci];
        bool video =
            strcmp(jc->media, "video") == 0 || (!jc->media[0] && strcmp(jc->name, "video") == 0);
        for (size_t s = 0; s < jc->n_sources && n < cap; s++) {
            psource *ps = &out[n++];
            memset(ps, 0, sizeof *ps);
            ps->ssrc = jc->sources[s].ssrc;
            ps->video = video;
            snprintf(ps->name, sizeof ps->name, "%s", jc->sources[s].name);
            snprintf(ps->msid, sizeof ps->msid, "%s", jc->sources[s].msid);
            snprintf(ps->video_type, sizeof ps->video_type, "%s", jc->sources[s].video_type);
        }
        for (size_t g = 0; g < jc->n_groups && *ngroups < gcap; g++)
            groups[(*ngroups)++] = jc->groups[g];
    }
    return n;
}

/* An SSRC of ps already sent by another participant of the conference. */
static const participant *ssrc_conflict(const participant *p, const psource *ps, int n,
                                        uint32_t *which)
{
    fconf *c = p->conf;
    for (int i = 0; i < c->nparts; i++) {
        const participant *q = c->parts[i];
        if (q == p)
            continue;
        for (int a = 0; a < q->nsources; a++)
            for (int b = 0; b < n; b++)
                if (q->sources[a].ssrc == ps[b].ssrc) {
                    *which = ps[b].ssrc;
                    return q;
                }
    }
    return NULL;
}

static const c2_transport *first_transport(const jingle_msg *m)
{
    for (size_t ci = 0; ci < m->n_contents; ci++)
        if (m->contents[ci].has_transport)
            return &m->contents[ci].transport;
    return NULL;
}

/* Checks and stores a participant's new complete source set (accept/add). */
static bool accept_sources(focus *f, xmpp_stanza_t *iq, participant *p, const jingle_msg *m,
                           bool replace)
{
    char err[256];
    psource *ps = xcalloc(PARTICIPANT_MAX_SOURCES * 2, sizeof *ps);
    c2_ssrc_group groups[PARTICIPANT_MAX_GROUPS * 2];
    int ng = 0;
    int n =
        take_sources(m, ps, PARTICIPANT_MAX_SOURCES * 2, groups, PARTICIPANT_MAX_GROUPS * 2, &ng);
    /* the client names its sources after its nick (its endpoint id for it) */
    if (jingle_validate_sources(m, p->nick, MAX_PARTICIPANT_SSRCS, err, sizeof err) != 0) {
        f->c.bad_jingle++;
        iq_error(f, iq, "modify", "bad-request", err, NULL);
        free(ps);
        return false;
    }
    int total = replace ? n : p->nsources + n;
    int gtotal = replace ? ng : p->ngroups + ng;
    uint32_t dup = 0;
    const participant *other = ssrc_conflict(p, ps, n, &dup);
    bool again = false;
    for (int a = 0; !replace && a < p->nsources; a++)
        for (int b = 0; b < n; b++)
            again |= p->sources[a].ssrc == ps[b].ssrc;
    if (other || again || total > MAX_PARTICIPANT_SSRCS || total > PARTICIPANT_MAX_SOURCES ||
        gtotal > PARTICIPANT_MAX_GROUPS) {
        f->c.bad_jingle++;
        if (other)
            snprintf(err, sizeof err, "SSRC %u is already used by %s", dup, other->epid);
        else if (again)
            snprintf(err, sizeof err, "a source that was added already");
        else
            snprintf(err, sizeof err, "at most %d sources per participant", MAX_PARTICIPANT_SSRCS);
        iq_error(f, iq, "modify",
                 total > MAX_PARTICIPANT_SSRCS ? "resource-constraint" : "bad-request", err, NULL);
        free(ps);
        return false;
    }
    if (replace) {
        p->nsources = 0;
        p->ngroups = 0;
    }
    memcpy(&p->sources[p->nsources], ps, (size_t)n * sizeof *ps);
    p->nsources += n;
    memcpy(&p->groups[p->ngroups], groups, (size_t)ng * sizeof *groups);
    p->ngroups += ng;
    free(ps);
    return true;
}

static void on_source_remove(participant *p, const jingle_msg *m)
{
    psource gone[PARTICIPANT_MAX_SOURCES];
    int ngone = 0;
    for (size_t ci = 0; ci < m->n_contents; ci++) {
        const jingle_content *jc = &m->contents[ci];
        for (size_t s = 0; s < jc->n_sources; s++)
            for (int k = 0; k < p->nsources; k++)
                if (p->sources[k].ssrc == jc->sources[s].ssrc && ngone < PARTICIPANT_MAX_SOURCES) {
                    gone[ngone++] = p->sources[k];
                    p->sources[k] = p->sources[--p->nsources];
                    break;
                }
    }
    /* groups that lost a member go too */
    c2_ssrc_group ggone[PARTICIPANT_MAX_GROUPS];
    int nggone = 0;
    for (int g = p->ngroups - 1; g >= 0; g--) {
        bool hit = false;
        for (size_t s = 0; s < p->groups[g].n_ssrcs; s++)
            for (int k = 0; k < ngone; k++)
                hit |= p->groups[g].ssrcs[s] == gone[k].ssrc;
        if (hit) {
            ggone[nggone++] = p->groups[g];
            p->groups[g] = p->groups[--p->ngroups];
        }
    }
    if (ngone)
        signal_sources(p, JINGLE_SOURCE_REMOVE, gone, ngone, ggone, nggone);
}

void session_on_jingle(focus *f, xmpp_stanza_t *iq)
{
    const char *from = xmpp_stanza_get_from(iq);
    const char *slash = from ? strchr(from, '/') : NULL;
    char room[512];
    fconf *c = NULL;
    participant *p = NULL;
    if (slash && (size_t)(slash - from) < sizeof room) {
        memcpy(room, from, (size_t)(slash - from));
        room[slash - from] = 0;
        c = conf_find(f, room);
        p = c ? conf_participant(c, slash + 1) : NULL;
    }
    if (!p) {
        f->c.bad_jingle++;
        iq_error(f, iq, "cancel", "item-not-found", "no conference participant sent this", NULL);
        return;
    }
    jingle_msg *m = xmalloc(sizeof *m); /* jingle_parse zeroes it */
    char err[256];
    xmpp_stanza_t *j = xmpp_stanza_get_child_by_name_and_ns(iq, "jingle", JINGLE_NS);
    if (jingle_parse(j, m, err, sizeof err) != 0) {
        f->c.bad_jingle++;
        iq_error(f, iq, "modify", "bad-request", err, NULL);
        free(m);
        return;
    }
    char ctx[700];
    sess_ctx(c, ctx, sizeof ctx);
    if (!p->sid[0] || strcmp(m->sid, p->sid) != 0) {
        f->c.bad_jingle++;
        log_warn(ctx, "%s from %s for an unknown session %s", jingle_action_name(m->action),
                 p->nick, m->sid);
        iq_error(f, iq, "cancel", "item-not-found", "unknown session", NULL);
        free(m);
        return;
    }
    switch (m->action) {
    case JINGLE_SESSION_ACCEPT: {
        if (p->state != PS_INITIATED) {
            iq_error(f, iq, "cancel", "unexpected-request", "the session is not pending", NULL);
            break;
        }
        if (!accept_sources(f, iq, p, m, true))
            break;
        iq_result(f, iq, NULL);
        p->state = PS_ACTIVE;
        f->c.sessions_accepted++;
        log_info(ctx, "session-accept from %s (%d sources)", p->nick, p->nsources);
        colibri_update(p, first_transport(m));
        signal_sources(p, JINGLE_SOURCE_ADD, NULL, 0, NULL, 0);
        break;
    }
    case JINGLE_TRANSPORT_INFO:
        iq_result(f, iq, NULL);
        if (first_transport(m))
            colibri_update(p, first_transport(m));
        break;
    case JINGLE_SOURCE_ADD: {
        int before = p->nsources, gbefore = p->ngroups;
        if (!accept_sources(f, iq, p, m, false))
            break;
        iq_result(f, iq, NULL);
        colibri_update(p, NULL);
        signal_sources(p, JINGLE_SOURCE_ADD, &p->sources[before], p->nsources - before,
                       &p->groups[gbefore], p->ngroups - gbefore);
        break;
    }
    case JINGLE_SOURCE_REMOVE:
        iq_result(f, iq, NULL);
        on_source_remove(p, m);
        colibri_update(p, NULL);
        break;
    case JINGLE_SESSION_TERMINATE: {
        iq_result(f, iq, NULL);
        bool restart = m->bridge_session.present && m->bridge_session.restart;
        log_info(ctx, "session-terminate from %s%s", p->nick, restart ? " (restart)" : "");
        p->state = PS_ACTIVE; /* so that the others get source-remove */
        signal_sources(p, JINGLE_SOURCE_REMOVE, NULL, 0, NULL, 0);
        colibri_expire_endpoint(p);
        p->state = PS_NONE;
        p->invite_gen++;
        p->nsources = p->ngroups = 0;
        p->sid[0] = 0;
        if (restart) {
            f->c.reinvites++;
            session_invite_all(c);
        }
        break;
    }
    case JINGLE_SESSION_INFO:
    case JINGLE_TRANSPORT_ACCEPT:
    case JINGLE_TRANSPORT_REJECT:
        iq_result(f, iq, NULL);
        break;
    default:
        iq_error(f, iq, "cancel", "feature-not-implemented", "unsupported Jingle action", NULL);
        break;
    }
    free(m);
}
