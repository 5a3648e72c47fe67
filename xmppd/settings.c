#include "settings.h"
#include "jid.h"
#include "log.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const config_key xmppd_config_keys[] = {
    {"XMPP_DOMAIN", "meet.parley", "users' domain (anonymous unless ENABLE_AUTH)"},
    {"XMPP_AUTH_DOMAIN", "auth.meet.parley", "service accounts (focus, bridges)"},
    {"XMPP_GUEST_DOMAIN", "guest.meet.parley", "anonymous guests when ENABLE_GUESTS"},
    {"XMPP_HIDDEN_DOMAIN", NULL, "recorder accounts (default hidden.XMPP_DOMAIN)"},
    {"XMPP_RECORDER_DOMAIN", NULL, "older name of XMPP_HIDDEN_DOMAIN"},
    {"XMPP_MUC_DOMAIN", NULL, "meeting rooms (default muc.XMPP_DOMAIN)"},
    {"XMPP_INTERNAL_MUC_DOMAIN", NULL, "brewery rooms (default internal-muc.XMPP_DOMAIN)"},
    {"ENABLE_AUTH", "0", "1: XMPP_DOMAIN takes accounts only"},
    {"ENABLE_GUESTS", "0", "1: XMPP_GUEST_DOMAIN takes anonymous logins"},
    {"XMPP_BIND_ADDRESS", "0.0.0.0", "address the c2s listener binds"},
    {"XMPP_PORT", "5222", "c2s port"},
    {"XMPP_DATA_DIR", NULL, "state directory (database)"},
    {"XMPP_DB_PATH", NULL, "sqlite database (default XMPP_DATA_DIR/parley.db)"},
    {"XMPP_TLS_CERT", NULL, "PEM certificate (chain) for STARTTLS"},
    {"XMPP_TLS_KEY", NULL, "PEM private key for STARTTLS"},
    {"C2S_REQUIRE_ENCRYPTION", "true", "refuse authentication before STARTTLS"},
    {"XMPP_MAX_STANZA_SIZE", "262144", "bytes"},
    {"XMPP_MAX_DEPTH", "32", "element nesting depth within a stanza"},
    {"XMPP_MAX_ATTRS", "64", "attributes per element"},
    {"XMPP_AUTH_TIMEOUT", "30", "seconds from connect to authentication"},
    {"XMPP_LOGIN_RATE", "60", "logins per minute per IP address"},
    {"XMPP_MAX_CONNECTIONS", "10000", "concurrent client connections"},
    {"XMPP_STANZA_RATE", "200", "stanzas per second per connection (sustained)"},
    {"XMPP_STANZA_BURST", "1000", "stanzas per connection in a burst"},
    {"XMPP_MAX_SEND_BUFFER", "16777216", "bytes queued to a slow reader before it is dropped"},
    {"XMPP_COMPONENT_BIND_ADDRESS", "127.0.0.1", "address the component listener binds"},
    {"XMPP_COMPONENT_PORT", "5347", "component (XEP-0114) port; 0 turns it off"},
    {"XMPP_COMPONENT_SECRETS", NULL, "DOMAIN=SECRET[,DOMAIN=SECRET...] for components"},
    {"JICOFO_COMPONENT_SECRET", NULL, "secret of the focus component focus.XMPP_DOMAIN"},
    {"XMPP_HTTP_BIND_ADDRESS", "0.0.0.0", "address the HTTP listener binds"},
    {"XMPP_HTTP_PORT", "5280", "HTTP port (WebSocket, BOSH, web client, health); 0 turns it off"},
    {"XMPP_HTTP_TLS", "false", "serve HTTPS on XMPP_HTTP_PORT with XMPP_TLS_CERT/KEY"},
    {"XMPP_WEB_ROOT", NULL, "directory of the browser client's static files"},
    {"XMPP_TRUSTED_PROXIES", "127.0.0.1 ::1",
     "proxies whose requests count as secure and whose X-Forwarded-For is believed"},
    {"XMPP_BOSH_INACTIVITY", "60", "seconds a BOSH session may go without a request"},
    {"XMPP_BOSH_MAX_WAIT", "60", "longest BOSH wait a client may ask for (seconds)"},
    {"XMPP_CORS_ORIGINS", "*", "origins allowed to use BOSH from a browser (* for any)"},
    {"MUC_RESTRICT_ROOM_CREATION", "true", "only the focus and AUTH accounts create rooms"},
    {"MUC_HISTORY_LENGTH", "20", "groupchat messages kept per room"},
    {"MUC_MAX_OCCUPANTS", "1000", "occupants per room unless the room sets maxusers"},
    {"MUC_MAX_ROOMS", "10000", "rooms per MUC service"},
    {"LOG_LEVEL", "info", "debug, info, warn or error"},
};
const size_t xmppd_config_nkeys = sizeof xmppd_config_keys / sizeof xmppd_config_keys[0];

static char *settings_domain(config *c, const char *key, const char *fallback)
{
    const char *v = config_get(c, key);
    if (!v || !*v)
        v = fallback;
    char *d = jid_prep_domain(v);
    if (!d) {
        config_error(c, "%s: '%s' is not a valid domain", key, v);
        return xstrdup(v);
    }
    return d;
}

static char *settings_derived(const char *prefix, const char *domain)
{
    char *s = NULL;
    if (asprintf(&s, "%s.%s", prefix, domain) < 0)
        fatal("out of memory");
    return s;
}

static void settings_file(config *c, const char *key, const char *path)
{
    if (path && access(path, R_OK) != 0)
        config_error(c, "%s: cannot read %s", key, path);
}

static void settings_add_component(settings *s, config *c, const char *key, const char *domain,
                                   const char *secret)
{
    char *d = jid_prep_domain(domain);
    if (!d || !*secret) {
        config_error(c, "%s: '%s' needs a valid domain and a non-empty secret", key, domain);
        free(d);
        return;
    }
    if (settings_component(s, d) || settings_vhost(s, d)) {
        config_error(c, "%s: domain %s is configured twice", key, d);
        free(d);
        return;
    }
    if (s->ncomponents == SETTINGS_MAX_COMPONENTS) {
        config_error(c, "%s: more than %d components", key, SETTINGS_MAX_COMPONENTS);
        free(d);
        return;
    }
    s->components[s->ncomponents++] = (component_cfg){d, xstrdup(secret)};
}

/* XMPP_COMPONENT_SECRETS=dom=secret,... and JICOFO_COMPONENT_SECRET. */
static void settings_components(settings *s, config *c, const char *domain)
{
    const char *focus_secret = config_get(c, "JICOFO_COMPONENT_SECRET");
    if (focus_secret && *focus_secret) {
        char *focus = settings_derived("focus", domain);
        settings_add_component(s, c, "JICOFO_COMPONENT_SECRET", focus, focus_secret);
        free(focus);
    }
    const char *list = config_get(c, "XMPP_COMPONENT_SECRETS");
    char *copy = xstrdup(list ? list : ""), *save = NULL;
    for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        while (*item == ' ')
            item++;
        char *eq = strchr(item, '=');
        if (!eq) {
            config_error(c, "XMPP_COMPONENT_SECRETS: '%s' is not DOMAIN=SECRET", item);
            continue;
        }
        *eq = '\0';
        settings_add_component(s, c, "XMPP_COMPONENT_SECRETS", item, eq + 1);
    }
    free(copy);
    s->component_bind_address = xstrdup(config_get(c, "XMPP_COMPONENT_BIND_ADDRESS"));
    s->component_port = (int)config_get_int(c, "XMPP_COMPONENT_PORT", 0, 65535, 5347);
}

int settings_load(settings *s, config *c)
{
    size_t nerr_before;
    config_errors(c, &nerr_before);
    memset(s, 0, sizeof *s);
    char *domain = settings_domain(c, "XMPP_DOMAIN", "meet.parley");
    char *auth = settings_domain(c, "XMPP_AUTH_DOMAIN", "auth.meet.parley");
    char *guest = settings_domain(c, "XMPP_GUEST_DOMAIN", "guest.meet.parley");
    char *hid_default = settings_derived("hidden", domain);
    const char *hkey =
        config_get(c, "XMPP_HIDDEN_DOMAIN") ? "XMPP_HIDDEN_DOMAIN" : "XMPP_RECORDER_DOMAIN";
    char *hidden = settings_domain(c, hkey, hid_default);
    free(hid_default);
    char *muc_default = settings_derived("muc", domain);
    char *imuc_default = settings_derived("internal-muc", domain);
    s->muc_domain = settings_domain(c, "XMPP_MUC_DOMAIN", muc_default);
    s->internal_muc_domain = settings_domain(c, "XMPP_INTERNAL_MUC_DOMAIN", imuc_default);
    free(muc_default);
    free(imuc_default);

    bool enable_auth = config_get_bool(c, "ENABLE_AUTH", false);
    bool enable_guests = config_get_bool(c, "ENABLE_GUESTS", false);
    s->vhosts[s->nvhosts++] = (vhost){
        domain, enable_auth ? VHOST_AUTH_ACCOUNTS : (VHOST_AUTH_ACCOUNTS | VHOST_AUTH_ANONYMOUS)};
    s->vhosts[s->nvhosts++] = (vhost){auth, VHOST_AUTH_ACCOUNTS};
    s->vhosts[s->nvhosts++] = (vhost){hidden, VHOST_AUTH_ACCOUNTS};
    if (enable_guests)
        s->vhosts[s->nvhosts++] = (vhost){guest, VHOST_AUTH_ANONYMOUS};
    else
        free(guest);
    for (size_t i = 0; i < s->nvhosts; i++)
        for (size_t j = i + 1; j < s->nvhosts; j++)
            if (strcmp(s->vhosts[i].domain, s->vhosts[j].domain) == 0)
                config_error(c, "domain %s is configured twice", s->vhosts[i].domain);

    settings_components(s, c, domain);
    s->bind_address = xstrdup(config_get(c, "XMPP_BIND_ADDRESS"));
    s->port = (int)config_get_int(c, "XMPP_PORT", 0, 65535, 5222);
    const char *dd = config_get(c, "XMPP_DATA_DIR");
    s->data_dir = dd && *dd ? xstrdup(dd) : NULL;
    const char *db = config_get(c, "XMPP_DB_PATH");
    if (db && *db)
        s->db_path = xstrdup(db);
    else if (s->data_dir && asprintf(&s->db_path, "%s/parley.db", s->data_dir) < 0)
        fatal("out of memory");
    if (!s->db_path)
        config_error(c, "XMPP_DATA_DIR (or XMPP_DB_PATH) must be set");
    const char *cert = config_get(c, "XMPP_TLS_CERT"), *key = config_get(c, "XMPP_TLS_KEY");
    s->tls_cert = cert && *cert ? xstrdup(cert) : NULL;
    s->tls_key = key && *key ? xstrdup(key) : (s->tls_cert ? xstrdup(s->tls_cert) : NULL);
    settings_file(c, "XMPP_TLS_CERT", s->tls_cert);
    settings_file(c, "XMPP_TLS_KEY", s->tls_key);
    s->require_encryption = config_get_bool(c, "C2S_REQUIRE_ENCRYPTION", true);
    if (s->require_encryption && !s->tls_cert)
        config_error(c, "C2S_REQUIRE_ENCRYPTION is on but XMPP_TLS_CERT is not set");
    s->max_stanza = (size_t)config_get_int(c, "XMPP_MAX_STANZA_SIZE", 1024, 64 << 20, 262144);
    s->max_depth = (unsigned)config_get_int(c, "XMPP_MAX_DEPTH", 4, 1000, 32);
    s->max_attrs = (unsigned)config_get_int(c, "XMPP_MAX_ATTRS", 4, 10000, 64);
    s->auth_timeout_s = (int)config_get_int(c, "XMPP_AUTH_TIMEOUT", 1, 3600, 30);
    s->login_rate_per_min = (int)config_get_int(c, "XMPP_LOGIN_RATE", 1, 100000000, 60);
    s->max_connections = (int)config_get_int(c, "XMPP_MAX_CONNECTIONS", 1, 1000000, 10000);
    s->stanza_rate = (int)config_get_int(c, "XMPP_STANZA_RATE", 1, 100000000, 200);
    s->stanza_burst = (int)config_get_int(c, "XMPP_STANZA_BURST", 1, 100000000, 1000);
    s->max_send_buffer =
        (size_t)config_get_int(c, "XMPP_MAX_SEND_BUFFER", 65536, 1L << 30, 16777216);
    s->http_bind_address = xstrdup(config_get(c, "XMPP_HTTP_BIND_ADDRESS"));
    s->http_port = (int)config_get_int(c, "XMPP_HTTP_PORT", 0, 65535, 5280);
    s->http_tls = config_get_bool(c, "XMPP_HTTP_TLS", false);
    if (s->http_tls && !s->tls_cert)
        config_error(c, "XMPP_HTTP_TLS is on but XMPP_TLS_CERT is not set");
    const char *wr = config_get(c, "XMPP_WEB_ROOT");
    s->web_root = wr && *wr ? xstrdup(wr) : NULL;
    if (s->web_root && access(s->web_root, R_OK | X_OK) != 0)
        config_error(c, "XMPP_WEB_ROOT: cannot read directory %s", s->web_root);
    const char *tp = config_get(c, "XMPP_TRUSTED_PROXIES");
    s->trusted_proxies = xstrdup(tp ? tp : "");
    s->bosh_inactivity = (int)config_get_int(c, "XMPP_BOSH_INACTIVITY", 1, 3600, 60);
    s->bosh_max_wait = (int)config_get_int(c, "XMPP_BOSH_MAX_WAIT", 1, 300, 60);
    const char *co = config_get(c, "XMPP_CORS_ORIGINS");
    s->cors_origins = xstrdup(co ? co : "");
    s->muc_restrict_creation = config_get_bool(c, "MUC_RESTRICT_ROOM_CREATION", true);
    s->muc_history_length = (int)config_get_int(c, "MUC_HISTORY_LENGTH", 0, 1000, 20);
    s->muc_max_occupants = (int)config_get_int(c, "MUC_MAX_OCCUPANTS", 1, 100000, 1000);
    s->muc_max_rooms = (int)config_get_int(c, "MUC_MAX_ROOMS", 1, 10000000, 10000);
    s->log_level = log_level_parse(config_get(c, "LOG_LEVEL"));
    if (s->log_level < 0) {
        config_error(c, "LOG_LEVEL: '%s' is not one of debug, info, warn, error",
                     config_get(c, "LOG_LEVEL"));
        s->log_level = LOG_INFO;
    }
    size_t nerr;
    config_errors(c, &nerr);
    return (int)(nerr - nerr_before);
}

void settings_clear(settings *s)
{
    for (size_t i = 0; i < s->nvhosts; i++)
        free(s->vhosts[i].domain);
    free(s->muc_domain);
    free(s->internal_muc_domain);
    for (size_t i = 0; i < s->ncomponents; i++) {
        free(s->components[i].domain);
        free(s->components[i].secret);
    }
    free(s->component_bind_address);
    free(s->http_bind_address);
    free(s->web_root);
    free(s->trusted_proxies);
    free(s->cors_origins);
    free(s->bind_address);
    free(s->data_dir);
    free(s->db_path);
    free(s->tls_cert);
    free(s->tls_key);
    memset(s, 0, sizeof *s);
}

const component_cfg *settings_component(const settings *s, const char *domain)
{
    for (size_t i = 0; i < s->ncomponents; i++)
        if (domain && strcmp(s->components[i].domain, domain) == 0)
            return &s->components[i];
    return NULL;
}

const vhost *settings_vhost(const settings *s, const char *domain)
{
    for (size_t i = 0; i < s->nvhosts; i++)
        if (domain && strcmp(s->vhosts[i].domain, domain) == 0)
            return &s->vhosts[i];
    return NULL;
}

char *settings_default_path(void)
{
    const char *p = getenv("PARLEY_CONFIG");
    if (p && *p)
        return xstrdup(p);
    char *out = NULL;
    const char *state = getenv("PARLEY_STATE_DIR");
    if (state && *state) {
        if (asprintf(&out, "%s/xmppd.conf", state) < 0)
            fatal("out of memory");
        return out;
    }
    const char *xdg = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    int r;
    if (xdg && *xdg)
        r = asprintf(&out, "%s/parley/xmppd.conf", xdg);
    else
        r = asprintf(&out, "%s/.local/state/parley/xmppd.conf", home && *home ? home : ".");
    if (r < 0)
        fatal("out of memory");
    return out;
}
