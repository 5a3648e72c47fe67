/* bridge main: configuration, the media socket, the HTTP port, the XMPP
 * connection, the periodic timers (stats, expiry), and an orderly stop on
 * SIGINT/SIGTERM (leave the brewery, expire every conference). */
#include "bridge.h"
#include "daemon.h"
#include "log.h"
#include "util.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void main_stop_cb(evutil_socket_t sig, short what, void *arg)
{
    bridge *br = arg;
    log_info(NULL, "signal %d: shutting down", (int)sig);
    br->shutting_down = true;
    event_base_loopexit(br->base, NULL);
}

static void main_stats_cb(evutil_socket_t fd, short what, void *arg)
{
    bridge *br = arg;
    bridge_rates_update(br);
    bridge_publish_stats(br);
}

static void main_expire_cb(evutil_socket_t fd, short what, void *arg)
{
    conference_expire_idle(arg);
}

__attribute__((noreturn)) static void main_exit_failure(void)
{
    exit(1);
}

int main(int argc, char **argv)
{
    const char *path;
    bool check_only;
    daemon_parse_args(argc, argv, "bridge", "default: defaults and the environment only", &path,
                      &check_only);
    bridge br;
    memset(&br, 0, sizeof br);
    br.udp_fd = -1;
    br.cfg = config_load(path, bridge_config_keys, bridge_config_nkeys);
    bridge_settings_load(&br.set, br.cfg);
    log_init("bridge", (log_level)br.set.log_level);
    if (!daemon_config_ok(br.cfg, "bridge", path))
        main_exit_failure();
    if (check_only) {
        printf("%s: OK\n", path ? path : "environment");
        return 0;
    }
    signal(SIGPIPE, SIG_IGN);
    xmpp_initialize();
    srtp_ctx_library_init();
    br.base = event_base_new();
    if (!br.base)
        fatal("event_base_new failed");
    br.started_ms = now_ms();
    hmap_init(&br.conferences);
    hmap_init(&br.conf_by_id);
    hmap_init(&br.by_ufrag);
    addrmap_init(&br.by_addr);
    random_bytes(&br.fb_audio_ssrc, sizeof br.fb_audio_ssrc);
    random_bytes(&br.fb_video_ssrc, sizeof br.fb_video_ssrc);
    br.fb_audio_ssrc |= 1;
    br.fb_video_ssrc |= 1;
    if (!(br.cert = dtls_cert_new()))
        main_exit_failure();
    if (udp_open(&br) != 0)
        main_exit_failure();
    if (bridge_http_start(&br) != 0)
        main_exit_failure();
    for (int i = 0; i < br.set.nadv; i++)
        log_info(NULL, "advertising %s port %d (from %s)", br.set.adv[i].ip, br.set.adv[i].port,
                 br.set.adv[i].origin);
    log_info(NULL,
             "bridge %s ready: media udp %s:%d, http %s:%d, region '%s', xmpp %s@%s via %s:%d, "
             "brewery %s@%s",
             br.set.id, br.set.media_bind, br.set.media_port, br.set.http_bind, br.set.http_port,
             br.set.region, br.set.user, br.set.auth_domain, br.set.xmpp_host, br.set.xmpp_port,
             br.set.brewery, br.set.internal_muc_domain);
    bridge_xmpp_start(&br);
    br.sig_int = evsignal_new(br.base, SIGINT, main_stop_cb, &br);
    br.sig_term = evsignal_new(br.base, SIGTERM, main_stop_cb, &br);
    evsignal_add(br.sig_int, NULL);
    evsignal_add(br.sig_term, NULL);
    br.stats_ev = event_new(br.base, -1, EV_PERSIST, main_stats_cb, &br);
    struct timeval st = {br.set.stats_interval_s, 0};
    event_add(br.stats_ev, &st);
    br.expire_ev = event_new(br.base, -1, EV_PERSIST, main_expire_cb, &br);
    struct timeval ex = {1, 0};
    event_add(br.expire_ev, &ex);

    event_base_dispatch(br.base);

    size_t it = 0;
    hmap_entry *e;
    while ((e = hmap_next(&br.conferences, &it)))
        conference_expire(e->value, "bridge stopping");
    bridge_xmpp_stop(&br);
    if (br.http)
        http_server_free(br.http);
    udp_close(&br);
    event_free(br.sig_int);
    event_free(br.sig_term);
    event_free(br.stats_ev);
    event_free(br.expire_ev);
    hmap_free(&br.conferences);
    hmap_free(&br.conf_by_id);
    hmap_free(&br.by_ufrag);
    addrmap_free(&br.by_addr);
    dtls_cert_free(br.cert);
    event_base_free(br.base);
    xmpp_shutdown();
    bridge_settings_clear(&br.set);
    config_free(br.cfg);
    log_info(NULL, "stopped");
    return 0;
}
