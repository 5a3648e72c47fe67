/* conference: conferences and endpoints, and the Colibri2 handler that
 * creates, updates and expires them (jitsi-protocol.md §4.2-4.3).
 *
 * A request is checked completely before anything changes, so a bad one
 * leaves the conference as it was: unknown conference (item-not-found,
 * conference_not_found), create of an existing one (conflict,
 * conference_already_exists), create while shutting down
 * (service-unavailable, graceful_shutdown), an endpoint that is neither
 * known nor created (item-not-found, unknown_endpoint), an SSRC another
 * endpoint already sends (bad-request). The answer carries, for each
 * created endpoint, the ICE-UDP transport (ufrag, pwd, one host candidate
 * per advertised address, the sha-256 fingerprint with setup actpass,
 * rtcp-mux, the colibri-ws URL), and the bridge's feedback sources. */
#include "bridge.h"
#include "colibri2.h"
#include "log.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HOST_PRIORITY ((126u << 24) | (65535u << 8) | 255u)

conference *conference_find(bridge *br, const char *meeting_id)
{
    return hmap_get(&br->conferences, meeting_id);
}

endpoint *endpoint_find(conference *cf, const char *id)
{
    for (int i = 0; i < cf->neps; i++)
        if (strcmp(cf->eps[i]->id, id) == 0)
            return cf->eps[i];
    return NULL;
}

src_stat *endpoint_source(endpoint *ep, uint32_t ssrc)
{
    for (int i = 0; i < ep->nsrc; i++)
        if (ep->src[i].ssrc == ssrc)
            return &ep->src[i];
    return NULL;
}

endpoint *endpoint_by_ssrc(conference *cf, uint32_t ssrc)
{
    for (int i = 0; i < cf->neps; i++)
        if (endpoint_source(cf->eps[i], ssrc))
            return cf->eps[i];
    return NULL;
}

int bridge_endpoints(const bridge *br)
{
    int n = 0;
    size_t it = 0;
    hmap_entry *e;
    while ((e = hmap_next(&br->conferences, &it)))
        n += ((conference *)e->value)->neps;
    return n;
}

static conference *conference_new(bridge *br, const c2_request *r)
{
    conference *cf = xcalloc(1, sizeof *cf);
    cf->br = br;
    snprintf(cf->meeting_id, sizeof cf->meeting_id, "%s", r->meeting_id);
    do
        random_id(cf->id, sizeof cf->id - 1);
    while (hmap_get(&br->conf_by_id, cf->id));
    cf->name = r->name[0] ? xstrdup(r->name) : NULL;
    cf->created_ms = cf->last_activity_ms = now_ms();
    hmap_put(&br->conferences, cf->meeting_id, cf);
    hmap_put(&br->conf_by_id, cf->id, cf);
    br->c.conferences_created++;
    char ctx[320];
    snprintf(ctx, sizeof ctx, "[conf=%s room=%s]", cf->meeting_id, cf->name ? cf->name : "-");
    log_info(ctx, "conference created");
    return cf;
}

void endpoint_expire(endpoint *ep, const char *why)
{
    conference *cf = ep->conf;
    bridge *br = cf->br;
    char ctx[320];
    snprintf(ctx, sizeof ctx, "[conf=%s ep=%s]", cf->meeting_id, ep->id);
    log_info(ctx, "endpoint expired (%s): rx %llu tx %llu packets", why,
             (unsigned long long)ep->rx_packets, (unsigned long long)ep->tx_packets);
    colibri_ws_close(ep);
    ice_stop(ep);
    media_stop(ep);
    if (ep->rr_timer)
        event_free(ep->rr_timer);
    hmap_del(&br->by_ufrag, ep->local_ufrag);
    addrmap_del_value(&br->by_addr, ep);
    for (int i = 0; i < cf->neps; i++)
        if (cf->eps[i] == ep) {
            cf->eps[i] = cf->eps[--cf->neps];
            break;
        }
    br->c.endpoints_expired++;
    free(ep);
}

void conference_expire(conference *cf, const char *why)
{
    bridge *br = cf->br;
    while (cf->neps)
        endpoint_expire(cf->eps[cf->neps - 1], why);
    char ctx[320];
    snprintf(ctx, sizeof ctx, "[conf=%s room=%s]", cf->meeting_id, cf->name ? cf->name : "-");
    log_info(ctx, "conference expired (%s)", why);
    hmap_del(&br->conferences, cf->meeting_id);
    hmap_del(&br->conf_by_id, cf->id);
    br->c.conferences_expired++;
    free(cf->name);
    free(cf);
}

void conference_expire_idle(bridge *br)
{
    long long now = now_ms(), limit = (long long)br->set.expire_s * 1000;
    size_t it = 0;
    hmap_entry *e;
    while ((e = hmap_next(&br->conferences, &it))) {
        conference *cf = e->value;
        for (int i = cf->neps - 1; i >= 0; i--)
            if (now - cf->eps[i]->last_activity_ms > limit)
                endpoint_expire(cf->eps[i], "idle");
        if (cf->neps == 0 && now - cf->last_activity_ms > limit)
            conference_expire(cf, "idle");
    }
}

/* Replaces the endpoint's signalled sources (keeping the receive state of
 * SSRCs it already had). */
static void endpoint_set_sources(endpoint *ep, const c2_endpoint *e)
{
    src_stat old[EP_MAX_SOURCES];
    int nold = ep->nsrc;
    memcpy(old, ep->src, sizeof old);
    ep->nsrc = 0;
    for (size_t m = 0; m < e->n_media_sources; m++) {
        const c2_media_source *ms = &e->media_sources[m];
        for (size_t s = 0; s < ms->n_sources && ep->nsrc < EP_MAX_SOURCES; s++) {
            uint32_t ssrc = ms->sources[s].ssrc;
            src_stat *st = &ep->src[ep->nsrc++];
            memset(st, 0, sizeof *st);
            for (int k = 0; k < nold; k++)
                if (old[k].ssrc == ssrc)
                    *st = old[k];
            st->ssrc = ssrc;
            st->video = ms->type == C2_MEDIA_VIDEO;
            st->rtx = false;
            for (size_t g = 0; g < ms->n_groups; g++)
                if (strcasecmp(ms->groups[g].semantics, "FID") == 0 && ms->groups[g].n_ssrcs >= 2 &&
                    ms->groups[g].ssrcs[1] == ssrc)
                    st->rtx = true;
        }
    }
}

static void endpoint_set_transport(endpoint *ep, const c2_transport *t)
{
    if (!t->present || !t->has_ice)
        return;
    if (t->ufrag[0] && t->pwd[0]) {
        if (ep->have_remote && strcmp(ep->remote_ufrag, t->ufrag) != 0) {
            char ctx[320];
            snprintf(ctx, sizeof ctx, "[conf=%s ep=%s]", ep->conf->meeting_id, ep->id);
            log_warn(ctx, "remote ICE credentials changed; keeping the first ones");
        } else {
            snprintf(ep->remote_ufrag, sizeof ep->remote_ufrag, "%s", t->ufrag);
            snprintf(ep->remote_pwd, sizeof ep->remote_pwd, "%s", t->pwd);
            ep->have_remote = true;
        }
    }
    for (size_t i = 0; i < t->n_fingerprints; i++) {
        const c2_fingerprint *f = &t->fingerprints[i];
        if (strcasecmp(f->hash, "sha-256") == 0) {
            media_set_remote_fingerprint(ep, f->setup[0] ? f->setup : NULL, f->value);
            break;
        }
    }
    for (size_t i = 0; i < t->n_candidates; i++) {
        const c2_candidate *c = &t->candidates[i];
        if (!c->is_tcp && !c->mdns && c->component == 1)
            ice_add_remote_candidate(ep, c->ip, c->port, c->priority);
    }
    if (ep->have_remote)
        ice_start(ep);
}

static endpoint *endpoint_new(conference *cf, const c2_endpoint *e)
{
    bridge *br = cf->br;
    endpoint *ep = xcalloc(1, sizeof *ep);
    ep->conf = cf;
    snprintf(ep->id, sizeof ep->id, "%s", e->id);
    snprintf(ep->stats_id, sizeof ep->stats_id, "%s", e->stats_id);
    do
        random_id(ep->local_ufrag, sizeof ep->local_ufrag - 1);
    while (hmap_get(&br->by_ufrag, ep->local_ufrag));
    random_id(ep->local_pwd, sizeof ep->local_pwd - 1);
    random_id(ep->ws_pwd, sizeof ep->ws_pwd - 1);
    random_bytes(&ep->tiebreaker, sizeof ep->tiebreaker);
    ep->selected = -1;
    ep->role = DTLS_ROLE_CLIENT;
    ep->last_activity_ms = now_ms();
    hmap_put(&br->by_ufrag, ep->local_ufrag, ep);
    cf->eps[cf->neps++] = ep;
    br->c.endpoints_created++;
    char ctx[320];
    snprintf(ctx, sizeof ctx, "[conf=%s ep=%s]", cf->meeting_id, ep->id);
    log_info(ctx, "endpoint created (ufrag %s)", ep->local_ufrag);
    return ep;
}

static void answer_endpoint(bridge *br, endpoint *ep, c2_answer_endpoint *a)
{
    memset(a, 0, sizeof *a);
    snprintf(a->id, sizeof a->id, "%s", ep->id);
    a->has_transport = true;
    snprintf(a->ufrag, sizeof a->ufrag, "%s", ep->local_ufrag);
    snprintf(a->pwd, sizeof a->pwd, "%s", ep->local_pwd);
    snprintf(a->fingerprint.hash, sizeof a->fingerprint.hash, "sha-256");
    snprintf(a->fingerprint.setup, sizeof a->fingerprint.setup, "actpass");
    snprintf(a->fingerprint.value, sizeof a->fingerprint.value, "%s",
             dtls_cert_fingerprint(br->cert));
    for (int i = 0; i < br->set.nadv && i < C2_MAX_CANDIDATES; i++) {
        c2_candidate *c = &a->candidates[a->n_candidates++];
        c->component = 1;
        snprintf(c->foundation, sizeof c->foundation, "%d", i + 1);
        snprintf(c->id, sizeof c->id, "%s%d", ep->local_ufrag, i + 1);
        snprintf(c->ip, sizeof c->ip, "%s", br->set.adv[i].ip);
        c->port = (uint16_t)br->set.adv[i].port;
        c->priority = HOST_PRIORITY - (uint32_t)i;
        snprintf(c->protocol, sizeof c->protocol, "udp");
        snprintf(c->type, sizeof c->type, "host");
    }
    snprintf(a->ws_url, sizeof a->ws_url, "%s/colibri-ws/%s/%s/%s?pwd=%s", br->set.ws_base_url,
             br->set.id, ep->conf->id, ep->id, ep->ws_pwd);
}

/* Everything that can fail, before anything changes. */
static int colibri2_check(bridge *br, conference *cf, const c2_request *r, c2_error *err)
{
    for (size_t i = 0; i < r->n_endpoints; i++) {
        const c2_endpoint *e = &r->endpoints[i];
        endpoint *ep = cf ? endpoint_find(cf, e->id) : NULL;
        if (e->create && ep) {
            c2_error_set(err, "modify", "bad-request", NULL, e->id, "endpoint %s already exists",
                         e->id);
            return -1;
        }
        if (!e->create && !e->expire && !ep) {
            c2_error_set(err, "cancel", "item-not-found", "unknown_endpoint", e->id,
                         "unknown endpoint %s", e->id);
            return -1;
        }
        if (e->create && (cf ? cf->neps : 0) + (int)i >= CONF_MAX_ENDPOINTS) {
            c2_error_set(err, "wait", "resource-constraint", NULL, e->id,
                         "too many endpoints in one conference");
            return -1;
        }
        size_t nsrc = 0;
        for (size_t m = 0; m < e->n_media_sources; m++) {
            const c2_media_source *ms = &e->media_sources[m];
            nsrc += ms->n_sources;
            for (size_t s = 0; s < ms->n_sources && cf; s++) {
                endpoint *owner = endpoint_by_ssrc(cf, ms->sources[s].ssrc);
                if (owner && owner != ep) {
                    c2_error_set(err, "modify", "bad-request", NULL, e->id,
                                 "SSRC %u of endpoint %s is already used by endpoint %s",
                                 ms->sources[s].ssrc, e->id, owner->id);
                    return -1;
                }
            }
        }
        if (nsrc > EP_MAX_SOURCES) {
            c2_error_set(err, "modify", "bad-request", NULL, e->id,
                         "endpoint %s signals %zu SSRCs, at most %d", e->id, nsrc, EP_MAX_SOURCES);
            return -1;
        }
    }
    return 0;
}

static void colibri2_reply_error(bridge *br, xmpp_stanza_t *iq, const c2_error *err)
{
    xmpp_stanza_t *r = c2_build_error_iq(xmpp_ev_ctx(br->xmpp), iq, err);
    xmpp_ev_send(br->xmpp, r);
    xmpp_stanza_release(r);
}

void colibri2_handle(bridge *br, xmpp_stanza_t *iq)
{
    xmpp_stanza_t *cm = xmpp_stanza_get_child_by_name_and_ns(iq, "conference-modify", C2_NS);
    c2_request req;
    c2_error err;
    memset(&err, 0, sizeof err);
    if (c2_parse_request(cm, &req, &err) != 0) {
        log_warn(NULL, "colibri2 request refused: %s", err.text);
        colibri2_reply_error(br, iq, &err);
        return;
    }
    conference *cf = conference_find(br, req.meeting_id);
    int rc = 0;
    if (req.create && cf) {
        c2_error_set(&err, "cancel", "conflict", "conference_already_exists", NULL,
                     "conference %s already exists", req.meeting_id);
        rc = -1;
    } else if (req.create && br->shutting_down) {
        c2_error_set(&err, "cancel", "service-unavailable", "graceful_shutdown", NULL,
                     "the bridge is shutting down");
        rc = -1;
    } else if (!req.create && !cf) {
        c2_error_set(&err, "cancel", "item-not-found", "conference_not_found", NULL,
                     "no conference %s", req.meeting_id);
        rc = -1;
    } else {
        rc = colibri2_check(br, cf, &req, &err);
    }
    if (rc != 0) {
        log_warn(NULL, "colibri2 request refused: %s", err.text);
        colibri2_reply_error(br, iq, &err);
        c2_request_free(&req);
        return;
    }
    xmpp_ctx_t *ctx = xmpp_ev_ctx(br->xmpp);
    c2_answer ans;
    memset(&ans, 0, sizeof ans);
    if (req.expire) {
        conference_expire(cf, "expired by the focus");
        cf = NULL;
    } else {
        if (!cf)
            cf = conference_new(br, &req);
        cf->last_activity_ms = now_ms();
        ans.endpoints = xcalloc(req.n_endpoints ? req.n_endpoints : 1, sizeof *ans.endpoints);
        bool created = req.create;
        for (size_t i = 0; i < req.n_endpoints; i++) {
            const c2_endpoint *e = &req.endpoints[i];
            endpoint *ep = endpoint_find(cf, e->id);
            if (e->expire) {
                if (ep)
                    endpoint_expire(ep, "expired by the focus");
                continue;
            }
            if (e->create) {
                ep = endpoint_new(cf, e);
                created = true;
                answer_endpoint(br, ep, &ans.endpoints[ans.n_endpoints++]);
            }
            ep->last_activity_ms = now_ms();
            if (e->stats_id[0])
                snprintf(ep->stats_id, sizeof ep->stats_id, "%s", e->stats_id);
            endpoint_set_transport(ep, &e->transport);
            if (e->has_sources) {
                endpoint_set_sources(ep, e);
                /* receivers that are already up want a key frame of new video */
                for (int k = 0; k < cf->neps; k++)
                    if (cf->eps[k] != ep && cf->eps[k]->srtp) {
                        forward_request_keyframes(cf->eps[k]);
                        break;
                    }
            }
        }
        ans.include_sources = created;
        ans.audio.ssrc = br->fb_audio_ssrc;
        ans.video.ssrc = br->fb_video_ssrc;
        if (!req.create && cf->neps == 0) {
            conference_expire(cf, "no endpoints left");
            cf = NULL;
        }
    }
    xmpp_stanza_t *r = xmpp_iq_new(ctx, "result", xmpp_stanza_get_id(iq));
    const char *from = xmpp_stanza_get_from(iq);
    if (from)
        xmpp_stanza_set_to(r, from);
    xmpp_stanza_t *mod = c2_build_modified(ctx, &ans);
    xmpp_stanza_add_child_ex(r, mod, 0);
    xmpp_ev_send(br->xmpp, r);
    xmpp_stanza_release(r);
    c2_answer_free(&ans);
    c2_request_free(&req);
}
