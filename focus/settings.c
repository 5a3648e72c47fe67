/* settings: the focus's configuration keys (docker-jitsi-meet names where
 * one exists) and their checks. */
#include "focus.h"
#include "log.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const config_key focus_config_keys[] = {
    {"XMPP_DOMAIN", "meet.parley", "users' domain; the focus is the component focus.XMPP_DOMAIN"},
    {"XMPP_MUC_DOMAIN", NULL, "meeting rooms (default muc.XMPP_DOMAIN)"},
    {"XMPP_INTERNAL_MUC_DOMAIN", NULL, "brewery rooms (default internal-muc.XMPP_DOMAIN)"},
    {"XMPP_HIDDEN_DOMAIN", NULL, "recorder accounts (default hidden.XMPP_DOMAIN)"},
    {"XMPP_RECORDER_DOMAIN", NULL, "older name of XMPP_HIDDEN_DOMAIN"},
    {"XMPP_SERVER", "127.0.0.1", "xmppd address"},
    {"XMPP_COMPONENT_PORT", "5347", "xmppd component port"},
    {"JICOFO_COMPONENT_SECRET", NULL, "component secret of focus.XMPP_DOMAIN (required)"},
    {"JVB_BREWERY_MUC", "jvbbrewery", "bridge brewery room"},
    {"JIBRI_BREWERY_MUC", "jibribrewery", "recorder brewery room"},
    {"FOCUS_HTTP_ADDRESS", "127.0.0.1", "HTTP listener (health, stats, metrics)"},
    {"FOCUS_HTTP_PORT", "8888", "HTTP port; 0 turns it off"},
    {"FOCUS_HEALTHCHECK_INTERVAL", "10", "seconds between bridge healthchecks"},
    {"FOCUS_IQ_TIMEOUT_MS", "5000", "how long a bridge or recorder may take to answer"},
    {"FOCUS_SINGLE_PARTICIPANT_TIMEOUT", "20", "seconds a lone participant keeps its session"},
    {"LOG_LEVEL", "info", "debug, info, warn or error"},
};
const size_t focus_config_nkeys = sizeof focus_config_keys / sizeof focus_config_keys[0];

static char *derived(config *c, const char *key, const char *prefix, const char *domain)
{
    const char *v = config_get(c, key);
    if (v && *v)
        return xstrdup(v);
    char *s = NULL;
    if (asprintf(&s, "%s.%s", prefix, domain) < 0)
        fatal("out of memory");
    return s;
}

int focus_settings_load(focus_settings *s, config *c)
{
    memset(s, 0, sizeof *s);
    const char *d = config_get(c, "XMPP_DOMAIN");
    s->domain = xstrdup(d && *d ? d : "meet.parley");
    s->muc_domain = derived(c, "XMPP_MUC_DOMAIN", "muc", s->domain);
    s->internal_muc_domain = derived(c, "XMPP_INTERNAL_MUC_DOMAIN", "internal-muc", s->domain);
    const char *hk =
        config_get(c, "XMPP_HIDDEN_DOMAIN") ? "XMPP_HIDDEN_DOMAIN" : "XMPP_RECORDER_DOMAIN";
    s->hidden_domain = derived(c, hk, "hidden", s->domain);
    if (asprintf(&s->focus_domain, "focus.%s", s->domain) < 0)
        fatal("out of memory");
    const char *h = config_get(c, "XMPP_SERVER");
    s->xmpp_host = xstrdup(h && *h ? h : "127.0.0.1");
    s->component_port = (int)config_get_int(c, "XMPP_COMPONENT_PORT", 1, 65535, 5347);
    const char *sec = config_get(c, "JICOFO_COMPONENT_SECRET");
    if (!sec || !*sec)
        config_error(c, "JICOFO_COMPONENT_SECRET is required (the secret of %s in xmppd)",
                     s->focus_domain);
    s->secret = xstrdup(sec ? sec : "");
    const char *jb = config_get(c, "JVB_BREWERY_MUC");
    s->jvb_brewery = xstrdup(jb && *jb ? jb : "jvbbrewery");
    const char *rb = config_get(c, "JIBRI_BREWERY_MUC");
    s->jibri_brewery = xstrdup(rb && *rb ? rb : "jibribrewery");
    const char *ha = config_get(c, "FOCUS_HTTP_ADDRESS");
    s->http_bind = xstrdup(ha && *ha ? ha : "127.0.0.1");
    s->http_port = (int)config_get_int(c, "FOCUS_HTTP_PORT", 0, 65535, 8888);
    s->healthcheck_interval_s = (int)config_get_int(c, "FOCUS_HEALTHCHECK_INTERVAL", 1, 3600, 10);
    s->iq_timeout_ms = (int)config_get_int(c, "FOCUS_IQ_TIMEOUT_MS", 100, 600000, 5000);
    s->single_participant_timeout_s =
        (int)config_get_int(c, "FOCUS_SINGLE_PARTICIPANT_TIMEOUT", 1, 86400, 20);
    const char *lv = config_get(c, "LOG_LEVEL");
    s->log_level = log_level_parse(lv ? lv : "info");
    if (s->log_level < 0) {
        config_error(c, "LOG_LEVEL: '%s' is not debug, info, warn or error", lv);
        s->log_level = LOG_INFO;
    }
    size_t nerr;
    config_errors(c, &nerr);
    return nerr ? -1 : 0;
}

void focus_settings_clear(focus_settings *s)
{
    free(s->domain);
    free(s->muc_domain);
    free(s->internal_muc_domain);
    free(s->hidden_domain);
    free(s->focus_domain);
    free(s->xmpp_host);
    free(s->secret);
    free(s->jvb_brewery);
    free(s->jibri_brewery);
    free(s->http_bind);
    memset(s, 0, sizeof *s);
}
