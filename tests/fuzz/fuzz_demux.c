/* fuzz_demux: libFuzzer target for the bridge's packet path: the RFC 7983
 * demultiplexer (bridge/media.c) and everything behind it: STUN (ice.c on
 * common/ice_stun.c), DTLS records for an endpoint, SRTP/SRTCP unprotect,
 * and RTP/RTCP forwarding (forward.c on common/rtp.c). A bridge with one
 * conference of two endpoints is built once, without sockets (sends fail
 * quietly). The first input byte picks how the rest is delivered:
 *   0: as a raw datagram from the sender's address;
 *   1: as a raw datagram from an unknown address;
 *   2: protected as SRTP with the sender's keys first, so hostile RTP
 *      reaches the parser and the forwarding code;
 *   3: protected as SRTCP first (hostile compound RTCP).
 * Aborts on a crash or sanitizer report only: the path must survive
 * anything. */
#include "bridge.h"
#include "log.h"
#include "rtp.h"
#include "util.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

typedef struct fuzz_world {
    bridge br;
    conference cf;
    endpoint *a, *b;
    srtp_ctx *a_client; /* what endpoint a itself protects with */
    struct sockaddr_in a_addr, other_addr;
} fuzz_world;

static endpoint *fuzz_endpoint(fuzz_world *w, const char *id, const char *ufrag, int port,
                               const dtls_srtp_keys *k)
{
    endpoint *ep = xcalloc(1, sizeof *ep);
    ep->conf = &w->cf;
    snprintf(ep->id, sizeof ep->id, "%s", id);
    snprintf(ep->local_ufrag, sizeof ep->local_ufrag, "%s", ufrag);
    snprintf(ep->local_pwd, sizeof ep->local_pwd, "pwd-%s-0123456789abcdef", id);
    snprintf(ep->remote_ufrag, sizeof ep->remote_ufrag, "r%s", ufrag);
    snprintf(ep->remote_pwd, sizeof ep->remote_pwd, "remote-pwd-0123456789");
    ep->have_remote = true;
    ep->role = DTLS_ROLE_SERVER;
    ep->role_known = true;
    ep->srtp = srtp_ctx_new(k);
    struct sockaddr_in *in = (struct sockaddr_in *)&ep->pairs[0].addr;
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)port);
    in->sin_addr.s_addr = htonl(0x7f000001);
    ep->pairs[0].alen = sizeof *in;
    ep->pairs[0].state = PAIR_SUCCEEDED;
    ep->npairs = 1;
    ep->selected = 0;
    ep->consent = true;
    ep->consent_ms = now_ms() + 1000000;
    w->cf.eps[w->cf.neps++] = ep;
    hmap_put(&w->br.by_ufrag, ep->local_ufrag, ep);
    addrmap_put(&w->br.by_addr, (struct sockaddr *)in, ep);
    return ep;
}

static fuzz_world *fuzz_world_get(void)
{
    static fuzz_world *w; /* a fuzz target's one-time setup */
    if (w)
        return w;
    log_init("fuzz", LOG_ERROR);
    srtp_ctx_library_init();
    w = xcalloc(1, sizeof *w);
    w->br.base = event_base_new();
    w->br.udp_fd = -1;
    w->br.out = xcalloc(SEND_BATCH, sizeof *w->br.out);
    w->br.set.consent_timeout_s = 30;
    w->br.set.expire_s = 60;
    w->br.cert = dtls_cert_new();
    w->br.fb_audio_ssrc = 11;
    w->br.fb_video_ssrc = 13;
    hmap_init(&w->br.conferences);
    hmap_init(&w->br.conf_by_id);
    hmap_init(&w->br.by_ufrag);
    addrmap_init(&w->br.by_addr);
    w->cf.br = &w->br;
    snprintf(w->cf.meeting_id, sizeof w->cf.meeting_id, "fuzz");
    snprintf(w->cf.id, sizeof w->cf.id, "fuzzconf");
    dtls_srtp_keys k = {.profile = SRTP_PROFILE_AES128_CM_SHA1_80, .key_len = 16, .salt_len = 14};
    memset(k.local_key, 1, 16);
    memset(k.local_salt, 2, 14);
    memset(k.remote_key, 3, 16);
    memset(k.remote_salt, 4, 14);
    dtls_srtp_keys mirror = k;
    memcpy(mirror.local_key, k.remote_key, 16);
    memcpy(mirror.local_salt, k.remote_salt, 14);
    memcpy(mirror.remote_key, k.local_key, 16);
    memcpy(mirror.remote_salt, k.local_salt, 14);
    w->a = fuzz_endpoint(w, "a", "ufraga01", 40000, &k);
    w->b = fuzz_endpoint(w, "b", "ufragb01", 40001, &k);
    w->a_client = srtp_ctx_new(&mirror);
    w->a->src[0] = (src_stat){.ssrc = 1111};
    w->a->src[1] = (src_stat){.ssrc = 2222, .video = true};
    w->a->src[2] = (src_stat){.ssrc = 2223, .video = true, .rtx = true};
    w->a->nsrc = 3;
    w->b->src[0] = (src_stat){.ssrc = 3333, .video = true};
    w->b->nsrc = 1;
    w->a_addr = *(struct sockaddr_in *)&w->a->pairs[0].addr;
    w->other_addr = w->a_addr;
    w->other_addr.sin_port = htons(40999);
    return w;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > PKT_BUF - 200)
        return 0;
    fuzz_world *w = fuzz_world_get();
    uint8_t buf[PKT_BUF + SRTP_CTX_MAX_TRAILER];
    size_t len = size - 1;
    memcpy(buf, data + 1, len);
    const struct sockaddr *from = (const struct sockaddr *)&w->a_addr;
    switch (data[0] & 3) {
    case 1:
        from = (const struct sockaddr *)&w->other_addr;
        break;
    case 2:
        if (rtp_is_rtcp(buf, len) || srtp_ctx_protect_rtp(w->a_client, buf, &len, sizeof buf) != 0)
            return 0;
        break;
    case 3:
        if (srtp_ctx_protect_rtcp(w->a_client, buf, &len, sizeof buf) != 0)
            return 0;
        break;
    default:
        break;
    }
    media_on_datagram(&w->br, buf, len, from, sizeof w->a_addr);
    w->br.nout = 0; /* nothing is sent: the batch is dropped */
    /* a DTLS session a datagram may have started is dropped again */
    media_stop(w->a);
    w->a->dtls_done = false;
    dtls_srtp_keys k = {.profile = SRTP_PROFILE_AES128_CM_SHA1_80, .key_len = 16, .salt_len = 14};
    memset(k.local_key, 1, 16);
    memset(k.local_salt, 2, 14);
    memset(k.remote_key, 3, 16);
    memset(k.remote_salt, 4, 14);
    w->a->srtp = srtp_ctx_new(&k);
    return 0;
}
