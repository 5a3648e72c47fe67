/* Unit tests for xmppd/scram.c: the RFC 5802 and RFC 7677 example exchanges,
 * a small client to drive other exchanges, and malformed input. */
#include "test.h"
#include "util.h"
#include "xmppd/scram.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdint.h>

/* Stored credentials for one user. */
typedef struct creds {
    uint8_t salt[64];
    size_t salt_len;
    unsigned iterations;
    uint8_t stored[SCRAM_MAX_HASH];
    uint8_t server[SCRAM_MAX_HASH];
} creds;

static void make_creds(creds *c, scram_hash h, const char *password, const char *salt_b64,
                       unsigned iterations)
{
    size_t n = 0;
    unsigned char *salt = base64_decode(salt_b64, strlen(salt_b64), &n);
    CHECK(salt != NULL && n <= sizeof c->salt);
    memcpy(c->salt, salt, n);
    free(salt);
    c->salt_len = n;
    c->iterations = iterations;
    CHECK_INT(scram_derive(h, password, c->salt, n, iterations, c->stored, c->server), 0);
}

/* Steps 1 and 2 with the given client-first-message; returns the exchange
 * (or fails the test) and the server-first-message in *sf. */
static scram_server *start(scram_hash h, const char *snonce, const char *cf, const creds *c,
                           char **sf)
{
    scram_server *s = scram_server_new(h, snonce);
    CHECK(s != NULL);
    char *user = NULL, *az = NULL;
    CHECK_INT(scram_server_client_first(s, cf, strlen(cf), &user, &az), 0);
    free(user);
    free(az);
    *sf = scram_server_first(s, 1, c->salt, c->salt_len, c->iterations, c->stored, c->server);
    CHECK(*sf != NULL);
    return s;
}

/* The client side: computes "without_proof,p=<proof>" for password. */
static char *client_final(scram_hash h, const char *password, const char *cf_bare, const char *sf,
                          const char *without_proof)
{
    const EVP_MD *md = h == SCRAM_SHA256 ? EVP_sha256() : EVP_sha1();
    size_t hl = scram_hash_len(h);
    const char *sp = strstr(sf, ",s="), *ip = strstr(sf, ",i=");
    CHECK(sp && ip && ip > sp);
    size_t salt_len = 0;
    unsigned char *salt = base64_decode(sp + 3, (size_t)(ip - sp - 3), &salt_len);
    CHECK(salt != NULL);
    int iter = atoi(ip + 3);

    uint8_t salted[SCRAM_MAX_HASH], ck[SCRAM_MAX_HASH], sk[SCRAM_MAX_HASH], sig[SCRAM_MAX_HASH];
    unsigned n;
    CHECK(PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, (int)salt_len, iter, md, (int)hl,
                            salted) == 1);
    free(salt);
    CHECK(HMAC(md, salted, (int)hl, (const unsigned char *)"Client Key", 10, ck, &n));
    CHECK(EVP_Digest(ck, hl, sk, &n, md, NULL) == 1);
    size_t am_len = strlen(cf_bare) + strlen(sf) + strlen(without_proof) + 3;
    char *am = malloc(am_len);
    snprintf(am, am_len, "%s,%s,%s", cf_bare, sf, without_proof);
    CHECK(HMAC(md, sk, (int)hl, (unsigned char *)am, strlen(am), sig, &n));
    free(am);
    for (size_t i = 0; i < hl; i++)
        ck[i] ^= sig[i];
    char *proof = base64_encode(ck, hl);
    size_t out_len = strlen(without_proof) + strlen(proof) + 4;
    char *out = malloc(out_len);
    snprintf(out, out_len, "%s,p=%s", without_proof, proof);
    free(proof);
    return out;
}

static void test_names(void)
{
    CHECK_INT(scram_hash_len(SCRAM_SHA1), 20);
    CHECK_INT(scram_hash_len(SCRAM_SHA256), 32);
    CHECK_STR(scram_mech_name(SCRAM_SHA1), "SCRAM-SHA-1");
    CHECK_STR(scram_mech_name(SCRAM_SHA256), "SCRAM-SHA-256");
}

/* RFC 5802 section 5. */
static void test_rfc5802(void)
{
    creds c;
    make_creds(&c, SCRAM_SHA1, "pencil", "QSXCR+Q6sek8bf92", 4096);
    scram_server *s = scram_server_new(SCRAM_SHA1, "3rfcNHYJY1ZVvWVs7j");
    const char *cf = "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL";
    char *user = NULL, *az = (char *)"x";
    CHECK_INT(scram_server_client_first(s, cf, strlen(cf), &user, &az), 0);
    CHECK_STR(user, "user");
    CHECK(az == NULL);
    char *sf = scram_server_first(s, 1, c.salt, c.salt_len, 4096, c.stored, c.server);
    CHECK_STR(sf, "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096");
    const char *cfin = "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
                       "p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=";
    char *fin = NULL;
    CHECK_INT(scram_server_client_final(s, cfin, strlen(cfin), &fin), 0);
    CHECK_STR(fin, "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=");
    /* the exchange is over: nothing more is accepted */
    char *again = (char *)"x";
    CHECK_INT(scram_server_client_final(s, cfin, strlen(cfin), &again), -1);
    CHECK(again == NULL);
    free(user);
    free(sf);
    free(fin);
    scram_server_free(s);

    /* our client computes the RFC's proof */
    char *mine = client_final(SCRAM_SHA1, "pencil", "n=user,r=fyko+d2lbbFgONRv9qkxdawL",
                              "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,"
                              "i=4096",
                              "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j");
    CHECK_STR(mine, cfin);
    free(mine);
}

/* RFC 7677 section 3. Note the server nonce ends in ")hNlF$k0" (lower-case
 * h): with "H" the RFC's proof and server signature do not match. */
static void test_rfc7677(void)
{
    creds c;
    make_creds(&c, SCRAM_SHA256, "pencil", "W22ZaJ0SNY7soEsUEjb6gQ==", 4096);
    scram_server *s = scram_server_new(SCRAM_SHA256, "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
    const char *cf = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
    char *user = NULL, *az = NULL;
    CHECK_INT(scram_server_client_first(s, cf, strlen(cf), &user, &az), 0);
    CHECK_STR(user, "user");
    CHECK(az == NULL);
    char *sf = scram_server_first(s, 1, c.salt, c.salt_len, 4096, c.stored, c.server);
    CHECK_STR(sf, "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                  "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
    const char *cfin = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                       "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    char *fin = NULL;
    CHECK_INT(scram_server_client_final(s, cfin, strlen(cfin), &fin), 0);
    CHECK_STR(fin, "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
    free(user);
    free(sf);
    free(fin);
    scram_server_free(s);
}

/* Runs a full exchange for (client password, stored password); returns the
 * result of step 3. */
static int exchange(scram_hash h, const char *cf, const char *password, const char *stored_pw,
                    const char *extra)
{
    creds c;
    make_creds(&c, h, stored_pw, "c2FsdHNhbHRzYWx0", 4096);
    char *sf = NULL;
    scram_server *s = start(h, NULL, cf, &c, &sf);
    const char *bare = strchr(strchr(cf, ',') + 1, ',') + 1;
    char *gs2 = strndup(cf, (size_t)(bare - cf));
    char *cb = base64_encode(gs2, strlen(gs2));
    const char *nonce = sf + 2;
    size_t nl = (size_t)(strchr(sf, ',') - nonce);
    char wp[1024];
    snprintf(wp, sizeof wp, "c=%s,r=%.*s%s", cb, (int)nl, nonce, extra);
    char *cfin = client_final(h, password, bare, sf, wp);
    char *fin = NULL;
    int rc = scram_server_client_final(s, cfin, strlen(cfin), &fin);
    CHECK(rc == 0 ? fin != NULL && strncmp(fin, "v=", 2) == 0 : fin == NULL);
    free(fin);
    free(cfin);
    free(cb);
    free(gs2);
    free(sf);
    scram_server_free(s);
    return rc;
}

static void test_exchanges(void)
{
    for (int h = SCRAM_SHA1; h <= SCRAM_SHA256; h++) {
        CHECK_INT(exchange(h, "n,,n=user,r=abcdef", "pencil", "pencil", ""), 0);
        CHECK_INT(exchange(h, "y,,n=user,r=abcdef", "pencil", "pencil", ""), 0);
        CHECK_INT(exchange(h, "n,a=admin@example.com,n=user,r=x", "pencil", "pencil", ""), 0);
        CHECK_INT(exchange(h, "n,,n=user,r=abcdef,x=ext", "pencil", "pencil", ",y=ext"), 0);
        /* wrong password */
        CHECK_INT(exchange(h, "n,,n=user,r=abcdef", "pencil2", "pencil", ""), -1);
        CHECK_INT(exchange(h, "n,,n=user,r=abcdef", "", "pencil", ""), -1);
        CHECK_INT(exchange(h, "n,,n=user,r=abcdef", "Pencil", "pencil", ""), -1);
        /* SASLprep'd on both sides: U+00A0 is a space */
        CHECK_INT(exchange(h, "n,,n=user,r=abcdef", "pen cil",
                           "pen\xC2\xA0"
                           "cil",
                           ""),
                  0);
    }
}

static void test_client_first_fields(void)
{
    scram_server *s = scram_server_new(SCRAM_SHA256, NULL);
    const char *cf = "y,a=admin=2Cx=3Dy,n=us=2Cer=3D\xE2\x85\xA8,r=abc";
    char *user = NULL, *az = NULL;
    CHECK_INT(scram_server_client_first(s, cf, strlen(cf), &user, &az), 0);
    CHECK_STR(user, "us,er=IX"); /* decoded, then SASLprep'd */
    CHECK_STR(az, "admin,x=y");
    free(user);
    free(az);
    /* a second client-first is refused */
    CHECK_INT(scram_server_client_first(s, cf, strlen(cf), &user, &az), -1);
    CHECK(user == NULL && az == NULL);
    scram_server_free(s);

    /* generated nonce: printable, no ',', at least 24 bytes of entropy */
    s = scram_server_new(SCRAM_SHA1, NULL);
    cf = "n,,n=u,r=c";
    CHECK_INT(scram_server_client_first(s, cf, strlen(cf), &user, &az), 0);
    creds c;
    make_creds(&c, SCRAM_SHA1, "p", "c2FsdA==", 4096);
    char *sf = scram_server_first(s, 1, c.salt, c.salt_len, 4096, c.stored, c.server);
    CHECK(sf != NULL && strncmp(sf, "r=c", 3) == 0);
    const char *end = strchr(sf, ',');
    CHECK(end && end - (sf + 3) >= 32);
    for (const char *p = sf + 3; p < end; p++)
        CHECK(*p > 0x20 && *p < 0x7F);
    CHECK(strcmp(end, ",s=c2FsdA==,i=4096") == 0);
    free(sf);
    free(user);
    scram_server_free(s);

    /* invalid fixed server nonces */
    CHECK(scram_server_new(SCRAM_SHA1, "") == NULL);
    CHECK(scram_server_new(SCRAM_SHA1, "a,b") == NULL);
    CHECK(scram_server_new(SCRAM_SHA1, "a b") == NULL);
    CHECK(scram_server_new((scram_hash)7, NULL) == NULL);
    scram_server_free(NULL);
}

static void test_malformed_first(void)
{
    static const char *const bad[] = {
        "",
        "n",
        "n,",
        "n,,",
        "n,,n=user",         /* no nonce */
        "n,,r=abc",          /* no username */
        "n,,r=abc,n=user",   /* wrong order */
        "n,,n=,r=abc",       /* empty username */
        "n,,n=user,r=",      /* empty nonce */
        "n,,n=user,r=a\x7F", /* nonce not printable */
        "n,,n=user,r=a b",
        "x,,n=user,r=abc", /* unknown gs2 flag */
        "N,,n=user,r=abc",
        "p=tls-unique,,n=user,r=abc", /* channel binding refused */
        "p=tls-server-end-point,,n=user,r=abc",
        "n,x=foo,n=user,r=abc",  /* not an authzid */
        "n,a=,n=user,r=abc",     /* empty authzid */
        "n,a=b=2,n=user,r=abc",  /* bad escape in authzid */
        "n,,m=ext,n=user,r=abc", /* mandatory extension */
        "n,,n=user,r=abc,m=ext",
        "n,,n=us=2Xer,r=abc", /* bad =XX escapes */
        "n,,n=us=2cer,r=abc",
        "n,,n=us=3der,r=abc",
        "n,,n=user=,r=abc",
        "n,,n=user=2,r=abc",
        "n,,n=us=er,r=abc",
        "n,,n=user,r=abc,", /* empty extension */
        "n,,n=user,r=abc,,x=1",
        "n,,n=user,r=abc,junk", /* malformed extension */
        "n,,n=user,r=abc,1=x",
        "n,,n=user,r=abc,x=",
        "n,,n=\xFF,r=abc", /* invalid UTF-8 */
        "n,a=\xC3,n=user,r=abc",
        "n,,n=\x07,r=abc",         /* SASLprep: prohibited */
        "n,,n=\xD8\xA7\x31,r=abc", /* SASLprep: bidi */
        "n,,n=\xC2\xAD,r=abc",     /* SASLprep'd to empty */
        " n,,n=user,r=abc",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        scram_server *s = scram_server_new(SCRAM_SHA1, NULL);
        char *user = (char *)"x", *az = (char *)"y";
        if (scram_server_client_first(s, bad[i], strlen(bad[i]), &user, &az) != -1) {
            fprintf(stderr, "case %zu accepted: %s\n", i, bad[i]);
            exit(1);
        }
        CHECK(user == NULL && az == NULL);
        /* a failed exchange stays failed */
        CHECK(scram_server_first(s, 1, (const uint8_t *)"s", 1, 1, (const uint8_t *)"k",
                                 (const uint8_t *)"k") == NULL);
        scram_server_free(s);
    }

    /* NUL inside the message */
    scram_server *s = scram_server_new(SCRAM_SHA1, NULL);
    char *user = NULL, *az = NULL;
    CHECK_INT(scram_server_client_first(s, "n,,n=us\0er,r=abc", 16, &user, &az), -1);
    scram_server_free(s);

    /* oversized, otherwise well-formed */
    char big[5000];
    memcpy(big, "n,,n=user,r=", 12);
    memset(big + 12, 'a', sizeof big - 13);
    big[sizeof big - 1] = '\0';
    s = scram_server_new(SCRAM_SHA1, NULL);
    CHECK_INT(scram_server_client_first(s, big, strlen(big), &user, &az), -1);
    scram_server_free(s);
    /* just under the bound is fine */
    big[4096] = '\0';
    s = scram_server_new(SCRAM_SHA1, NULL);
    CHECK_INT(scram_server_client_first(s, big, strlen(big), &user, &az), 0);
    free(user);
    free(az);
    scram_server_free(s);

    /* NULL arguments */
    s = scram_server_new(SCRAM_SHA1, NULL);
    CHECK_INT(scram_server_client_first(s, NULL, 0, &user, &az), -1);
    CHECK_INT(scram_server_client_first(NULL, "n,,n=u,r=a", 10, &user, &az), -1);
    scram_server_free(s);
}

static void test_malformed_final(void)
{
    /* RFC 5802 exchange with a damaged client-final-message */
    static const char *const bad[] = {
        "",
        "c=biws",
        "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j", /* no proof */
        "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=", /* no c */
        "c=biws,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",                                       /* no r */
        /* tampered nonce */
        "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7J,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
        "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
        "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7jX,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
        "c=biws,r=fyko+d2lbbFgONRv9qkxdawL,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
        /* tampered channel binding: "y,,", "p=x,,", not base64, non-canonical */
        "c=eSws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
        "c=cD14LCw=,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
        "c=biw,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
        "c=biwsAA==,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
        /* tampered, truncated, bad base64 proof */
        "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI5Ts=",
        "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI",
        "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4T==",
        "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts",
        "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4T!=",
        "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=AAAA",
        "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=",
        /* proof not last, trailing junk, extension not changing the proof */
        "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=,x=1",
        "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=,",
        "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,x=1,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
        "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,junk,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
        "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
        "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,c=biws,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
        " c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
    };
    creds c;
    make_creds(&c, SCRAM_SHA1, "pencil", "QSXCR+Q6sek8bf92", 4096);
    const char *cf = "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL";
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *sf = NULL;
        scram_server *s = start(SCRAM_SHA1, "3rfcNHYJY1ZVvWVs7j", cf, &c, &sf);
        char *fin = (char *)"x";
        if (scram_server_client_final(s, bad[i], strlen(bad[i]), &fin) != -1) {
            fprintf(stderr, "case %zu accepted: %s\n", i, bad[i]);
            exit(1);
        }
        CHECK(fin == NULL);
        free(sf);
        scram_server_free(s);
    }

    /* NUL, oversized */
    char *sf = NULL, *fin = NULL;
    scram_server *s = start(SCRAM_SHA1, "3rfcNHYJY1ZVvWVs7j", cf, &c, &sf);
    const char nul[] = "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j\0,"
                       "p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=";
    CHECK_INT(scram_server_client_final(s, nul, sizeof nul - 1, &fin), -1);
    free(sf);
    scram_server_free(s);

    char big[5000];
    snprintf(big, sizeof big, "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,x=");
    size_t n = strlen(big);
    memset(big + n, 'a', sizeof big - n - 1);
    big[sizeof big - 1] = '\0';
    s = start(SCRAM_SHA1, "3rfcNHYJY1ZVvWVs7j", cf, &c, &sf);
    CHECK_INT(scram_server_client_final(s, big, strlen(big), &fin), -1);
    free(sf);
    scram_server_free(s);

    /* out of order: final before first */
    s = scram_server_new(SCRAM_SHA1, NULL);
    const char *ok = "c=biws,r=x,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=";
    CHECK_INT(scram_server_client_final(s, ok, strlen(ok), &fin), -1);
    scram_server_free(s);

    /* a failed final cannot be retried with the right one */
    s = start(SCRAM_SHA1, "3rfcNHYJY1ZVvWVs7j", cf, &c, &sf);
    CHECK_INT(scram_server_client_final(s, bad[13], strlen(bad[13]), &fin), -1);
    const char *good = "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
                       "p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=";
    CHECK_INT(scram_server_client_final(s, good, strlen(good), &fin), -1);
    CHECK(fin == NULL);
    free(sf);
    scram_server_free(s);
}

/* Unknown user: step 2 looks like a real one, step 3 always fails. */
static void test_unknown_user(void)
{
    static const uint8_t secret[] = "server-wide secret";
    char *sfs[3];
    const char *names[3] = {"n,,n=ghost,r=abc", "n,,n=ghost,r=def", "n,,n=other,r=abc"};
    for (int i = 0; i < 3; i++) {
        scram_server *s = scram_server_new(SCRAM_SHA256, "srv");
        char *user = NULL, *az = NULL;
        CHECK_INT(scram_server_client_first(s, names[i], strlen(names[i]), &user, &az), 0);
        free(user);
        sfs[i] = scram_server_first(s, 0, secret, sizeof secret, 4096, NULL, NULL);
        CHECK(sfs[i] != NULL);
        /* the client knows "the" password: compute a valid-looking proof */
        const char *bare = names[i] + 3;
        char wp[256];
        int nl = (int)(strchr(sfs[i], ',') - (sfs[i] + 2));
        snprintf(wp, sizeof wp, "c=biws,r=%.*s", nl, sfs[i] + 2);
        char *cfin = client_final(SCRAM_SHA256, "pencil", bare, sfs[i], wp);
        char *fin = NULL;
        CHECK_INT(scram_server_client_final(s, cfin, strlen(cfin), &fin), -1);
        CHECK(fin == NULL);
        free(cfin);
        scram_server_free(s);
    }
    /* salt and iterations stable per username, different across users */
    const char *s0 = strstr(sfs[0], ",s="), *s1 = strstr(sfs[1], ",s="),
               *s2 = strstr(sfs[2], ",s=");
    CHECK(s0 && s1 && s2);
    CHECK_STR(s0, s1);
    CHECK(strcmp(s0, s2) != 0);
    CHECK(strstr(s0, ",i=4096") != NULL);
    /* a 16-byte salt, as real ones usually are */
    CHECK_INT(strlen(s0), strlen(",s=") + 24 + strlen(",i=4096"));
    for (int i = 0; i < 3; i++)
        free(sfs[i]);

    /* no salt and no iteration count given: still a plausible reply */
    scram_server *s = scram_server_new(SCRAM_SHA1, "srv");
    char *user = NULL, *az = NULL;
    CHECK_INT(scram_server_client_first(s, "n,,n=x,r=a", 10, &user, &az), 0);
    char *sf = scram_server_first(s, 0, NULL, 0, 0, NULL, NULL);
    CHECK(sf != NULL && strstr(sf, ",i=10000") != NULL);
    free(sf);
    free(user);
    scram_server_free(s);
}

static void test_derive(void)
{
    uint8_t st[SCRAM_MAX_HASH], sv[SCRAM_MAX_HASH];
    const uint8_t salt[] = {1, 2, 3, 4};
    CHECK_INT(scram_derive(SCRAM_SHA1, "\x07", salt, 4, 1, st, sv), -1); /* SASLprep fails */
    CHECK_INT(scram_derive(SCRAM_SHA1, "\xFF", salt, 4, 1, st, sv), -1);
    CHECK_INT(scram_derive(SCRAM_SHA1, "pw", salt, 4, 0, st, sv), -1); /* no iterations */
    CHECK_INT(scram_derive(SCRAM_SHA1, NULL, salt, 4, 1, st, sv), -1);
    CHECK_INT(scram_derive((scram_hash)7, "pw", salt, 4, 1, st, sv), -1);
    CHECK_INT(scram_derive(SCRAM_SHA1, "pw", NULL, 4, 1, st, sv), -1);
    CHECK_INT(scram_derive(SCRAM_SHA1, "pw", NULL, 0, 1, st, sv), 0); /* empty salt */
    CHECK_INT(scram_derive(SCRAM_SHA256, "pw", salt, 4, 1, st, sv), 0);
    /* SASLprep applied: "I<soft hyphen>X" and "IX" derive the same keys */
    uint8_t st2[SCRAM_MAX_HASH], sv2[SCRAM_MAX_HASH];
    CHECK_INT(scram_derive(SCRAM_SHA256, "I\xC2\xADX", salt, 4, 2, st, sv), 0);
    CHECK_INT(scram_derive(SCRAM_SHA256, "IX", salt, 4, 2, st2, sv2), 0);
    CHECK(memcmp(st, st2, 32) == 0 && memcmp(sv, sv2, 32) == 0);
    CHECK(memcmp(st, sv, 32) != 0);

    /* known user with missing credentials: a caller bug, refused */
    scram_server *s = scram_server_new(SCRAM_SHA1, "srv");
    char *user = NULL, *az = NULL;
    CHECK_INT(scram_server_client_first(s, "n,,n=x,r=a", 10, &user, &az), 0);
    CHECK(scram_server_first(s, 1, NULL, 0, 4096, st, sv) == NULL);
    free(user);
    scram_server_free(s);
}

TEST_MAIN(TEST(test_names), TEST(test_rfc5802), TEST(test_rfc7677), TEST(test_exchanges),
          TEST(test_client_first_fields), TEST(test_malformed_first), TEST(test_malformed_final),
          TEST(test_unknown_user), TEST(test_derive))
