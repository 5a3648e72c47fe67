/* jid: RFC 6122 parsing and normalization on top of libidn's stringprep.
 *
 * Every entry point bounds its input (JID_MAX_INPUT bytes) and checks that it
 * is valid UTF-8 before libidn sees it. Preparation goes through libidn's
 * stringprep() with an output bound of JID_MAX_PART bytes, so an oversized
 * part is rejected by libidn itself (STRINGPREP_TOO_SMALL_BUFFER). */
#include "jid.h"
#include "util.h"

#include <arpa/inet.h>
#include <idn-free.h>
#include <idna.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stringprep.h>

#define JID_MAX_PART 1023                            /* bytes, after preparation */
#define JID_MAX_INPUT (3 * JID_MAX_PART + 2)         /* node@domain/resource */
#define JID_MAX_LABEL 63                             /* DNS label, in ACE form */
#define SASLPREP_MAX_INPUT 4096                      /* bytes */
#define SASLPREP_MAX_OUTPUT (2 * SASLPREP_MAX_INPUT) /* bytes, after preparation */

/* Runs one stringprep profile over s[0..len) (valid UTF-8, no NUL). Returns
 * the malloc'd result, or NULL if the profile rejects the string or the
 * result would be longer than max_out bytes. */
static char *jid_stringprep(const char *s, size_t len, size_t max_out,
                            const Stringprep_profile *profile)
{
    size_t cap = len + 1 > max_out + 1 ? len + 1 : max_out + 1;
    char *buf = xmalloc(cap);
    memcpy(buf, s, len);
    buf[len] = '\0';
    /* stringprep() reads strlen(buf) bytes and writes the result back only if
     * it is shorter than its maxlen argument. */
    if (stringprep(buf, max_out + 1, 0, profile) != STRINGPREP_OK) {
        free(buf);
        return NULL;
    }
    return buf;
}

static char *jid_prep_node_n(const char *s, size_t len)
{
    if (len == 0 || len > JID_MAX_INPUT || !utf8_valid(s, len))
        return NULL;
    char *out = jid_stringprep(s, len, JID_MAX_PART, stringprep_xmpp_nodeprep);
    /* Nodeprep prohibits these already; checked again because a node holding
     * one of them would change how the JID splits. */
    if (out && (out[0] == '\0' || strpbrk(out, " \"&'/:<>@"))) {
        free(out);
        return NULL;
    }
    return out;
}

static char *jid_prep_resource_n(const char *s, size_t len)
{
    if (len == 0 || len > JID_MAX_INPUT || !utf8_valid(s, len))
        return NULL;
    char *out = jid_stringprep(s, len, JID_MAX_PART, stringprep_xmpp_resourceprep);
    if (out && out[0] == '\0') {
        free(out);
        return NULL;
    }
    return out;
}

/* Length of the label separator (U+002E, U+3002, U+FF0E, U+FF61) ending
 * s[0..len), or 0. */
static size_t jid_trailing_dot(const char *s, size_t len)
{
    if (len >= 1 && s[len - 1] == '.')
        return 1;
    if (len >= 3) {
        const char *t = s + len - 3;
        if (memcmp(t, "\xE3\x80\x82", 3) == 0 || memcmp(t, "\xEF\xBC\x8E", 3) == 0 ||
            memcmp(t, "\xEF\xBD\xA1", 3) == 0)
            return 3;
    }
    return 0;
}

/* Checks one nameprep'd label: non-empty, and a valid IDNA2003 label with
 * the STD3 ASCII rules (letters, digits, hyphen; no hyphen at either end; at
 * most 63 bytes once in ACE form). */
static bool jid_label_valid(const char *label, size_t len)
{
    if (len == 0)
        return false;
    bool ascii = true;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)label[i];
        if (c >= 0x80) {
            ascii = false;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-'))
            return false;
    }
    if (label[0] == '-' || label[len - 1] == '-')
        return false;
    if (ascii)
        return len <= JID_MAX_LABEL;
    /* Non-ASCII: let ToASCII check the ACE length and the "xn--" prefix. */
    char *tmp = xstrndup(label, len);
    char *ace = NULL;
    int rc = idna_to_ascii_8z(tmp, &ace, IDNA_ALLOW_UNASSIGNED | IDNA_USE_STD3_ASCII_RULES);
    free(tmp);
    if (ace)
        idn_free(ace);
    return rc == IDNA_SUCCESS;
}

static char *jid_prep_domain_n(const char *s, size_t len)
{
    if (len == 0 || len > JID_MAX_INPUT || !utf8_valid(s, len))
        return NULL;
    len -= jid_trailing_dot(s, len);
    if (len == 0)
        return NULL;

    if (s[0] == '[') { /* IPv6 literal: returned in canonical form */
        char addr[INET6_ADDRSTRLEN];
        unsigned char bin[16];
        if (len < 3 || s[len - 1] != ']' || len - 2 >= sizeof addr)
            return NULL;
        memcpy(addr, s + 1, len - 2);
        addr[len - 2] = '\0';
        if (inet_pton(AF_INET6, addr, bin) != 1 || !inet_ntop(AF_INET6, bin, addr, sizeof addr))
            return NULL;
        size_t n = strlen(addr);
        char *out = xmalloc(n + 3);
        out[0] = '[';
        memcpy(out + 1, addr, n);
        out[n + 1] = ']';
        out[n + 2] = '\0';
        return out;
    }

    char *out = jid_stringprep(s, len, JID_MAX_PART, stringprep_nameprep);
    if (!out)
        return NULL;
    /* Nameprep keeps U+3002 (NFKC turns U+FF0E and U+FF61 into '.' and
     * U+3002): map it to '.' so labels split the same on every pass. */
    size_t w = 0;
    for (size_t r = 0; out[r];) {
        if (out[r] == '\xE3' && out[r + 1] == '\x80' && out[r + 2] == '\x82') {
            out[w++] = '.';
            r += 3;
        } else {
            out[w++] = out[r++];
        }
    }
    out[w] = '\0';

    unsigned char v4[4];
    if (inet_pton(AF_INET, out, v4) == 1) {
        char addr[INET_ADDRSTRLEN];
        if (!inet_ntop(AF_INET, v4, addr, sizeof addr)) {
            free(out);
            return NULL;
        }
        free(out);
        return xstrdup(addr);
    }

    for (const char *p = out;;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (!jid_label_valid(p, n)) {
            free(out);
            return NULL;
        }
        if (!dot)
            break;
        p = dot + 1;
    }
    return out;
}

char *jid_prep_node(const char *s)
{
    return s ? jid_prep_node_n(s, strnlen(s, JID_MAX_INPUT + 1)) : NULL;
}

char *jid_prep_domain(const char *s)
{
    return s ? jid_prep_domain_n(s, strnlen(s, JID_MAX_INPUT + 1)) : NULL;
}

char *jid_prep_resource(const char *s)
{
    return s ? jid_prep_resource_n(s, strnlen(s, JID_MAX_INPUT + 1)) : NULL;
}

int jid_parse(const char *s, jid *out)
{
    memset(out, 0, sizeof *out);
    if (!s)
        return -1;
    size_t len = strnlen(s, JID_MAX_INPUT + 1);
    if (len == 0 || len > JID_MAX_INPUT || !utf8_valid(s, len))
        return -1;

    /* Resource: after the first '/'. Node: before the first '@' that comes
     * before that '/'. */
    const char *slash = memchr(s, '/', len);
    size_t head_len = slash ? (size_t)(slash - s) : len;
    const char *at = memchr(s, '@', head_len);
    const char *dom = at ? at + 1 : s;
    size_t dom_len = head_len - (size_t)(dom - s);

    jid j = {NULL, NULL, NULL};
    if (at && !(j.node = jid_prep_node_n(s, (size_t)(at - s))))
        goto fail;
    if (!(j.domain = jid_prep_domain_n(dom, dom_len)))
        goto fail;
    if (slash && !(j.resource = jid_prep_resource_n(slash + 1, len - head_len - 1)))
        goto fail;
    *out = j;
    return 0;
fail:
    jid_clear(&j);
    return -1;
}

void jid_clear(jid *j)
{
    if (!j)
        return;
    free(j->node);
    free(j->domain);
    free(j->resource);
    j->node = j->domain = j->resource = NULL;
}

void jid_copy(jid *out, const jid *in)
{
    out->node = in->node ? xstrdup(in->node) : NULL;
    out->domain = in->domain ? xstrdup(in->domain) : NULL;
    out->resource = in->resource ? xstrdup(in->resource) : NULL;
}

/* Formats node@domain[/resource]; NULL if j has no domain. */
static char *jid_format(const jid *j, bool with_resource)
{
    if (!j || !j->domain)
        return NULL;
    size_t nl = j->node ? strlen(j->node) : 0;
    size_t dl = strlen(j->domain);
    size_t rl = with_resource && j->resource ? strlen(j->resource) : 0;
    char *out = xmalloc(nl + dl + rl + 3);
    char *p = out;
    if (j->node) {
        memcpy(p, j->node, nl);
        p += nl;
        *p++ = '@';
    }
    memcpy(p, j->domain, dl);
    p += dl;
    if (with_resource && j->resource) {
        *p++ = '/';
        memcpy(p, j->resource, rl);
        p += rl;
    }
    *p = '\0';
    return out;
}

char *jid_full(const jid *j)
{
    return jid_format(j, true);
}

char *jid_bare(const jid *j)
{
    return jid_format(j, false);
}

char *jid_normalize(const char *s, bool bare)
{
    jid j;
    if (jid_parse(s, &j) != 0)
        return NULL;
    char *out = jid_format(&j, !bare);
    jid_clear(&j);
    return out;
}

char *saslprep(const char *s)
{
    if (!s)
        return NULL;
    size_t len = strnlen(s, SASLPREP_MAX_INPUT + 1);
    if (len > SASLPREP_MAX_INPUT || !utf8_valid(s, len))
        return NULL;
    return jid_stringprep(s, len, SASLPREP_MAX_OUTPUT, stringprep_saslprep);
}
