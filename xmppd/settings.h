/* settings: xmppd's configuration keys, their defaults, and the parsed,
 * validated settings the daemon runs with. Parsing is kept apart from the
 * runtime code: settings_load reads a config and reports every problem.
 *
 * Ownership: settings_load fills a caller-owned struct whose strings are
 * malloc'd; settings_clear frees them. Startup only. */
#ifndef PARLEY_SETTINGS_H
#define PARLEY_SETTINGS_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>

extern const config_key xmppd_config_keys[];
extern const size_t xmppd_config_nkeys;

typedef enum vhost_auth { VHOST_AUTH_ACCOUNTS = 1, VHOST_AUTH_ANONYMOUS = 2 } vhost_auth;

typedef struct vhost {
    char *domain;
    unsigned auth; /* VHOST_AUTH_* bits */
} vhost;

typedef struct component_cfg {
    char *domain;
    char *secret;
} component_cfg;

#define SETTINGS_MAX_COMPONENTS 32

typedef struct settings {
    component_cfg components[SETTINGS_MAX_COMPONENTS];
    size_t ncomponents;
    char *component_bind_address;
    int component_port;
    vhost vhosts[4];
    size_t nvhosts;
    char *muc_domain, *internal_muc_domain; /* served from the MUC issue on */
    char *bind_address;
    int port;
    char *data_dir, *db_path;
    char *tls_cert, *tls_key;
    bool require_encryption;
    size_t max_stanza;
    unsigned max_depth, max_attrs;
    int auth_timeout_s;
    int login_rate_per_min;
    int max_connections;
    int stanza_rate, stanza_burst;
    size_t max_send_buffer;
    int log_level;
    char *http_bind_address, *web_root, *trusted_proxies, *cors_origins;
    int http_port;
    int bosh_inactivity, bosh_max_wait;
    bool http_tls;
    bool muc_restrict_creation;
    int muc_history_length, muc_max_occupants, muc_max_rooms;
} settings;

/* Fills s from c and validates it (ports, files exist and are readable,
 * domains are valid JID domains, limits in range). Every problem is recorded
 * on c (config_errors); returns the number of problems. */
int settings_load(settings *s, config *c);
void settings_clear(settings *s);
/* The configured component for domain, or NULL. */
const component_cfg *settings_component(const settings *s, const char *domain);
/* The vhost serving domain, or NULL. */
const vhost *settings_vhost(const settings *s, const char *domain);
/* Default config path: $PARLEY_CONFIG, else $PARLEY_STATE_DIR/xmppd.conf, else
 * $XDG_STATE_HOME/parley/xmppd.conf,
 * else $HOME/.local/state/parley/xmppd.conf. Caller frees. */
char *settings_default_path(void);

#endif
