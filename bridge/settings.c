/* settings: the bridge's configuration keys and their checks. The
 * advertised media addresses come from JVB_ADVERTISE_IPS ("ip" or
 * "ip#port", comma or space separated) or, when it is unset, from the
 * host's own non-loopback IPv4 interfaces (loopback when there is none);
 * each remembers where it came from so startup can log it. */
#include "bridge.h"
#include "log.h"
#include "util.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const config_key bridge_config_keys[] = {
    {"BRIDGE_ID", NULL,
     "bridge name: brewery nickname and colibri-ws server id (default: host name)"},
    {"BRIDGE_REGION", "", "region published in stats (bridge selection prefers the same region)"},
    {"XMPP_SERVER", "127.0.0.1", "xmppd address"},
    {"XMPP_PORT", "5222", "xmppd c2s port"},
    {"XMPP_AUTH_DOMAIN", "auth.meet.parley", "domain of the bridge account"},
    {"XMPP_INTERNAL_MUC_DOMAIN", "internal-muc.meet.parley", "domain of the brewery room"},
    {"JVB_BREWERY_MUC", "jvbbrewery", "brewery room name"},
    {"JVB_AUTH_USER", "jvb", "bridge account (local part)"},
    {"JVB_AUTH_PASSWORD", NULL, "bridge account password (required)"},
    {"XMPP_TLS_VERIFY", "false", "verify xmppd's certificate (off for self-signed local setups)"},
    {"JVB_BIND_ADDRESS", "0.0.0.0", "address of the media UDP socket"},
    {"JVB_PORT", "10000", "media UDP port shared by every endpoint"},
    {"JVB_ADVERTISE_IPS", NULL, "advertised media addresses: ip or ip#port, comma separated"},
    {"BRIDGE_HTTP_ADDRESS", "127.0.0.1", "HTTP listener (health, stats, colibri-ws)"},
    {"BRIDGE_HTTP_PORT", "8080", "HTTP port; 0 turns it off"},
    {"BRIDGE_WS_BASE_URL", NULL,
     "public base of colibri-ws URLs, e.g. wss://meet.example.com (default ws://HTTP address)"},
    {"BRIDGE_EXPIRE_SECONDS", "60", "idle conferences and endpoints expire after this"},
    {"BRIDGE_CONSENT_TIMEOUT", "30", "seconds without ICE consent before media to a peer stops"},
    {"BRIDGE_STATS_INTERVAL", "5", "seconds between stats presences"},
    {"BRIDGE_CAPACITY_PPS", "100000", "forwarded packets per second that count as stress 1.0"},
    {"LOG_LEVEL", "info", "debug, info, warn or error"},
};
const size_t bridge_config_nkeys = sizeof bridge_config_keys / sizeof bridge_config_keys[0];

static char *dup_or(config *c, const char *key, const char *fallback)
{
    const char *v = config_get(c, key);
    return xstrdup(v && *v ? v : fallback);
}

static bool ip_literal(const char *s)
{
    unsigned char b[16];
    return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

static void settings_advertise(bridge_settings *s, config *c)
{
    const char *list = config_get(c, "JVB_ADVERTISE_IPS");
    if (list && *list) {
        char *copy = xstrdup(list), *save = NULL;
        for (char *tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
            if (s->nadv == BRIDGE_MAX_ADVERTISE) {
                config_error(c, "JVB_ADVERTISE_IPS: more than %d addresses", BRIDGE_MAX_ADVERTISE);
                break;
            }
            advertise_addr *a = &s->adv[s->nadv];
            char *hash = strchr(tok, '#');
            a->port = s->media_port;
            if (hash) {
                *hash = 0;
                char *end;
                long p = strtol(hash + 1, &end, 10);
                if (*end || p < 1 || p > 65535) {
                    config_error(c, "JVB_ADVERTISE_IPS: bad port in '%s#%s'", tok, hash + 1);
                    continue;
                }
                a->port = (int)p;
            }
            if (!ip_literal(tok) || strlen(tok) >= sizeof a->ip) {
                config_error(c, "JVB_ADVERTISE_IPS: '%s' is not an IP address", tok);
                continue;
            }
            snprintf(a->ip, sizeof a->ip, "%s", tok);
            a->origin = "JVB_ADVERTISE_IPS";
            s->nadv++;
        }
        free(copy);
        return;
    }
    struct ifaddrs *ifs = NULL;
    if (getifaddrs(&ifs) == 0) {
        for (struct ifaddrs *i = ifs; i && s->nadv < BRIDGE_MAX_ADVERTISE; i = i->ifa_next) {
            if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET ||
                (i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_UP))
                continue;
            advertise_addr *a = &s->adv[s->nadv++];
            inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, a->ip, sizeof a->ip);
            a->port = s->media_port;
            a->origin = "local interface";
        }
        freeifaddrs(ifs);
    }
    if (s->nadv == 0) {
        snprintf(s->adv[0].ip, sizeof s->adv[0].ip, "127.0.0.1");
        s->adv[0].port = s->media_port;
        s->adv[0].origin = "loopback (no other interface)";
        s->nadv = 1;
    }
}

int bridge_settings_load(bridge_settings *s, config *c)
{
    memset(s, 0, sizeof *s);
    char host[256] = "bridge";
    gethostname(host, sizeof host - 1);
    s->id = dup_or(c, "BRIDGE_ID", host);
    for (const char *p = s->id; *p; p++)
        if (!(*p == '-' || *p == '_' || *p == '.' || (*p >= '0' && *p <= '9') ||
              (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))) {
            config_error(c, "BRIDGE_ID: '%s' may only use letters, digits, '-', '_' and '.'",
                         s->id);
            break;
        }
    s->region = dup_or(c, "BRIDGE_REGION", "");
    s->xmpp_host = dup_or(c, "XMPP_SERVER", "127.0.0.1");
    s->xmpp_port = (int)config_get_int(c, "XMPP_PORT", 1, 65535, 5222);
    s->auth_domain = dup_or(c, "XMPP_AUTH_DOMAIN", "auth.meet.parley");
    s->internal_muc_domain = dup_or(c, "XMPP_INTERNAL_MUC_DOMAIN", "internal-muc.meet.parley");
    s->brewery = dup_or(c, "JVB_BREWERY_MUC", "jvbbrewery");
    s->user = dup_or(c, "JVB_AUTH_USER", "jvb");
    const char *pw = config_get(c, "JVB_AUTH_PASSWORD");
    if (!pw || !*pw)
        config_error(c, "JVB_AUTH_PASSWORD is required (the password of %s@%s)", s->user,
                     s->auth_domain);
    s->password = xstrdup(pw ? pw : "");
    s->xmpp_trust_tls = !config_get_bool(c, "XMPP_TLS_VERIFY", false);
    s->media_bind = dup_or(c, "JVB_BIND_ADDRESS", "0.0.0.0");
    s->media_port = (int)config_get_int(c, "JVB_PORT", 0, 65535, 10000);
    s->http_bind = dup_or(c, "BRIDGE_HTTP_ADDRESS", "127.0.0.1");
    s->http_port = (int)config_get_int(c, "BRIDGE_HTTP_PORT", 0, 65535, 8080);
    const char *ws = config_get(c, "BRIDGE_WS_BASE_URL");
    if (ws && *ws) {
        s->ws_base_url = xstrdup(ws);
        size_t n = strlen(s->ws_base_url);
        while (n && s->ws_base_url[n - 1] == '/')
            s->ws_base_url[--n] = 0;
    } else if (asprintf(&s->ws_base_url, "ws://%s:%d", s->http_bind, s->http_port) < 0) {
        fatal("out of memory");
    }
    s->expire_s = (int)config_get_int(c, "BRIDGE_EXPIRE_SECONDS", 1, 86400, 60);
    s->consent_timeout_s = (int)config_get_int(c, "BRIDGE_CONSENT_TIMEOUT", 1, 600, 30);
    s->stats_interval_s = (int)config_get_int(c, "BRIDGE_STATS_INTERVAL", 1, 3600, 5);
    s->capacity_pps = config_get_int(c, "BRIDGE_CAPACITY_PPS", 1000, 100000000, 100000);
    const char *lv = config_get(c, "LOG_LEVEL");
    s->log_level = log_level_parse(lv ? lv : "info");
    if (s->log_level < 0) {
        config_error(c, "LOG_LEVEL: '%s' is not debug, info, warn or error", lv);
        s->log_level = LOG_INFO;
    }
    settings_advertise(s, c);
    size_t nerr;
    config_errors(c, &nerr);
    return nerr ? -1 : 0;
}

void bridge_settings_clear(bridge_settings *s)
{
    free(s->id);
    free(s->region);
    free(s->xmpp_host);
    free(s->auth_domain);
    free(s->internal_muc_domain);
    free(s->brewery);
    free(s->user);
    free(s->password);
    free(s->media_bind);
    free(s->http_bind);
    free(s->ws_base_url);
    memset(s, 0, sizeof *s);
}
