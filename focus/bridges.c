/* bridges: the bridge brewery (jvbbrewery@IMUC) as the focus sees it.
 *
 * A bridge is an occupant whose presence carries <stats
 * xmlns='http://jitsi.org/protocol/colibri'>; the focus keeps its stress,
 * region, drain and health, and sends it the healthcheck IQ every
 * FOCUS_HEALTHCHECK_INTERVAL seconds. A bridge that leaves the brewery,
 * fails two healthchecks in a row, or times out / fails on a Colibri2
 * request is marked down and its conferences move (session.c).
 *
 * Selection for a new conference (jitsi-protocol.md §7): operational,
 * healthy, not draining, not shutting down; least corrected stress
 * (stress_level + recently added endpoints x average_participant_stress),
 * in the first participant's region when a bridge there qualifies. */
#include "focus.h"
#include "log.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_COLIBRI "http://jitsi.org/protocol/colibri"
#define NS_HEALTH "http://jitsi.org/protocol/healthcheck"

static void bridge_stats(fbridge *b, xmpp_stanza_t *stats)
{
    bool graceful = false, shutting = false;
    for (xmpp_stanza_t *s = xmpp_stanza_get_children(stats); s; s = xmpp_stanza_get_next(s)) {
        const char *n = xmpp_stanza_get_name(s);
        if (!n || strcmp(n, "stat") != 0)
            continue;
        const char *name = xmpp_stanza_get_attribute(s, "name");
        const char *v = xmpp_stanza_get_attribute(s, "value");
        if (!name || !v)
            continue;
        if (strcmp(name, "stress_level") == 0)
            b->stress = strtod(v, NULL);
        else if (strcmp(name, "average_participant_stress") == 0)
            b->avg_participant_stress = strtod(v, NULL);
        else if (strcmp(name, "healthy") == 0)
            b->healthy = strcmp(v, "false") != 0;
        else if (strcmp(name, "drain") == 0)
            b->drain = strcmp(v, "true") == 0;
        else if (strcmp(name, "graceful_shutdown") == 0)
            graceful = strcmp(v, "true") == 0;
        else if (strcmp(name, "shutting_down") == 0)
            shutting = strcmp(v, "true") == 0;
        else if (strcmp(name, "region") == 0)
            snprintf(b->region, sizeof b->region, "%s", v);
        else if (strcmp(name, "relay_id") == 0)
            snprintf(b->relay_id, sizeof b->relay_id, "%s", v);
        else if (strcmp(name, "version") == 0)
            snprintf(b->version, sizeof b->version, "%s", v);
    }
    b->shutting_down = graceful || shutting;
    b->recently_added = 0;
}

static bool usable(const fbridge *b)
{
    return b->operational && b->healthy && !b->drain && !b->shutting_down;
}

void bridges_presence(focus *f, xmpp_stanza_t *p)
{
    const char *from = xmpp_stanza_get_from(p);
    const char *nick = strchr(from, '/') + 1;
    const char *type = xmpp_stanza_get_type(p);
    if (strcmp(nick, FOCUS_NICK) == 0) {
        bool in = !type || (strcmp(type, "unavailable") != 0 && strcmp(type, "error") != 0);
        bool joined = in && !f->in_jvb_brewery;
        if (joined)
            log_info(NULL, "focus joined the bridge brewery");
        if (type && strcmp(type, "error") == 0)
            log_error(NULL, "cannot join the bridge brewery");
        f->in_jvb_brewery = in;
        if (joined) /* every bridge is known now: conferences whose bridge is gone move */
            bridges_retry_waiting(f);
        return;
    }
    fbridge *b = hmap_get(&f->bridges, from);
    if (type && (strcmp(type, "unavailable") == 0 || strcmp(type, "error") == 0)) {
        if (b) {
            log_warn(NULL, "bridge %s left the brewery", b->nick);
            bridges_mark_down(f, from, "left the brewery");
            hmap_del(&f->bridges, from);
            free(b);
        }
        return;
    }
    xmpp_stanza_t *stats = xmpp_stanza_get_child_by_name_and_ns(p, "stats", NS_COLIBRI);
    if (!stats)
        return; /* not a bridge (yet) */
    if (!b) {
        b = xcalloc(1, sizeof *b);
        snprintf(b->occupant, sizeof b->occupant, "%s", from);
        snprintf(b->nick, sizeof b->nick, "%s", nick);
        b->healthy = b->operational = true;
        hmap_put(&f->bridges, b->occupant, b);
        bridge_stats(b, stats);
        log_info(NULL, "bridge %s joined (region '%s', stress %.3f%s)", b->nick, b->region,
                 b->stress, b->drain ? ", draining" : "");
        bridges_retry_waiting(f);
        return;
    }
    bool was_usable = usable(b);
    bool was_drain = b->drain;
    bridge_stats(b, stats);
    if (was_drain != b->drain)
        log_info(NULL, "bridge %s %s", b->nick, b->drain ? "is draining" : "stopped draining");
    if (!was_usable && usable(b))
        bridges_retry_waiting(f);
}

void bridges_retry_waiting(focus *f)
{
    /* a snapshot of the rooms: a move may end conferences */
    size_t n = f->confs.len, k = 0, it = 0;
    char(*rooms)[512] = xcalloc(n ? n : 1, sizeof *rooms);
    hmap_entry *e;
    while ((e = hmap_next(&f->confs, &it)) && k < n)
        snprintf(rooms[k++], sizeof rooms[0], "%s", ((fconf *)e->value)->room);
    for (size_t i = 0; i < k; i++) {
        fconf *c = conf_find(f, rooms[i]);
        if (!c)
            continue;
        conf_send_presence(c);
        session_invite_all(c);
    }
    free(rooms);
}

bool bridges_any_usable(focus *f)
{
    size_t it = 0;
    hmap_entry *e;
    while ((e = hmap_next(&f->bridges, &it)))
        if (usable(e->value))
            return true;
    return false;
}

fbridge *bridges_select(focus *f, const char *region)
{
    fbridge *best = NULL, *best_region = NULL;
    double bs = 0, brs = 0;
    size_t it = 0;
    hmap_entry *e;
    while ((e = hmap_next(&f->bridges, &it))) {
        fbridge *b = e->value;
        if (!usable(b))
            continue;
        double s = b->stress + b->recently_added * b->avg_participant_stress;
        if (!best || s < bs || (s == bs && strcmp(b->nick, best->nick) < 0)) {
            best = b;
            bs = s;
        }
        if (region && *region && strcmp(region, b->region) == 0 &&
            (!best_region || s < brs || (s == brs && strcmp(b->nick, best_region->nick) < 0))) {
            best_region = b;
            brs = s;
        }
    }
    return best_region ? best_region : best;
}

static void hc_cb(focus *f, xmpp_stanza_t *answer, const char *key, unsigned gen)
{
    fbridge *b = hmap_get(&f->bridges, key);
    if (!b)
        return;
    b->hc_pending = false;
    if (!answer && !xmpp_ev_connected(f->xmpp))
        return; /* our own connection went away, not the bridge */
    if (answer && strcmp(xmpp_stanza_get_type(answer), "result") == 0) {
        if (b->hc_failures)
            log_info(NULL, "bridge %s answers healthchecks again", b->nick);
        b->hc_failures = 0;
        if (!b->operational) {
            b->operational = true;
            log_info(NULL, "bridge %s is operational again", b->nick);
            bridges_retry_waiting(f);
        }
        return;
    }
    b->hc_failures++;
    log_warn(NULL, "bridge %s failed a healthcheck (%s, %d in a row)", b->nick,
             answer ? "error" : "timeout", b->hc_failures);
    if (b->hc_failures >= 2 && b->operational)
        bridges_mark_down(f, key, "failed two healthchecks");
}

void bridges_healthcheck_all(focus *f)
{
    size_t it = 0;
    hmap_entry *e;
    while ((e = hmap_next(&f->bridges, &it))) {
        fbridge *b = e->value;
        if (b->hc_pending)
            continue;
        xmpp_stanza_t *iq = xmpp_iq_new(xmpp_ev_ctx(f->xmpp), "get", NULL);
        xmpp_stanza_set_to(iq, b->occupant);
        st_add(iq, st_new(f, "healthcheck", NS_HEALTH));
        b->hc_pending = true;
        int t = f->set.healthcheck_interval_s * 1000;
        iq_send(f, iq, t < f->set.iq_timeout_ms ? t : f->set.iq_timeout_ms, hc_cb, b->occupant, 0);
        xmpp_stanza_release(iq);
    }
}

void bridges_mark_down(focus *f, const char *occupant, const char *why)
{
    fbridge *b = hmap_get(&f->bridges, occupant);
    if (b) {
        if (!b->operational && strcmp(why, "left the brewery") != 0)
            return; /* already down: its conferences moved */
        b->operational = false;
    }
    f->c.bridges_failed++;
    log_warn(NULL, "bridge %s is down (%s): moving its conferences", occupant, why);
    /* a snapshot of the conferences: moving may end some */
    size_t n = f->confs.len, k = 0, it = 0;
    char(*rooms)[512] = xcalloc(n ? n : 1, sizeof *rooms);
    hmap_entry *e;
    while ((e = hmap_next(&f->confs, &it)) && k < n) {
        fconf *c = e->value;
        if (strcmp(c->bridge_occupant, occupant) == 0)
            snprintf(rooms[k++], sizeof rooms[0], "%s", c->room);
    }
    for (size_t i = 0; i < k; i++) {
        fconf *c = conf_find(f, rooms[i]);
        if (c)
            session_move_conference(c, why);
    }
    free(rooms);
}
