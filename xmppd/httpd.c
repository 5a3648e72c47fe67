#include "httpd.h"
#include "bosh.h"
#include "conn.h"
#include "http.h"
#include "log.h"
#include "muc_room.h"
#include "util.h"
#include "webroot.h"
#include "websocket.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* True if ip is one of the space/comma separated XMPP_TRUSTED_PROXIES. */
static bool httpd_trusted(const xmppd *srv, const char *ip)
{
    const char *list = srv->set.trusted_proxies;
    size_t il = strlen(ip);
    for (const char *p = list; p && *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ' ' && *e != ',')
            e++;
        if ((size_t)(e - p) == il && strncmp(p, ip, il) == 0)
            return true;
        p = e;
    }
    return false;
}

/* The client's address: the peer, or for a trusted proxy the last address
 * it appended to X-Forwarded-For. */
static void httpd_client_ip(const xmppd *srv, const http_request *req, char *out, size_t n)
{
    snprintf(out, n, "%s", req->peer_ip);
    const char *xff = http_header_get(req, "x-forwarded-for");
    if (!xff || !httpd_trusted(srv, req->peer_ip))
        return;
    const char *last = strrchr(xff, ',');
    last = last ? last + 1 : xff;
    while (*last == ' ')
        last++;
    size_t len = strcspn(last, " ");
    if (len > 0 && len < n && len < 46) {
        memcpy(out, last, len);
        out[len] = '\0';
    }
}

static void httpd_metrics(xmppd *srv, http_request *req)
{
    size_t by_tr[3] = {0, 0, 0}, components = 0, conns = 0;
    static const char *names[3] = {"tcp", "websocket", "bosh"};
    for (conn *c = srv->conns; c; c = c->next) {
        conns++;
        if (c->component) {
            components++;
            continue;
        }
        if (c->state != CONN_BOUND || c->closing)
            continue;
        for (int i = 0; i < 3; i++)
            if (strcmp(c->tr->name, names[i]) == 0)
                by_tr[i]++;
    }
    size_t rooms = 0, occupants = 0;
    for (int i = 0; i < 2; i++) {
        muc_service *svc = srv->muc[i];
        if (!svc)
            continue;
        rooms += svc->rooms.len;
        size_t it = 0;
        hmap_entry *e;
        while ((e = hmap_next(&svc->rooms, &it)))
            occupants += ((muc_room *)e->value)->noccupants;
    }
    const xmppd_stats *st = &srv->stats;
    sbuf b;
    sbuf_init(&b);
    sbuf_adds(&b, "# HELP parley_xmppd_sessions Bound client sessions by transport.\n"
                  "# TYPE parley_xmppd_sessions gauge\n");
    for (int i = 0; i < 3; i++)
        sbuf_printf(&b, "parley_xmppd_sessions{transport=\"%s\"} %zu\n", names[i], by_tr[i]);
    sbuf_printf(&b,
                "# HELP parley_xmppd_connections Open XMPP connections (all kinds).\n"
                "# TYPE parley_xmppd_connections gauge\nparley_xmppd_connections %zu\n"
                "# HELP parley_xmppd_components Connected components.\n"
                "# TYPE parley_xmppd_components gauge\nparley_xmppd_components %zu\n"
                "# HELP parley_xmppd_http_connections Open HTTP connections.\n"
                "# TYPE parley_xmppd_http_connections gauge\nparley_xmppd_http_connections %d\n"
                "# HELP parley_xmppd_stanzas_in_total Stanzas received.\n"
                "# TYPE parley_xmppd_stanzas_in_total counter\nparley_xmppd_stanzas_in_total %llu\n"
                "# HELP parley_xmppd_stanzas_out_total Stanzas sent.\n"
                "# TYPE parley_xmppd_stanzas_out_total counter\n"
                "parley_xmppd_stanzas_out_total %llu\n"
                "# HELP parley_xmppd_logins_total Successful authentications.\n"
                "# TYPE parley_xmppd_logins_total counter\nparley_xmppd_logins_total %llu\n"
                "# HELP parley_xmppd_auth_failures_total Failed authentications.\n"
                "# TYPE parley_xmppd_auth_failures_total counter\n"
                "parley_xmppd_auth_failures_total %llu\n"
                "# HELP parley_xmppd_rooms MUC rooms.\n"
                "# TYPE parley_xmppd_rooms gauge\nparley_xmppd_rooms %zu\n"
                "# HELP parley_xmppd_occupants MUC occupants.\n"
                "# TYPE parley_xmppd_occupants gauge\nparley_xmppd_occupants %zu\n",
                conns, components, http_server_connections(srv->http), st->stanzas_in,
                st->stanzas_out, st->logins, st->auth_failures, rooms, occupants);
    http_respond(req, 200, "text/plain; version=0.0.4", b.data, b.len, NULL);
    sbuf_free(&b);
}

static void httpd_handle(void *ud, http_request *req)
{
    xmppd *srv = ud;
    char ip[48];
    httpd_client_ip(srv, req, ip, sizeof ip);
    bool secure = req->tls || httpd_trusted(srv, req->peer_ip);
    if (strcmp(req->path, "/xmpp-websocket") == 0) {
        websocket_upgrade(srv, req, ip, secure);
    } else if (strcmp(req->path, "/http-bind") == 0 || strcmp(req->path, "/http-bind/") == 0) {
        bosh_request(srv, req, ip, secure);
    } else if (strcmp(req->path, "/health") == 0) {
        if (srv->stopping)
            http_respond(req, 503, "text/plain", "stopping\n", 9, NULL);
        else
            http_respond(req, 200, "text/plain", "ok\n", 3, NULL);
    } else if (strcmp(req->path, "/metrics") == 0) {
        httpd_metrics(srv, req);
    } else if (srv->set.web_root) {
        webroot_serve(req, srv->set.web_root);
    } else {
        http_respond(req, 404, "text/plain", "not found\n", 10, NULL);
    }
}

int httpd_start(xmppd *srv)
{
    if (!srv->set.http_port)
        return 0;
    http_limits lim = {srv->set.max_stanza * 4, 75, 30, srv->set.max_connections};
    srv->http = http_server_new(srv->base, &lim, httpd_handle, srv);
    return http_server_listen(srv->http, srv->set.http_bind_address, srv->set.http_port,
                              srv->set.http_tls ? srv->tls : NULL);
}

void httpd_stop(xmppd *srv)
{
    if (srv->http)
        http_server_free(srv->http);
    srv->http = NULL;
}
