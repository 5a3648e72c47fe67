/* bridge_load: load generator for the bridge (SFU). It plays the focus
 * (an XMPP client, e.g. focus@auth.DOMAIN, in the bridge brewery; a client
 * account does not collide with a running focus component) and N
 * endpoints (media_client: ICE controlled, DTLS client, SRTP), all on one
 * libevent loop: for each load step it allocates the conference(s) on the
 * bridge with Colibri2, connects the endpoints over 127.0.0.1, sends their
 * transports and sources (one audio and one video SSRC each), then has
 * every endpoint publish Opus-like audio (50 packets/s of ~150 B) and
 * VP8-like video (150 packets/s of ~1100 B by default), paced by a timer
 * (1 ms by default). Each endpoint's audio and video start at their own
 * phase inside one packet interval (pseudo-random, the same every run), as
 * independent senders do; --aligned starts them all together inside one
 * tick, which makes every packet interval begin with a burst of N packets. Every
 * packet carries its send time (CLOCK_MONOTONIC ns) and a per-SSRC
 * sequence number, so the receivers count what arrived and the one-way
 * forwarding latency (same machine, same clock).
 *
 * Per step it prints one human line and one "RESULT {json}" line: offered
 * packets/s, packets forwarded (received by all endpoints) per second and
 * per bridge CPU-second (utime+stime of the bridge PID from /proc), loss,
 * p50/p99/max latency, bridge VmRSS and RSS per endpoint (against the RSS
 * the bridge had when this program started) and, with --bridge-http, the
 * p50/p99 delay the bridge itself added (its forwarding-delay histogram
 * from /metrics, read before and after the window). Loopback only, every wait
 * bounded, stops by itself. See bench/README.md.
 *
 * Ownership: main() owns the one `load` struct; it owns the XMPP
 * connection, the DTLS certificate, the latency histogram and, during a
 * step, the endpoints and their media_clients (freed when the step ends). */
#include "bridge_metrics.h"
#include "colibri2.h"
#include "dtls.h"
#include "log.h"
#include "media_client.h"
#include "rtp.h"
#include "srtp_ctx.h"
#include "util.h"
#include "xmpp_ev.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define HIST_MAX_US 200000 /* latency histogram: 1 µs buckets up to 200 ms */
#define PKT_CAP (1500 + SRTP_CTX_MAX_TRAILER)
#define PAYLOAD_MAGIC 0x504c4231u /* "PLB1" */
#define PT_OPUS 111
#define PT_VP8 100
#define MAX_STEPS 16

typedef struct load load;

typedef struct endpoint_state {
    load *L;
    int idx, conf;
    char id[24];
    media_client *mc;
    bool connected, failed;
    uint32_t ssrc[2]; /* audio, video */
    uint16_t rtp_seq[2];
    uint32_t payload_seq[2];
    uint64_t sent[2];        /* packets sent since sending started */
    uint64_t sent_window[2]; /* of those, inside the measurement window */
    uint64_t received;       /* window packets received from the others */
    uint64_t phase_ns[2];    /* when its first audio / video packet is due after the start */
} endpoint_state;

typedef struct options {
    const char *xmpp_host, *jid, *password, *brewery, *bridge_id, *bind_ip;
    int xmpp_port;
    int bridge_pid;
    int bridge_http_port; /* 0: do not read the bridge's delay histogram */
    int steps[MAX_STEPS], nsteps;
    int conf_size; /* endpoints per conference; 0 = all in one */
    double duration_s, warmup_s;
    int audio_pps, audio_bytes, video_pps, video_bytes;
    int connect_timeout_s;
    int tick_ms;
    bool aligned; /* every endpoint's streams start together (bursts) */
} options;

struct load {
    options o;
    struct event_base *base;
    xmpp_ev *x;
    dtls_cert *cert;
    char occupant[512]; /* the bridge in the brewery */
    bool bridge_seen;
    /* the one IQ in flight */
    char iq_id[40];
    xmpp_stanza_t *iq_reply;
    unsigned iq_seq;
    /* the current step */
    endpoint_state *eps;
    int n, nconfs;
    char meeting[40];
    bool sending, in_window;
    uint64_t send_start_ns, win_start_ns, win_end_ns;
    struct event *tick;
    uint8_t pkt[PKT_CAP];
    /* latency, for packets sent inside the window */
    uint32_t *hist;
    uint64_t hist_over, lat_n;
    uint64_t lat_max_us;
    uint64_t foreign, out_of_window;
    long rss_base_kib;
};

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* ---- /proc ---- */

/* utime+stime of pid in clock ticks, or -1. */
static long long proc_cpu_ticks(int pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* comm may hold spaces */
    if (!p)
        return -1;
    unsigned long long ut = 0, st = 0;
    /* after ") ": state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
     * utime(14) stime(15) */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (long long)(ut + st);
}

/* From /proc/PID/schedstat: CPU time of pid in ns (returned, or -1) and
 * the time it spent runnable but waiting for a CPU (*wait_ns): a bridge
 * that waits has to share its CPU with another process. */
static long long proc_sched_ns(int pid, long long *wait_ns)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/schedstat", pid);
    *wait_ns = -1;
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long long ns = -1;
    if (fscanf(f, "%lld %lld", &ns, wait_ns) != 2)
        ns = *wait_ns = -1;
    fclose(f);
    return ns;
}

static long proc_rss_kib(int pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long kib = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

/* System-wide UDP receive errors (/proc/net/snmp "Udp:" InErrors and
 * RcvbufErrors): a datagram dropped because a socket's buffer was full. */
static long long udp_rcvbuf_errors(void)
{
    FILE *f = fopen("/proc/net/snmp", "r");
    if (!f)
        return -1;
    char hdr[1024], val[1024];
    long long r = -1;
    while (fgets(hdr, sizeof hdr, f)) {
        if (strncmp(hdr, "Udp:", 4) != 0 || !fgets(val, sizeof val, f))
            continue;
        /* the header line names the columns, the next line has the values */
        char *hs = NULL, *vs = NULL;
        char *h = strtok_r(hdr, " \n", &hs), *v = strtok_r(val, " \n", &vs);
        while (h && v) {
            if (strcmp(h, "RcvbufErrors") == 0)
                r = atoll(v);
            h = strtok_r(NULL, " \n", &hs);
            v = strtok_r(NULL, " \n", &vs);
        }
        break;
    }
    fclose(f);
    return r;
}

static double self_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* ---- running the loop until something happens ---- */

static void wake_cb(evutil_socket_t fd, short what, void *arg)
{
}

/* Runs the loop until cond(L) is true or timeout_ms passed; returns cond. */
static bool run_until(load *L, bool (*cond)(load *), long timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    struct event *wake = evtimer_new(L->base, wake_cb, NULL);
    while (!(cond && cond(L))) {
        long long left = deadline - now_ms();
        if (left <= 0)
            break;
        struct timeval tv = {left / 1000, (left % 1000) * 1000};
        evtimer_add(wake, &tv);
        event_base_loop(L->base, EVLOOP_ONCE);
    }
    event_free(wake);
    return cond && cond(L);
}

/* ---- XMPP: the focus ---- */

static bool cond_connected(load *L)
{
    return xmpp_ev_connected(L->x);
}

static bool cond_bridge_seen(load *L)
{
    return L->bridge_seen;
}

static bool cond_iq_reply(load *L)
{
    return L->iq_reply != NULL;
}

static int on_presence(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    load *L = ud;
    const char *from = xmpp_stanza_get_from(st);
    const char *type = xmpp_stanza_get_type(st);
    if (from && strcmp(from, L->occupant) == 0 && (!type || strcmp(type, "unavailable") != 0))
        L->bridge_seen = true;
    return 1;
}

static int on_iq_reply(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    load *L = ud;
    if (!L->iq_reply)
        L->iq_reply = xmpp_stanza_copy(st);
    return 0;
}

static void on_xmpp_state(xmpp_ev *x, bool connected, void *ud)
{
    load *L = ud;
    if (!connected)
        return;
    xmpp_conn_t *conn = xmpp_ev_conn(x);
    xmpp_ctx_t *ctx = xmpp_ev_ctx(x);
    xmpp_handler_add(conn, on_presence, NULL, "presence", NULL, L);
    xmpp_stanza_t *p = xmpp_presence_new(ctx);
    char to[600];
    snprintf(to, sizeof to, "%s/focus", L->o.brewery);
    xmpp_stanza_set_to(p, to);
    xmpp_stanza_t *xe = xmpp_stanza_new(ctx);
    xmpp_stanza_set_name(xe, "x");
    xmpp_stanza_set_ns(xe, "http://jabber.org/protocol/muc");
    xmpp_stanza_add_child_ex(p, xe, 0);
    xmpp_ev_send(x, p);
    xmpp_stanza_release(p);
}

/* Sends <iq type=set> with the conference-modify built from r to the
 * bridge and waits for the answer; returns the reply (caller releases) or
 * NULL after a timeout or an error reply (logged). */
static xmpp_stanza_t *colibri2_call(load *L, const c2_request *r, const char *what)
{
    xmpp_ctx_t *ctx = xmpp_ev_ctx(L->x);
    snprintf(L->iq_id, sizeof L->iq_id, "bl%u", ++L->iq_seq);
    if (L->iq_reply)
        xmpp_stanza_release(L->iq_reply);
    L->iq_reply = NULL;
    xmpp_stanza_t *iq = xmpp_iq_new(ctx, "set", L->iq_id);
    xmpp_stanza_set_to(iq, L->occupant);
    xmpp_stanza_t *cm = c2_build_request(ctx, r);
    xmpp_stanza_add_child_ex(iq, cm, 0);
    xmpp_id_handler_add(xmpp_ev_conn(L->x), on_iq_reply, L->iq_id, L);
    bool sent = xmpp_ev_send(L->x, iq);
    xmpp_stanza_release(iq);
    if (!sent || !run_until(L, cond_iq_reply, 10000)) {
        fprintf(stderr, "bridge_load: %s: no answer from %s\n", what, L->occupant);
        return NULL;
    }
    xmpp_stanza_t *reply = L->iq_reply;
    L->iq_reply = NULL;
    const char *type = xmpp_stanza_get_type(reply);
    if (!type || strcmp(type, "result") != 0) {
        char *text = NULL;
        size_t tl;
        xmpp_stanza_to_text(reply, &text, &tl);
        fprintf(stderr, "bridge_load: %s refused: %s\n", what, text ? text : "?");
        if (text)
            xmpp_free(ctx, text);
        xmpp_stanza_release(reply);
        return NULL;
    }
    return reply;
}

/* ---- media ---- */

static void on_connected(media_client *mc, void *ud)
{
    endpoint_state *e = ud;
    e->connected = true;
}

static void on_failed(media_client *mc, const char *why, void *ud)
{
    endpoint_state *e = ud;
    e->failed = true;
    fprintf(stderr, "bridge_load: endpoint %s failed: %s\n", e->id, why);
}

static void on_rtp(media_client *mc, uint8_t *pkt, size_t len, void *ud)
{
    endpoint_state *e = ud;
    load *L = e->L;
    rtp_view v;
    if (rtp_parse(pkt, len, &v) != 0 || v.payload_len < 16 ||
        get32(pkt + v.payload_off) != PAYLOAD_MAGIC) {
        L->foreign++;
        return;
    }
    uint64_t sent_ns = get64(pkt + v.payload_off + 4);
    if (!L->win_start_ns || sent_ns < L->win_start_ns ||
        (L->win_end_ns && sent_ns >= L->win_end_ns)) {
        L->out_of_window++;
        return;
    }
    uint64_t now = mono_ns();
    uint64_t us = now > sent_ns ? (now - sent_ns) / 1000 : 0;
    e->received++;
    L->lat_n++;
    if (us > L->lat_max_us)
        L->lat_max_us = us;
    if (us < HIST_MAX_US)
        L->hist[us]++;
    else
        L->hist_over++;
}

static void send_one(load *L, endpoint_state *e, int kind)
{
    uint8_t *p = L->pkt;
    int bytes = kind ? L->o.video_bytes : L->o.audio_bytes;
    uint16_t seq = e->rtp_seq[kind]++;
    uint32_t n = e->payload_seq[kind]++;
    uint32_t ts = kind ? n * (90000u / (uint32_t)L->o.video_pps) : n * 960u;
    p[0] = 0x80;
    p[1] = (uint8_t)(kind ? PT_VP8 : PT_OPUS);
    p[2] = (uint8_t)(seq >> 8);
    p[3] = (uint8_t)seq;
    put32(p + 4, ts);
    put32(p + 8, e->ssrc[kind]);
    put32(p + 12, PAYLOAD_MAGIC);
    uint64_t now = mono_ns();
    put64(p + 16, now);
    put32(p + 24, n);
    size_t len = 12 + (size_t)bytes;
    if (media_client_send_rtp(e->mc, p, len, sizeof L->pkt) != 0)
        return;
    e->sent[kind]++;
    if (L->in_window)
        e->sent_window[kind]++;
}

/* Start offsets of an endpoint's streams: a pseudo-random point of one
 * packet interval (splitmix64 of the endpoint index: the same every run),
 * or, aligned, the endpoints staggered inside one tick. */
static void set_phases(load *L, endpoint_state *e)
{
    const int pps[2] = {L->o.audio_pps, L->o.video_pps};
    for (int k = 0; k < 2; k++) {
        uint64_t period = 1000000000ull / (uint64_t)pps[k];
        if (L->o.aligned) {
            e->phase_ns[k] =
                (uint64_t)e->idx * (uint64_t)L->o.tick_ms * 1000000ull / (uint64_t)L->n;
            continue;
        }
        uint64_t z = (uint64_t)e->idx * 2 + (uint64_t)k + 0x9e3779b97f4a7c15ull;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        e->phase_ns[k] = z % period;
    }
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    load *L = arg;
    if (!L->sending)
        return;
    uint64_t el = mono_ns() - L->send_start_ns;
    for (int i = 0; i < L->n; i++) {
        endpoint_state *e = &L->eps[i];
        if (!e->connected || e->failed)
            continue;
        uint64_t ta = el > e->phase_ns[0] ? el - e->phase_ns[0] : 0;
        uint64_t tv = el > e->phase_ns[1] ? el - e->phase_ns[1] : 0;
        uint64_t due_a =
            el >= e->phase_ns[0] ? ta * (uint64_t)L->o.audio_pps / 1000000000ull + 1 : 0;
        uint64_t due_v =
            el >= e->phase_ns[1] ? tv * (uint64_t)L->o.video_pps / 1000000000ull + 1 : 0;
        while (e->sent[0] < due_a)
            send_one(L, e, 0);
        while (e->sent[1] < due_v)
            send_one(L, e, 1);
    }
}

/* ---- a step ---- */

static bool cond_all_connected(load *L)
{
    for (int i = 0; i < L->n; i++)
        if (!L->eps[i].connected && !L->eps[i].failed)
            return false;
    return true;
}

static int conf_of(load *L, int i)
{
    int cs = L->o.conf_size > 0 ? L->o.conf_size : L->n;
    return i / cs;
}

/* One endpoint per request, as the focus does when a participant joins
 * (a c2_endpoint is about 140 KiB, and the bridge parses a request into an
 * array of them: a request for many endpoints would leave that much heap
 * behind in the bridge's RSS). The first endpoint of a conference creates
 * it. */
static void fill_create(load *L, int ep, c2_request *r)
{
    int conf = conf_of(L, ep);
    memset(r, 0, sizeof *r);
    snprintf(r->meeting_id, sizeof r->meeting_id, "%s-%d", L->meeting, conf);
    snprintf(r->name, sizeof r->name, "%s-%d@muc.meet.parley", L->meeting, conf);
    r->create = ep == 0 || conf_of(L, ep - 1) != conf;
    r->endpoints = xcalloc(1, sizeof *r->endpoints);
    for (int i = ep; i == ep; i++) {
        c2_endpoint *ce = &r->endpoints[r->n_endpoints++];
        snprintf(ce->id, sizeof ce->id, "%s", L->eps[i].id);
        snprintf(ce->stats_id, sizeof ce->stats_id, "%s-stats", L->eps[i].id);
        ce->create = true;
        ce->transport.present = true;
        ce->transport.ice_controlling = true;
        ce->capabilities.source_names = true;
        ce->n_media = 2;
        ce->media[0].type = C2_MEDIA_AUDIO;
        ce->media[0].n_payload_types = 1;
        ce->media[0].payload_types[0].id = PT_OPUS;
        snprintf(ce->media[0].payload_types[0].name, C2_SHORT_MAX + 1, "opus");
        ce->media[0].payload_types[0].clockrate = 48000;
        ce->media[0].payload_types[0].channels = 2;
        ce->media[1].type = C2_MEDIA_VIDEO;
        ce->media[1].n_payload_types = 1;
        ce->media[1].payload_types[0].id = PT_VP8;
        snprintf(ce->media[1].payload_types[0].name, C2_SHORT_MAX + 1, "VP8");
        ce->media[1].payload_types[0].clockrate = 90000;
    }
}

/* The endpoint's transport (setup='active': it is the DTLS client) and its
 * two sources, as the focus sends them after the participant's answer. */
static void fill_update(load *L, int ep, c2_request *r)
{
    memset(r, 0, sizeof *r);
    snprintf(r->meeting_id, sizeof r->meeting_id, "%s-%d", L->meeting, conf_of(L, ep));
    r->endpoints = xcalloc(1, sizeof *r->endpoints);
    const char *fp = dtls_cert_fingerprint(L->cert);
    for (int i = ep; i == ep; i++) {
        endpoint_state *e = &L->eps[i];
        c2_endpoint *ce = &r->endpoints[r->n_endpoints++];
        snprintf(ce->id, sizeof ce->id, "%s", e->id);
        c2_transport *t = &ce->transport;
        t->present = true;
        t->has_ice = true;
        snprintf(t->ufrag, sizeof t->ufrag, "%s", media_client_ufrag(e->mc));
        snprintf(t->pwd, sizeof t->pwd, "%s", media_client_pwd(e->mc));
        t->rtcp_mux = true;
        t->n_fingerprints = 1;
        snprintf(t->fingerprints[0].hash, sizeof t->fingerprints[0].hash, "sha-256");
        snprintf(t->fingerprints[0].setup, sizeof t->fingerprints[0].setup, "active");
        snprintf(t->fingerprints[0].value, sizeof t->fingerprints[0].value, "%s", fp);
        t->n_candidates = 1;
        c2_candidate *c = &t->candidates[0];
        char ip[46];
        int port;
        media_client_local_candidate(e->mc, ip, &port);
        c->component = 1;
        snprintf(c->foundation, sizeof c->foundation, "1");
        snprintf(c->id, sizeof c->id, "c1");
        snprintf(c->ip, sizeof c->ip, "%s", ip);
        c->port = (uint16_t)port;
        c->priority = 2130706431u;
        snprintf(c->protocol, sizeof c->protocol, "udp");
        snprintf(c->type, sizeof c->type, "host");
        ce->has_sources = true;
        ce->n_media_sources = 2;
        for (int k = 0; k < 2; k++) {
            c2_media_source *ms = &ce->media_sources[k];
            ms->type = k ? C2_MEDIA_VIDEO : C2_MEDIA_AUDIO;
            snprintf(ms->id, sizeof ms->id, "%s-%c0", e->id, k ? 'v' : 'a');
            ms->n_sources = 1;
            ms->sources[0].ssrc = e->ssrc[k];
            snprintf(ms->sources[0].name, sizeof ms->sources[0].name, "%s-%c0", e->id,
                     k ? 'v' : 'a');
            if (k)
                snprintf(ms->sources[0].video_type, sizeof ms->sources[0].video_type, "camera");
        }
    }
}

/* Creates the conference(s) and starts every media_client; 0 or -1. */
static int allocate(load *L)
{
    for (int ep = 0; ep < L->n; ep++) {
        c2_request r;
        fill_create(L, ep, &r);
        xmpp_stanza_t *reply = colibri2_call(L, &r, "conference create");
        c2_request_free(&r);
        if (!reply)
            return -1;
        xmpp_stanza_t *cm =
            xmpp_stanza_get_child_by_name_and_ns(reply, "conference-modified", C2_NS);
        c2_answer a;
        c2_error err;
        int rc = cm ? c2_parse_modified(cm, &a, &err) : -1;
        xmpp_stanza_release(reply);
        if (rc != 0) {
            fprintf(stderr, "bridge_load: bad conference-modified: %s\n", cm ? err.text : "none");
            return -1;
        }
        for (size_t k = 0; k < a.n_endpoints; k++) {
            c2_answer_endpoint *ae = &a.endpoints[k];
            endpoint_state *e = NULL;
            for (int i = 0; i < L->n && !e; i++)
                if (strcmp(L->eps[i].id, ae->id) == 0)
                    e = &L->eps[i];
            const c2_candidate *cand = NULL;
            for (size_t c = 0; c < ae->n_candidates && !cand; c++)
                if (!ae->candidates[c].is_tcp && ae->candidates[c].component == 1)
                    cand = &ae->candidates[c];
            if (!e || !cand || !ae->fingerprint.value[0] ||
                media_client_start(e->mc, ae->ufrag, ae->pwd, ae->fingerprint.value, cand->ip,
                                   cand->port) != 0) {
                fprintf(stderr, "bridge_load: unusable transport for endpoint %s\n", ae->id);
                c2_answer_free(&a);
                return -1;
            }
        }
        c2_answer_free(&a);
    }
    for (int ep = 0; ep < L->n; ep++) {
        c2_request r;
        fill_update(L, ep, &r);
        xmpp_stanza_t *reply = colibri2_call(L, &r, "endpoint update");
        c2_request_free(&r);
        if (!reply)
            return -1;
        xmpp_stanza_release(reply);
    }
    return 0;
}

static void expire_all(load *L)
{
    for (int conf = 0; conf < L->nconfs; conf++) {
        c2_request r;
        memset(&r, 0, sizeof r);
        snprintf(r.meeting_id, sizeof r.meeting_id, "%s-%d", L->meeting, conf);
        r.expire = true;
        xmpp_stanza_t *reply = colibri2_call(L, &r, "conference expire");
        if (reply)
            xmpp_stanza_release(reply);
    }
}

static uint64_t hist_pct(load *L, double pct)
{
    if (!L->lat_n)
        return 0;
    uint64_t want = (uint64_t)(pct / 100.0 * (double)L->lat_n);
    if (want >= L->lat_n)
        want = L->lat_n - 1;
    uint64_t acc = 0;
    for (uint64_t us = 0; us < HIST_MAX_US; us++) {
        acc += L->hist[us];
        if (acc > want)
            return us;
    }
    return HIST_MAX_US;
}

static int run_step(load *L, int step, int n)
{
    options *o = &L->o;
    L->n = n;
    int cs = o->conf_size > 0 ? o->conf_size : n;
    L->nconfs = (n + cs - 1) / cs;
    uint8_t rnd[4];
    random_bytes(rnd, sizeof rnd);
    snprintf(L->meeting, sizeof L->meeting, "load-%d-%02x%02x%02x%02x", n, rnd[0], rnd[1], rnd[2],
             rnd[3]);
    L->eps = xcalloc((size_t)n, sizeof *L->eps);
    memset(L->hist, 0, HIST_MAX_US * sizeof *L->hist);
    L->hist_over = L->lat_n = L->lat_max_us = L->foreign = L->out_of_window = 0;
    L->win_start_ns = L->win_end_ns = 0;
    L->in_window = false;
    media_client_cbs cbs = {on_connected, on_rtp, NULL, on_failed};
    int rc = -1;
    for (int i = 0; i < n; i++) {
        endpoint_state *e = &L->eps[i];
        e->L = L;
        e->idx = i;
        e->conf = conf_of(L, i);
        snprintf(e->id, sizeof e->id, "ep%d", i);
        e->ssrc[0] = 0x10000000u + (uint32_t)step * 0x10000u + (uint32_t)i * 2u;
        e->ssrc[1] = e->ssrc[0] + 1;
        set_phases(L, e);
        random_bytes(e->rtp_seq, sizeof e->rtp_seq);
        e->mc = media_client_new(L->base, L->cert, o->bind_ip, &cbs, e);
        if (!e->mc)
            goto out;
    }
    long long t_setup = now_ms();
    if (allocate(L) != 0)
        goto out_expire;
    run_until(L, cond_all_connected, (long)o->connect_timeout_s * 1000);
    long long setup_ms = now_ms() - t_setup;
    int connected = 0;
    for (int i = 0; i < n; i++)
        connected += L->eps[i].connected;
    if (connected < 2) {
        fprintf(stderr, "bridge_load: step %d: only %d of %d endpoints connected\n", step,
                connected, n);
        goto out_expire;
    }
    /* warm-up, then the window */
    L->send_start_ns = mono_ns();
    L->sending = true;
    run_until(L, NULL, (long)(o->warmup_s * 1000));
    long long cpu0 = proc_cpu_ticks(o->bridge_pid);
    long long wait0, wait1;
    long long sch0 = proc_sched_ns(o->bridge_pid, &wait0);
    double self0 = self_cpu_s();
    long long udp_err0 = udp_rcvbuf_errors();
    delay_hist d0, d1;
    bool have_delay =
        o->bridge_http_port && bridge_metrics_delay(o->bind_ip, o->bridge_http_port, &d0) == 0;
    L->win_start_ns = mono_ns();
    L->in_window = true;
    run_until(L, NULL, (long)(o->duration_s * 1000));
    L->in_window = false;
    L->win_end_ns = mono_ns();
    long rss = proc_rss_kib(o->bridge_pid);
    L->sending = false;
    run_until(L, NULL, 300); /* drain what is in flight */
    long long cpu1 = proc_cpu_ticks(o->bridge_pid);
    long long sch1 = proc_sched_ns(o->bridge_pid, &wait1);
    double self1 = self_cpu_s();
    long long udp_err1 = udp_rcvbuf_errors();
    have_delay = have_delay && bridge_metrics_delay(o->bind_ip, o->bridge_http_port, &d1) == 0;
    /* what the bridge added: receive timestamp to sendmmsg, per forwarded copy */
    double bd50 = have_delay ? delay_hist_quantile_ms(&d1, &d0, 0.5) : -1;
    double bd99 = have_delay ? delay_hist_quantile_ms(&d1, &d0, 0.99) : -1;
    double win_s = (double)(L->win_end_ns - L->win_start_ns) / 1e9;
    double hz = (double)sysconf(_SC_CLK_TCK);
    double bcpu = cpu0 >= 0 && cpu1 >= 0 ? (double)(cpu1 - cpu0) / hz : -1;
    double bsched = sch0 >= 0 && sch1 >= 0 ? (double)(sch1 - sch0) / 1e9 : -1;
    double bwait = wait0 >= 0 && wait1 >= 0 ? (double)(wait1 - wait0) / 1e9 : -1;
    /* expected: every packet a connected endpoint sent in the window, once per
     * other connected endpoint of its conference */
    uint64_t sent = 0, expected = 0, received = 0;
    for (int i = 0; i < n; i++) {
        endpoint_state *e = &L->eps[i];
        uint64_t s = e->sent_window[0] + e->sent_window[1];
        int others = 0;
        for (int j = 0; j < n; j++)
            others += j != i && L->eps[j].connected && L->eps[j].conf == e->conf;
        sent += s;
        expected += s * (uint64_t)others;
        received += e->received;
    }
    double loss = expected ? 100.0 * (double)(expected > received ? expected - received : 0) /
                                 (double)expected
                           : 0;
    double fwd_pps = (double)received / win_s;
    double per_cpu = bcpu > 0 ? (double)received / bcpu : 0;
    double per_sched = bsched > 0 ? (double)received / bsched : 0;
    uint64_t p50 = hist_pct(L, 50), p99 = hist_pct(L, 99);
    double kib_ep =
        rss >= 0 && L->rss_base_kib >= 0 ? (double)(rss - L->rss_base_kib) / (double)n : -1;
    uint64_t srtp_fail = 0, send_fail = 0;
    int gcm = 0;
    for (int i = 0; i < n; i++) {
        const media_client_stats *st = media_client_get_stats(L->eps[i].mc);
        srtp_fail += st->srtp_fail;
        send_fail += st->send_fail;
        gcm += st->profile == SRTP_PROFILE_AEAD_AES_128_GCM;
    }
    printf(
        "step %d: N=%d in %d conf, %d connected in %lld ms, offered %.0f pps, forwarded "
        "%.0f pps (expected %.0f), %.0f fwd/bridge-CPU-s (%.0f by schedstat), bridge CPU "
        "%.0f%%, loss %.3f%%, latency p50 %" PRIu64 " us p99 %" PRIu64 " us max %" PRIu64
        " us, bridge RSS %ld KiB (%.1f KiB/endpoint), client CPU %.0f%%, UDP receive-buffer drops "
        "%lld (system-wide), bridge runnable but waiting %.0f ms, bridge-added delay p50 %.3f ms "
        "p99 %.3f ms\n",
        step, n, L->nconfs, connected, setup_ms, (double)sent / win_s, fwd_pps,
        (double)expected / win_s, per_cpu, per_sched, 100.0 * bcpu / win_s, loss, p50, p99,
        L->lat_max_us, rss, kib_ep, 100.0 * (self1 - self0) / win_s,
        udp_err0 >= 0 && udp_err1 >= 0 ? udp_err1 - udp_err0 : -1, bwait * 1000, bd50, bd99);
    printf("RESULT {\"step\": %d, \"n\": %d, \"confs\": %d, \"connected\": %d, \"setup_ms\": %lld, "
           "\"window_s\": %.3f, \"sent\": %" PRIu64 ", \"expected\": %" PRIu64
           ", \"received\": %" PRIu64 ", \"offered_pps\": %.1f, \"forwarded_pps\": %.1f, "
           "\"bridge_cpu_s\": %.3f, \"bridge_sched_s\": %.4f, \"fwd_per_cpu_s\": %.1f, "
           "\"fwd_per_sched_s\": %.1f, \"loss_pct\": %.4f, \"p50_us\": %" PRIu64
           ", \"p99_us\": %" PRIu64 ", \"max_us\": %" PRIu64 ", \"rss_kib\": %ld, "
           "\"rss_base_kib\": %ld, \"kib_per_ep\": %.2f, \"client_cpu_s\": %.3f, "
           "\"srtp_fail\": %" PRIu64 ", \"send_fail\": %" PRIu64 ", \"gcm_endpoints\": %d, "
           "\"out_of_window\": %" PRIu64 ", \"udp_rcvbuf_errors\": %lld, "
           "\"bridge_wait_s\": %.4f, \"bridge_delay_p50_ms\": %.4f, "
           "\"bridge_delay_p99_ms\": %.4f}\n",
           step, n, L->nconfs, connected, setup_ms, win_s, sent, expected, received,
           (double)sent / win_s, fwd_pps, bcpu, bsched, per_cpu, per_sched, loss, p50, p99,
           L->lat_max_us, rss, L->rss_base_kib, kib_ep, self1 - self0, srtp_fail, send_fail, gcm,
           L->out_of_window, udp_err0 >= 0 && udp_err1 >= 0 ? udp_err1 - udp_err0 : -1, bwait, bd50,
           bd99);
    fflush(stdout);
    rc = 0;
out_expire:
    L->sending = false;
    expire_all(L);
out:
    for (int i = 0; i < n; i++)
        media_client_free(L->eps[i].mc);
    free(L->eps);
    L->eps = NULL;
    L->n = 0;
    return rc;
}

/* ---- main ---- */

static void usage(void)
{
    fprintf(stderr, "usage: bridge_load --xmpp-port P --jid focus@auth.meet.parley --password PW\n"
                    "  --bridge-id ID --bridge-pid PID [--xmpp-host 127.0.0.1]\n"
                    "  [--brewery jvbbrewery@internal-muc.meet.parley] [--bind 127.0.0.1]\n"
                    "  [--steps 4,8,12,16,20] [--conf-size 0 (one conference) | K]\n"
                    "  [--duration 10] [--warmup 1] [--audio-pps 50] [--audio-bytes 150]\n"
                    "  [--video-pps 150] [--video-bytes 1100] [--connect-timeout 20]\n"
                    "  [--tick-ms 1] [--bridge-http PORT (read its delay histogram)]\n"
                    "  [--aligned (all streams start together: bursts)]\n");
    exit(2);
}

static int parse_steps(options *o, const char *s)
{
    o->nsteps = 0;
    char *copy = xstrdup(s), *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int v = atoi(t);
        if (v < 2 || v > C2_MAX_ENDPOINTS || o->nsteps == MAX_STEPS) {
            free(copy);
            return -1;
        }
        o->steps[o->nsteps++] = v;
    }
    free(copy);
    return o->nsteps ? 0 : -1;
}

int main(int argc, char **argv)
{
    load *L = xcalloc(1, sizeof *L); /* the program's top-level state */
    options *o = &L->o;
    o->xmpp_host = "127.0.0.1";
    o->brewery = "jvbbrewery@internal-muc.meet.parley";
    o->bind_ip = "127.0.0.1";
    o->duration_s = 10;
    o->warmup_s = 1;
    o->audio_pps = 50;
    o->audio_bytes = 150;
    o->video_pps = 150;
    o->video_bytes = 1100;
    o->connect_timeout_s = 20;
    o->tick_ms = 1;
    parse_steps(o, "4,8,12,16,20");
    static const struct option lo[] = {{"xmpp-host", 1, 0, 'h'},
                                       {"xmpp-port", 1, 0, 'p'},
                                       {"password", 1, 0, 's'},
                                       {"jid", 1, 0, 'd'},
                                       {"brewery", 1, 0, 'b'},
                                       {"bridge-id", 1, 0, 'i'},
                                       {"bridge-pid", 1, 0, 'P'},
                                       {"bind", 1, 0, 'B'},
                                       {"steps", 1, 0, 'S'},
                                       {"conf-size", 1, 0, 'c'},
                                       {"duration", 1, 0, 'D'},
                                       {"warmup", 1, 0, 'W'},
                                       {"audio-pps", 1, 0, 'a'},
                                       {"audio-bytes", 1, 0, 'A'},
                                       {"video-pps", 1, 0, 'v'},
                                       {"video-bytes", 1, 0, 'V'},
                                       {"connect-timeout", 1, 0, 'T'},
                                       {"tick-ms", 1, 0, 't'},
                                       {"bridge-http", 1, 0, 'H'},
                                       {"aligned", 0, 0, 'L'},
                                       {"help", 0, 0, '?'},
                                       {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'h':
            o->xmpp_host = optarg;
            break;
        case 'p':
            o->xmpp_port = atoi(optarg);
            break;
        case 's':
            o->password = optarg;
            break;
        case 'd':
            o->jid = optarg;
            break;
        case 'b':
            o->brewery = optarg;
            break;
        case 'i':
            o->bridge_id = optarg;
            break;
        case 'P':
            o->bridge_pid = atoi(optarg);
            break;
        case 'H':
            o->bridge_http_port = atoi(optarg);
            break;
        case 'L':
            o->aligned = true;
            break;
        case 'B':
            o->bind_ip = optarg;
            break;
        case 'S':
            if (parse_steps(o, optarg) != 0)
                usage();
            break;
        case 'c':
            o->conf_size = atoi(optarg);
            break;
        case 'D':
            o->duration_s = atof(optarg);
            break;
        case 'W':
            o->warmup_s = atof(optarg);
            break;
        case 'a':
            o->audio_pps = atoi(optarg);
            break;
        case 'A':
            o->audio_bytes = atoi(optarg);
            break;
        case 'v':
            o->video_pps = atoi(optarg);
            break;
        case 'V':
            o->video_bytes = atoi(optarg);
            break;
        case 't':
            o->tick_ms = atoi(optarg);
            break;
        case 'T':
            o->connect_timeout_s = atoi(optarg);
            break;
        default:
            usage();
        }
    }
    if (!o->xmpp_port || !o->jid || !o->password || !o->bridge_id || o->bridge_pid <= 0 ||
        o->duration_s <= 0 || o->duration_s > 120 || o->warmup_s < 0 || o->warmup_s > 30 ||
        o->audio_pps < 1 || o->audio_pps > 1000 || o->video_pps < 1 || o->video_pps > 5000 ||
        o->audio_bytes < 16 || o->audio_bytes > 1400 || o->video_bytes < 16 ||
        o->video_bytes > 1400 || o->conf_size < 0 || o->conf_size == 1 || o->tick_ms < 1 ||
        o->tick_ms > 100)
        usage();
    log_init("bridge_load", LOG_WARN);
    xmpp_initialize();
    srtp_ctx_library_init();
    L->base = event_base_new();
    L->cert = dtls_cert_new();
    L->hist = xcalloc(HIST_MAX_US, sizeof *L->hist);
    if (!L->base || !L->cert)
        return 1;
    snprintf(L->occupant, sizeof L->occupant, "%s/%s", o->brewery, o->bridge_id);
    L->rss_base_kib = proc_rss_kib(o->bridge_pid);
    xmpp_ev_opts xo = {.jid = o->jid,
                       .password = o->password,
                       .host = o->xmpp_host,
                       .port = (unsigned short)o->xmpp_port,
                       .component = false,
                       .trust_tls = true, /* xmppd's self-signed certificate, loopback */
                       .backoff_max_s = 2,
                       .log_ctx = "[focus]"};
    L->x = xmpp_ev_new(L->base, &xo, on_xmpp_state, L);
    L->tick = event_new(L->base, -1, EV_PERSIST, tick_cb, L);
    struct timeval tv = {0, o->tick_ms * 1000};
    event_add(L->tick, &tv);
    int rc = 0;
    if (!run_until(L, cond_connected, 10000) || !run_until(L, cond_bridge_seen, 10000)) {
        fprintf(stderr, "bridge_load: the bridge %s is not in the brewery (xmpp %s)\n", L->occupant,
                xmpp_ev_connected(L->x) ? "connected" : "not connected");
        rc = 1;
    }
    for (int s = 0; s < o->nsteps && rc == 0; s++)
        if (run_step(L, s, o->steps[s]) != 0)
            rc = 1;
    event_free(L->tick);
    xmpp_ev_free(L->x);
    dtls_cert_free(L->cert);
    free(L->hist);
    event_base_free(L->base);
    free(L);
    xmpp_shutdown();
    return rc;
}
