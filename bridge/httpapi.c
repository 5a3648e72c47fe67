/* httpapi: the bridge's HTTP port (BRIDGE_HTTP_PORT, 8080): the same paths
 * as Jitsi Videobridge so probes and dashboards carry over.
 *   GET  /about/health          200 {} when healthy, 503 and a reason
 *   GET  /about/version         {"name","version","os"}
 *   GET  /colibri/stats         every counter as one flat JSON object
 *   GET  /metrics               Prometheus text, parley_bridge_* names
 *   POST /colibri/drain/enable  stop taking new conferences (published as
 *   POST /colibri/drain/disable drain=true in the brewery stats)
 *   GET  /colibri-ws/...        the bridge channel (colibri_ws.c) */
#include "bridge.h"
#include "log.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *health_problem(const bridge *br)
{
    if (br->udp_fd < 0)
        return "no media socket";
    if (!br->xmpp || !xmpp_ev_connected(br->xmpp))
        return "not connected to xmppd";
    if (!br->in_brewery)
        return "not in the brewery room";
    if (br->shutting_down)
        return "shutting down";
    return NULL;
}

static void respond_json(http_request *req, int status, const char *body)
{
    http_respond(req, status, "application/json", body, strlen(body), NULL);
}

static void bridge_http_handler(void *ud, http_request *req)
{
    bridge *br = ud;
    const char *p = req->path;
    bool get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
    bool post = strcmp(req->method, "POST") == 0;
    if (strncmp(p, "/colibri-ws/", 12) == 0) {
        colibri_ws_upgrade(br, req);
    } else if (strcmp(p, "/about/health") == 0 && get) {
        const char *why = health_problem(br);
        if (!why) {
            respond_json(req, 200, "{}");
        } else {
            char body[160];
            snprintf(body, sizeof body, "{\"error\":\"%s\"}", why);
            respond_json(req, 503, body);
        }
    } else if (strcmp(p, "/about/version") == 0 && get) {
        respond_json(req, 200,
                     "{\"name\":\"parley-bridge\",\"version\":\"" PARLEY_VERSION
                     "\",\"os\":\"Linux\"}");
    } else if (strcmp(p, "/colibri/stats") == 0 && get) {
        bridge_rates_update(br);
        char *s = bridge_stats_json(br);
        respond_json(req, 200, s);
        free(s);
    } else if (strcmp(p, "/metrics") == 0 && get) {
        char *s = bridge_metrics_text(br);
        http_respond(req, 200, "text/plain; version=0.0.4", s, strlen(s), NULL);
        free(s);
    } else if ((strcmp(p, "/colibri/drain/enable") == 0 ||
                strcmp(p, "/colibri/drain/disable") == 0) &&
               post) {
        bool on = strcmp(p, "/colibri/drain/enable") == 0;
        if (br->drain != on)
            log_info(NULL, "drain %s (HTTP from %s)", on ? "enabled" : "disabled", req->peer_ip);
        br->drain = on;
        bridge_publish_stats(br);
        respond_json(req, 200, on ? "{\"drain\":true}" : "{\"drain\":false}");
    } else if (strncmp(p, "/about/", 7) == 0 || strncmp(p, "/colibri/", 9) == 0 ||
               strcmp(p, "/metrics") == 0) {
        http_respond(req, 405, "text/plain", "method not allowed\n", 19, "Allow: GET, POST\r\n");
    } else {
        http_respond(req, 404, "text/plain", "not found\n", 10, NULL);
    }
}

int bridge_http_start(bridge *br)
{
    if (br->set.http_port == 0)
        return 0;
    http_limits lim = {
        .max_body = 64 * 1024,
        .idle_timeout_s = 75,
        .request_timeout_s = 30,
        .max_connections = 4096,
    };
    br->http = http_server_new(br->base, &lim, bridge_http_handler, br);
    return http_server_listen(br->http, br->set.http_bind, br->set.http_port, NULL);
}
