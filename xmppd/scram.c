/* scram: server side of SCRAM-SHA-1 / SCRAM-SHA-256 (RFC 5802, RFC 7677).
 *
 * The exchange is a strict state machine: client_first, then server_first,
 * then client_final, each exactly once; any failure makes every later step
 * fail. Every message is bounded (SCRAM_MAX_MSG) and parsed strictly. */
#include "scram.h"
#include "jid.h"
#include "sbuf.h"
#include "util.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define SCRAM_MAX_MSG 4096     /* bytes, for each client message */
#define SCRAM_NONCE_BYTES 24   /* random bytes behind a generated nonce */
#define SCRAM_MAX_NONCE 256    /* bytes, for a nonce given to scram_server_new */
#define SCRAM_FAKE_SALT_LEN 16 /* bytes, salt shown for an unknown user */

enum scram_state { ST_START, ST_FIRST_DONE, ST_SERVER_FIRST_DONE, ST_FINISHED, ST_FAILED };

struct scram_server {
    scram_hash hash;
    enum scram_state state;
    char *snonce;            /* server nonce */
    char *nonce;             /* cnonce + snonce */
    char *gs2_header;        /* e.g. "n,," */
    char *client_first_bare; /* for AuthMessage */
    char *username;          /* decoded and SASLprep'd */
    char *server_first;      /* for AuthMessage */
    int known;               /* user exists */
    uint8_t stored_key[SCRAM_MAX_HASH];
    uint8_t server_key[SCRAM_MAX_HASH];
};

size_t scram_hash_len(scram_hash h)
{
    return h == SCRAM_SHA256 ? 32 : 20;
}

const char *scram_mech_name(scram_hash h)
{
    return h == SCRAM_SHA256 ? "SCRAM-SHA-256" : "SCRAM-SHA-1";
}

static const EVP_MD *scram_md(scram_hash h)
{
    return h == SCRAM_SHA256 ? EVP_sha256() : EVP_sha1();
}

/* HMAC(key, data) into out (scram_hash_len bytes). 0 or -1. */
static int scram_hmac(scram_hash h, const uint8_t *key, size_t key_len, const void *data,
                      size_t len, uint8_t *out)
{
    unsigned int n = 0;
    if (key_len > INT_MAX || !HMAC(scram_md(h), key, (int)key_len, data, len, out, &n) ||
        n != scram_hash_len(h))
        return -1;
    return 0;
}

/* H(data) into out (scram_hash_len bytes). 0 or -1. */
static int scram_digest(scram_hash h, const void *data, size_t len, uint8_t *out)
{
    unsigned int n = 0;
    if (EVP_Digest(data, len, out, &n, scram_md(h), NULL) != 1 || n != scram_hash_len(h))
        return -1;
    return 0;
}

int scram_derive(scram_hash h, const char *password, const uint8_t *salt, size_t salt_len,
                 unsigned iterations, uint8_t *stored_key, uint8_t *server_key)
{
    if ((h != SCRAM_SHA1 && h != SCRAM_SHA256) || !password || (!salt && salt_len) ||
        iterations == 0 || iterations > INT_MAX || salt_len > INT_MAX)
        return -1;
    char *pw = saslprep(password);
    if (!pw)
        return -1;
    size_t hl = scram_hash_len(h), pl = strlen(pw);
    uint8_t salted[SCRAM_MAX_HASH], client_key[SCRAM_MAX_HASH];
    static const uint8_t empty_salt[1] = {0};
    int rc = -1;
    if (pl > INT_MAX || PKCS5_PBKDF2_HMAC(pw, (int)pl, salt ? salt : empty_salt, (int)salt_len,
                                          (int)iterations, scram_md(h), (int)hl, salted) != 1)
        goto out;
    if (scram_hmac(h, salted, hl, "Client Key", 10, client_key) != 0 ||
        scram_digest(h, client_key, hl, stored_key) != 0 ||
        scram_hmac(h, salted, hl, "Server Key", 10, server_key) != 0)
        goto out;
    rc = 0;
out:
    OPENSSL_cleanse(salted, sizeof salted);
    OPENSSL_cleanse(client_key, sizeof client_key);
    OPENSSL_cleanse(pw, pl);
    free(pw);
    return rc;
}

/* RFC 5802 "printable": %x21-2B / %x2D-7E (no ','). */
static bool scram_printable(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x21 || c > 0x7E || c == ',')
            return false;
    }
    return true;
}

scram_server *scram_server_new(scram_hash h, const char *server_nonce)
{
    if (h != SCRAM_SHA1 && h != SCRAM_SHA256)
        return NULL;
    char *nonce;
    if (server_nonce) {
        size_t n = strnlen(server_nonce, SCRAM_MAX_NONCE + 1);
        if (n > SCRAM_MAX_NONCE || !scram_printable(server_nonce, n))
            return NULL;
        nonce = xstrdup(server_nonce);
    } else {
        uint8_t raw[SCRAM_NONCE_BYTES];
        random_bytes(raw, sizeof raw);
        nonce = base64_encode(raw, sizeof raw); /* [A-Za-z0-9+/], no ',' */
    }
    scram_server *s = xcalloc(1, sizeof *s);
    s->hash = h;
    s->state = ST_START;
    s->snonce = nonce;
    return s;
}

void scram_server_free(scram_server *s)
{
    if (!s)
        return;
    free(s->snonce);
    free(s->nonce);
    free(s->gs2_header);
    free(s->client_first_bare);
    free(s->username);
    free(s->server_first);
    OPENSSL_cleanse(s->stored_key, sizeof s->stored_key);
    OPENSSL_cleanse(s->server_key, sizeof s->server_key);
    free(s);
}

/* Decodes a saslname (RFC 5802: "=2C" is ',', "=3D" is '='; any other '='
 * and any ',' are errors). Returns a malloc'd, valid UTF-8 string, or NULL
 * if s[0..len) is empty or malformed. */
static char *scram_decode_saslname(const char *s, size_t len)
{
    if (len == 0)
        return NULL;
    char *out = xmalloc(len + 1);
    size_t w = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == ',')
            goto bad;
        if (s[i] != '=') {
            out[w++] = s[i];
            continue;
        }
        if (len - i < 3)
            goto bad;
        if (s[i + 1] == '2' && s[i + 2] == 'C')
            out[w++] = ',';
        else if (s[i + 1] == '3' && s[i + 2] == 'D')
            out[w++] = '=';
        else
            goto bad;
        i += 2;
    }
    out[w] = '\0';
    if (!utf8_valid(out, w))
        goto bad;
    return out;
bad:
    free(out);
    return NULL;
}

/* Splits a message into ','-separated fields: "a,b," yields "a", "b", "". */
typedef struct scram_fields {
    const char *msg;
    size_t len, pos;
    bool done;
} scram_fields;

/* Next field: sets *val and *vlen to its value (after "X=") and *off to its
 * offset in the message. Returns the attribute letter, 0 if the field is not
 * ALPHA "=" 1*char, or -1 when no field is left. */
static int scram_next_attr(scram_fields *f, const char **val, size_t *vlen, size_t *off)
{
    if (f->done)
        return -1;
    const char *start = f->msg + f->pos;
    const char *comma = memchr(start, ',', f->len - f->pos);
    size_t flen = comma ? (size_t)(comma - start) : f->len - f->pos;
    *off = f->pos;
    f->pos += flen + (comma ? 1 : 0);
    f->done = !comma;
    if (flen < 3 || start[1] != '=')
        return 0;
    char c = start[0];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
        return 0;
    *val = start + 2;
    *vlen = flen - 2;
    return c;
}

/* Wipes the keys and moves to state st. */
static void scram_finish(scram_server *s, enum scram_state st)
{
    s->state = st;
    OPENSSL_cleanse(s->stored_key, sizeof s->stored_key);
    OPENSSL_cleanse(s->server_key, sizeof s->server_key);
}

int scram_server_client_first(scram_server *s, const char *msg, size_t len, char **username,
                              char **authzid)
{
    if (username)
        *username = NULL;
    if (authzid)
        *authzid = NULL;
    if (!s || !msg || !username || !authzid)
        return -1;
    char *az = NULL, *user = NULL, *prepped = NULL;
    if (s->state != ST_START || len == 0 || len > SCRAM_MAX_MSG || memchr(msg, '\0', len))
        goto bad;

    /* gs2-header: ("n" / "y") "," ["a=" saslname] ",". A "p=" flag (channel
     * binding) is refused: we offer no -PLUS mechanism. */
    if (len < 3 || (msg[0] != 'n' && msg[0] != 'y') || msg[1] != ',')
        goto bad;
    const char *az_end = memchr(msg + 2, ',', len - 2);
    if (!az_end)
        goto bad;
    if (az_end > msg + 2) {
        if (az_end - (msg + 2) < 3 || msg[2] != 'a' || msg[3] != '=')
            goto bad;
        if (!(az = scram_decode_saslname(msg + 4, (size_t)(az_end - (msg + 4)))))
            goto bad;
    }
    size_t gs2_len = (size_t)(az_end - msg) + 1;

    /* client-first-message-bare: [reserved-mext ","] username "," nonce
     * ["," extensions]. No mandatory extension ("m=") is supported. */
    scram_fields f = {msg + gs2_len, len - gs2_len, 0, false};
    const char *v = NULL, *user_v = NULL, *nonce_v = NULL;
    size_t vl = 0, user_l = 0, nonce_l = 0, off = 0;
    if (scram_next_attr(&f, &user_v, &user_l, &off) != 'n')
        goto bad;
    if (scram_next_attr(&f, &nonce_v, &nonce_l, &off) != 'r' || !scram_printable(nonce_v, nonce_l))
        goto bad;
    int a;
    while ((a = scram_next_attr(&f, &v, &vl, &off)) != -1) {
        if (a == 0 || a == 'm')
            goto bad; /* malformed, empty or mandatory extension */
    }
    if (!(user = scram_decode_saslname(user_v, user_l)))
        goto bad;
    prepped = saslprep(user);
    if (!prepped || prepped[0] == '\0')
        goto bad;

    s->gs2_header = xstrndup(msg, gs2_len);
    s->client_first_bare = xstrndup(msg + gs2_len, len - gs2_len);
    s->username = prepped;
    s->nonce = xmalloc(nonce_l + strlen(s->snonce) + 1);
    memcpy(s->nonce, nonce_v, nonce_l);
    strcpy(s->nonce + nonce_l, s->snonce);
    s->state = ST_FIRST_DONE;
    free(user);
    *username = xstrdup(prepped);
    *authzid = az;
    return 0;
bad:
    free(az);
    free(user);
    free(prepped);
    scram_finish(s, ST_FAILED);
    return -1;
}

/* Salt shown for an unknown user: HMAC-SHA-256(key, username), truncated.
 * key is whatever salt the caller passed; a server-wide secret makes the fake
 * salt stable per username (as a real one is) and unpredictable. */
static void scram_fake_salt(const scram_server *s, const uint8_t *key, size_t key_len,
                            uint8_t out[SCRAM_FAKE_SALT_LEN])
{
    uint8_t mac[SCRAM_MAX_HASH];
    static const uint8_t nokey[1] = {0};
    sbuf b;
    sbuf_init(&b);
    sbuf_adds(&b, "parley-scram-fake-salt:");
    sbuf_adds(&b, s->username);
    if (scram_hmac(SCRAM_SHA256, key ? key : nokey, key ? key_len : 0, b.data, b.len, mac) != 0)
        random_bytes(mac, sizeof mac);
    memcpy(out, mac, SCRAM_FAKE_SALT_LEN);
    sbuf_free(&b);
}

char *scram_server_first(scram_server *s, int known, const uint8_t *salt, size_t salt_len,
                         unsigned iterations, const uint8_t *stored_key, const uint8_t *server_key)
{
    if (!s)
        return NULL;
    if (s->state != ST_FIRST_DONE)
        goto bad;
    size_t hl = scram_hash_len(s->hash);
    uint8_t fake[SCRAM_FAKE_SALT_LEN];
    if (known) {
        if (!salt || salt_len == 0 || iterations == 0 || !stored_key || !server_key)
            goto bad;
        memcpy(s->stored_key, stored_key, hl);
        memcpy(s->server_key, server_key, hl);
    } else {
        /* Random keys: step 3 does the same work as for a real user and
         * fails. */
        random_bytes(s->stored_key, hl);
        random_bytes(s->server_key, hl);
        scram_fake_salt(s, salt, salt_len, fake);
        salt = fake;
        salt_len = sizeof fake;
        if (iterations == 0)
            iterations = SCRAM_DEFAULT_ITERATIONS;
    }
    s->known = known != 0;
    char *b64 = base64_encode(salt, salt_len);
    sbuf b;
    sbuf_init(&b);
    sbuf_printf(&b, "r=%s,s=%s,i=%u", s->nonce, b64, iterations);
    free(b64);
    s->server_first = sbuf_steal(&b, NULL);
    s->state = ST_SERVER_FIRST_DONE;
    return xstrdup(s->server_first);
bad:
    scram_finish(s, ST_FAILED);
    return NULL;
}

int scram_server_client_final(scram_server *s, const char *msg, size_t len, char **server_final)
{
    if (server_final)
        *server_final = NULL;
    if (!s || !msg || !server_final)
        return -1;
    if (s->state != ST_SERVER_FIRST_DONE || len == 0 || len > SCRAM_MAX_MSG ||
        memchr(msg, '\0', len))
        goto bad;

    /* client-final-message: "c=" b64 ",r=" nonce ["," extensions] ",p=" b64.
     * The proof is the last attribute; what precedes ",p=" is
     * client-final-message-without-proof. */
    scram_fields f = {msg, len, 0, false};
    const char *v = NULL;
    size_t vl = 0, off = 0;
    if (scram_next_attr(&f, &v, &vl, &off) != 'c')
        goto bad;
    char *want_c = base64_encode(s->gs2_header, strlen(s->gs2_header));
    bool c_ok = strlen(want_c) == vl && memcmp(want_c, v, vl) == 0;
    free(want_c);
    if (!c_ok)
        goto bad;
    if (scram_next_attr(&f, &v, &vl, &off) != 'r' || vl != strlen(s->nonce) ||
        memcmp(v, s->nonce, vl) != 0)
        goto bad;
    int a;
    while ((a = scram_next_attr(&f, &v, &vl, &off)) != 'p') {
        if (a == 0 || a == -1)
            goto bad; /* malformed extension, or no proof */
    }
    if (!f.done)
        goto bad; /* proof not last */
    size_t without_proof_len = off - 1;

    size_t hl = scram_hash_len(s->hash), proof_len = 0;
    unsigned char *proof = base64_decode(v, vl, &proof_len);
    if (!proof)
        goto bad;
    if (proof_len != hl) {
        free(proof);
        goto bad;
    }

    /* AuthMessage = client-first-message-bare "," server-first-message ","
     *               client-final-message-without-proof */
    sbuf am;
    sbuf_init(&am);
    sbuf_adds(&am, s->client_first_bare);
    sbuf_addc(&am, ',');
    sbuf_adds(&am, s->server_first);
    sbuf_addc(&am, ',');
    sbuf_add(&am, msg, without_proof_len);

    /* ClientKey = proof XOR HMAC(StoredKey, AuthMessage); H(ClientKey) must
     * be StoredKey. */
    uint8_t sig[SCRAM_MAX_HASH], key[SCRAM_MAX_HASH], stored[SCRAM_MAX_HASH];
    bool ok = scram_hmac(s->hash, s->stored_key, hl, am.data, am.len, sig) == 0;
    for (size_t i = 0; i < hl; i++)
        key[i] = proof[i] ^ sig[i];
    ok = scram_digest(s->hash, key, hl, stored) == 0 && ok;
    ok = CRYPTO_memcmp(stored, s->stored_key, hl) == 0 && ok;
    ok = ok && s->known;
    ok = ok && scram_hmac(s->hash, s->server_key, hl, am.data, am.len, sig) == 0;
    char *res = NULL;
    if (ok) {
        char *b64 = base64_encode(sig, hl);
        res = xmalloc(strlen(b64) + 3);
        memcpy(res, "v=", 2);
        strcpy(res + 2, b64);
        free(b64);
    }
    OPENSSL_cleanse(sig, sizeof sig);
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(proof, proof_len);
    free(proof);
    sbuf_free(&am);
    if (!ok)
        goto bad;
    scram_finish(s, ST_FINISHED);
    *server_final = res;
    return 0;
bad:
    scram_finish(s, ST_FAILED);
    return -1;
}
