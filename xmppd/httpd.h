/* httpd: xmppd's HTTP surface on XMPP_HTTP_PORT: /xmpp-websocket
 * (websocket.c), /health, /metrics (Prometheus text), and static files from
 * XMPP_WEB_ROOT (webroot.c) with index.html for room paths. Requests from
 * XMPP_TRUSTED_PROXIES count as secure and their X-Forwarded-For names the
 * client. Main loop. */
#ifndef PARLEY_HTTPD_H
#define PARLEY_HTTPD_H

#include "xmppd.h"

/* Starts the HTTP listener when XMPP_HTTP_PORT is not 0. 0 or -1 (logged). */
int httpd_start(xmppd *srv);
void httpd_stop(xmppd *srv);

#endif
