/* srtp_bare: the bare limit of what the bridge does per packet, in one
 * process: a forwarding loop (libevent, one UDP socket on 127.0.0.1, its
 * own thread pinned to --fwd-cpu) receives SRTP datagrams with recvmmsg,
 * unprotects each (srtp_ctx), re-protects a copy for each of R receivers
 * with that receiver's keys and sends them with sendmmsg (up to 64 per
 * call) to R sink sockets. A sender thread and a sink thread (both on
 * --load-cpu) feed and drain it. Keys are random, built like DTLS-SRTP
 * exporter output into dtls_srtp_keys, for either profile.
 *
 * Reports (one human line and one "RESULT {json}" line): packets in and
 * out per second, packets out per CPU-second of the forwarding thread
 * (CLOCK_THREAD_CPUTIME_ID), µs of forwarding CPU per packet out, and loss
 * at the sinks. The packet mix is the load generator's: one Opus-like
 * packet (150 B payload) for every three VP8-like ones (1100 B).
 *
 * Ownership: main() owns the one `bare` struct and everything in it; the
 * threads borrow it and are joined before it is freed. Bounded: at most
 * 60 s. See bench/README.md. */
#include "dtls.h"
#include "log.h"
#include "srtp_ctx.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MAX_RECEIVERS 64
#define PKT_CAP (1500 + SRTP_CTX_MAX_TRAILER)

typedef struct out_slot {
    uint8_t buf[PKT_CAP];
    size_t len;
    int to; /* receiver index */
} out_slot;

typedef struct bare {
    /* options */
    srtp_profile_id profile;
    int receivers;
    double duration_s, warmup_s;
    int pps; /* 0: as fast as the sender goes */
    int fwd_cpu, load_cpu;
    /* sockets */
    int fwd_fd, send_fd, sink_fd[MAX_RECEIVERS];
    struct sockaddr_in fwd_addr, sink_addr[MAX_RECEIVERS];
    /* crypto */
    srtp_ctx *sender;                 /* protects what the sender sends */
    srtp_ctx *fwd_in;                 /* unprotects it in the forwarder */
    srtp_ctx *fwd_out[MAX_RECEIVERS]; /* one per receiver */
    /* forwarder state (forwarding thread only) */
    struct event_base *base;
    struct event *rd_ev, *stop_ev, *window_ev, *drain_ev;
    uint8_t rx[BATCH][PKT_CAP];
    out_slot *out; /* BATCH * receivers */
    int nout;
    uint64_t in_pkts, out_pkts, unprotect_fail, protect_fail, send_fail;
    uint64_t w_in0, w_out0;
    struct timespec w_cpu0, w_wall0;
    double w_cpu_s, w_wall_s;
    uint64_t w_in, w_out;
    /* shared with the threads */
    atomic_bool stop_send, stop;
    atomic_uint_fast64_t sent, sunk;
} bare;

static double ts_s(const struct timespec *t)
{
    return (double)t->tv_sec + (double)t->tv_nsec / 1e9;
}

static void pin_self(int cpu)
{
    if (cpu < 0)
        return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0)
        fprintf(stderr, "srtp_bare: cannot pin a thread to CPU %d\n", cpu);
}

static int udp_socket(struct sockaddr_in *addr)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int sz = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof *addr;
    if (bind(fd, (struct sockaddr *)addr, sizeof *addr) != 0 ||
        getsockname(fd, (struct sockaddr *)addr, &len) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Random keys for one association (what a DTLS-SRTP exporter gives). */
static void make_keys(srtp_profile_id p, dtls_srtp_keys *k)
{
    memset(k, 0, sizeof *k);
    k->profile = p;
    k->key_len = 16;
    k->salt_len = p == SRTP_PROFILE_AEAD_AES_128_GCM ? 12 : 14;
    random_bytes(k->local_key, k->key_len);
    random_bytes(k->local_salt, k->salt_len);
    random_bytes(k->remote_key, k->key_len);
    random_bytes(k->remote_salt, k->salt_len);
}

/* The other end of k: local and remote swapped. */
static void mirror_keys(const dtls_srtp_keys *a, dtls_srtp_keys *b)
{
    *b = *a;
    memcpy(b->local_key, a->remote_key, sizeof b->local_key);
    memcpy(b->local_salt, a->remote_salt, sizeof b->local_salt);
    memcpy(b->remote_key, a->local_key, sizeof b->remote_key);
    memcpy(b->remote_salt, a->local_salt, sizeof b->remote_salt);
}

/* ---- forwarding thread (the libevent loop) ---- */

static void flush_out(bare *B)
{
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    int done = 0;
    while (done < B->nout) {
        int n = B->nout - done < BATCH ? B->nout - done : BATCH;
        for (int i = 0; i < n; i++) {
            out_slot *o = &B->out[done + i];
            iov[i].iov_base = o->buf;
            iov[i].iov_len = o->len;
            memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            msgs[i].msg_hdr.msg_name = &B->sink_addr[o->to];
            msgs[i].msg_hdr.msg_namelen = sizeof B->sink_addr[o->to];
        }
        int sent = sendmmsg(B->fwd_fd, msgs, (unsigned)n, MSG_DONTWAIT);
        if (sent <= 0) {
            B->send_fail++;
            sent = 1; /* drop it, go on (as the bridge does) */
        } else {
            B->out_pkts += (uint64_t)sent;
        }
        done += sent;
    }
    B->nout = 0;
}

static void fwd_readable(evutil_socket_t fd, short what, void *arg)
{
    bare *B = arg;
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    for (int round = 0; round < 8; round++) {
        for (int i = 0; i < BATCH; i++) {
            iov[i].iov_base = B->rx[i];
            iov[i].iov_len = PKT_CAP;
            memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int n = recvmmsg(B->fwd_fd, msgs, BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0)
            break;
        for (int i = 0; i < n; i++) {
            size_t len = msgs[i].msg_len;
            B->in_pkts++;
            if (srtp_ctx_unprotect_rtp(B->fwd_in, B->rx[i], &len) != 0) {
                B->unprotect_fail++;
                continue;
            }
            for (int r = 0; r < B->receivers; r++) {
                if (B->nout == BATCH * B->receivers)
                    flush_out(B);
                out_slot *o = &B->out[B->nout];
                memcpy(o->buf, B->rx[i], len);
                o->len = len;
                if (srtp_ctx_protect_rtp(B->fwd_out[r], o->buf, &o->len, sizeof o->buf) != 0) {
                    B->protect_fail++;
                    continue;
                }
                o->to = r;
                B->nout++;
            }
        }
        flush_out(B);
        if (n < BATCH)
            break;
    }
}

static void window_cb(evutil_socket_t fd, short what, void *arg)
{
    bare *B = arg;
    B->w_in0 = B->in_pkts;
    B->w_out0 = B->out_pkts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &B->w_cpu0);
    clock_gettime(CLOCK_MONOTONIC, &B->w_wall0);
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
    bare *B = arg;
    struct timespec cpu, wall;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
    clock_gettime(CLOCK_MONOTONIC, &wall);
    B->w_cpu_s = ts_s(&cpu) - ts_s(&B->w_cpu0);
    B->w_wall_s = ts_s(&wall) - ts_s(&B->w_wall0);
    B->w_in = B->in_pkts - B->w_in0;
    B->w_out = B->out_pkts - B->w_out0;
    atomic_store(&B->stop_send, true);
    struct timeval tv = {0, 200000}; /* forward what is in flight, then stop */
    evtimer_add(B->drain_ev, &tv);
}

static void drain_cb(evutil_socket_t fd, short what, void *arg)
{
    bare *B = arg;
    event_base_loopexit(B->base, NULL);
}

/* ---- sender and sink threads ---- */

static void *sender_main(void *arg)
{
    bare *B = arg;
    pin_self(B->load_cpu);
    static const int sizes[4] = {150, 1100, 1100, 1100};
    uint8_t pkts[BATCH][PKT_CAP];
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    uint16_t seq = 1;
    uint32_t n = 0;
    memset(pkts, 0xab, sizeof pkts);
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t sent = 0;
    while (!atomic_load(&B->stop_send)) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        double el = ts_s(&now) - ts_s(&t0);
        uint64_t due = B->pps ? (uint64_t)(el * B->pps) - sent : BATCH;
        if (due == 0) {
            struct timespec d = {0, 500000};
            nanosleep(&d, NULL);
            continue;
        }
        int k = due > BATCH ? BATCH : (int)due;
        for (int i = 0; i < k; i++) {
            uint8_t *p = pkts[i];
            bool video = sizes[n % 4] > 200;
            uint32_t ssrc = video ? 0x2222u : 0x1111u;
            p[0] = 0x80;
            p[1] = video ? 100 : 111;
            p[2] = (uint8_t)(seq >> 8);
            p[3] = (uint8_t)seq;
            p[4] = (uint8_t)(n >> 24);
            p[5] = (uint8_t)(n >> 16);
            p[6] = (uint8_t)(n >> 8);
            p[7] = (uint8_t)n;
            p[8] = (uint8_t)(ssrc >> 24);
            p[9] = (uint8_t)(ssrc >> 16);
            p[10] = (uint8_t)(ssrc >> 8);
            p[11] = (uint8_t)ssrc;
            size_t len = 12 + (size_t)sizes[n % 4];
            seq++;
            n++;
            if (srtp_ctx_protect_rtp(B->sender, p, &len, PKT_CAP) != 0) {
                fprintf(stderr, "srtp_bare: sender protect failed\n");
                return NULL;
            }
            iov[i].iov_base = p;
            iov[i].iov_len = len;
            memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            msgs[i].msg_hdr.msg_name = &B->fwd_addr;
            msgs[i].msg_hdr.msg_namelen = sizeof B->fwd_addr;
        }
        /* sequence numbers of packets not sent are skipped: the
         * forwarder's replay window accepts gaps */
        int s = sendmmsg(B->send_fd, msgs, (unsigned)k, 0);
        sent += (uint64_t)k;
        atomic_fetch_add(&B->sent, (uint64_t)(s > 0 ? s : 0));
    }
    return NULL;
}

static void *sink_main(void *arg)
{
    bare *B = arg;
    pin_self(B->load_cpu);
    struct pollfd pfd[MAX_RECEIVERS];
    uint8_t(*buf)[PKT_CAP] = xcalloc(BATCH, PKT_CAP);
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    for (int r = 0; r < B->receivers; r++) {
        pfd[r].fd = B->sink_fd[r];
        pfd[r].events = POLLIN;
    }
    while (!atomic_load(&B->stop)) {
        int pr = poll(pfd, (nfds_t)B->receivers, 50);
        if (pr <= 0)
            continue;
        for (int r = 0; r < B->receivers; r++) {
            if (!(pfd[r].revents & POLLIN))
                continue;
            for (;;) {
                for (int i = 0; i < BATCH; i++) {
                    iov[i].iov_base = buf[i];
                    iov[i].iov_len = PKT_CAP;
                    memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
                    msgs[i].msg_hdr.msg_iov = &iov[i];
                    msgs[i].msg_hdr.msg_iovlen = 1;
                }
                int n = recvmmsg(B->sink_fd[r], msgs, BATCH, MSG_DONTWAIT, NULL);
                if (n <= 0)
                    break;
                atomic_fetch_add(&B->sunk, (uint64_t)n);
                if (n < BATCH)
                    break;
            }
        }
    }
    free(buf);
    return NULL;
}

/* ---- main ---- */

static void usage(void)
{
    fprintf(stderr, "usage: srtp_bare [--profile gcm|cm] [--receivers 3] [--duration 3]\n"
                    "  [--warmup 0.5] [--pps 20000 (0: as fast as possible)]\n"
                    "  [--fwd-cpu 1] [--load-cpu 0] (-1: do not pin)\n");
    exit(2);
}

int main(int argc, char **argv)
{
    bare *B = xcalloc(1, sizeof *B);
    B->profile = SRTP_PROFILE_AEAD_AES_128_GCM;
    B->receivers = 3;
    B->duration_s = 3;
    B->warmup_s = 0.5;
    B->pps = 20000;
    B->fwd_cpu = 1;
    B->load_cpu = 0;
    static const struct option lo[] = {
        {"profile", 1, 0, 'p'},  {"receivers", 1, 0, 'r'}, {"duration", 1, 0, 'd'},
        {"warmup", 1, 0, 'w'},   {"pps", 1, 0, 'n'},       {"fwd-cpu", 1, 0, 'f'},
        {"load-cpu", 1, 0, 'l'}, {"help", 0, 0, '?'},      {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'p':
            if (strcmp(optarg, "gcm") == 0)
                B->profile = SRTP_PROFILE_AEAD_AES_128_GCM;
            else if (strcmp(optarg, "cm") == 0)
                B->profile = SRTP_PROFILE_AES128_CM_SHA1_80;
            else
                usage();
            break;
        case 'r':
            B->receivers = atoi(optarg);
            break;
        case 'd':
            B->duration_s = atof(optarg);
            break;
        case 'w':
            B->warmup_s = atof(optarg);
            break;
        case 'n':
            B->pps = atoi(optarg);
            break;
        case 'f':
            B->fwd_cpu = atoi(optarg);
            break;
        case 'l':
            B->load_cpu = atoi(optarg);
            break;
        default:
            usage();
        }
    }
    if (B->receivers < 1 || B->receivers > MAX_RECEIVERS || B->duration_s <= 0 ||
        B->duration_s > 60 || B->warmup_s < 0 || B->warmup_s > 10 || B->pps < 0 || B->pps > 2000000)
        usage();
    log_init("srtp_bare", LOG_WARN);
    srtp_ctx_library_init();
    /* the sender's association with the forwarder, and one per receiver */
    dtls_srtp_keys k, km;
    make_keys(B->profile, &k);
    mirror_keys(&k, &km);
    B->sender = srtp_ctx_new(&k);
    B->fwd_in = srtp_ctx_new(&km);
    for (int r = 0; r < B->receivers; r++) {
        make_keys(B->profile, &k);
        B->fwd_out[r] = srtp_ctx_new(&k);
        if (!B->fwd_out[r])
            return 1;
    }
    if (!B->sender || !B->fwd_in)
        return 1;
    struct sockaddr_in send_addr; /* the sender's own address (unused) */
    B->fwd_fd = udp_socket(&B->fwd_addr);
    B->send_fd = udp_socket(&send_addr);
    if (B->fwd_fd < 0 || B->send_fd < 0)
        return 1;
    for (int r = 0; r < B->receivers; r++)
        if ((B->sink_fd[r] = udp_socket(&B->sink_addr[r])) < 0)
            return 1;
    B->out = xcalloc((size_t)(BATCH * B->receivers), sizeof *B->out);
    pin_self(B->fwd_cpu);
    B->base = event_base_new();
    B->rd_ev = event_new(B->base, B->fwd_fd, EV_READ | EV_PERSIST, fwd_readable, B);
    B->window_ev = evtimer_new(B->base, window_cb, B);
    B->stop_ev = evtimer_new(B->base, stop_cb, B);
    B->drain_ev = evtimer_new(B->base, drain_cb, B);
    event_add(B->rd_ev, NULL);
    long w_us = (long)(B->warmup_s * 1e6), e_us = (long)((B->warmup_s + B->duration_s) * 1e6);
    struct timeval tw = {w_us / 1000000, w_us % 1000000}, te = {e_us / 1000000, e_us % 1000000};
    evtimer_add(B->window_ev, &tw);
    evtimer_add(B->stop_ev, &te);
    pthread_t sender, sink;
    pthread_create(&sink, NULL, sink_main, B);
    pthread_create(&sender, NULL, sender_main, B);
    event_base_dispatch(B->base);
    pthread_join(sender, NULL);
    atomic_store(&B->stop, true);
    pthread_join(sink, NULL);
    const char *pname = B->profile == SRTP_PROFILE_AEAD_AES_128_GCM ? "AEAD_AES_128_GCM"
                                                                    : "AES_CM_128_HMAC_SHA1_80";
    double in_pps = (double)B->w_in / B->w_wall_s, out_pps = (double)B->w_out / B->w_wall_s;
    double per_cpu = B->w_cpu_s > 0 ? (double)B->w_out / B->w_cpu_s : 0;
    double us_out = B->w_out ? B->w_cpu_s * 1e6 / (double)B->w_out : 0;
    uint64_t sent = atomic_load(&B->sent), sunk = atomic_load(&B->sunk);
    uint64_t expected = sent * (uint64_t)B->receivers;
    double loss =
        expected ? 100.0 * (double)(expected > sunk ? expected - sunk : 0) / (double)expected : 0;
    printf("srtp_bare %s R=%d: in %.0f pps, out %.0f pps, %.0f out/CPU-s, %.2f us CPU per packet "
           "out, forwarder CPU %.0f%%, loss %.3f%% (whole run)\n",
           pname, B->receivers, in_pps, out_pps, per_cpu, us_out, 100 * B->w_cpu_s / B->w_wall_s,
           loss);
    printf("RESULT {\"profile\": \"%s\", \"receivers\": %d, \"pps\": %d, \"in_pps\": %.1f, "
           "\"out_pps\": %.1f, \"cpu_s\": %.4f, \"wall_s\": %.4f, \"out_per_cpu_s\": %.1f, "
           "\"us_per_out\": %.3f, \"loss_pct\": %.4f, \"unprotect_fail\": %" PRIu64
           ", \"protect_fail\": %" PRIu64 ", \"send_fail\": %" PRIu64 "}\n",
           pname, B->receivers, B->pps, in_pps, out_pps, B->w_cpu_s, B->w_wall_s, per_cpu, us_out,
           loss, B->unprotect_fail, B->protect_fail, B->send_fail);
    event_free(B->rd_ev);
    event_free(B->window_ev);
    event_free(B->stop_ev);
    event_free(B->drain_ev);
    event_base_free(B->base);
    close(B->fwd_fd);
    close(B->send_fd);
    for (int r = 0; r < B->receivers; r++) {
        close(B->sink_fd[r]);
        srtp_ctx_free(B->fwd_out[r]);
    }
    srtp_ctx_free(B->sender);
    srtp_ctx_free(B->fwd_in);
    free(B->out);
    free(B);
    return 0;
}
