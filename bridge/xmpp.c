/* xmpp: the bridge's XMPP side. Logs in as jvb@AUTH/BRIDGE_ID (xmpp_ev:
 * libstrophe on the bridge's loop, reconnecting with backoff), joins the
 * brewery room as BRIDGE_ID, publishes its stats there every
 * BRIDGE_STATS_INTERVAL seconds, and answers IQs: Colibri2
 * conference-modify (conference.c), the healthcheck, ping and disco#info.
 * Media does not depend on this connection: while xmppd is away the
 * conferences keep forwarding. */
#include "bridge.h"
#include "log.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NS_COLIBRI "http://jitsi.org/protocol/colibri"
#define NS_COLIBRI2 "jitsi:colibri2"
#define NS_HEALTH "http://jitsi.org/protocol/healthcheck"
#define NS_MUC "http://jabber.org/protocol/muc"
#define NS_MUC_USER "http://jabber.org/protocol/muc#user"
#define NS_STANZAS "urn:ietf:params:xml:ns:xmpp-stanzas"

static xmpp_stanza_t *xmpp_result_for(xmpp_ctx_t *ctx, xmpp_stanza_t *iq)
{
    xmpp_stanza_t *r = xmpp_iq_new(ctx, "result", xmpp_stanza_get_id(iq));
    const char *from = xmpp_stanza_get_from(iq);
    if (from)
        xmpp_stanza_set_to(r, from);
    return r;
}

static void xmpp_reply_error(bridge *br, xmpp_stanza_t *iq, const char *type, const char *cond,
                             const char *text)
{
    xmpp_ctx_t *ctx = xmpp_ev_ctx(br->xmpp);
    xmpp_stanza_t *r = xmpp_iq_new(ctx, "error", xmpp_stanza_get_id(iq));
    const char *from = xmpp_stanza_get_from(iq);
    if (from)
        xmpp_stanza_set_to(r, from);
    xmpp_stanza_t *e = xmpp_stanza_new(ctx);
    xmpp_stanza_set_name(e, "error");
    xmpp_stanza_set_type(e, type);
    xmpp_stanza_t *c = xmpp_stanza_new(ctx);
    xmpp_stanza_set_name(c, cond);
    xmpp_stanza_set_ns(c, NS_STANZAS);
    xmpp_stanza_add_child_ex(e, c, 0);
    if (text) {
        xmpp_stanza_t *t = xmpp_stanza_new(ctx), *tx = xmpp_stanza_new(ctx);
        xmpp_stanza_set_name(t, "text");
        xmpp_stanza_set_ns(t, NS_STANZAS);
        xmpp_stanza_set_text(tx, text);
        xmpp_stanza_add_child_ex(t, tx, 0);
        xmpp_stanza_add_child_ex(e, t, 0);
    }
    xmpp_stanza_add_child_ex(r, e, 0);
    xmpp_ev_send(br->xmpp, r);
    xmpp_stanza_release(r);
}

static bool bridge_healthy(const bridge *br)
{
    return br->udp_fd >= 0 && br->cert && !br->shutting_down;
}

/* True when from is an occupant of the brewery (jvbbrewery@IMUC/NICK): xmppd
 * admits only service accounts there and stamps the occupant JID itself. */
static bool from_brewery(const bridge *br, const char *from)
{
    size_t n = strlen(br->set.brewery), m = strlen(br->set.internal_muc_domain);
    return from && strncasecmp(from, br->set.brewery, n) == 0 && from[n] == '@' &&
           strncasecmp(from + n + 1, br->set.internal_muc_domain, m) == 0 && from[n + 1 + m] == '/';
}

static int xmpp_iq_handler(xmpp_conn_t *conn, xmpp_stanza_t *iq, void *ud)
{
    bridge *br = ud;
    const char *type = xmpp_stanza_get_type(iq);
    if (!type || (strcmp(type, "get") != 0 && strcmp(type, "set") != 0))
        return 1; /* results and errors: we send no requests that need them */
    xmpp_ctx_t *ctx = xmpp_ev_ctx(br->xmpp);
    xmpp_stanza_t *child = xmpp_stanza_get_children(iq);
    while (child && !xmpp_stanza_is_tag(child))
        child = xmpp_stanza_get_next(child);
    const char *name = child ? xmpp_stanza_get_name(child) : NULL;
    const char *ns = child ? xmpp_stanza_get_ns(child) : NULL;
    bool colibri =
        name && ns && strcmp(name, "conference-modify") == 0 && strcmp(ns, NS_COLIBRI2) == 0;
    bool health = name && ns && strcmp(name, "healthcheck") == 0 && strcmp(ns, NS_HEALTH) == 0;
    if ((colibri || health) && !from_brewery(br, xmpp_stanza_get_from(iq))) {
        /* only the focus, an occupant of the brewery, may drive the bridge */
        xmpp_reply_error(br, iq, "auth", "forbidden", "Colibri2 is for the brewery's focus only");
    } else if (colibri) {
        colibri2_handle(br, iq);
    } else if (health) {
        if (bridge_healthy(br)) {
            xmpp_stanza_t *r = xmpp_result_for(ctx, iq);
            xmpp_ev_send(br->xmpp, r);
            xmpp_stanza_release(r);
        } else {
            xmpp_reply_error(br, iq, "wait", "internal-server-error", "bridge is not healthy");
        }
    } else if (name && ns && strcmp(name, "ping") == 0 && strcmp(ns, "urn:xmpp:ping") == 0) {
        xmpp_stanza_t *r = xmpp_result_for(ctx, iq);
        xmpp_ev_send(br->xmpp, r);
        xmpp_stanza_release(r);
    } else if (name && ns && strcmp(name, "query") == 0 &&
               strcmp(ns, "http://jabber.org/protocol/disco#info") == 0 &&
               strcmp(type, "get") == 0) {
        xmpp_stanza_t *r = xmpp_result_for(ctx, iq);
        xmpp_stanza_t *q = xmpp_stanza_new(ctx);
        xmpp_stanza_set_name(q, "query");
        xmpp_stanza_set_ns(q, "http://jabber.org/protocol/disco#info");
        static const char *features[] = {NS_COLIBRI2, NS_HEALTH, "urn:xmpp:ping",
                                         "urn:xmpp:jingle:transports:ice-udp:1",
                                         "urn:xmpp:jingle:apps:dtls:0"};
        for (size_t i = 0; i < sizeof features / sizeof features[0]; i++) {
            xmpp_stanza_t *f = xmpp_stanza_new(ctx);
            xmpp_stanza_set_name(f, "feature");
            xmpp_stanza_set_attribute(f, "var", features[i]);
            xmpp_stanza_add_child_ex(q, f, 0);
        }
        xmpp_stanza_add_child_ex(r, q, 0);
        xmpp_ev_send(br->xmpp, r);
        xmpp_stanza_release(r);
    } else {
        xmpp_reply_error(br, iq, "cancel", "service-unavailable", NULL);
    }
    return 1;
}

static int xmpp_presence_handler(xmpp_conn_t *conn, xmpp_stanza_t *p, void *ud)
{
    bridge *br = ud;
    const char *from = xmpp_stanza_get_from(p);
    if (!from || strcmp(from, br->occupant_jid) != 0)
        return 1;
    const char *type = xmpp_stanza_get_type(p);
    if (type && strcmp(type, "error") == 0) {
        xmpp_stanza_t *e = xmpp_stanza_get_child_by_name(p, "error");
        xmpp_stanza_t *c = e ? xmpp_stanza_get_children(e) : NULL;
        log_error(NULL, "cannot join the brewery %s: %s", br->occupant_jid,
                  c && xmpp_stanza_get_name(c) ? xmpp_stanza_get_name(c) : "error");
        br->in_brewery = false;
        return 1;
    }
    if (type && strcmp(type, "unavailable") == 0) {
        log_warn(NULL, "left the brewery %s", br->occupant_jid);
        br->in_brewery = false;
        return 1;
    }
    if (!br->in_brewery)
        log_info(NULL, "joined the brewery as %s", br->occupant_jid);
    br->in_brewery = true;
    return 1;
}

static void stat_add(xmpp_ctx_t *ctx, xmpp_stanza_t *stats, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void stat_add(xmpp_ctx_t *ctx, xmpp_stanza_t *stats, const char *name, const char *fmt, ...)
{
    char v[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v, sizeof v, fmt, ap);
    va_end(ap);
    xmpp_stanza_t *s = xmpp_stanza_new(ctx);
    xmpp_stanza_set_name(s, "stat");
    xmpp_stanza_set_attribute(s, "name", name);
    xmpp_stanza_set_attribute(s, "value", v);
    xmpp_stanza_add_child_ex(stats, s, 0);
}

void bridge_publish_stats(bridge *br)
{
    if (!br->xmpp || !xmpp_ev_connected(br->xmpp))
        return;
    xmpp_ctx_t *ctx = xmpp_ev_ctx(br->xmpp);
    xmpp_stanza_t *p = xmpp_presence_new(ctx);
    xmpp_stanza_set_to(p, br->occupant_jid);
    if (!br->in_brewery) {
        xmpp_stanza_t *x = xmpp_stanza_new(ctx);
        xmpp_stanza_set_name(x, "x");
        xmpp_stanza_set_ns(x, NS_MUC);
        xmpp_stanza_t *h = xmpp_stanza_new(ctx);
        xmpp_stanza_set_name(h, "history");
        xmpp_stanza_set_attribute(h, "maxstanzas", "0");
        xmpp_stanza_add_child_ex(x, h, 0);
        xmpp_stanza_add_child_ex(p, x, 0);
    }
    xmpp_stanza_t *st = xmpp_stanza_new(ctx);
    xmpp_stanza_set_name(st, "stats");
    xmpp_stanza_set_ns(st, NS_COLIBRI);
    double stress = bridge_stress(br);
    int neps = bridge_endpoints(br);
    stat_add(ctx, st, "stress_level", "%.4f", stress);
    stat_add(ctx, st, "average_participant_stress", "%.4f",
             neps ? stress / neps : 1.0 / (double)(br->set.capacity_pps / 500 + 1));
    stat_add(ctx, st, "healthy", "%s", bridge_healthy(br) ? "true" : "false");
    stat_add(ctx, st, "region", "%s", br->set.region);
    stat_add(ctx, st, "relay_id", "%s", br->set.id);
    stat_add(ctx, st, "version", "%s", PARLEY_VERSION);
    stat_add(ctx, st, "release", "parley");
    stat_add(ctx, st, "drain", "%s", br->drain ? "true" : "false");
    stat_add(ctx, st, "graceful_shutdown", "%s", br->shutting_down ? "true" : "false");
    stat_add(ctx, st, "shutting_down", "%s", br->shutting_down ? "true" : "false");
    stat_add(ctx, st, "conferences", "%zu", br->conferences.len);
    stat_add(ctx, st, "endpoints", "%d", neps);
    stat_add(ctx, st, "participants", "%d", neps);
    stat_add(ctx, st, "packet_rate_download", "%.0f", br->rx_pps);
    stat_add(ctx, st, "packet_rate_upload", "%.0f", br->tx_pps);
    stat_add(ctx, st, "bit_rate_download", "%.0f", br->rx_bps / 1000);
    stat_add(ctx, st, "bit_rate_upload", "%.0f", br->tx_bps / 1000);
    xmpp_stanza_add_child_ex(p, st, 0);
    xmpp_ev_send(br->xmpp, p);
    xmpp_stanza_release(p);
}

static void xmpp_state(xmpp_ev *x, bool connected, void *ud)
{
    bridge *br = ud;
    br->in_brewery = false;
    if (!connected)
        return;
    xmpp_conn_t *conn = xmpp_ev_conn(x);
    xmpp_handler_add(conn, xmpp_iq_handler, NULL, "iq", NULL, br);
    xmpp_handler_add(conn, xmpp_presence_handler, NULL, "presence", NULL, br);
    bridge_publish_stats(br); /* the join, with the first stats */
}

void bridge_xmpp_start(bridge *br)
{
    char jid[1024], ctx[1100];
    snprintf(jid, sizeof jid, "%s@%s/%s", br->set.user, br->set.auth_domain, br->set.id);
    snprintf(ctx, sizeof ctx, "[xmpp=%s]", jid);
    if (asprintf(&br->occupant_jid, "%s@%s/%s", br->set.brewery, br->set.internal_muc_domain,
                 br->set.id) < 0)
        fatal("out of memory");
    xmpp_ev_opts o = {
        .jid = jid,
        .password = br->set.password,
        .host = br->set.xmpp_host,
        .port = (unsigned short)br->set.xmpp_port,
        .trust_tls = br->set.xmpp_trust_tls,
        .backoff_max_s = 30,
        .log_ctx = ctx,
    };
    br->xmpp = xmpp_ev_new(br->base, &o, xmpp_state, br);
}

void bridge_xmpp_stop(bridge *br)
{
    if (br->xmpp && xmpp_ev_connected(br->xmpp)) {
        xmpp_ctx_t *ctx = xmpp_ev_ctx(br->xmpp);
        xmpp_stanza_t *p = xmpp_presence_new(ctx);
        xmpp_stanza_set_to(p, br->occupant_jid);
        xmpp_stanza_set_type(p, "unavailable");
        xmpp_ev_send(br->xmpp, p);
        xmpp_stanza_release(p);
    }
    xmpp_ev_free(br->xmpp);
    br->xmpp = NULL;
    free(br->occupant_jid);
    br->occupant_jid = NULL;
}
