/* stats: packet and bit rates over the last stats interval, the stress
 * level published in the brewery (forwarded + received packets per second
 * over BRIDGE_CAPACITY_PPS), and the same counters as JSON for
 * /colibri/stats and as Prometheus text for /metrics. */
#include "bridge.h"
#include "util.h"

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bridge_rates_update(bridge *br)
{
    long long now = now_ms();
    if (br->last_rate_ms) {
        double dt = (double)(now - br->last_rate_ms) / 1000.0;
        if (dt > 0.05) {
            static const double bits = 8.0;
            br->rx_pps = (double)(br->c.rx_packets - br->last_rx) / dt;
            br->tx_pps = (double)(br->c.tx_packets - br->last_tx) / dt;
            br->rx_bps = (double)(br->c.rx_bytes - br->last_rx_bytes) * bits / dt;
            br->tx_bps = (double)(br->c.tx_bytes - br->last_tx_bytes) * bits / dt;
        }
    }
    if (br->delay.total != br->delay_prev.total) {
        br->delay_p50_ms = delay_hist_quantile_ms(&br->delay, &br->delay_prev, 0.5);
        br->delay_p99_ms = delay_hist_quantile_ms(&br->delay, &br->delay_prev, 0.99);
    } else {
        br->delay_p50_ms = br->delay_p99_ms = 0;
    }
    br->delay_prev = br->delay;
    br->last_rate_ms = now;
    br->last_rx = br->c.rx_packets;
    br->last_tx = br->c.tx_packets;
    br->last_rx_bytes = br->c.rx_bytes;
    br->last_tx_bytes = br->c.tx_bytes;
}

double bridge_stress(const bridge *br)
{
    double s = (br->rx_pps + br->tx_pps) / (double)br->set.capacity_pps;
    return s < 0 ? 0 : s;
}

typedef struct counter_def {
    const char *name;
    size_t off;
    const char *help;
} counter_def;

#define C(field, help)                                                                             \
    {                                                                                              \
#field, offsetof(bridge_counters, field), help                                             \
    }
static const counter_def counters[] = {
    C(rx_packets, "UDP datagrams received"),
    C(rx_bytes, "UDP bytes received"),
    C(tx_packets, "UDP datagrams sent"),
    C(tx_bytes, "UDP bytes sent"),
    C(tx_dropped, "datagrams the kernel refused to send (full buffer, unreachable)"),
    C(rtp_forwarded, "RTP packets forwarded (one per receiver)"),
    C(rtcp_forwarded, "RTCP packets forwarded"),
    C(pli_forwarded, "PLIs forwarded to the sender of the SSRC"),
    C(fir_forwarded, "FIRs forwarded"),
    C(nack_forwarded, "NACKs forwarded"),
    C(pli_generated, "PLIs the bridge sent for new receivers"),
    C(rr_generated, "receiver report compounds the bridge sent"),
    C(keyframe_requests_limited, "PLI/FIR dropped: one per source every 200 ms at most"),
    C(stun_requests, "STUN binding requests received"),
    C(stun_bad, "STUN messages dropped or refused: malformed or bad integrity"),
    C(stun_unknown_ufrag, "STUN requests for an unknown ufrag"),
    C(dtls_failed, "DTLS handshakes that failed"),
    C(srtp_fail, "SRTP/SRTCP packets that failed authentication or protection"),
    C(unknown_ssrc, "RTP packets from SSRCs the endpoint did not signal"),
    C(malformed, "datagrams dropped as malformed or from unknown addresses"),
    C(conferences_created, "conferences created"),
    C(conferences_expired, "conferences expired"),
    C(endpoints_created, "endpoints created"),
    C(endpoints_expired, "endpoints expired"),
    C(consent_lost, "endpoints whose ICE consent was lost"),
    C(ice_succeeded, "endpoints whose ICE completed"),
    C(ws_messages, "bridge channel messages relayed"),
    C(ws_rejected, "bridge channel connections refused"),
};
#undef C

static uint64_t counter_get(const bridge *br, const counter_def *d)
{
    uint64_t v;
    memcpy(&v, (const char *)&br->c + d->off, sizeof v);
    return v;
}

char *bridge_stats_json(bridge *br)
{
    json_t *o = json_object();
    int neps = bridge_endpoints(br), ice_ok = 0, no_consent = 0;
    size_t it = 0;
    hmap_entry *e;
    while ((e = hmap_next(&br->conferences, &it))) {
        conference *cf = e->value;
        for (int i = 0; i < cf->neps; i++) {
            ice_ok += cf->eps[i]->selected >= 0;
            no_consent += cf->eps[i]->consent_lost && !cf->eps[i]->consent;
        }
    }
    json_object_set_new(o, "conferences", json_integer((json_int_t)br->conferences.len));
    json_object_set_new(o, "endpoints", json_integer(neps));
    json_object_set_new(o, "participants", json_integer(neps));
    json_object_set_new(o, "endpoints_ice_connected", json_integer(ice_ok));
    json_object_set_new(o, "endpoints_without_consent", json_integer(no_consent));
    json_object_set_new(o, "stress_level", json_real(bridge_stress(br)));
    json_object_set_new(o, "packet_rate_download", json_real(br->rx_pps));
    json_object_set_new(o, "packet_rate_upload", json_real(br->tx_pps));
    json_object_set_new(o, "bit_rate_download", json_real(br->rx_bps / 1000));
    json_object_set_new(o, "bit_rate_upload", json_real(br->tx_bps / 1000));
    json_object_set_new(o, "forward_delay_p50_ms", json_real(br->delay_p50_ms));
    json_object_set_new(o, "forward_delay_p99_ms", json_real(br->delay_p99_ms));
    json_object_set_new(o, "drain", json_boolean(br->drain));
    json_object_set_new(o, "graceful_shutdown", json_boolean(br->shutting_down));
    json_object_set_new(o, "region", json_string(br->set.region));
    json_object_set_new(o, "relay_id", json_string(br->set.id));
    json_object_set_new(o, "version", json_string(PARLEY_VERSION));
    json_object_set_new(o, "xmpp_connected", json_boolean(br->xmpp && xmpp_ev_connected(br->xmpp)));
    json_object_set_new(o, "in_brewery", json_boolean(br->in_brewery));
    json_object_set_new(o, "uptime_seconds", json_integer((now_ms() - br->started_ms) / 1000));
    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++)
        json_object_set_new(o, counters[i].name,
                            json_integer((json_int_t)counter_get(br, &counters[i])));
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return s;
}

char *bridge_metrics_text(bridge *br)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        fatal("out of memory");
    fprintf(f, "# HELP parley_bridge_conferences conferences on this bridge\n");
    fprintf(f, "# TYPE parley_bridge_conferences gauge\nparley_bridge_conferences %zu\n",
            br->conferences.len);
    fprintf(f, "# HELP parley_bridge_endpoints endpoints on this bridge\n");
    fprintf(f, "# TYPE parley_bridge_endpoints gauge\nparley_bridge_endpoints %d\n",
            bridge_endpoints(br));
    fprintf(f, "# HELP parley_bridge_stress_level load over capacity\n");
    fprintf(f, "# TYPE parley_bridge_stress_level gauge\nparley_bridge_stress_level %.4f\n",
            bridge_stress(br));
    fprintf(f, "# TYPE parley_bridge_draining gauge\nparley_bridge_draining %d\n", br->drain);
    fprintf(f, "# TYPE parley_bridge_xmpp_connected gauge\nparley_bridge_xmpp_connected %d\n",
            br->xmpp && xmpp_ev_connected(br->xmpp));
    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++) {
        fprintf(f, "# HELP parley_bridge_%s_total %s\n", counters[i].name, counters[i].help);
        fprintf(f, "# TYPE parley_bridge_%s_total counter\n", counters[i].name);
        fprintf(f, "parley_bridge_%s_total %llu\n", counters[i].name,
                (unsigned long long)counter_get(br, &counters[i]));
    }
    /* how long forwarded copies stayed in the bridge (kernel receive time
     * to sendmmsg), as a Prometheus histogram; rate() of it gives windows */
    const delay_hist *h = &br->delay;
    fprintf(f, "# HELP parley_bridge_forward_delay_seconds time from a datagram's arrival "
               "to the send of each forwarded copy\n");
    fprintf(f, "# TYPE parley_bridge_forward_delay_seconds histogram\n");
    uint64_t cum = 0;
    for (int i = 0; i < DELAY_BUCKETS - 1; i++) {
        cum += h->count[i];
        fprintf(f, "parley_bridge_forward_delay_seconds_bucket{le=\"%.6f\"} %llu\n",
                delay_hist_bound_us(i) / 1e6, (unsigned long long)cum);
    }
    fprintf(f, "parley_bridge_forward_delay_seconds_bucket{le=\"+Inf\"} %llu\n",
            (unsigned long long)h->total);
    fprintf(f, "parley_bridge_forward_delay_seconds_sum %.6f\n", (double)h->sum_us / 1e6);
    fprintf(f, "parley_bridge_forward_delay_seconds_count %llu\n", (unsigned long long)h->total);
    fclose(f);
    return buf;
}
