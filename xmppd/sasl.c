#include "sasl.h"
#include "account.h"
#include "jid.h"
#include "log.h"
#include "ratelimit.h"
#include "scram.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SASL_MAX_FAILURES 5

typedef enum sasl_mech {
    MECH_NONE,
    MECH_SCRAM_SHA1,
    MECH_SCRAM_SHA256,
    MECH_PLAIN,
    MECH_ANON
} sasl_mech;

struct sasl_exchange {
    sasl_mech mech;
    scram_server *scram;
    char *user; /* node, once known */
    bool first_done;
};

static bool sasl_accounts(const conn *c)
{
    return c->vh && (c->vh->auth & VHOST_AUTH_ACCOUNTS);
}

static bool sasl_offers(const conn *c, sasl_mech m)
{
    switch (m) {
    case MECH_SCRAM_SHA1:
    case MECH_SCRAM_SHA256:
        return sasl_accounts(c);
    case MECH_PLAIN:
        return sasl_accounts(c) && c->tls;
    case MECH_ANON:
        return c->vh && (c->vh->auth & VHOST_AUTH_ANONYMOUS);
    default:
        return false;
    }
}

static const struct {
    const char *name;
    sasl_mech mech;
} sasl_mechs[] = {
    {"SCRAM-SHA-256", MECH_SCRAM_SHA256},
    {"SCRAM-SHA-1", MECH_SCRAM_SHA1},
    {"PLAIN", MECH_PLAIN},
    {"ANONYMOUS", MECH_ANON},
};

void sasl_features(conn *c, xml_node *features)
{
    xml_node *m = xml_add_child(features, "mechanisms", XMLNS_SASL);
    for (size_t i = 0; i < sizeof sasl_mechs / sizeof sasl_mechs[0]; i++) {
        if (!sasl_offers(c, sasl_mechs[i].mech))
            continue;
        xml_node *e = xml_add_child(m, "mechanism", NULL);
        xml_add_text(e, sasl_mechs[i].name, strlen(sasl_mechs[i].name));
    }
}

void sasl_free(conn *c)
{
    if (!c->sasl)
        return;
    scram_server_free(c->sasl->scram);
    free(c->sasl->user);
    free(c->sasl);
    c->sasl = NULL;
}

static void sasl_send(conn *c, const char *name, const char *payload, size_t len)
{
    xml_node *n = xml_new(name, XMLNS_SASL);
    if (payload) {
        char *b64 = base64_encode(payload, len);
        xml_add_text(n, len ? b64 : "=", len ? strlen(b64) : 1);
        free(b64);
    }
    conn_send_node(c, n);
    xml_free(n);
}

static int sasl_fail(conn *c, const char *cond, const char *why)
{
    xml_node *f = xml_new("failure", XMLNS_SASL);
    xml_add_child(f, cond, NULL);
    conn_send_node(c, f);
    xml_free(f);
    log_info(c->ctx, "authentication failed: %s", why);
    c->srv->stats.auth_failures++;
    sasl_free(c);
    if (++c->sasl_failures >= SASL_MAX_FAILURES)
        conn_close(c, "not-authorized", "too many failed authentication attempts");
    return 0;
}

static int sasl_succeed(conn *c, const char *user, bool anonymous, const char *extra,
                        size_t extra_len)
{
    sasl_send(c, "success", extra, extra_len);
    c->user = xstrdup(user);
    c->anonymous = anonymous;
    c->srv->stats.logins++;
    sasl_free(c);
    log_info(c->ctx, "authenticated %s@%s", user, c->vh->domain);
    return 1;
}

/* Decodes the element's base64 text ("=" is the empty string). NULL on bad
 * base64. Caller frees. */
static char *sasl_decode(const xml_node *el, size_t *len)
{
    size_t tlen;
    char *t = xml_text(el, &tlen);
    char *out;
    if (tlen == 1 && t[0] == '=') {
        out = xstrdup("");
        *len = 0;
    } else {
        out = (char *)base64_decode(t, tlen, len);
        if (out) {
            out = xrealloc(out, *len + 1);
            out[*len] = '\0';
        }
    }
    free(t);
    return out;
}

/* The authzid given in a mechanism must be empty or this user's bare JID. */
static bool sasl_authzid_ok(conn *c, const char *user, const char *authzid)
{
    if (!authzid || !*authzid)
        return true;
    char *want = NULL;
    if (asprintf(&want, "%s@%s", user, c->vh->domain) < 0)
        fatal("out of memory");
    char *got = jid_normalize(authzid, false);
    bool ok = got && strcmp(got, want) == 0;
    free(want);
    free(got);
    return ok;
}

static int sasl_plain(conn *c, const char *msg, size_t len)
{
    /* authzid NUL authcid NUL passwd */
    const char *authzid = msg;
    const char *p1 = memchr(msg, '\0', len);
    const char *p2 = p1 ? memchr(p1 + 1, '\0', len - (size_t)(p1 + 1 - msg)) : NULL;
    if (!p1 || !p2 || memchr(p2 + 1, '\0', len - (size_t)(p2 + 1 - msg)))
        return sasl_fail(c, "malformed-request", "malformed PLAIN message");
    const char *authcid = p1 + 1, *password = p2 + 1;
    char *prepped = saslprep(authcid);
    char *user = prepped ? jid_prep_node(prepped) : NULL;
    free(prepped);
    if (!user)
        return sasl_fail(c, "not-authorized", "invalid username");
    account_creds cr;
    int found = store_account_get(c->srv->store, c->vh->domain, user, &cr);
    int r;
    if (found == 1 && account_check_password(&cr, password)) {
        if (!sasl_authzid_ok(c, user, authzid))
            r = sasl_fail(c, "invalid-authzid", "authzid is not the user's JID");
        else
            r = sasl_succeed(c, user, false, NULL, 0);
    } else {
        r = sasl_fail(c, found < 0 ? "temporary-auth-failure" : "not-authorized",
                      found == 1 ? "wrong password" : "no such user");
    }
    free(user);
    return r;
}

static int sasl_scram_first(conn *c, const char *msg, size_t len)
{
    char *username = NULL, *authzid = NULL;
    if (scram_server_client_first(c->sasl->scram, msg, len, &username, &authzid) != 0)
        return sasl_fail(c, "malformed-request", "malformed SCRAM client-first message");
    char *user = jid_prep_node(username);
    free(username);
    account_creds cr;
    int found = user ? store_account_get(c->srv->store, c->vh->domain, user, &cr) : 0;
    if (found < 0) {
        free(user);
        free(authzid);
        return sasl_fail(c, "temporary-auth-failure", "database error");
    }
    if (found == 1 && !sasl_authzid_ok(c, user, authzid)) {
        free(user);
        free(authzid);
        return sasl_fail(c, "invalid-authzid", "authzid is not the user's JID");
    }
    free(authzid);
    scram_hash h = c->sasl->mech == MECH_SCRAM_SHA1 ? SCRAM_SHA1 : SCRAM_SHA256;
    if (found != 1) {
        /* unknown user: answer like for a real one (salt derived from a
         * server secret, usual iterations), fail at the proof */
        memset(&cr, 0, sizeof cr);
        memcpy(cr.salt, c->srv->scram_secret, sizeof c->srv->scram_secret);
        cr.salt_len = sizeof c->srv->scram_secret;
        cr.iterations = SCRAM_DEFAULT_ITERATIONS;
    }
    char *first = scram_server_first(c->sasl->scram, found == 1, cr.salt, cr.salt_len,
                                     cr.iterations, cr.stored_key[h], cr.server_key[h]);
    if (!first) {
        free(user);
        return sasl_fail(c, "temporary-auth-failure", "SCRAM state error");
    }
    c->sasl->user = user;
    c->sasl->first_done = true;
    sasl_send(c, "challenge", first, strlen(first));
    free(first);
    return 0;
}

static int sasl_scram_final(conn *c, const char *msg, size_t len)
{
    char *server_final = NULL;
    if (scram_server_client_final(c->sasl->scram, msg, len, &server_final) != 0 || !c->sasl->user)
        return sasl_fail(c, "not-authorized", "SCRAM proof rejected");
    char *user = xstrdup(c->sasl->user);
    int r = sasl_succeed(c, user, false, server_final, strlen(server_final));
    free(user);
    free(server_final);
    return r;
}

static int sasl_auth(conn *c, const xml_node *el)
{
    if (c->sasl)
        return sasl_fail(c, "aborted", "new <auth/> during an exchange");
    if (c->srv->set.require_encryption && !c->tls) {
        xml_node *f = xml_new("failure", XMLNS_SASL);
        xml_add_child(f, "encryption-required", NULL);
        conn_send_node(c, f);
        xml_free(f);
        return 0;
    }
    if (!ratelimit_login(c->srv, c->ip)) {
        log_warn(c->ctx, "login rate limit for %s", c->ip);
        conn_close(c, "policy-violation", "too many logins from your address; wait a minute");
        return 0;
    }
    const char *name = xml_attr_get(el, "mechanism");
    sasl_mech mech = MECH_NONE;
    for (size_t i = 0; name && i < sizeof sasl_mechs / sizeof sasl_mechs[0]; i++)
        if (strcmp(name, sasl_mechs[i].name) == 0)
            mech = sasl_mechs[i].mech;
    if (mech == MECH_NONE || !sasl_offers(c, mech))
        return sasl_fail(c, "invalid-mechanism", "mechanism not offered");
    c->sasl = xcalloc(1, sizeof *c->sasl);
    c->sasl->mech = mech;
    if (mech == MECH_ANON) {
        char node[17];
        random_id(node, 16);
        return sasl_succeed(c, node, true, NULL, 0);
    }
    if (mech == MECH_SCRAM_SHA1 || mech == MECH_SCRAM_SHA256)
        c->sasl->scram =
            scram_server_new(mech == MECH_SCRAM_SHA1 ? SCRAM_SHA1 : SCRAM_SHA256, NULL);
    if (xml_element_count(el) == 0 && el->nchildren == 0) {
        sasl_send(c, "challenge", "", 0); /* no initial response: ask for it */
        return 0;
    }
    size_t len;
    char *msg = sasl_decode(el, &len);
    if (!msg)
        return sasl_fail(c, "incorrect-encoding", "bad base64");
    int r = mech == MECH_PLAIN ? sasl_plain(c, msg, len) : sasl_scram_first(c, msg, len);
    free(msg);
    return r;
}

static int sasl_response(conn *c, const xml_node *el)
{
    if (!c->sasl)
        return sasl_fail(c, "malformed-request", "<response/> without <auth/>");
    size_t len;
    char *msg = sasl_decode(el, &len);
    if (!msg)
        return sasl_fail(c, "incorrect-encoding", "bad base64");
    int r;
    if (c->sasl->mech == MECH_PLAIN)
        r = sasl_plain(c, msg, len);
    else if (!c->sasl->first_done)
        r = sasl_scram_first(c, msg, len);
    else
        r = sasl_scram_final(c, msg, len);
    free(msg);
    return r;
}

int sasl_handle(conn *c, const xml_node *el)
{
    if (strcmp(el->name, "auth") == 0)
        return sasl_auth(c, el);
    if (strcmp(el->name, "response") == 0)
        return sasl_response(c, el);
    if (strcmp(el->name, "abort") == 0)
        return sasl_fail(c, "aborted", "client aborted");
    return sasl_fail(c, "malformed-request", "unknown SASL element");
}
