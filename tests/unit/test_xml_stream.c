/* Unit tests: xmppd/xml_stream.c. Every input of the stream and error
 * tables is fed whole, split in two at every byte boundary and byte by
 * byte, and must give the same callbacks and the same final result. The
 * callbacks are logged one per line: "open" and the header's attributes,
 * each stanza serialized with parent namespace jabber:client, "close". */
#include "sbuf.h"
#include "test.h"
#include "util.h"
#include "xmppd/xml_stream.h"

#define HDR                                                                                        \
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "                                   \
    "xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>"
#define OPEN "open xmlns=jabber:client to=example.com version=1.0"
#define TLS "urn:ietf:params:xml:ns:xmpp-tls"
#define SASL "urn:ietf:params:xml:ns:xmpp-sasl"

typedef struct rec {
    sbuf log;
    xml_stream *xs;
    const char *restart_on; /* stanza name: xml_stream_restart in the callback */
    const char *halt_on;    /* stanza name: xml_stream_halt in the callback */
    int restart_opens;      /* restart inside this many open() calls */
} rec;

static void rec_line(rec *r, const char *s)
{
    if (r->log.len)
        sbuf_addc(&r->log, '\n');
    sbuf_adds(&r->log, s);
}

static void rec_open(void *ud, const xml_node *h)
{
    rec *r = ud;
    CHECK_STR(h->name, "stream");
    CHECK_STR(h->ns, XMLNS_STREAM);
    CHECK(h->parent == NULL);
    sbuf b;
    sbuf_init(&b);
    sbuf_adds(&b, "open");
    for (size_t i = 0; i < h->nattrs; i++) {
        sbuf_printf(&b, " %s=%s", h->attrs[i].name, h->attrs[i].value);
        if (h->attrs[i].attr_ns)
            sbuf_printf(&b, "{%s}", h->attrs[i].attr_ns);
    }
    rec_line(r, b.data);
    sbuf_free(&b);
    if (r->restart_opens > 0) {
        r->restart_opens--;
        xml_stream_restart(r->xs);
    }
}

static void rec_stanza(void *ud, xml_node *st)
{
    rec *r = ud;
    CHECK(st->parent == NULL && st->name != NULL);
    char *s = xml_to_string(st, XMLNS_CLIENT, NULL);
    rec_line(r, s);
    free(s);
    bool restart = r->restart_on && strcmp(st->name, r->restart_on) == 0;
    bool halt = r->halt_on && strcmp(st->name, r->halt_on) == 0;
    xml_free(st);
    if (restart)
        xml_stream_restart(r->xs);
    if (halt)
        xml_stream_halt(r->xs);
}

static void rec_close(void *ud)
{
    rec_line(ud, "close");
}

static const xml_stream_callbacks rec_cbs = {rec_open, rec_stanza, rec_close};
static const xml_stream_limits default_limits = {262144, 64, 64};

/* Feeds in[0..len) in pieces ending at cuts[0..ncuts) and at len; returns
 * the log (caller frees) and the last feed's result in *err. Checks that an
 * error, once returned, is returned by every later feed. */
static char *run(const char *in, size_t len, const xml_stream_limits *lim, const size_t *cuts,
                 size_t ncuts, xml_stream_error *err)
{
    rec r = {0};
    sbuf_init(&r.log);
    r.xs = xml_stream_new(lim, &rec_cbs, &r);
    xml_stream_error first = XS_OK, e = XS_OK;
    size_t at = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : len;
        e = xml_stream_feed(r.xs, in + at, end - at);
        if (first != XS_OK)
            CHECK_INT(e, first);
        first = e;
        at = end;
    }
    xml_stream_free(r.xs);
    *err = e;
    return sbuf_steal(&r.log, NULL);
}

static void expect_run(const char *what, size_t split, const char *log, xml_stream_error err,
                       const char *want_log, xml_stream_error want_err)
{
    if (strcmp(log, want_log) != 0 || err != want_err) {
        fprintf(stderr,
                "%s (split %zu): error %d (%s), expected %d (%s)\nlog:\n%s\nexpected:\n%s\n", what,
                split, err, xml_stream_strerror(err), want_err, xml_stream_strerror(want_err), log,
                want_log);
        exit(1);
    }
}

/* Whole, split in two at every boundary (every step-th one for long
 * inputs), byte by byte: all must give want_log and want_err. */
static void check_all_splits(const char *name, const char *in, size_t len,
                             const xml_stream_limits *lim, const char *want_log,
                             xml_stream_error want_err)
{
    xml_stream_error err;
    char *log = run(in, len, lim, NULL, 0, &err);
    expect_run(name, 0, log, err, want_log, want_err);
    free(log);

    size_t step = len > 3000 ? len / 1500 : 1;
    for (size_t k = 1; k < len; k += step) {
        log = run(in, len, lim, &k, 1, &err);
        expect_run(name, k, log, err, want_log, want_err);
        free(log);
    }

    size_t *cuts = xmalloc(len * sizeof(size_t));
    for (size_t k = 1; k < len; k++)
        cuts[k - 1] = k;
    log = run(in, len, lim, cuts, len ? len - 1 : 0, &err);
    /* byte by byte, an oversized stanza may be refused as a trickle first */
    if (want_err == XS_ERR_TOO_BIG && err == XS_ERR_TRICKLE)
        err = XS_ERR_TOO_BIG;
    expect_run(name, 1, log, err, want_log, want_err);
    free(log);
    free(cuts);
}

typedef struct stream_case {
    const char *name;
    const char *in;
    const char *log;
    xml_stream_error err;
    xml_stream_limits lim; /* all zero: default_limits */
} stream_case;

static void check_cases(const stream_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const stream_case *c = &cases[i];
        const xml_stream_limits *lim = c->lim.max_stanza ? &c->lim : &default_limits;
        check_all_splits(c->name, c->in, strlen(c->in), lim, c->log, c->err);
    }
}

static const stream_case valid_cases[] = {
    {"header only", HDR, OPEN, XS_OK, {0}},
    {"message",
     HDR "<message to='juliet@example.com' type='chat' id='m1'><body>Hi &amp; bye</body></message>",
     OPEN
     "\n<message to='juliet@example.com' type='chat' id='m1'><body>Hi &amp; bye</body></message>",
     XS_OK,
     {0}},
    {"presence and iq",
     HDR "<presence/><iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>",
     OPEN "\n<presence/>\n<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>",
     XS_OK,
     {0}},
    {"prefixed children",
     HDR "<iq type='result' id='1'><q:query xmlns:q='jabber:iq:roster'><q:item jid='a@b'>"
         "<q:group>g</q:group></q:item></q:query></iq>",
     OPEN "\n<iq type='result' id='1'><query xmlns='jabber:iq:roster'><item jid='a@b'>"
          "<group>g</group></item></query></iq>",
     XS_OK,
     {0}},
    {"prefixed stanza",
     HDR "<c:message xmlns:c='jabber:client'><c:body>x</c:body></c:message>",
     OPEN "\n<message><body>x</body></message>",
     XS_OK,
     {0}},
    {"stream prefix inside stream",
     HDR "<stream:features><starttls xmlns='" TLS "'><required/></starttls></stream:features>",
     OPEN "\n<features xmlns='http://etherx.jabber.org/streams'><starttls xmlns='" TLS
          "'><required/></starttls></features>",
     XS_OK,
     {0}},
    {"namespaced attributes",
     HDR "<message xmlns:foo='urn:foo' foo:bar='baz' xml:lang='en'><body "
         "xml:lang='fr'>salut</body></message>",
     OPEN "\n<message xmlns:foo='urn:foo' foo:bar='baz' xml:lang='en'><body "
          "xml:lang='fr'>salut</body></message>",
     XS_OK,
     {0}},
    {"attribute escapes and normalization",
     HDR "<message id=\"a'b&quot;c\" to='x&lt;y&gt;z&amp;' a='l1&#10;l2\tt'/>",
     OPEN "\n<message id='a&apos;b&quot;c' to='x&lt;y&gt;z&amp;' a='l1&#10;l2 t'/>",
     XS_OK,
     {0}},
    {"cdata",
     HDR "<message><body><![CDATA[<b>bold</b> & 'q' ]]]]><![CDATA[>]]></body></message>",
     OPEN "\n<message><body>&lt;b&gt;bold&lt;/b&gt; &amp; &apos;q&apos; ]]&gt;</body></message>",
     XS_OK,
     {0}},
    {"character references",
     HDR "<message><body>&#x48;&#105; &lt;&gt;&quot;&apos;&amp; &#x1F600;&#233;</body></message>",
     OPEN "\n<message><body>Hi &lt;&gt;&quot;&apos;&amp; \xF0\x9F\x98\x80\xC3\xA9</body></message>",
     XS_OK,
     {0}},
    {"utf-8",
     HDR "<message to='j\xC3\xBCliet@example.com'><body>Gr\xC3\xBC\xC3\x9F"
         "e, \xE6\x97\xA5\xE6\x9C\xAC "
         "\xF0\x9F\x98\x80</body><n\xC3\xB6"
         "de xmlns='urn:x'/></message>",
     OPEN "\n<message to='j\xC3\xBCliet@example.com'><body>Gr\xC3\xBC\xC3\x9F"
          "e, \xE6\x97\xA5\xE6\x9C\xAC "
          "\xF0\x9F\x98\x80</body><n\xC3\xB6"
          "de xmlns='urn:x'/></message>",
     XS_OK,
     {0}},
    {"element in the xml namespace",
     HDR "<message><xml:x a='1'><b/><xml:c/></xml:x></message>",
     OPEN "\n<message><xml:x a='1'><b/><xml:c/></xml:x></message>",
     XS_OK,
     {0}},
    {"mixed content",
     HDR "<message><body>a<b/>c<i>d</i>e</body></message>",
     OPEN "\n<message><body>a<b/>c<i>d</i>e</body></message>",
     XS_OK,
     {0}},
    {"line ends",
     HDR "<message><body>a\r\nb\rc&#13;d</body></message>",
     OPEN "\n<message><body>a\nb\nc&#13;d</body></message>",
     XS_OK,
     {0}},
    {"cdata between stanzas",
     HDR "<![CDATA[x]]><presence/> <![CDATA[<proceed/>]]><message/><![CDATA[]]>",
     OPEN "\n<presence/>\n<message/>",
     XS_OK,
     {0}},
    {"keepalives",
     HDR "\n  <presence/>\n \t<presence type='unavailable'/> \r\n ",
     OPEN "\n<presence/>\n<presence type='unavailable'/>",
     XS_OK,
     {0}},
    {"stream close", HDR "<presence/></stream:stream>", OPEN "\n<presence/>\nclose", XS_OK, {0}},
    {"stream close then whitespace", HDR "</stream:stream>\n ", OPEN "\nclose", XS_OK, {0}},
    {"starttls",
     HDR "<starttls xmlns='" TLS "'/>",
     OPEN "\n<starttls xmlns='" TLS "'/>",
     XS_OK,
     {0}},
    {"sasl",
     HDR "<auth xmlns='" SASL "' mechanism='PLAIN'>AGp1bGlldAByMG0zMG0zcjBtMzA=</auth>"
         "<response xmlns='" SASL "'/>",
     OPEN "\n<auth xmlns='" SASL "' mechanism='PLAIN'>AGp1bGlldAByMG0zMG0zcjBtMzA=</auth>\n"
          "<response xmlns='" SASL "'/>",
     XS_OK,
     {0}},
    {"no namespace",
     HDR "<foo xmlns=''><bar/></foo>",
     OPEN "\n<foo xmlns=''><bar/></foo>",
     XS_OK,
     {0}},
    {"header variants",
     "\xEF\xBB\xBF<stream xmlns=\"http://etherx.jabber.org/streams\" xml:lang=\"en\" "
     "version=\"1.0\""
     " from='a' id='x&amp;y'><presence/>",
     "open xmlns=http://etherx.jabber.org/streams xml:lang=en version=1.0 from=a id=x&y\n"
     "<presence xmlns='http://etherx.jabber.org/streams'/>",
     XS_OK,
     {0}},
    {"header with other prefix and declarations",
     "<s:stream xmlns:s='http://etherx.jabber.org/streams' xmlns='jabber:server'"
     " xmlns:db='jabber:server:dialback' db:x='1'><db:result to='a'>k</db:result></s:stream>",
     "open xmlns=jabber:server db:x=1{jabber:server:dialback}\n"
     "<result xmlns='jabber:server:dialback' to='a'>k</result>\nclose",
     XS_OK,
     {0}},
    {"header then close", HDR "</stream:stream>", OPEN "\nclose", XS_OK, {0}},
    {"empty header element",
     "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'/>",
     "open\nclose",
     XS_OK,
     {0}},
    {"depth at the limit",
     HDR "<a><b><c>x</c></b></a>",
     OPEN "\n<a><b><c>x</c></b></a>",
     XS_OK,
     {4096, 3, 8}},
    {"attributes at the limit",
     HDR "<a p='1' q='2' xmlns:x='u' x:r='3'/>",
     OPEN "\n<a p='1' q='2' xmlns:x='u' x:r='3'/>",
     XS_OK,
     {4096, 8, 4}},
};

static void test_streams(void)
{
    check_cases(valid_cases, sizeof valid_cases / sizeof valid_cases[0]);
}

#define LOL1 "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
#define LOL2 "<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">"

static const stream_case error_cases[] = {
    {"mismatched tag", HDR "<message><body>hi</message>", OPEN, XS_ERR_NOT_WELL_FORMED, {0}},
    {"error after a stanza",
     HDR "<presence/><message><</message>",
     OPEN "\n<presence/>",
     XS_ERR_NOT_WELL_FORMED,
     {0}},
    {"doctype", "<?xml version='1.0'?><!DOCTYPE stream:stream>" HDR, "", XS_ERR_RESTRICTED, {0}},
    {"doctype with subset", "<!DOCTYPE x [<!ELEMENT x ANY>]><x/>", "", XS_ERR_RESTRICTED, {0}},
    {"billion laughs",
     "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol \"lol\">" LOL1 LOL2
     "]><stream:stream xmlns:stream='http://etherx.jabber.org/streams'>&lol2;",
     "",
     XS_ERR_RESTRICTED,
     {0}},
    {"entity declaration in stream", HDR "<!ENTITY x 'y'>", OPEN, XS_ERR_NOT_WELL_FORMED, {0}},
    {"undefined entity",
     HDR "<message><body>&lol;</body></message>",
     OPEN,
     XS_ERR_NOT_WELL_FORMED,
     {0}},
    {"processing instruction", HDR "<?php echo 1; ?>", OPEN, XS_ERR_RESTRICTED, {0}},
    {"processing instruction in stanza",
     HDR "<message><?pi x?></message>",
     OPEN,
     XS_ERR_RESTRICTED,
     {0}},
    {"processing instruction before header", "<?foo bar?>" HDR, "", XS_ERR_RESTRICTED, {0}},
    {"xml declaration after header",
     HDR "<?xml version='1.0'?>",
     OPEN,
     XS_ERR_NOT_WELL_FORMED,
     {0}},
    {"comment", HDR "<!-- hi -->", OPEN, XS_ERR_RESTRICTED, {0}},
    {"comment in stanza",
     HDR "<message><body>a<!---->b</body></message>",
     OPEN,
     XS_ERR_RESTRICTED,
     {0}},
    {"comment before header", "<!-- hi -->" HDR, "", XS_ERR_RESTRICTED, {0}},
    {"not a stream", "<foo/>", "", XS_ERR_BAD_NAMESPACE, {0}},
    {"stream in the wrong namespace",
     "<stream:stream xmlns:stream='jabber:client' xmlns='jabber:client'>",
     "",
     XS_ERR_BAD_NAMESPACE,
     {0}},
    {"stream without namespace", "<stream xmlns='jabber:client'>", "", XS_ERR_BAD_NAMESPACE, {0}},
    {"features as header",
     "<stream:features xmlns:stream='http://etherx.jabber.org/streams'/>",
     "",
     XS_ERR_BAD_NAMESPACE,
     {0}},
    {"garbage before header", "GET / HTTP/1.1\r\n\r\n" HDR, "", XS_ERR_NOT_WELL_FORMED, {0}},
    {"tls record before header",
     "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
     "",
     XS_ERR_NOT_WELL_FORMED,
     {0}},
    {"utf-16 byte order mark", "\xFF\xFE<", "", XS_ERR_NOT_WELL_FORMED, {0}},
    {"latin-1 declared",
     "<?xml version='1.0' encoding='ISO-8859-1'?><stream:stream xmlns:stream="
     "'http://etherx.jabber.org/streams'><a>caf\xE9</a>",
     "open",
     XS_ERR_NOT_WELL_FORMED,
     {0}},
    {"invalid utf-8",
     HDR "<message><body>\xC3\x28</body></message>",
     OPEN,
     XS_ERR_NOT_WELL_FORMED,
     {0}},
    {"overlong utf-8",
     HDR "<message><body>\xC0\xBC</body></message>",
     OPEN,
     XS_ERR_NOT_WELL_FORMED,
     {0}},
    {"surrogate in utf-8",
     HDR "<message><body>\xED\xA0\x80</body></message>",
     OPEN,
     XS_ERR_NOT_WELL_FORMED,
     {0}},
    {"control character",
     HDR "<message><body>\x01</body></message>",
     OPEN,
     XS_ERR_NOT_WELL_FORMED,
     {0}},
    {"bad character reference",
     HDR "<message><body>&#0;</body></message>",
     OPEN,
     XS_ERR_NOT_WELL_FORMED,
     {0}},
    {"surrogate character reference",
     HDR "<message a='&#xD800;'/>",
     OPEN,
     XS_ERR_NOT_WELL_FORMED,
     {0}},
    {"unbound prefix", HDR "<foo:bar/>", OPEN, XS_ERR_NOT_WELL_FORMED, {0}},
    {"duplicate attribute", HDR "<message a='1' a='2'/>", OPEN, XS_ERR_NOT_WELL_FORMED, {0}},
    {"duplicate namespaced attribute",
     HDR "<message xmlns:p='u' xmlns:q='u' p:a='1' q:a='2'/>",
     OPEN,
     XS_ERR_NOT_WELL_FORMED,
     {0}},
    {"lt in attribute", HDR "<message a='<'/>", OPEN, XS_ERR_NOT_WELL_FORMED, {0}},
    {"data after stream close",
     HDR "</stream:stream><presence/>",
     OPEN "\nclose",
     XS_ERR_NOT_WELL_FORMED,
     {0}},
    {"second header after close",
     HDR "</stream:stream>" HDR,
     OPEN "\nclose",
     XS_ERR_NOT_WELL_FORMED,
     {0}},
    {"too deep", HDR "<a><b><c><d/></c></b></a>", OPEN, XS_ERR_TOO_DEEP, {4096, 3, 8}},
    {"too many attributes",
     HDR "<a p='1' q='2' r='3' s='4' t='5'/>",
     OPEN,
     XS_ERR_TOO_MANY_ATTRS,
     {4096, 8, 4}},
    {"too many declarations",
     HDR "<a xmlns:a='1' xmlns:b='2' xmlns:c='3' p='1' q='2'/>",
     OPEN,
     XS_ERR_TOO_MANY_ATTRS,
     {4096, 8, 4}},
    {"header with too many attributes",
     "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' a='1' b='2' c='3' d='4'>",
     "",
     XS_ERR_TOO_MANY_ATTRS,
     {4096, 8, 4}},
};

static void test_errors(void)
{
    check_cases(error_cases, sizeof error_cases / sizeof error_cases[0]);
    static const char nul[] = HDR "<message>\0</message>";
    check_all_splits("nul byte", nul, sizeof nul - 1, &default_limits, OPEN,
                     XS_ERR_NOT_WELL_FORMED);
    /* expat would switch to UTF-16 on these, despite being told UTF-8 */
    static const char u16le[] = "<\0s\0t\0r\0e\0a\0m\0:\0s\0";
    check_all_splits("utf-16le", u16le, sizeof u16le - 1, &default_limits, "",
                     XS_ERR_NOT_WELL_FORMED);
    static const char u16be[] = "\0<\0s\0t\0r\0e\0a\0m\0:\0s";
    check_all_splits("utf-16be", u16be, sizeof u16be - 1, &default_limits, "",
                     XS_ERR_NOT_WELL_FORMED);
    static const char u16bom[] = "\xFE\xFF\0<\0s";
    check_all_splits("utf-16be bom", u16bom, sizeof u16bom - 1, &default_limits, "",
                     XS_ERR_NOT_WELL_FORMED);
}

/* Inputs built at run time (big or repetitive ones). */
static void add_repeat(sbuf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sbuf_adds(b, s);
}

static void check_built(const char *name, const sbuf *in, const xml_stream_limits *lim,
                        const char *want_log, xml_stream_error want_err)
{
    check_all_splits(name, in->data, in->len, lim, want_log, want_err);
}

static void test_too_big(void)
{
    const xml_stream_limits small = {4096, 64, 64};
    sbuf in;
    sbuf_init(&in);

    sbuf_adds(&in, HDR "<message><body>");
    add_repeat(&in, "a", 5000);
    sbuf_adds(&in, "</body></message>");
    check_built("huge text", &in, &small, OPEN, XS_ERR_TOO_BIG);

    sbuf_reset(&in);
    sbuf_adds(&in, HDR "<message to='");
    add_repeat(&in, "a", 5000);
    sbuf_adds(&in, "'/>");
    check_built("huge attribute value", &in, &small, OPEN, XS_ERR_TOO_BIG);

    sbuf_reset(&in);
    sbuf_adds(&in, HDR "<message");
    add_repeat(&in, " ", 5000);
    check_built("huge start tag, unterminated", &in, &small, OPEN, XS_ERR_TOO_BIG);

    sbuf_reset(&in);
    sbuf_adds(&in, "<stream:stream xmlns='jabber:client' xmlns:stream="
                   "'http://etherx.jabber.org/streams' to='");
    add_repeat(&in, "x", 5000);
    sbuf_adds(&in, "' version='1.0'>");
    check_built("huge stream header", &in, &small, "", XS_ERR_TOO_BIG);

    sbuf_reset(&in);
    add_repeat(&in, " ", 5000);
    sbuf_adds(&in, HDR);
    check_built("huge space before the header", &in, &small, "", XS_ERR_TOO_BIG);

    /* text never ends; expat must not buffer more than the limit */
    const xml_stream_limits medium = {65536, 64, 64};
    sbuf_reset(&in);
    sbuf_adds(&in, HDR "<message><body>");
    add_repeat(&in, "0123456789abcdef", 300000 / 16);
    check_built("endless text", &in, &medium, OPEN, XS_ERR_TOO_BIG);

    sbuf_free(&in);
}

/* Keepalive whitespace between stanzas does not add up. */
static void test_keepalives_do_not_count(void)
{
    const xml_stream_limits small = {1024, 64, 64};
    sbuf in;
    sbuf_init(&in);
    sbuf_adds(&in, HDR);
    for (int i = 0; i < 20; i++)
        add_repeat(&in, " ", 500), sbuf_adds(&in, "<presence/>");
    add_repeat(&in, "\n", 5000);
    sbuf want;
    sbuf_init(&want);
    sbuf_adds(&want, OPEN);
    add_repeat(&want, "\n<presence/>", 20);
    check_built("keepalives", &in, &small, want.data, XS_OK);
    sbuf_free(&in);
    sbuf_free(&want);
}

/* A stanza, a stream header and a start tag exactly at max_stanza pass;
 * one byte more is TOO_BIG. */
static void test_limit_is_exact(void)
{
    sbuf st, in, want;
    sbuf_init(&st);
    sbuf_init(&in);
    sbuf_init(&want);
    static const char *const fills[] = {"<message><body>%s</body></message>", "<message to='%s'/>",
                                        "<message to='%s'>x</message>"};
    for (size_t f = 0; f < sizeof fills / sizeof fills[0]; f++) {
        char *x = xmalloc(701);
        memset(x, 'x', 700);
        x[700] = '\0';
        sbuf_reset(&st);
        sbuf_printf(&st, fills[f], x);
        free(x);
        size_t L = st.len;
        CHECK(L > strlen(HDR));
        sbuf_reset(&in);
        sbuf_adds(&in, HDR " ");
        sbuf_add(&in, st.data, st.len);
        sbuf_adds(&in, "\n");
        sbuf_add(&in, st.data, st.len);
        sbuf_reset(&want);
        sbuf_adds(&want, OPEN "\n");
        sbuf_add(&want, st.data, st.len);
        sbuf_adds(&want, "\n");
        sbuf_add(&want, st.data, st.len);
        xml_stream_limits lim = {L, 64, 64};
        check_built("stanza at the limit", &in, &lim, want.data, XS_OK);
        lim.max_stanza = L - 1;
        check_built("stanza over the limit", &in, &lim, OPEN, XS_ERR_TOO_BIG);
    }

    sbuf_reset(&in);
    sbuf_adds(&in, HDR "<presence/>");
    xml_stream_limits lim = {strlen(HDR), 64, 64};
    check_built("header at the limit", &in, &lim, OPEN "\n<presence/>", XS_OK);
    lim.max_stanza--;
    check_built("header over the limit", &in, &lim, "", XS_ERR_TOO_BIG);

    sbuf_free(&st);
    sbuf_free(&in);
    sbuf_free(&want);
}

static void test_deep_nesting(void)
{
    sbuf in, want;
    sbuf_init(&in);
    sbuf_init(&want);
    sbuf_adds(&in, HDR);
    add_repeat(&in, "<a>", 10000);
    check_built("10000 nested elements", &in, &default_limits, OPEN, XS_ERR_TOO_DEEP);

    /* exactly max_depth levels are fine */
    sbuf_reset(&in);
    sbuf_adds(&in, HDR);
    add_repeat(&in, "<a>", 63);
    sbuf_adds(&in, "<a/>");
    add_repeat(&in, "</a>", 63);
    sbuf_adds(&want, OPEN "\n");
    add_repeat(&want, "<a>", 63);
    sbuf_adds(&want, "<a/>");
    add_repeat(&want, "</a>", 63);
    check_built("64 nested elements", &in, &default_limits, want.data, XS_OK);
    sbuf_free(&in);
    sbuf_free(&want);
}

static void test_many_attributes(void)
{
    sbuf in, want;
    sbuf_init(&in);
    sbuf_init(&want);
    for (int n = 64; n <= 65; n++) {
        sbuf_reset(&in);
        sbuf_reset(&want);
        sbuf_adds(&in, HDR "<message");
        sbuf_adds(&want, OPEN "\n<message");
        for (int i = 0; i < n; i++) {
            sbuf_printf(&in, " a%d='%d'", i, i);
            sbuf_printf(&want, " a%d='%d'", i, i);
        }
        sbuf_adds(&in, "/>");
        sbuf_adds(&want, "/>");
        if (n == 64)
            check_built("64 attributes", &in, &default_limits, want.data, XS_OK);
        else
            check_built("65 attributes", &in, &default_limits, OPEN, XS_ERR_TOO_MANY_ATTRS);
    }
    sbuf_reset(&in);
    sbuf_adds(&in, HDR "<message");
    for (int i = 0; i < 100; i++)
        sbuf_printf(&in, " xmlns:p%d='urn:%d'", i, i);
    sbuf_adds(&in, "/>");
    check_built("100 declarations", &in, &default_limits, OPEN, XS_ERR_TOO_MANY_ATTRS);
    sbuf_free(&in);
    sbuf_free(&want);
}

/* Scripted runs: feeds given one by one (no splitting), with restart and
 * halt from callbacks or between feeds. */
#define RESTART_NOW "\x01restart"
#define HALT_NOW "\x01halt"

typedef struct script_case {
    const char *name;
    const char *feeds[6];
    const char *restart_on, *halt_on;
    int restart_opens;
    const char *log;
    xml_stream_error err; /* of the last feed */
} script_case;

static const script_case scripts[] = {
    {"restart after proceed",
     {HDR "<starttls xmlns='" TLS "'/>", "<proceed xmlns='" TLS "'/>\x16\x03\x01 tls <<< &bytes;",
      HDR "<presence/>"},
     "proceed",
     NULL,
     0,
     OPEN "\n<starttls xmlns='" TLS "'/>\n<proceed xmlns='" TLS "'/>\n" OPEN "\n<presence/>",
     XS_OK},
    {"restart discards the rest of the feed",
     {HDR "<success xmlns='" SASL "'/><presence/><message/>", HDR "<iq/>"},
     "success",
     NULL,
     0,
     OPEN "\n<success xmlns='" SASL "'/>\n" OPEN "\n<iq/>",
     XS_OK},
    {"restart needs a new header",
     {HDR "<success xmlns='" SASL "'/>", "<presence/>"},
     "success",
     NULL,
     0,
     OPEN "\n<success xmlns='" SASL "'/>",
     XS_ERR_BAD_NAMESPACE},
    {"restart with xml declaration and other prefix",
     {HDR "<success/>", "<?xml version='1.0'?><s:stream xmlns:s='http://etherx.jabber.org/streams' "
                        "xmlns='jabber:client'><presence/></s:stream>"},
     "success",
     NULL,
     0,
     OPEN "\n<success/>\nopen xmlns=jabber:client\n<presence/>\nclose",
     XS_OK},
    {"restart in open",
     {HDR "<presence/>", HDR "<presence/>"},
     NULL,
     NULL,
     1,
     OPEN "\n" OPEN "\n<presence/>",
     XS_OK},
    {"restart between feeds",
     {HDR "<presence/><message><bo", RESTART_NOW, HDR "<presence/>"},
     NULL,
     NULL,
     0,
     OPEN "\n<presence/>\n" OPEN "\n<presence/>",
     XS_OK},
    {"restart before anything",
     {RESTART_NOW, HDR "<presence/>"},
     NULL,
     NULL,
     0,
     OPEN "\n<presence/>",
     XS_OK},
    {"restart twice",
     {HDR "<a/><b/>", HDR "<a/><b/>", HDR "<c/>"},
     "a",
     NULL,
     0,
     OPEN "\n<a/>\n" OPEN "\n<a/>\n" OPEN "\n<c/>",
     XS_OK},
    {"halt in stanza",
     {HDR "<presence/><halt/><presence/>", "garbage <<<", HDR},
     NULL,
     "halt",
     0,
     OPEN "\n<presence/>\n<halt/>",
     XS_OK},
    {"halt between feeds", {HDR, HALT_NOW, "<<<"}, NULL, NULL, 0, OPEN, XS_OK},
    {"halt then restart",
     {HDR "<halt/>", RESTART_NOW, HDR "<presence/>"},
     NULL,
     "halt",
     0,
     OPEN "\n<halt/>",
     XS_OK},
    {"restart and halt in one callback",
     {HDR "<stop/><presence/>", HDR "<presence/>"},
     "stop",
     "stop",
     0,
     OPEN "\n<stop/>",
     XS_OK},
    {"error is sticky",
     {HDR "<a><</a>", "<presence/>", HDR},
     NULL,
     NULL,
     0,
     OPEN,
     XS_ERR_NOT_WELL_FORMED},
    {"restart does not clear an error",
     {HDR "<<", RESTART_NOW, HDR "<presence/>"},
     NULL,
     NULL,
     0,
     OPEN,
     XS_ERR_NOT_WELL_FORMED},
    {"empty feeds", {"", HDR, "", "<presence/>", ""}, NULL, NULL, 0, OPEN "\n<presence/>", XS_OK},
    {"idle between feeds keeps declarations",
     {"<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'"
      " xmlns:x='urn:&apos;&#10;'>",
      "<message x:a='1'/>", "<x:y/>", "<stream:error/>", "</stream:stream>"},
     NULL,
     NULL,
     0,
     "open xmlns=jabber:client\n<message xmlns:x='urn:&apos;&#10;' x:a='1'/>\n"
     "<y xmlns='urn:&apos;&#10;'/>\n<error xmlns='http://etherx.jabber.org/streams'/>\nclose",
     XS_OK},
};

static void test_scripts(void)
{
    for (size_t i = 0; i < sizeof scripts / sizeof scripts[0]; i++) {
        const script_case *c = &scripts[i];
        rec r = {0};
        sbuf_init(&r.log);
        r.restart_on = c->restart_on;
        r.halt_on = c->halt_on;
        r.restart_opens = c->restart_opens;
        r.xs = xml_stream_new(&default_limits, &rec_cbs, &r);
        xml_stream_error e = XS_OK;
        for (size_t f = 0; f < 6 && c->feeds[f]; f++) {
            if (strcmp(c->feeds[f], RESTART_NOW) == 0)
                xml_stream_restart(r.xs);
            else if (strcmp(c->feeds[f], HALT_NOW) == 0)
                xml_stream_halt(r.xs);
            else
                e = xml_stream_feed(r.xs, c->feeds[f], strlen(c->feeds[f]));
        }
        xml_stream_free(r.xs);
        char *log = sbuf_steal(&r.log, NULL);
        expect_run(c->name, 0, log, e, c->log, c->err);
        free(log);
    }
}

/* A restarted stream counts bytes afresh: with a limit just above the
 * header size, the second header passes. */
static void test_restart_counts_afresh(void)
{
    xml_stream_limits lim = {strlen(HDR) + 20, 64, 64};
    rec r = {0};
    sbuf_init(&r.log);
    r.restart_on = "proceed";
    r.xs = xml_stream_new(&lim, &rec_cbs, &r);
    for (int i = 0; i < 5; i++) {
        CHECK_INT(xml_stream_feed(r.xs, HDR, strlen(HDR)), XS_OK);
        CHECK_INT(xml_stream_feed(r.xs, "<proceed/>", 10), XS_OK);
    }
    CHECK_INT(xml_stream_feed(r.xs, HDR "<presence/>", strlen(HDR) + 11), XS_OK);
    xml_stream_free(r.xs);
    sbuf want;
    sbuf_init(&want);
    add_repeat(&want, OPEN "\n<proceed/>\n", 5);
    sbuf_adds(&want, OPEN "\n<presence/>");
    CHECK_STR(r.log.data, want.data);
    sbuf_free(&want);
    sbuf_free(&r.log);
}

/* The callee owns stanzas; NULL callbacks are allowed. */
static void test_ownership(void)
{
    static const xml_stream_callbacks none = {NULL, NULL, NULL};
    xml_stream *xs = xml_stream_new(&default_limits, &none, NULL);
    const char *in = HDR "<message><body>x</body></message><presence/></stream:stream>";
    CHECK_INT(xml_stream_feed(xs, in, strlen(in)), XS_OK);
    xml_stream_free(xs);

    /* free in the middle of a stanza */
    xs = xml_stream_new(&default_limits, &none, NULL);
    in = HDR "<message><body>x</body><a><b>";
    CHECK_INT(xml_stream_feed(xs, in, strlen(in)), XS_OK);
    xml_stream_free(xs);
    xml_stream_free(NULL);
}

static void test_strerror(void)
{
    for (int e = XS_OK; e <= XS_ERR_BAD_NAMESPACE; e++)
        CHECK(strlen(xml_stream_strerror((xml_stream_error)e)) > 0);
}

/* A stanza over 4 KiB sent one byte per read is refused (quadratic rescans);
 * the same stanza in ordinary TCP-sized pieces, or a small one byte by byte,
 * is fine. */
static void test_trickle(void)
{
    sbuf in;
    sbuf_init(&in);
    sbuf_adds(&in, HDR "<message a='");
    for (int i = 0; i < 6000; i++)
        sbuf_addc(&in, 'x');
    sbuf_adds(&in, "'/>");
    xml_stream_error err;
    size_t *cuts = xmalloc(in.len * sizeof(size_t)), n = 0;
    for (size_t k = 1; k < in.len; k++)
        cuts[n++] = k;
    char *log = run(in.data, in.len, &default_limits, cuts, n, &err);
    CHECK_INT(err, XS_ERR_TRICKLE);
    free(log);
    n = 0;
    for (size_t k = 1448; k < in.len; k += 1448)
        cuts[n++] = k;
    log = run(in.data, in.len, &default_limits, cuts, n, &err);
    CHECK_INT(err, XS_OK);
    CHECK(strstr(log, "<message") != NULL);
    free(log);
    free(cuts);
    sbuf_free(&in);
}

TEST_MAIN(TEST(test_trickle), TEST(test_streams), TEST(test_errors), TEST(test_too_big),
          TEST(test_keepalives_do_not_count), TEST(test_limit_is_exact), TEST(test_deep_nesting),
          TEST(test_many_attributes), TEST(test_scripts), TEST(test_restart_counts_afresh),
          TEST(test_ownership), TEST(test_strerror))
