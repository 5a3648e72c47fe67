/* srtp_ctx: libsrtp2 sessions for one DTLS-SRTP association; see
 * srtp_ctx.h. Packets are checked here before libsrtp sees them, and each
 * direction keeps a small hash set of the SSRCs libsrtp has streams for. */
#include "srtp_ctx.h"

#include "log.h"
#include "util.h"

#include <pthread.h>
#include <srtp2/srtp.h>
#include <stdlib.h>
#include <string.h>

#define SRTP_CTX_WINDOW 1024
#define SRTP_RTCP_HEADER 8 /* V/P/RC, PT, length, sender SSRC */
#define SRTCP_INDEX_LEN 4  /* E flag + 31-bit index */

/* Open-addressing set of SSRCs (linear probing, never shrinks). */
typedef struct ssrc_set {
    uint32_t *keys;
    uint8_t *used;
    size_t cap; /* power of two, 0 until the first insert */
    size_t len;
} ssrc_set;

struct srtp_ctx {
    srtp_t in, out;
    size_t tag_len; /* authentication tag bytes at the end of each packet */
    ssrc_set in_ssrcs, out_ssrcs;
};

static pthread_once_t srtp_ctx_once = PTHREAD_ONCE_INIT;
static srtp_err_status_t srtp_ctx_init_status; /* written once, under srtp_ctx_once */

static void srtp_ctx_do_init(void)
{
    srtp_ctx_init_status = srtp_init();
    if (srtp_ctx_init_status != srtp_err_status_ok)
        log_error(NULL, "srtp: srtp_init failed (%d)", (int)srtp_ctx_init_status);
}

void srtp_ctx_library_init(void)
{
    pthread_once(&srtp_ctx_once, srtp_ctx_do_init);
}

static size_t ssrc_slot(uint32_t ssrc, size_t cap)
{
    return (size_t)((ssrc * 2654435761u) >> 16) & (cap - 1); /* cap <= 4096 */
}

static bool ssrc_set_has(const ssrc_set *s, uint32_t ssrc)
{
    if (s->cap == 0)
        return false;
    for (size_t i = ssrc_slot(ssrc, s->cap);; i = (i + 1) & (s->cap - 1)) {
        if (!s->used[i])
            return false;
        if (s->keys[i] == ssrc)
            return true;
    }
}

/* Adds ssrc (not yet present); the table stays at most half full. */
static void ssrc_set_add(ssrc_set *s, uint32_t ssrc)
{
    if (2 * (s->len + 1) > s->cap) {
        ssrc_set old = *s;
        s->cap = old.cap ? 2 * old.cap : 16;
        s->keys = xcalloc(s->cap, sizeof *s->keys);
        s->used = xcalloc(s->cap, 1);
        s->len = 0;
        for (size_t i = 0; i < old.cap; i++)
            if (old.used[i])
                ssrc_set_add(s, old.keys[i]);
        free(old.keys);
        free(old.used);
    }
    size_t i = ssrc_slot(ssrc, s->cap);
    while (s->used[i])
        i = (i + 1) & (s->cap - 1);
    s->used[i] = 1;
    s->keys[i] = ssrc;
    s->len++;
}

static void ssrc_set_free(ssrc_set *s)
{
    free(s->keys);
    free(s->used);
    memset(s, 0, sizeof *s);
}

/* True when a packet for ssrc may go to libsrtp: known, or room for one more. */
static bool ssrc_admit(const ssrc_set *s, uint32_t ssrc)
{
    return s->len < SRTP_CTX_MAX_SSRCS || ssrc_set_has(s, ssrc);
}

static void ssrc_note(ssrc_set *s, uint32_t ssrc)
{
    if (!ssrc_set_has(s, ssrc))
        ssrc_set_add(s, ssrc);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Length of the RTP header (fixed part, CSRCs, extension) of the first len
 * bytes of pkt, or 0 when it is not version 2 or does not fit. */
static size_t rtp_header_len(const uint8_t *pkt, size_t len)
{
    if (len < 12 || pkt[0] >> 6 != 2)
        return 0;
    size_t off = 12 + 4 * (size_t)(pkt[0] & 0x0F);
    if (pkt[0] & 0x10) {
        if (off + 4 > len)
            return 0;
        off += 4 + 4 * (size_t)((unsigned)pkt[off + 2] << 8 | pkt[off + 3]);
    }
    return off <= len ? off : 0;
}

static srtp_t srtp_ctx_session(const dtls_srtp_keys *k, bool outbound)
{
    srtp_policy_t pol;
    memset(&pol, 0, sizeof pol);
    if (k->profile == SRTP_PROFILE_AEAD_AES_128_GCM) {
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtcp);
    } else {
        srtp_crypto_policy_set_rtp_default(&pol.rtp);
        srtp_crypto_policy_set_rtcp_default(&pol.rtcp);
    }
    /* libsrtp takes the master key and the master salt back to back. */
    uint8_t key[16 + 14];
    memcpy(key, outbound ? k->local_key : k->remote_key, k->key_len);
    memcpy(key + k->key_len, outbound ? k->local_salt : k->remote_salt, k->salt_len);
    pol.key = key;
    pol.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
    pol.window_size = SRTP_CTX_WINDOW;
    pol.allow_repeat_tx = outbound ? 1 : 0;
    pol.next = NULL;
    srtp_t s = NULL;
    srtp_err_status_t st = srtp_create(&s, &pol);
    memset(key, 0, sizeof key);
    if (st != srtp_err_status_ok) {
        log_error(NULL, "srtp: srtp_create (%s) failed (%d)", outbound ? "outbound" : "inbound",
                  (int)st);
        return NULL;
    }
    return s;
}

srtp_ctx *srtp_ctx_new(const dtls_srtp_keys *k)
{
    srtp_ctx_library_init();
    if (srtp_ctx_init_status != srtp_err_status_ok || !k)
        return NULL;
    size_t tag_len;
    if (k->profile == SRTP_PROFILE_AEAD_AES_128_GCM && k->key_len == 16 && k->salt_len == 12) {
        tag_len = 16;
    } else if (k->profile == SRTP_PROFILE_AES128_CM_SHA1_80 && k->key_len == 16 &&
               k->salt_len == 14) {
        tag_len = 10;
    } else {
        log_error(NULL, "srtp: unsupported profile %d (key %zu, salt %zu)", (int)k->profile,
                  k->key_len, k->salt_len);
        return NULL;
    }
    srtp_ctx *c = xcalloc(1, sizeof *c);
    c->tag_len = tag_len;
    c->in = srtp_ctx_session(k, false);
    c->out = c->in ? srtp_ctx_session(k, true) : NULL;
    if (!c->out) {
        srtp_ctx_free(c);
        return NULL;
    }
    return c;
}

void srtp_ctx_free(srtp_ctx *c)
{
    if (!c)
        return;
    if (c->in)
        srtp_dealloc(c->in); /* wipes its keys */
    if (c->out)
        srtp_dealloc(c->out);
    ssrc_set_free(&c->in_ssrcs);
    ssrc_set_free(&c->out_ssrcs);
    free(c);
}

/* Checks shared by protect: room, size; returns the length as int or -1. */
static int srtp_ctx_room(size_t len, size_t cap)
{
    if (len > SRTP_CTX_MAX_PACKET || cap < len || cap - len < SRTP_CTX_MAX_TRAILER)
        return -1;
    return (int)len;
}

int srtp_ctx_protect_rtp(srtp_ctx *c, uint8_t *pkt, size_t *len, size_t cap)
{
    if (!c || !pkt || !len || rtp_header_len(pkt, *len) == 0)
        return -1;
    int n = srtp_ctx_room(*len, cap);
    uint32_t ssrc = rd32(pkt + 8);
    if (n < 0 || !ssrc_admit(&c->out_ssrcs, ssrc))
        return -1;
    if (srtp_protect(c->out, pkt, &n) != srtp_err_status_ok || n < 0 || (size_t)n > cap)
        return -1;
    ssrc_note(&c->out_ssrcs, ssrc);
    *len = (size_t)n;
    return 0;
}

int srtp_ctx_unprotect_rtp(srtp_ctx *c, uint8_t *pkt, size_t *len)
{
    if (!c || !pkt || !len || *len > SRTP_CTX_MAX_PACKET || *len < 12 + c->tag_len)
        return -1;
    /* The header is in the clear and must end before the tag. */
    if (rtp_header_len(pkt, *len - c->tag_len) == 0)
        return -1;
    uint32_t ssrc = rd32(pkt + 8);
    if (!ssrc_admit(&c->in_ssrcs, ssrc))
        return -1;
    int n = (int)*len;
    if (srtp_unprotect(c->in, pkt, &n) != srtp_err_status_ok || n < 12 || (size_t)n > *len)
        return -1;
    ssrc_note(&c->in_ssrcs, ssrc);
    *len = (size_t)n;
    return 0;
}

int srtp_ctx_protect_rtcp(srtp_ctx *c, uint8_t *pkt, size_t *len, size_t cap)
{
    if (!c || !pkt || !len || *len < SRTP_RTCP_HEADER || pkt[0] >> 6 != 2)
        return -1;
    int n = srtp_ctx_room(*len, cap);
    uint32_t ssrc = rd32(pkt + 4);
    if (n < 0 || !ssrc_admit(&c->out_ssrcs, ssrc))
        return -1;
    if (srtp_protect_rtcp(c->out, pkt, &n) != srtp_err_status_ok || n < 0 || (size_t)n > cap)
        return -1;
    ssrc_note(&c->out_ssrcs, ssrc);
    *len = (size_t)n;
    return 0;
}

int srtp_ctx_unprotect_rtcp(srtp_ctx *c, uint8_t *pkt, size_t *len)
{
    if (!c || !pkt || !len || *len > SRTP_CTX_MAX_PACKET)
        return -1;
    if (*len < SRTP_RTCP_HEADER + SRTCP_INDEX_LEN + c->tag_len || pkt[0] >> 6 != 2)
        return -1;
    uint32_t ssrc = rd32(pkt + 4);
    if (!ssrc_admit(&c->in_ssrcs, ssrc))
        return -1;
    int n = (int)*len;
    if (srtp_unprotect_rtcp(c->in, pkt, &n) != srtp_err_status_ok || n < SRTP_RTCP_HEADER ||
        (size_t)n > *len)
        return -1;
    ssrc_note(&c->in_ssrcs, ssrc);
    *len = (size_t)n;
    return 0;
}
