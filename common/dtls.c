/* dtls: DTLS 1.2 for DTLS-SRTP over OpenSSL 3 memory BIOs; see dtls.h.
 *
 * Datagram boundaries: a BIO_s_mem is a byte stream, so one BIO_read of the
 * write BIO returns every record OpenSSL wrote since the last drain, glued
 * together (a whole flight, often more than the MTU). OpenSSL sizes each
 * record for the MTU on its own (a memory BIO reports no pending write data,
 * so it never plans to share a datagram), hence dtls_flush splits what it
 * drains at DTLS record headers and packs whole records into datagrams of
 * at most DTLS_MTU. Incoming: the read BIO gets exactly one datagram before
 * each OpenSSL call and is emptied afterwards, so datagrams never merge. */
#include "dtls.h"

#include "log.h"
#include "util.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DTLS_FP_BYTES 32                    /* SHA-256 */
#define DTLS_REC_HDR 13                     /* type, version, epoch, seq(6), length */
#define DTLS_MAX_CERT_LIST 16384            /* peer certificate chain bound */
#define DTLS_MAX_TIMEOUT_US (60u * 1000000) /* retransmission timer ceiling */
#define DTLS_MAX_READS 64                   /* SSL_read calls per datagram */
#define DTLS_SRTP_PROFILES "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"
#define DTLS_CIPHERS "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384"
#define DTLS_CERT_DAYS 30

struct dtls_cert {
    SSL_CTX *ctx;
    char fp[DTLS_FINGERPRINT_LEN + 1];
};

struct dtls_session {
    SSL *ssl;
    BIO *rbio, *wbio; /* owned by ssl */
    dtls_role role;
    dtls_state state;
    bool started;
    bool fp_known; /* remote_fp holds a well-formed fingerprint */
    uint8_t remote_fp[DTLS_FP_BYTES];
    unsigned initial_timeout_us;
    unsigned retransmits; /* of the current flight */
    dtls_send_fn send;
    void *ud;
};

static void dtls_log_ssl_errors(const char *what)
{
    unsigned long e;
    char buf[256];
    bool any = false;
    while ((e = ERR_get_error()) != 0) {
        ERR_error_string_n(e, buf, sizeof buf);
        log_warn(NULL, "dtls: %s: %s", what, buf);
        any = true;
    }
    if (!any)
        log_warn(NULL, "dtls: %s", what);
}

static void dtls_format_fp(const uint8_t *md, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < DTLS_FP_BYTES; i++) {
        out[3 * i] = hex[md[i] >> 4];
        out[3 * i + 1] = hex[md[i] & 15];
        out[3 * i + 2] = i + 1 < DTLS_FP_BYTES ? ':' : '\0';
    }
}

static int dtls_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Parses "AB:CD:..." (exactly 32 pairs, any hex case) into out. */
static bool dtls_parse_fp(const char *s, uint8_t *out)
{
    if (!s || strlen(s) != DTLS_FINGERPRINT_LEN)
        return false;
    for (size_t i = 0; i < DTLS_FP_BYTES; i++) {
        int hi = dtls_hexval(s[3 * i]), lo = dtls_hexval(s[3 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        if (i + 1 < DTLS_FP_BYTES && s[3 * i + 2] != ':')
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

static bool dtls_cert_digest(X509 *x, uint8_t *md)
{
    unsigned n = 0;
    return X509_digest(x, EVP_sha256(), md, &n) == 1 && n == DTLS_FP_BYTES;
}

/* True when x's SHA-256 digest is the fingerprint s expects. */
static bool dtls_fp_matches(const dtls_session *s, X509 *x)
{
    uint8_t md[DTLS_FP_BYTES];
    if (!x || !s->fp_known || !dtls_cert_digest(x, md))
        return false;
    return CRYPTO_memcmp(md, s->remote_fp, DTLS_FP_BYTES) == 0;
}

/* Replaces OpenSSL's chain verification (SSL_CTX_set_cert_verify_callback):
 * any certificate, self-signed or not, expired or not, is accepted exactly
 * when the leaf's fingerprint matches; there is no trust store. */
static int dtls_verify_chain(X509_STORE_CTX *xs, void *arg)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
    dtls_session *s = ssl ? SSL_get_app_data(ssl) : NULL;
    X509 *leaf = X509_STORE_CTX_get0_cert(xs);
    if (s && dtls_fp_matches(s, leaf))
        return 1;
    if (s && !s->fp_known)
        log_warn(NULL, "dtls: peer certificate arrived before its fingerprint");
    else
        log_warn(NULL, "dtls: peer certificate fingerprint mismatch");
    X509_STORE_CTX_set_error(xs, X509_V_ERR_APPLICATION_VERIFICATION);
    return 0;
}

static bool dtls_make_cert(SSL_CTX *ctx, char *fp_out)
{
    bool ok = false;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    ASN1_INTEGER *serial = ASN1_INTEGER_new();
    BIGNUM *bn = BN_new();
    if (!key || !x || !name || !serial || !bn)
        goto out;

    uint8_t rnd[8];
    char cn[17];
    random_bytes(rnd, sizeof rnd);
    rnd[0] &= 0x7F; /* positive serial */
    random_id(cn, 16);
    uint8_t md[DTLS_FP_BYTES];
    if (!BN_bin2bn(rnd, sizeof rnd, bn) || !BN_to_ASN1_INTEGER(bn, serial) ||
        X509_set_version(x, X509_VERSION_3) != 1 || X509_set_serialNumber(x, serial) != 1 ||
        !X509_gmtime_adj(X509_getm_notBefore(x), -24L * 3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), (long)DTLS_CERT_DAYS * 24 * 3600) ||
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
                                   0) != 1 ||
        X509_set_subject_name(x, name) != 1 || X509_set_issuer_name(x, name) != 1 ||
        X509_set_pubkey(x, key) != 1 || X509_sign(x, key, EVP_sha256()) <= 0 ||
        SSL_CTX_use_certificate(ctx, x) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1 || !dtls_cert_digest(x, md))
        goto out;
    dtls_format_fp(md, fp_out);
    ok = true;
out:
    BN_free(bn);
    ASN1_INTEGER_free(serial);
    X509_NAME_free(name);
    X509_free(x);
    EVP_PKEY_free(key);
    return ok;
}

dtls_cert *dtls_cert_new(void)
{
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(DTLS_method());
    if (!ctx) {
        dtls_log_ssl_errors("SSL_CTX_new failed");
        return NULL;
    }
    /* SSL_CTX_set_tlsext_use_srtp returns 0 on success. */
    if (SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(ctx, DTLS_CIPHERS) != 1 ||
        SSL_CTX_set_tlsext_use_srtp(ctx, DTLS_SRTP_PROFILES) != 0 ||
        SSL_CTX_set1_groups_list(ctx, "X25519:P-256") != 1) {
        dtls_log_ssl_errors("SSL_CTX setup failed");
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_clear_mode(ctx, SSL_MODE_AUTO_RETRY);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    SSL_CTX_set_cert_verify_callback(ctx, dtls_verify_chain, NULL);
    SSL_CTX_set_verify_depth(ctx, 4);
    SSL_CTX_set_max_cert_list(ctx, DTLS_MAX_CERT_LIST);

    dtls_cert *c = xcalloc(1, sizeof *c);
    c->ctx = ctx;
    if (!dtls_make_cert(ctx, c->fp)) {
        dtls_log_ssl_errors("certificate generation failed");
        dtls_cert_free(c);
        return NULL;
    }
    return c;
}

void dtls_cert_free(dtls_cert *c)
{
    if (!c)
        return;
    SSL_CTX_free(c->ctx);
    free(c);
}

const char *dtls_cert_fingerprint(const dtls_cert *c)
{
    return c->fp;
}

/* OpenSSL asks for the first timeout of a flight with prev_us == 0 and, each
 * time it is about to retransmit (from DTLSv1_handle_timeout, or from inside
 * SSL_do_handshake / SSL_read when it finds the timer expired), for the next
 * one with the previous value: the place to count retransmissions. */
static unsigned int dtls_timer_cb(SSL *ssl, unsigned int prev_us)
{
    dtls_session *s = SSL_get_app_data(ssl);
    if (prev_us == 0) {
        s->retransmits = 0; /* a new flight */
        return s->initial_timeout_us;
    }
    s->retransmits++;
    return prev_us >= DTLS_MAX_TIMEOUT_US / 2 ? DTLS_MAX_TIMEOUT_US : prev_us * 2;
}

static void dtls_info_cb(const SSL *ssl, int where, int ret)
{
    if (where & SSL_CB_ALERT)
        log_debug(NULL, "dtls: %s alert %s: %s", (where & SSL_CB_READ) ? "received" : "sent",
                  SSL_alert_type_string_long(ret), SSL_alert_desc_string_long(ret));
}

dtls_session *dtls_session_new(dtls_cert *cert, dtls_role role, const char *remote_fp,
                               dtls_send_fn send, void *ud)
{
    if (!cert || !send)
        return NULL;
    ERR_clear_error();
    SSL *ssl = SSL_new(cert->ctx);
    BIO *rbio = BIO_new(BIO_s_mem()), *wbio = BIO_new(BIO_s_mem());
    if (!ssl || !rbio || !wbio) {
        dtls_log_ssl_errors("session allocation failed");
        SSL_free(ssl);
        BIO_free(rbio);
        BIO_free(wbio);
        return NULL;
    }
    /* An empty read BIO means "no data yet" (retry), not EOF. */
    BIO_set_mem_eof_return(rbio, -1);
    BIO_set_mem_eof_return(wbio, -1);
    SSL_set_bio(ssl, rbio, wbio); /* ssl owns both */
    /* after the handshake a session only sleeps (media is SRTP): give its
     * record buffers back (about 35 KiB per endpoint) */
    SSL_set_mode(ssl, SSL_MODE_RELEASE_BUFFERS);

    dtls_session *s = xcalloc(1, sizeof *s);
    s->ssl = ssl;
    s->rbio = rbio;
    s->wbio = wbio;
    s->role = role;
    s->state = DTLS_HANDSHAKING;
    s->initial_timeout_us = DTLS_INITIAL_TIMEOUT_MS * 1000u;
    s->send = send;
    s->ud = ud;
    SSL_set_app_data(ssl, s);
    SSL_set_info_callback(ssl, dtls_info_cb);
    DTLS_set_timer_cb(ssl, dtls_timer_cb);
    if (!DTLS_set_link_mtu(ssl, DTLS_MTU)) {
        dtls_log_ssl_errors("DTLS_set_link_mtu failed");
        dtls_session_free(s);
        return NULL;
    }
    if (role == DTLS_ROLE_CLIENT)
        SSL_set_connect_state(ssl);
    else
        SSL_set_accept_state(ssl);
    if (remote_fp)
        dtls_session_set_remote_fingerprint(s, remote_fp);
    return s;
}

void dtls_session_free(dtls_session *s)
{
    if (!s)
        return;
    SSL_free(s->ssl); /* frees both BIOs */
    free(s);
}

void dtls_session_set_remote_fingerprint(dtls_session *s, const char *fp)
{
    s->fp_known = dtls_parse_fp(fp, s->remote_fp);
    if (fp && !s->fp_known)
        log_warn(NULL, "dtls: malformed remote fingerprint");
}

void dtls_session_set_initial_timeout_ms(dtls_session *s, unsigned ms)
{
    if (ms < DTLS_MIN_TIMEOUT_MS)
        ms = DTLS_MIN_TIMEOUT_MS;
    if (ms > DTLS_MAX_TIMEOUT_US / 1000)
        ms = DTLS_MAX_TIMEOUT_US / 1000;
    s->initial_timeout_us = ms * 1000u;
}

static uint16_t dtls_rd16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

/* Drains the write BIO: whole records packed into datagrams of at most
 * DTLS_MTU bytes (a record that is larger on its own, or bytes that do not
 * parse as records, which OpenSSL never produces, go out as they are). */
static void dtls_flush(dtls_session *s)
{
    char *data = NULL;
    long n = BIO_get_mem_data(s->wbio, &data);
    if (n <= 0 || !data)
        return;
    size_t len = (size_t)n;
    uint8_t *buf = xmalloc(len); /* copy: send may not see the BIO's storage */
    memcpy(buf, data, len);
    (void)BIO_reset(s->wbio);

    size_t off = 0;
    while (off < len) {
        size_t start = off, dgram = 0;
        while (off < len) {
            size_t rec = len - off;
            if (rec >= DTLS_REC_HDR && dtls_rd16(buf + off + 11) <= rec - DTLS_REC_HDR)
                rec = DTLS_REC_HDR + dtls_rd16(buf + off + 11);
            if (dgram > 0 && dgram + rec > DTLS_MTU)
                break;
            dgram += rec;
            off += rec;
        }
        s->send(s->ud, buf + start, dgram);
    }
    free(buf);
}

static dtls_state dtls_fail(dtls_session *s, const char *why)
{
    dtls_log_ssl_errors(why);
    s->state = DTLS_FAILED;
    return s->state;
}

/* Maps a failed SSL call to CLOSED / FAILED, or keeps the state on a retry. */
static void dtls_check_error(dtls_session *s, int r, const char *what)
{
    int e = SSL_get_error(s->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        ERR_clear_error();
        return;
    }
    /* A fatal alert also sets SSL_RECEIVED_SHUTDOWN but reports SSL_ERROR_SSL. */
    if (e == SSL_ERROR_ZERO_RETURN) {
        log_debug(NULL, "dtls: peer closed the association");
        ERR_clear_error();
        s->state = DTLS_CLOSED;
        return;
    }
    dtls_fail(s, what);
}

/* OpenSSL may have retransmitted inside any call (see dtls_timer_cb). */
static void dtls_check_retransmits(dtls_session *s)
{
    if (s->state == DTLS_HANDSHAKING && s->retransmits > DTLS_MAX_RETRANSMITS) {
        log_warn(NULL, "dtls: handshake timed out after %u retransmissions", s->retransmits);
        s->state = DTLS_FAILED;
    }
}

/* Runs OpenSSL on whatever the read BIO holds, then drains both BIOs. */
static dtls_state dtls_step(dtls_session *s)
{
    ERR_clear_error();
    if (s->state == DTLS_HANDSHAKING) {
        int r = SSL_do_handshake(s->ssl);
        if (r == 1) {
            /* The verify callback has already checked this; belt and braces. */
            if (!dtls_fp_matches(s, SSL_get0_peer_certificate(s->ssl))) {
                dtls_fail(s, "handshake done without a verified peer certificate");
            } else {
                s->state = DTLS_CONNECTED;
                const SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(s->ssl);
                log_debug(NULL, "dtls: connected as %s, %s, srtp %s",
                          s->role == DTLS_ROLE_CLIENT ? "client" : "server",
                          SSL_get_cipher_name(s->ssl), p ? p->name : "none");
            }
        } else {
            dtls_check_error(s, r, "handshake failed");
        }
    }
    if (s->state == DTLS_CONNECTED) {
        /* Processes alerts and handshake retransmissions; drops app data. */
        uint8_t sink[4096];
        for (int i = 0; i < DTLS_MAX_READS && s->state == DTLS_CONNECTED; i++) {
            ERR_clear_error();
            int r = SSL_read(s->ssl, sink, sizeof sink);
            if (r > 0)
                continue;
            dtls_check_error(s, r, "read failed");
            break;
        }
    }
    (void)BIO_reset(s->rbio); /* never let the rest of a datagram merge with the next */
    dtls_flush(s);
    dtls_check_retransmits(s);
    return s->state;
}

dtls_state dtls_session_start(dtls_session *s)
{
    if (s->started || s->state != DTLS_HANDSHAKING)
        return s->state;
    s->started = true;
    if (s->role == DTLS_ROLE_SERVER)
        return s->state;
    return dtls_step(s);
}

dtls_state dtls_session_feed(dtls_session *s, const uint8_t *data, size_t len)
{
    if (s->state != DTLS_HANDSHAKING && s->state != DTLS_CONNECTED)
        return s->state;
    if (!data || len == 0 || len > DTLS_MAX_DATAGRAM)
        return s->state;
    s->started = true;
    (void)BIO_reset(s->rbio);
    if (BIO_write(s->rbio, data, (int)len) != (int)len)
        return dtls_fail(s, "BIO_write failed");
    return dtls_step(s);
}

long dtls_session_timeout_ms(dtls_session *s)
{
    struct timeval tv;
    if (s->state != DTLS_HANDSHAKING || DTLSv1_get_timeout(s->ssl, &tv) != 1)
        return -1;
    return (long)tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
}

dtls_state dtls_session_on_timeout(dtls_session *s)
{
    if (dtls_session_timeout_ms(s) != 0)
        return s->state; /* no timer, or not expired yet */
    if (s->retransmits >= DTLS_MAX_RETRANSMITS) {
        s->retransmits++; /* this would be one too many */
        dtls_check_retransmits(s);
        return s->state;
    }
    ERR_clear_error();
    if (DTLSv1_handle_timeout(s->ssl) < 0)
        dtls_fail(s, "retransmission failed");
    dtls_flush(s);
    dtls_check_retransmits(s);
    return s->state;
}

dtls_state dtls_session_close(dtls_session *s)
{
    if (s->state == DTLS_CONNECTED) {
        ERR_clear_error();
        (void)SSL_shutdown(s->ssl); /* queues close_notify; no reply awaited */
        ERR_clear_error();
        dtls_flush(s);
    }
    if (s->state != DTLS_FAILED)
        s->state = DTLS_CLOSED;
    return s->state;
}

dtls_state dtls_session_state(const dtls_session *s)
{
    return s->state;
}

bool dtls_session_srtp_keys(dtls_session *s, dtls_srtp_keys *out)
{
    memset(out, 0, sizeof *out);
    if (s->state != DTLS_CONNECTED)
        return false;
    const SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(s->ssl);
    if (!p)
        return false;
    size_t key_len, salt_len;
    if (p->id == SRTP_AEAD_AES_128_GCM) {
        out->profile = SRTP_PROFILE_AEAD_AES_128_GCM;
        key_len = 16; /* RFC 7714 14.2 */
        salt_len = 12;
    } else if (p->id == SRTP_AES128_CM_SHA1_80) {
        out->profile = SRTP_PROFILE_AES128_CM_SHA1_80;
        key_len = 16; /* RFC 5764 4.1.2 */
        salt_len = 14;
    } else {
        return false; /* not offered, so never negotiated */
    }

    uint8_t km[2 * (16 + 14)];
    static const char label[] = "EXTRACTOR-dtls_srtp";
    size_t km_len = 2 * (key_len + salt_len);
    ERR_clear_error();
    if (SSL_export_keying_material(s->ssl, km, km_len, label, sizeof label - 1, NULL, 0, 0) != 1) {
        dtls_log_ssl_errors("SSL_export_keying_material failed");
        memset(out, 0, sizeof *out);
        return false;
    }
    const uint8_t *ckey = km, *skey = km + key_len;
    const uint8_t *csalt = km + 2 * key_len, *ssalt = csalt + salt_len;
    bool client = s->role == DTLS_ROLE_CLIENT;
    memcpy(out->local_key, client ? ckey : skey, key_len);
    memcpy(out->remote_key, client ? skey : ckey, key_len);
    memcpy(out->local_salt, client ? csalt : ssalt, salt_len);
    memcpy(out->remote_salt, client ? ssalt : csalt, salt_len);
    out->key_len = key_len;
    out->salt_len = salt_len;
    OPENSSL_cleanse(km, sizeof km);
    return true;
}
