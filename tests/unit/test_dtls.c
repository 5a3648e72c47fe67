/* Unit tests: common/dtls.c (in-memory client/server handshakes, profile
 * and key agreement, fingerprint checks and format, datagram sizes, hostile
 * datagrams, retransmission and its limit, close_notify, and interop with a
 * plain OpenSSL client that offers other SRTP profile lists). */
#include "dtls.h"
#include "log.h"
#include "test.h"
#include "util.h"

#include <ctype.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <time.h>

#define QCAP 64

/* Datagrams one side sent and the other has not read yet. */
typedef struct dgram_q {
    uint8_t data[QCAP][DTLS_MTU];
    size_t len[QCAP];
    int n;
    int total; /* datagrams ever sent */
} dgram_q;

static void q_send(void *ud, const uint8_t *data, size_t len)
{
    dgram_q *q = ud;
    CHECK(len > 0 && len <= DTLS_MTU);
    /* Every datagram is a run of whole DTLS records. */
    size_t off = 0;
    while (off < len) {
        CHECK(len - off >= 13);
        /* DTLS 1.2, or 1.0 on the ClientHello record (RFC 6347 4.1) */
        CHECK(data[off + 1] == 0xfe && (data[off + 2] == 0xfd || data[off + 2] == 0xff));
        off += 13 + ((size_t)data[off + 11] << 8 | data[off + 12]);
    }
    CHECK(off == len);
    CHECK(q->n < QCAP);
    memcpy(q->data[q->n], data, len);
    q->len[q->n++] = len;
    q->total++;
}

/* Feeds everything queued for s to s (in order); returns how many. */
static int q_deliver(dgram_q *q, dtls_session *s)
{
    int n = q->n;
    dgram_q tmp;
    memcpy(tmp.data, q->data, sizeof q->data);
    memcpy(tmp.len, q->len, sizeof q->len);
    q->n = 0;
    for (int i = 0; i < n; i++)
        dtls_session_feed(s, tmp.data[i], tmp.len[i]);
    return n;
}

typedef struct pair {
    dtls_cert *ccert, *scert;
    dtls_session *c, *s;
    dgram_q to_s, to_c; /* written by c / by s */
} pair;

static pair *pair_new(const char *client_expects, const char *server_expects)
{
    pair *p = xcalloc(1, sizeof *p);
    p->ccert = dtls_cert_new();
    p->scert = dtls_cert_new();
    CHECK(p->ccert && p->scert);
    p->c = dtls_session_new(p->ccert, DTLS_ROLE_CLIENT,
                            client_expects ? client_expects : dtls_cert_fingerprint(p->scert),
                            q_send, &p->to_s);
    p->s = dtls_session_new(p->scert, DTLS_ROLE_SERVER,
                            server_expects ? server_expects : dtls_cert_fingerprint(p->ccert),
                            q_send, &p->to_c);
    CHECK(p->c && p->s);
    return p;
}

static void pair_free(pair *p)
{
    dtls_session_free(p->c);
    dtls_session_free(p->s);
    dtls_cert_free(p->ccert);
    dtls_cert_free(p->scert);
    free(p);
}

/* Shuttles datagrams until neither side has anything to say. */
static void pair_pump(pair *p)
{
    for (int i = 0; i < 20; i++)
        if (q_deliver(&p->to_s, p->s) + q_deliver(&p->to_c, p->c) == 0)
            return;
    CHECK(!"handshake did not settle");
}

static void check_keys_cross(const dtls_srtp_keys *a, const dtls_srtp_keys *b)
{
    CHECK_INT(a->profile, b->profile);
    CHECK_INT(a->key_len, b->key_len);
    CHECK_INT(a->salt_len, b->salt_len);
    CHECK(memcmp(a->local_key, b->remote_key, a->key_len) == 0);
    CHECK(memcmp(a->remote_key, b->local_key, a->key_len) == 0);
    CHECK(memcmp(a->local_salt, b->remote_salt, a->salt_len) == 0);
    CHECK(memcmp(a->remote_salt, b->local_salt, a->salt_len) == 0);
    CHECK(memcmp(a->local_key, a->remote_key, a->key_len) != 0);
    CHECK(memcmp(a->local_salt, a->remote_salt, a->salt_len) != 0);
}

static void test_handshake_gcm(void)
{
    pair *p = pair_new(NULL, NULL);
    dtls_srtp_keys kc, ks;
    CHECK(!dtls_session_srtp_keys(p->c, &kc));    /* not yet */
    CHECK_INT(dtls_session_timeout_ms(p->s), -1); /* server waits without a timer */
    CHECK_INT(dtls_session_start(p->c), DTLS_HANDSHAKING);
    CHECK_INT(p->to_s.n, 1);                 /* ClientHello */
    long ms = dtls_session_timeout_ms(p->c); /* the default 1 s timer */
    CHECK(ms > 0 && ms <= DTLS_INITIAL_TIMEOUT_MS);
    CHECK_INT(dtls_session_on_timeout(p->c), DTLS_HANDSHAKING); /* too early: nothing */
    CHECK_INT(p->to_s.n, 1);
    pair_pump(p);
    CHECK_INT(dtls_session_state(p->c), DTLS_CONNECTED);
    CHECK_INT(dtls_session_state(p->s), DTLS_CONNECTED);
    CHECK_INT(dtls_session_timeout_ms(p->c), -1);
    CHECK_INT(dtls_session_timeout_ms(p->s), -1);

    CHECK(dtls_session_srtp_keys(p->c, &kc));
    CHECK(dtls_session_srtp_keys(p->s, &ks));
    CHECK_INT(kc.profile, SRTP_PROFILE_AEAD_AES_128_GCM);
    CHECK_INT(kc.key_len, 16);
    CHECK_INT(kc.salt_len, 12);
    check_keys_cross(&kc, &ks);
    static const uint8_t zero[2] = {0};
    CHECK(memcmp(kc.local_salt + 12, zero, 2) == 0); /* unused tail stays zero */

    /* A second start is a no-op; a duplicate of an old datagram is harmless. */
    CHECK_INT(dtls_session_start(p->c), DTLS_CONNECTED);
    pair_free(p);
}

static void test_handshake_lowercase_fp(void)
{
    dtls_cert *cc = dtls_cert_new(), *sc = dtls_cert_new();
    CHECK(cc && sc);
    char lc[DTLS_FINGERPRINT_LEN + 1], ls[DTLS_FINGERPRINT_LEN + 1];
    for (size_t i = 0; i <= DTLS_FINGERPRINT_LEN; i++) {
        lc[i] = (char)tolower((unsigned char)dtls_cert_fingerprint(cc)[i]);
        ls[i] = (char)tolower((unsigned char)dtls_cert_fingerprint(sc)[i]);
    }
    dgram_q to_s = {0}, to_c = {0};
    dtls_session *c = dtls_session_new(cc, DTLS_ROLE_CLIENT, ls, q_send, &to_s);
    dtls_session *s = dtls_session_new(sc, DTLS_ROLE_SERVER, lc, q_send, &to_c);
    dtls_session_start(c);
    for (int i = 0; i < 10; i++) {
        q_deliver(&to_s, s);
        q_deliver(&to_c, c);
    }
    CHECK_INT(dtls_session_state(c), DTLS_CONNECTED);
    CHECK_INT(dtls_session_state(s), DTLS_CONNECTED);
    dtls_session_free(c);
    dtls_session_free(s);
    dtls_cert_free(cc);
    dtls_cert_free(sc);
}

static void test_fingerprint_format(void)
{
    dtls_cert *a = dtls_cert_new(), *b = dtls_cert_new();
    CHECK(a && b);
    const char *fp = dtls_cert_fingerprint(a);
    CHECK_INT(strlen(fp), 95);
    CHECK_INT(DTLS_FINGERPRINT_LEN, 95);
    for (int i = 0; i < 95; i++) {
        if (i % 3 == 2)
            CHECK(fp[i] == ':');
        else
            CHECK(isxdigit((unsigned char)fp[i]) && !islower((unsigned char)fp[i]));
    }
    CHECK(strcmp(fp, dtls_cert_fingerprint(b)) != 0); /* fresh key per cert */
    dtls_cert_free(a);
    dtls_cert_free(b);
}

/* The client expects another certificate: it fails, and its alert fails the
 * server too. */
static void test_wrong_fp_client_side(void)
{
    dtls_cert *other = dtls_cert_new();
    pair *p = pair_new(dtls_cert_fingerprint(other), NULL);
    dtls_session_start(p->c);
    pair_pump(p);
    CHECK_INT(dtls_session_state(p->c), DTLS_FAILED);
    CHECK_INT(dtls_session_state(p->s), DTLS_FAILED); /* got the fatal alert */
    dtls_srtp_keys k;
    CHECK(!dtls_session_srtp_keys(p->c, &k));
    CHECK(!dtls_session_srtp_keys(p->s, &k));
    pair_free(p);
    dtls_cert_free(other);
}

static void test_wrong_fp_server_side(void)
{
    dtls_cert *other = dtls_cert_new();
    pair *p = pair_new(NULL, dtls_cert_fingerprint(other));
    dtls_session_start(p->c);
    pair_pump(p);
    CHECK_INT(dtls_session_state(p->s), DTLS_FAILED);
    CHECK_INT(dtls_session_state(p->c), DTLS_FAILED);
    /* Input after failure is ignored. */
    static const uint8_t junk[20] = {22, 0xfe, 0xfd};
    CHECK_INT(dtls_session_feed(p->s, junk, sizeof junk), DTLS_FAILED);
    CHECK_INT(dtls_session_on_timeout(p->s), DTLS_FAILED);
    pair_free(p);
    dtls_cert_free(other);
}

/* A malformed expected fingerprint never matches. */
static void test_malformed_fp(void)
{
    static const char *bad[] = {
        "",
        "AB:CD",
        "sha-256 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:"
        "01:23:45:67:89",
        "ZZ:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:"
        "45:67:89",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pair *p = pair_new(NULL, NULL);
        dtls_session_set_remote_fingerprint(p->s, bad[i]);
        dtls_session_start(p->c);
        pair_pump(p);
        CHECK_INT(dtls_session_state(p->s), DTLS_FAILED);
        pair_free(p);
    }
}

/* The server learns the client's fingerprint after the ClientHello arrived
 * but before the client's certificate does. */
static void test_late_fingerprint(void)
{
    pair *p = pair_new(NULL, NULL);
    dtls_session_set_remote_fingerprint(p->s, NULL);
    dtls_session_start(p->c);
    q_deliver(&p->to_s, p->s); /* ClientHello */
    CHECK_INT(dtls_session_state(p->s), DTLS_HANDSHAKING);
    dtls_session_set_remote_fingerprint(p->s, dtls_cert_fingerprint(p->ccert));
    pair_pump(p);
    CHECK_INT(dtls_session_state(p->c), DTLS_CONNECTED);
    CHECK_INT(dtls_session_state(p->s), DTLS_CONNECTED);
    pair_free(p);

    /* Never learnt: fails when the certificate arrives. */
    p = pair_new(NULL, NULL);
    dtls_session_set_remote_fingerprint(p->s, NULL);
    dtls_session_start(p->c);
    pair_pump(p);
    CHECK_INT(dtls_session_state(p->s), DTLS_FAILED);
    CHECK(dtls_session_state(p->c) != DTLS_CONNECTED);
    pair_free(p);
}

static uint32_t rng_next(uint32_t *st)
{
    *st ^= *st << 13;
    *st ^= *st >> 17;
    *st ^= *st << 5;
    return *st;
}

/* Random datagrams, then random bodies behind plausible record headers
 * (handshake, CCS, alert, app data; epochs 0 and 1): no crash, no
 * connection, and bounded output. Random bytes alone leave the server able
 * to complete a real handshake afterwards. */
static void test_garbage(void)
{
    pair *p = pair_new(NULL, NULL);
    static uint8_t buf[DTLS_MAX_DATAGRAM + 16];
    uint32_t st = 0x12345678;
    for (int i = 0; i < 2000; i++) {
        size_t len = rng_next(&st) % 1600;
        for (size_t j = 0; j < len; j++)
            buf[j] = (uint8_t)rng_next(&st);
        if (len > 0 && buf[0] >= 20 && buf[0] <= 63)
            buf[0] = 0; /* keep these clear of record content types */
        CHECK_INT(dtls_session_feed(p->s, buf, len), DTLS_HANDSHAKING);
    }
    CHECK_INT(p->to_c.total, 0);
    memset(buf, 22, sizeof buf);
    CHECK_INT(dtls_session_feed(p->s, buf, sizeof buf), DTLS_HANDSHAKING); /* oversized */
    CHECK_INT(dtls_session_feed(p->s, buf, 0), DTLS_HANDSHAKING);
    CHECK_INT(dtls_session_feed(p->s, NULL, 10), DTLS_HANDSHAKING);
    dtls_session_start(p->c);
    pair_pump(p);
    CHECK_INT(dtls_session_state(p->s), DTLS_CONNECTED);
    CHECK_INT(dtls_session_state(p->c), DTLS_CONNECTED);
    pair_free(p);

    /* Fresh sessions (same certificates) per round: most rounds end FAILED. */
    static const uint8_t types[] = {20, 21, 22, 23};
    p = pair_new(NULL, NULL);
    for (int round = 0; round < 200; round++) {
        dtls_session_free(p->s);
        p->s = dtls_session_new(p->scert, DTLS_ROLE_SERVER, dtls_cert_fingerprint(p->ccert), q_send,
                                &p->to_c);
        for (int i = 0; i < 20; i++) {
            size_t len = 13 + rng_next(&st) % 400;
            for (size_t j = 0; j < len; j++)
                buf[j] = (uint8_t)rng_next(&st);
            buf[0] = types[rng_next(&st) % 4];
            buf[1] = 0xfe;
            buf[2] = (rng_next(&st) & 1) ? 0xfd : 0xff;
            buf[3] = 0;
            buf[4] = (uint8_t)(rng_next(&st) & 1);
            size_t body = len - 13;
            if (rng_next(&st) & 1) { /* a consistent length, and a sane handshake header */
                buf[11] = (uint8_t)(body >> 8);
                buf[12] = (uint8_t)body;
                if (buf[0] == 22 && body >= 12) {
                    buf[13] = 1; /* ClientHello */
                    buf[14] = buf[22] = 0;
                    buf[15] = buf[23] = (uint8_t)((body - 12) >> 8);
                    buf[16] = buf[24] = (uint8_t)(body - 12);
                    buf[19] = buf[20] = buf[21] = 0;
                }
            }
            dtls_session_feed(p->s, buf, len);
            p->to_c.n = 0; /* whatever it answers goes nowhere */
            CHECK(dtls_session_state(p->s) != DTLS_CONNECTED);
        }
    }
    pair_free(p);
}

/* Waits (for real, a few ms) until s's retransmission timer has expired;
 * returns how many ms it waited. */
static long wait_expired(dtls_session *s)
{
    long total = 0, ms;
    while ((ms = dtls_session_timeout_ms(s)) > 0) {
        CHECK(ms <= 2000);
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        total += ms;
    }
    CHECK_INT(ms, 0);
    return total;
}

/* The server's first flight is lost; the server's timer resends it. The
 * timer is the shortest allowed (16 ms, of which OpenSSL waits only the
 * part above 15 ms), so this sleeps about 1 ms. */
static void test_retransmit(void)
{
    pair *p = pair_new(NULL, NULL);
    dtls_session_set_initial_timeout_ms(p->s, 1); /* clamped to 16 */
    dtls_session_start(p->c);
    q_deliver(&p->to_s, p->s);
    CHECK(p->to_c.n >= 1); /* ServerHello .. CertificateRequest, ServerHelloDone */
    int first = p->to_c.n;
    uint8_t saved[DTLS_MTU];
    size_t saved_len = p->to_c.len[0];
    memcpy(saved, p->to_c.data[0], saved_len);
    p->to_c.n = 0; /* lost */
    long ms = dtls_session_timeout_ms(p->s);
    CHECK(ms >= 0 && ms <= DTLS_MIN_TIMEOUT_MS);
    CHECK(wait_expired(p->s) <= DTLS_MIN_TIMEOUT_MS);
    CHECK_INT(dtls_session_on_timeout(p->s), DTLS_HANDSHAKING);
    CHECK_INT(p->to_c.n, first); /* the same flight again */
    CHECK_INT(p->to_c.len[0], saved_len);
    /* The first record (ServerHello) again, under a new record sequence number. */
    size_t body = (size_t)saved[11] << 8 | saved[12];
    CHECK(memcmp(saved + 13, p->to_c.data[0] + 13, body) == 0);
    CHECK(memcmp(saved + 5, p->to_c.data[0] + 5, 6) != 0);
    CHECK(dtls_session_timeout_ms(p->s) >= 0); /* running again (doubled) */
    pair_pump(p);
    CHECK_INT(dtls_session_state(p->c), DTLS_CONNECTED);
    CHECK_INT(dtls_session_state(p->s), DTLS_CONNECTED);
    dtls_srtp_keys kc, ks;
    CHECK(dtls_session_srtp_keys(p->c, &kc) && dtls_session_srtp_keys(p->s, &ks));
    check_keys_cross(&kc, &ks);
    pair_free(p);

    /* The client's last flight is lost: the client resends it. */
    p = pair_new(NULL, NULL);
    dtls_session_set_initial_timeout_ms(p->c, DTLS_MIN_TIMEOUT_MS);
    dtls_session_start(p->c);
    q_deliver(&p->to_s, p->s);
    q_deliver(&p->to_c, p->c);
    CHECK(p->to_s.n >= 1); /* Certificate .. Finished */
    p->to_s.n = 0;
    wait_expired(p->c);
    dtls_session_on_timeout(p->c);
    CHECK(p->to_s.n >= 1);
    pair_pump(p);
    CHECK_INT(dtls_session_state(p->c), DTLS_CONNECTED);
    CHECK_INT(dtls_session_state(p->s), DTLS_CONNECTED);
    pair_free(p);

    /* The server's last flight is lost: the client's retransmission makes
     * the (already connected) server resend it. */
    p = pair_new(NULL, NULL);
    dtls_session_set_initial_timeout_ms(p->c, DTLS_MIN_TIMEOUT_MS);
    dtls_session_start(p->c);
    q_deliver(&p->to_s, p->s);
    q_deliver(&p->to_c, p->c);
    q_deliver(&p->to_s, p->s);
    CHECK_INT(dtls_session_state(p->s), DTLS_CONNECTED);
    CHECK(p->to_c.n >= 1); /* ChangeCipherSpec, Finished */
    p->to_c.n = 0;
    CHECK_INT(dtls_session_state(p->c), DTLS_HANDSHAKING);
    wait_expired(p->c);
    dtls_session_on_timeout(p->c);
    pair_pump(p);
    CHECK_INT(dtls_session_state(p->c), DTLS_CONNECTED);
    CHECK_INT(dtls_session_state(p->s), DTLS_CONNECTED);
    pair_free(p);
}

/* Nobody answers: after DTLS_MAX_RETRANSMITS resends the client fails at
 * the next expiry. With a 16 ms timer doubling each time this sleeps about
 * 16 * 2^6 - 15 * 7 ms, a little under 2 s. */
static void test_retransmit_limit(void)
{
    dtls_cert *cc = dtls_cert_new();
    dgram_q out = {0};
    dtls_session *c =
        dtls_session_new(cc, DTLS_ROLE_CLIENT, dtls_cert_fingerprint(cc), q_send, &out);
    dtls_session_set_initial_timeout_ms(c, DTLS_MIN_TIMEOUT_MS);
    dtls_session_start(c);
    CHECK_INT(out.total, 1);
    int calls = 0;
    while (dtls_session_state(c) == DTLS_HANDSHAKING) {
        wait_expired(c);
        dtls_session_on_timeout(c);
        out.n = 0;
        CHECK(++calls < 100);
    }
    CHECK_INT(dtls_session_state(c), DTLS_FAILED);
    CHECK_INT(out.total, 1 + DTLS_MAX_RETRANSMITS);
    CHECK_INT(calls, DTLS_MAX_RETRANSMITS + 1);
    CHECK_INT(dtls_session_timeout_ms(c), -1);
    dtls_session_free(c);
    dtls_cert_free(cc);
}

static void test_close_notify(void)
{
    pair *p = pair_new(NULL, NULL);
    dtls_session_start(p->c);
    pair_pump(p);
    CHECK_INT(dtls_session_state(p->s), DTLS_CONNECTED);
    CHECK_INT(dtls_session_close(p->c), DTLS_CLOSED);
    CHECK_INT(p->to_s.n, 1);
    pair_pump(p);
    CHECK_INT(dtls_session_state(p->s), DTLS_CLOSED);
    dtls_srtp_keys k;
    CHECK(!dtls_session_srtp_keys(p->s, &k));
    pair_free(p);
}

/* ---- a plain OpenSSL client, to vary what is offered ---- */

typedef struct raw_client {
    SSL_CTX *ctx;
    SSL *ssl;
    BIO *rbio, *wbio;
    char fp[DTLS_FINGERPRINT_LEN + 1];
} raw_client;

static void raw_client_init(raw_client *r, const char *profiles)
{
    r->ctx = SSL_CTX_new(DTLS_client_method());
    CHECK(r->ctx);
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    CHECK(key && x);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)"raw", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509_set_pubkey(x, key);
    CHECK(X509_sign(x, key, EVP_sha256()) > 0);
    CHECK(SSL_CTX_use_certificate(r->ctx, x) == 1 && SSL_CTX_use_PrivateKey(r->ctx, key) == 1);
    unsigned char md[32];
    unsigned n = 0;
    CHECK(X509_digest(x, EVP_sha256(), md, &n) == 1 && n == 32);
    for (int i = 0; i < 32; i++)
        snprintf(r->fp + 3 * i, 4, i < 31 ? "%02X:" : "%02X", md[i]);
    X509_free(x);
    EVP_PKEY_free(key);
    CHECK(SSL_CTX_set_tlsext_use_srtp(r->ctx, profiles) == 0);
    r->ssl = SSL_new(r->ctx);
    r->rbio = BIO_new(BIO_s_mem());
    r->wbio = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(r->rbio, -1);
    BIO_set_mem_eof_return(r->wbio, -1);
    SSL_set_bio(r->ssl, r->rbio, r->wbio);
    SSL_set_options(r->ssl, SSL_OP_NO_QUERY_MTU);
    DTLS_set_link_mtu(r->ssl, DTLS_MTU);
    SSL_set_connect_state(r->ssl);
}

static void raw_client_free(raw_client *r)
{
    SSL_free(r->ssl);
    SSL_CTX_free(r->ctx);
}

/* Sends whatever the raw client wrote to s as one datagram (DTLS allows
 * several records per datagram). */
static void raw_flush(raw_client *r, dtls_session *s)
{
    char *data;
    long n = BIO_get_mem_data(r->wbio, &data);
    if (n > 0)
        dtls_session_feed(s, (const uint8_t *)data, (size_t)n);
    (void)BIO_reset(r->wbio);
}

/* Handshake between a raw client offering `profiles` and a dtls server;
 * returns the profile id the raw client sees. */
static int raw_handshake(const char *profiles, dtls_srtp_keys *server_keys, uint8_t *client_km)
{
    raw_client r = {0};
    raw_client_init(&r, profiles);
    dtls_cert *sc = dtls_cert_new();
    dgram_q to_c = {0};
    dtls_session *s = dtls_session_new(sc, DTLS_ROLE_SERVER, r.fp, q_send, &to_c);
    bool done = false;
    for (int i = 0; i < 10 && !done; i++) {
        done = SSL_do_handshake(r.ssl) == 1;
        raw_flush(&r, s);
        for (int j = 0; j < to_c.n; j++)
            BIO_write(r.rbio, to_c.data[j], (int)to_c.len[j]);
        to_c.n = 0;
    }
    CHECK(done);
    CHECK_INT(dtls_session_state(s), DTLS_CONNECTED);

    /* Application data after the handshake is read and dropped. */
    CHECK(SSL_write(r.ssl, "hello", 5) == 5);
    raw_flush(&r, s);
    CHECK_INT(dtls_session_state(s), DTLS_CONNECTED);
    CHECK_INT(to_c.n, 0);

    CHECK(dtls_session_srtp_keys(s, server_keys));
    const SRTP_PROTECTION_PROFILE *prof = SSL_get_selected_srtp_profile(r.ssl);
    CHECK(prof);
    size_t km_len = 2 * (server_keys->key_len + server_keys->salt_len);
    CHECK(SSL_export_keying_material(r.ssl, client_km, km_len, "EXTRACTOR-dtls_srtp", 19, NULL, 0,
                                     0) == 1);
    int id = (int)prof->id;
    dtls_session_free(s);
    dtls_cert_free(sc);
    raw_client_free(&r);
    return id;
}

static void check_split(const dtls_srtp_keys *sk, const uint8_t *km)
{
    size_t k = sk->key_len, sl = sk->salt_len;
    /* client_key | server_key | client_salt | server_salt; the server's local is server_*. */
    CHECK(memcmp(sk->remote_key, km, k) == 0);
    CHECK(memcmp(sk->local_key, km + k, k) == 0);
    CHECK(memcmp(sk->remote_salt, km + 2 * k, sl) == 0);
    CHECK(memcmp(sk->local_salt, km + 2 * k + sl, sl) == 0);
}

static void test_raw_client_cm_only(void)
{
    dtls_srtp_keys sk;
    uint8_t km[60];
    CHECK_INT(raw_handshake("SRTP_AES128_CM_SHA1_80", &sk, km), SRTP_AES128_CM_SHA1_80);
    CHECK_INT(sk.profile, SRTP_PROFILE_AES128_CM_SHA1_80);
    CHECK_INT(sk.key_len, 16);
    CHECK_INT(sk.salt_len, 14);
    check_split(&sk, km);
}

/* The client prefers CM_SHA1_80 but also offers GCM: OpenSSL's server takes
 * its own order, so GCM wins. */
static void test_raw_client_prefers_cm(void)
{
    dtls_srtp_keys sk;
    uint8_t km[60];
    CHECK_INT(raw_handshake("SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM", &sk, km),
              SRTP_AEAD_AES_128_GCM);
    CHECK_INT(sk.profile, SRTP_PROFILE_AEAD_AES_128_GCM);
    CHECK_INT(sk.key_len, 16);
    CHECK_INT(sk.salt_len, 12);
    check_split(&sk, km);
}

/* A client offering no profile we know still connects, without keys. */
static void test_raw_client_no_common_profile(void)
{
    raw_client r = {0};
    raw_client_init(&r, "SRTP_AES128_CM_SHA1_32");
    dtls_cert *sc = dtls_cert_new();
    dgram_q to_c = {0};
    dtls_session *s = dtls_session_new(sc, DTLS_ROLE_SERVER, r.fp, q_send, &to_c);
    for (int i = 0; i < 10; i++) {
        SSL_do_handshake(r.ssl);
        raw_flush(&r, s);
        for (int j = 0; j < to_c.n; j++)
            BIO_write(r.rbio, to_c.data[j], (int)to_c.len[j]);
        to_c.n = 0;
    }
    CHECK_INT(dtls_session_state(s), DTLS_CONNECTED);
    dtls_srtp_keys k;
    CHECK(!dtls_session_srtp_keys(s, &k));
    CHECK_INT(k.profile, SRTP_PROFILE_NONE);
    dtls_session_free(s);
    dtls_cert_free(sc);
    raw_client_free(&r);
}

TEST_MAIN(TEST(test_handshake_gcm), TEST(test_handshake_lowercase_fp),
          TEST(test_fingerprint_format), TEST(test_wrong_fp_client_side),
          TEST(test_wrong_fp_server_side), TEST(test_malformed_fp), TEST(test_late_fingerprint),
          TEST(test_garbage), TEST(test_retransmit), TEST(test_retransmit_limit),
          TEST(test_close_notify), TEST(test_raw_client_cm_only), TEST(test_raw_client_prefers_cm),
          TEST(test_raw_client_no_common_profile))
