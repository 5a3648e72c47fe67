/* Unit tests for common/jid.c: parsing, normalization and SASLprep. */
#include "jid.h"
#include "test.h"

#include <stdbool.h>

typedef struct valid_case {
    const char *in;
    const char *full;
    const char *bare;
} valid_case;

static const valid_case valid_cases[] = {
    /* plain forms */
    {"example.com", "example.com", "example.com"},
    {"localhost", "localhost", "localhost"},
    {"user@example.com", "user@example.com", "user@example.com"},
    {"user@example.com/res", "user@example.com/res", "user@example.com"},
    {"example.com/res", "example.com/res", "example.com"},
    /* case folding of node and domain; resource case preserved */
    {"User@Example.COM/Res", "user@example.com/Res", "user@example.com"},
    {"EXAMPLE.COM", "example.com", "example.com"},
    {"JULIET@CAPULET.LIT/Balcony", "juliet@capulet.lit/Balcony", "juliet@capulet.lit"},
    /* splitting: first '/' starts the resource; '@' and '/' allowed in it */
    {"a@b/c/d@e", "a@b/c/d@e", "a@b"},
    {"a/b@c", "a/b@c", "a"},
    {"d/r/", "d/r/", "d"},
    {"d//", "d//", "d"},
    {"u@d/ with space ", "u@d/ with space ", "u@d"},
    /* trailing dot (ASCII and the IDNA label separators) */
    {"example.com.", "example.com", "example.com"},
    {"user@example.com./r", "user@example.com/r", "user@example.com"},
    {"example.com\xE3\x80\x82", "example.com", "example.com"},
    {"example.com\xEF\xBC\x8E", "example.com", "example.com"},
    {"u@example\xE3\x80\x82"
     "com",
     "u@example.com", "u@example.com"},
    /* unicode */
    {"\xC3\x84rger@B\xC3\xBC"
     "cher.EXAMPLE",
     "\xC3\xA4rger@b\xC3\xBC"
     "cher.example",
     "\xC3\xA4rger@b\xC3\xBC"
     "cher.example"},
    {"\xCE\xA3@example", "\xCF\x83@example", "\xCF\x83@example"}, /* Sigma -> sigma */
    {"\xC3\x9F@example.com", "ss@example.com", "ss@example.com"}, /* sharp s */
    {"us\xC2\xAD"
     "er@example.com",
     "user@example.com", "user@example.com"}, /* soft hyphen mapped out */
    {"\xEF\xBD\x85\xEF\xBD\x98\xEF\xBD\x81\xEF\xBD\x8D\xEF\xBD\x90\xEF\xBD\x8C\xEF\xBD\x85.com",
     "example.com", "example.com"},                  /* fullwidth */
    {"u@d/\xCE\xA9mega", "u@d/\xCE\xA9mega", "u@d"}, /* resource: no case folding */
    {"u@d/\xEF\xBC\xA6\xEF\xBC\xB5\xEF\xBC\xAC\xEF\xBC\xAC", "u@d/FULL", "u@d"}, /* NFKC */
    {"\xE2\x85\xA8@\xE2\x85\xA8/\xE2\x85\xA8", "ix@ix/IX", "ix@ix"}, /* roman numeral nine */
    {"xn--bcher-kva.example", "xn--bcher-kva.example", "xn--bcher-kva.example"},
    {"\xE6\x97\xA5\xE6\x9C\xAC@\xE4\xBE\x8B\xE3\x81\x88.jp/\xE3\x83\x86",
     "\xE6\x97\xA5\xE6\x9C\xAC@\xE4\xBE\x8B\xE3\x81\x88.jp/\xE3\x83\x86",
     "\xE6\x97\xA5\xE6\x9C\xAC@\xE4\xBE\x8B\xE3\x81\x88.jp"},
    /* IP literals */
    {"1.2.3.4", "1.2.3.4", "1.2.3.4"},
    {"u@192.168.0.1/r", "u@192.168.0.1/r", "u@192.168.0.1"},
    {"\xEF\xBC\x91.\xEF\xBC\x92.\xEF\xBC\x93.\xEF\xBC\x94", "1.2.3.4", "1.2.3.4"},
    {"[::1]", "[::1]", "[::1]"},
    {"u@[::1]/r", "u@[::1]/r", "u@[::1]"},
    {"[2001:DB8:0:0:0:0:0:1]", "[2001:db8::1]", "[2001:db8::1]"},
    {"[::ffff:1.2.3.4]", "[::ffff:1.2.3.4]", "[::ffff:1.2.3.4]"},
    /* labels */
    {"a-b.c-d.example", "a-b.c-d.example", "a-b.c-d.example"},
    {"123.example", "123.example", "123.example"},
};

static const char *const invalid_cases[] = {
    /* empty parts */
    "",
    "/",
    "@",
    "@/",
    "@d",
    "n@",
    "d/",
    "n@d/",
    "n@/r",
    "/r",
    "@d/r",
    ".",
    "u@./r",
    /* forbidden node characters */
    "a b@d",
    "a\"b@d",
    "a&b@d",
    "a'b@d",
    "a:b@d",
    "a<b@d",
    "a>b@d",
    "a@b@c", /* second '@' lands in the domain */
    "a\xEF\xBC\xA0"
    "b@d", /* fullwidth '@' becomes '@' under NFKC */
    "a\xEF\xBC\x9A"
    "b@d",            /* fullwidth ':' */
    "\xC2\xAD@d",     /* node maps to nothing */
    "a\x07@d",        /* control character */
    "\xD8\xA7\x31@d", /* bidi: RandALCat not at both ends */
    /* domain */
    "exa mple.com",
    "example..com",
    ".example.com",
    "example.com..",
    "-foo.example",
    "foo-.example",
    "foo_bar.example",
    "a\xEF\xBC\x8F"
    "b", /* fullwidth '/' becomes '/' */
    "u@\xC2\xAD",
    "[::1",
    "::1",
    "[foo]",
    "[1.2.3.4]",
    "[::1]x",
    "[]",
    "[::1%eth0]",
    "example.com:5222",
    "u@exa<mple",
    /* resource */
    "u@d/\x07",
    "u@d/\xC2\xAD",
    /* invalid UTF-8 */
    "\xC3@d",
    "u@\xFF",
    "u@d/\xC0\xAF",         /* overlong '/' */
    "\xED\xA0\x80@d",       /* surrogate */
    "u@d/\xF4\x90\x80\x80", /* above U+10FFFF */
    "u@d/\xE2\x82",         /* truncated */
    "u@d/\x80",
};

static void test_valid(void)
{
    for (size_t i = 0; i < sizeof valid_cases / sizeof valid_cases[0]; i++) {
        const valid_case *c = &valid_cases[i];
        jid j;
        if (jid_parse(c->in, &j) != 0) {
            fprintf(stderr, "case %zu: \"%s\" rejected\n", i, c->in);
            exit(1);
        }
        char *full = jid_full(&j), *bare = jid_bare(&j);
        CHECK_STR(full, c->full);
        CHECK_STR(bare, c->bare);
        free(full);
        free(bare);
        jid_clear(&j);
        CHECK(j.node == NULL && j.domain == NULL && j.resource == NULL);

        char *n = jid_normalize(c->in, false), *b = jid_normalize(c->in, true);
        CHECK_STR(n, c->full);
        CHECK_STR(b, c->bare);
        /* normalizing a normalized JID is the identity */
        char *n2 = jid_normalize(n, false);
        CHECK_STR(n2, c->full);
        free(n);
        free(b);
        free(n2);
    }
}

static void test_invalid(void)
{
    for (size_t i = 0; i < sizeof invalid_cases / sizeof invalid_cases[0]; i++) {
        jid j = {(char *)"x", (char *)"y", (char *)"z"};
        int rc = jid_parse(invalid_cases[i], &j);
        if (rc != -1) {
            fprintf(stderr, "case %zu: \"%s\" accepted\n", i, invalid_cases[i]);
            exit(1);
        }
        CHECK(j.node == NULL && j.domain == NULL && j.resource == NULL);
        CHECK(jid_normalize(invalid_cases[i], false) == NULL);
        CHECK(jid_normalize(invalid_cases[i], true) == NULL);
    }
    jid j;
    CHECK_INT(jid_parse(NULL, &j), -1);
    CHECK(jid_normalize(NULL, false) == NULL);
}

static void test_parts(void)
{
    jid j;
    CHECK_INT(jid_parse("Romeo@Montague.LIT/Orchard", &j), 0);
    CHECK_STR(j.node, "romeo");
    CHECK_STR(j.domain, "montague.lit");
    CHECK_STR(j.resource, "Orchard");
    jid c;
    jid_copy(&c, &j);
    CHECK(c.node != j.node && c.domain != j.domain && c.resource != j.resource);
    jid_clear(&j);
    char *full = jid_full(&c);
    CHECK_STR(full, "romeo@montague.lit/Orchard");
    free(full);
    jid_clear(&c);

    CHECK_INT(jid_parse("montague.lit", &j), 0);
    CHECK(j.node == NULL && j.resource == NULL);
    CHECK_STR(j.domain, "montague.lit");
    jid_copy(&c, &j);
    CHECK(c.node == NULL && c.resource == NULL);
    CHECK_STR(c.domain, "montague.lit");
    jid_clear(&c);
    jid_clear(&j);
    jid_clear(&j); /* twice is fine */

    /* a jid without a domain formats to NULL rather than a bogus string */
    jid empty = {NULL, NULL, NULL};
    CHECK(jid_full(&empty) == NULL);
    CHECK(jid_bare(&empty) == NULL);
}

/* Builds a string of n copies of c. */
static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static void test_lengths(void)
{
    char buf[4096];
    char *a1023 = repeat('a', 1023), *a1024 = repeat('a', 1024);

    snprintf(buf, sizeof buf, "%s@d", a1023);
    char *n = jid_normalize(buf, false);
    CHECK_STR(n, buf);
    free(n);
    snprintf(buf, sizeof buf, "%s@d", a1024);
    CHECK(jid_normalize(buf, false) == NULL);

    snprintf(buf, sizeof buf, "d/%s", a1023);
    n = jid_normalize(buf, false);
    CHECK_STR(n, buf);
    free(n);
    snprintf(buf, sizeof buf, "d/%s", a1024);
    CHECK(jid_normalize(buf, false) == NULL);

    /* node + resource at their limits: total 2049 bytes */
    snprintf(buf, sizeof buf, "%s@d/%s", a1023, a1023);
    n = jid_normalize(buf, false);
    CHECK_STR(n, buf);
    free(n);

    /* a part that shrinks under preparation counts after preparation */
    char shrink[3001];
    size_t k = 0;
    for (size_t i = 0; i < 1000; i++) {
        shrink[k++] = 'x';
        shrink[k++] = '\xC2';
        shrink[k++] = '\xAD';
    }
    shrink[k] = '\0';
    snprintf(buf, sizeof buf, "%s@d", shrink);
    n = jid_normalize(buf, true);
    CHECK(n != NULL && strlen(n) == 1002);
    free(n);

    /* expansion beyond the limit: U+FDFA is 3 bytes and 18 code points
     * under NFKC (and bidi-invalid); U+2474 (parenthesized 1) becomes
     * "(1)": 100 of them fit, 400 do not */
    char expand[1400];
    k = 0;
    for (size_t i = 0; i < 400; i++) {
        memcpy(expand + k, "\xE2\x91\xB4", 3);
        k += 3;
    }
    expand[k] = '\0';
    snprintf(buf, sizeof buf, "d/%s", expand);
    CHECK(jid_normalize(buf, false) == NULL);
    expand[300] = '\0';
    snprintf(buf, sizeof buf, "d/%s", expand);
    n = jid_normalize(buf, false);
    CHECK(n != NULL && strlen(n) == 2 + 300);
    free(n);

    /* domain: 63-byte labels allowed, 64 not; 1023 bytes total allowed */
    char *l63 = repeat('b', 63), *l64 = repeat('b', 64);
    n = jid_normalize(l63, false);
    CHECK_STR(n, l63);
    free(n);
    CHECK(jid_normalize(l64, false) == NULL);
    buf[0] = '\0';
    for (int i = 0; i < 16; i++) {
        if (i)
            strcat(buf, ".");
        strcat(buf, l63);
    }
    CHECK_INT(strlen(buf), 1023);
    n = jid_normalize(buf, false);
    CHECK_STR(n, buf);
    free(n);
    strcat(buf, ".c"); /* 1025 */
    CHECK(jid_normalize(buf, false) == NULL);

    /* whole input bounded before any work */
    char *huge = repeat('a', 5000);
    CHECK(jid_normalize(huge, false) == NULL);
    huge[1500] = '@';
    huge[1600] = '/';
    CHECK(jid_normalize(huge, false) == NULL);

    free(a1023);
    free(a1024);
    free(l63);
    free(l64);
    free(huge);
}

static void test_prep_parts(void)
{
    char *p;
    p = jid_prep_node("JuLiEt");
    CHECK_STR(p, "juliet");
    free(p);
    CHECK(jid_prep_node("") == NULL);
    CHECK(jid_prep_node("a@b") == NULL);
    CHECK(jid_prep_node("a/b") == NULL);
    CHECK(jid_prep_node(NULL) == NULL);

    p = jid_prep_domain("Example.COM.");
    CHECK_STR(p, "example.com");
    free(p);
    p = jid_prep_domain("[0::1]");
    CHECK_STR(p, "[::1]");
    free(p);
    CHECK(jid_prep_domain("") == NULL);
    CHECK(jid_prep_domain("a@b") == NULL);
    CHECK(jid_prep_domain("a/b") == NULL);
    CHECK(jid_prep_domain(NULL) == NULL);

    p = jid_prep_resource("Res/With@Stuff");
    CHECK_STR(p, "Res/With@Stuff");
    free(p);
    CHECK(jid_prep_resource("") == NULL);
    CHECK(jid_prep_resource("\xFF") == NULL);
    CHECK(jid_prep_resource(NULL) == NULL);
}

typedef struct sasl_case {
    const char *in;
    const char *out; /* NULL: must fail */
} sasl_case;

static const sasl_case sasl_cases[] = {
    /* RFC 4013 section 3 */
    {"I\xC2\xADX", "IX"},   /* soft hyphen mapped to nothing */
    {"user", "user"},       /* no transformation */
    {"USER", "USER"},       /* case preserved */
    {"\xC2\xAA", "a"},      /* NFKC */
    {"\xE2\x85\xA8", "IX"}, /* NFKC */
    {"\x07", NULL},         /* prohibited character */
    {"\xD8\xA7\x31", NULL}, /* bidirectional check */
    /* more */
    {"a\xC2\xA0"
     "b",
     "a b"}, /* non-ASCII space mapped to space */
    {"pencil", "pencil"},
    {"", ""},
    {"\xC3\x9F", "\xC3\x9F"}, /* no case folding in SASLprep */
    {"\xFF", NULL},
    {"a\x7F", NULL},
    {"\xED\xA0\x80", NULL},
};

static void test_saslprep(void)
{
    for (size_t i = 0; i < sizeof sasl_cases / sizeof sasl_cases[0]; i++) {
        char *out = saslprep(sasl_cases[i].in);
        if (sasl_cases[i].out) {
            CHECK_STR(out, sasl_cases[i].out);
        } else if (out) {
            fprintf(stderr, "case %zu: saslprep accepted, gave \"%s\"\n", i, out);
            exit(1);
        }
        free(out);
    }
    CHECK(saslprep(NULL) == NULL);
    char *huge = repeat('p', 10000);
    CHECK(saslprep(huge) == NULL);
    huge[4096] = '\0';
    char *out = saslprep(huge);
    CHECK_STR(out, huge);
    free(out);
    free(huge);
}

TEST_MAIN(TEST(test_valid), TEST(test_invalid), TEST(test_parts), TEST(test_lengths),
          TEST(test_prep_parts), TEST(test_saslprep))
