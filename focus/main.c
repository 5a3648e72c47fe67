/* focus main: configuration, the HTTP port, the component connection, the
 * healthcheck timer, and an orderly stop on SIGINT/SIGTERM (every
 * conference ended: sessions terminated, bridges told, rooms left). */
#include "daemon.h"
#include "focus.h"
#include "log.h"
#include "util.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void main_stop_cb(evutil_socket_t sig, short what, void *arg)
{
    focus *f = arg;
    log_info(NULL, "signal %d: shutting down", (int)sig);
    event_base_loopexit(f->base, NULL);
}

static void main_hc_cb(evutil_socket_t fd, short what, void *arg)
{
    focus *f = arg;
    if (xmpp_ev_connected(f->xmpp))
        bridges_healthcheck_all(f);
}

__attribute__((noreturn)) static void main_exit_failure(void)
{
    exit(1);
}

int main(int argc, char **argv)
{
    const char *path;
    bool check_only;
    daemon_parse_args(argc, argv, "focus", "default: defaults and the environment only", &path,
                      &check_only);
    focus f;
    memset(&f, 0, sizeof f);
    f.cfg = config_load(path, focus_config_keys, focus_config_nkeys);
    focus_settings_load(&f.set, f.cfg);
    log_init("focus", (log_level)f.set.log_level);
    if (!daemon_config_ok(f.cfg, "focus", path))
        main_exit_failure();
    if (check_only) {
        printf("%s: OK\n", path ? path : "environment");
        return 0;
    }
    signal(SIGPIPE, SIG_IGN);
    xmpp_initialize();
    f.base = event_base_new();
    if (!f.base)
        fatal("event_base_new failed");
    f.started_ms = now_ms();
    hmap_init(&f.confs);
    hmap_init(&f.bridges);
    hmap_init(&f.recorders);
    hmap_init(&f.pending);
    if (focus_http_start(&f) != 0)
        main_exit_failure();
    log_info(NULL,
             "focus ready: component %s via %s:%d, rooms on %s, breweries %s@%s and %s@%s, "
             "http %s:%d",
             f.set.focus_domain, f.set.xmpp_host, f.set.component_port, f.set.muc_domain,
             f.set.jvb_brewery, f.set.internal_muc_domain, f.set.jibri_brewery,
             f.set.internal_muc_domain, f.set.http_bind, f.set.http_port);
    focus_xmpp_start(&f);
    f.sig_int = evsignal_new(f.base, SIGINT, main_stop_cb, &f);
    f.sig_term = evsignal_new(f.base, SIGTERM, main_stop_cb, &f);
    evsignal_add(f.sig_int, NULL);
    evsignal_add(f.sig_term, NULL);
    f.hc_ev = event_new(f.base, -1, EV_PERSIST, main_hc_cb, &f);
    struct timeval hc = {f.set.healthcheck_interval_s, 0};
    event_add(f.hc_ev, &hc);

    event_base_dispatch(f.base);

    size_t it = 0;
    hmap_entry *e;
    while ((e = hmap_next(&f.confs, &it)))
        conf_end(e->value, "focus stopping");
    iq_fail_all(&f);
    focus_xmpp_stop(&f);
    if (f.http)
        http_server_free(f.http);
    it = 0;
    while ((e = hmap_next(&f.bridges, &it)))
        free(e->value);
    it = 0;
    while ((e = hmap_next(&f.recorders, &it)))
        free(e->value);
    hmap_free(&f.confs);
    hmap_free(&f.bridges);
    hmap_free(&f.recorders);
    hmap_free(&f.pending);
    event_free(f.sig_int);
    event_free(f.sig_term);
    event_free(f.hc_ev);
    event_base_free(f.base);
    xmpp_shutdown();
    focus_settings_clear(&f.set);
    config_free(f.cfg);
    log_info(NULL, "stopped");
    return 0;
}
