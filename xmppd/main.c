/* xmppd: the XMPP server's entry point. Same steps as every parley daemon:
 * parse arguments, load and check the configuration (every problem in one
 * go), open storage, create the one event loop, listen, run, clean up. */
#include "bosh.h"
#include "c2s.h"
#include "component.h"
#include "conn.h"
#include "daemon.h"
#include "httpd.h"
#include "log.h"
#include "muc.h"
#include "parley_version.h"
#include "ratelimit.h"
#include "settings.h"
#include "store.h"
#include "util.h"
#include "xmppd.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/err.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void main_accept_c2s_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *addr,
                               int socklen, void *ud)
{
    conn_accept(ud, &c2s_ops, fd, addr, socklen);
}

static void main_accept_comp_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *addr,
                                int socklen, void *ud)
{
    conn_accept(ud, &component_ops, fd, addr, socklen);
}

static void main_accept_error_cb(struct evconnlistener *l, void *ud)
{
    log_error(NULL, "accept: %s", strerror(errno));
}

static void main_stop_cb(evutil_socket_t sig, short what, void *ud)
{
    xmppd *srv = ud;
    if (srv->stopping)
        return;
    srv->stopping = true;
    log_info(NULL, "signal %d: shutting down", (int)sig);
    evconnlistener_disable(srv->c2s_listener);
    if (srv->comp_listener)
        evconnlistener_disable(srv->comp_listener);
    for (conn *c = srv->conns; c; c = c->next)
        conn_close(c, "system-shutdown", NULL);
    struct timeval tv = {0, 300000}; /* let the stream errors flush */
    event_base_loopexit(srv->base, &tv);
}

static void main_housekeeping_cb(evutil_socket_t fd, short what, void *ud)
{
    ratelimit_prune(ud);
}

static SSL_CTX *main_tls(const settings *s)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx)
        return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (SSL_CTX_use_certificate_chain_file(ctx, s->tls_cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, s->tls_key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        char buf[256];
        ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
        log_error(NULL, "TLS: %s / %s: %s", s->tls_cert, s->tls_key, buf);
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

static struct evconnlistener *main_listen(xmppd *srv, const char *a, int port, evconnlistener_cb cb)
{
    struct sockaddr_storage ss;
    int sslen = sizeof ss;
    char spec[300];
    snprintf(spec, sizeof spec, strchr(a, ':') ? "[%s]:%d" : "%s:%d", a, port);
    if (evutil_parse_sockaddr_port(spec, (struct sockaddr *)&ss, &sslen) != 0) {
        log_error(NULL, "cannot parse listen address %s", spec);
        return NULL;
    }
    struct evconnlistener *l = evconnlistener_new_bind(
        srv->base, cb, srv, LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 1024,
        (struct sockaddr *)&ss, sslen);
    if (!l) {
        log_error(NULL, "cannot listen on %s: %s", spec, strerror(errno));
        return NULL;
    }
    evconnlistener_set_error_cb(l, main_accept_error_cb);
    return l;
}

/* A startup failure after the configuration was read: the reason is
 * logged already. exit() from inside main, not a return, keeps main's
 * objects reachable for LeakSanitizer: they are not leaks, the process ends. */
__attribute__((noreturn)) static void main_exit_failure(void)
{
    exit(1);
}

int main(int argc, char **argv)
{
    const char *arg_path;
    bool check_only;
    daemon_parse_args(argc, argv, "xmppd",
                      "default: $PARLEY_CONFIG or ~/.local/state/parley/xmppd.conf", &arg_path,
                      &check_only);
    char *path = arg_path ? xstrdup(arg_path) : NULL;
    if (!path)
        path = settings_default_path();

    xmppd srv;
    memset(&srv, 0, sizeof srv);
    srv.cfg = config_load(path, xmppd_config_keys, xmppd_config_nkeys);
    settings_load(&srv.set, srv.cfg);
    log_init("xmppd", (log_level)srv.set.log_level);
    if (!daemon_config_ok(srv.cfg, "xmppd", path)) {
        main_exit_failure();
    }
    if (check_only) {
        printf("%s: OK\n", path);
        return 0;
    }
    free(path);

    if (srv.set.data_dir && mkdir(srv.set.data_dir, 0700) != 0 && errno != EEXIST) {
        log_error(NULL, "XMPP_DATA_DIR %s: %s", srv.set.data_dir, strerror(errno));
        main_exit_failure();
    }
    char *err = NULL;
    srv.store = store_open(srv.set.db_path, &err);
    if (!srv.store) {
        log_error(NULL, "database: %s", err ? err : "cannot open");
        free(err);
        main_exit_failure();
    }
    if (srv.set.tls_cert && !(srv.tls = main_tls(&srv.set)))
        main_exit_failure();
    random_bytes(srv.scram_secret, sizeof srv.scram_secret);
    signal(SIGPIPE, SIG_IGN);
    srv.base = event_base_new();
    if (!srv.base)
        fatal("event_base_new failed");
    hmap_init(&srv.sessions);
    hmap_init(&srv.login_buckets);
    hmap_init(&srv.components);
    conn_flush_init(&srv);
    if (muc_init(&srv) != 0)
        main_exit_failure();
    srv.c2s_listener = main_listen(&srv, srv.set.bind_address, srv.set.port, main_accept_c2s_cb);
    if (!srv.c2s_listener)
        main_exit_failure();
    if (srv.set.component_port) {
        srv.comp_listener = main_listen(&srv, srv.set.component_bind_address,
                                        srv.set.component_port, main_accept_comp_cb);
        if (!srv.comp_listener)
            main_exit_failure();
    }
    hmap_init(&srv.bosh_sessions);
    if (httpd_start(&srv) != 0)
        main_exit_failure();
    srv.sig_int = evsignal_new(srv.base, SIGINT, main_stop_cb, &srv);
    srv.sig_term = evsignal_new(srv.base, SIGTERM, main_stop_cb, &srv);
    evsignal_add(srv.sig_int, NULL);
    evsignal_add(srv.sig_term, NULL);
    srv.housekeeping = event_new(srv.base, -1, EV_PERSIST, main_housekeeping_cb, &srv);
    struct timeval hk = {30, 0};
    evtimer_add(srv.housekeeping, &hk);

    char domains[512] = "";
    for (size_t i = 0; i < srv.set.nvhosts; i++) {
        const vhost *v = &srv.set.vhosts[i];
        size_t l = strlen(domains);
        snprintf(domains + l, sizeof domains - l, "%s%s(%s%s%s)", i ? " " : "", v->domain,
                 (v->auth & VHOST_AUTH_ACCOUNTS) ? "accounts" : "",
                 v->auth == (VHOST_AUTH_ACCOUNTS | VHOST_AUTH_ANONYMOUS) ? "+" : "",
                 (v->auth & VHOST_AUTH_ANONYMOUS) ? "anonymous" : "");
    }
    log_info(NULL,
             "xmppd ready: c2s on %s:%d (STARTTLS %s), components on %s:%d (%zu configured), "
             "http on %s:%d%s, database %s, domains %s",
             srv.set.bind_address, srv.set.port,
             srv.tls ? (srv.set.require_encryption ? "required" : "offered") : "off",
             srv.set.component_bind_address, srv.set.component_port, srv.set.ncomponents,
             srv.set.http_bind_address, srv.set.http_port, srv.set.http_tls ? " (TLS)" : "",
             srv.set.db_path, domains);

    event_base_dispatch(srv.base);

    conn_free_all(&srv);
    bosh_free_all(&srv);
    event_free(srv.flush_ev);
    httpd_stop(&srv);
    evconnlistener_free(srv.c2s_listener);
    if (srv.comp_listener)
        evconnlistener_free(srv.comp_listener);
    hmap_free(&srv.components);
    muc_free(&srv);
    event_free(srv.sig_int);
    event_free(srv.sig_term);
    event_free(srv.housekeeping);
    ratelimit_free(&srv);
    hmap_free(&srv.sessions);
    store_close(srv.store);
    SSL_CTX_free(srv.tls);
    event_base_free(srv.base);
    settings_clear(&srv.set);
    config_free(srv.cfg);
    log_info(NULL, "stopped");
    return 0;
}
