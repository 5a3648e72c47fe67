/* Unit tests: xmppd/xml.c, the element tree and its serializer. */
#include "sbuf.h"
#include "test.h"
#include "util.h"
#include "xmppd/xml.h"

static void check_xml(const xml_node *n, const char *parent_ns, const char *want)
{
    size_t len;
    char *s = xml_to_string(n, parent_ns, &len);
    CHECK_STR(s, want);
    CHECK_INT(len, strlen(want));
    free(s);
}

/* Escaping of text and attribute values. */
static void test_escaping(void)
{
    static const struct {
        const char *in, *text, *attr;
    } cases[] = {
        {"plain", "plain", "plain"},
        {"", "", ""},
        {"a & b", "a &amp; b", "a &amp; b"},
        {"<tag>", "&lt;tag&gt;", "&lt;tag&gt;"},
        {"\"q\" 'a'", "&quot;q&quot; &apos;a&apos;", "&quot;q&quot; &apos;a&apos;"},
        {"]]>", "]]&gt;", "]]&gt;"},
        {"&amp;", "&amp;amp;", "&amp;amp;"},
        {"l1\nl2\tx", "l1\nl2\tx", "l1&#10;l2&#9;x"},
        {"cr\r", "cr&#13;", "cr&#13;"},
        {"caf\xC3\xA9 \xF0\x9F\x98\x80", "caf\xC3\xA9 \xF0\x9F\x98\x80",
         "caf\xC3\xA9 \xF0\x9F\x98\x80"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        xml_node *n = xml_new("body", XMLNS_CLIENT);
        xml_add_text(n, cases[i].in, strlen(cases[i].in));
        xml_set_attr(n, "a", cases[i].in);
        sbuf want;
        sbuf_init(&want);
        sbuf_printf(&want, "<body a='%s'", cases[i].attr);
        if (*cases[i].in)
            sbuf_printf(&want, ">%s</body>", cases[i].text);
        else
            sbuf_adds(&want, "/>");
        check_xml(n, XMLNS_CLIENT, want.data);
        sbuf_free(&want);
        xml_free(n);
    }
}

/* Builders for the serializer table. */
static xml_node *build_empty(void)
{
    return xml_new("presence", XMLNS_CLIENT);
}

static xml_node *build_message(void)
{
    xml_node *m = xml_new("message", XMLNS_CLIENT);
    xml_set_attr(m, "to", "juliet@example.com");
    xml_set_attr(m, "type", "chat");
    xml_node *b = xml_add_child(m, "body", NULL);
    xml_add_text(b, "Hi", 2);
    xml_add_child(m, "active", "http://jabber.org/protocol/chatstates");
    return m;
}

static xml_node *build_nested_ns(void)
{
    xml_node *iq = xml_new("iq", XMLNS_CLIENT);
    xml_node *q = xml_add_child(iq, "query", "jabber:iq:roster");
    xml_node *item = xml_add_child(q, "item", NULL); /* inherits jabber:iq:roster */
    xml_set_attr(item, "jid", "a@b");
    xml_add_child(item, "group", "jabber:iq:roster");
    xml_add_child(q, "x", XMLNS_CLIENT); /* back to the outer namespace */
    xml_add_child(q, "none", "");
    return iq;
}

static xml_node *build_lang(void)
{
    xml_node *m = xml_new("message", XMLNS_CLIENT);
    xml_set_attr(m, "xml:lang", "en");
    xml_node *b = xml_add_child(m, "body", NULL);
    xml_set_attr(b, "xml:lang", "fr");
    xml_add_text(b, "salut", 5);
    return m;
}

static xml_node *build_prefixed_attrs(void)
{
    xml_node *m = xml_new("message", XMLNS_CLIENT);
    xml_set_attr(m, "foo:a", "1");
    xml_set_attr(m, "foo:b", "2");
    xml_set_attr(m, "bar:c", "3");
    m->attrs[0].attr_ns = xstrdup("urn:foo");
    m->attrs[1].attr_ns = xstrdup("urn:foo");
    m->attrs[2].attr_ns = xstrdup("urn:bar&'");
    return m;
}

static xml_node *build_nsdecl_attrs(void)
{
    xml_node *m = xml_new("stream", XMLNS_STREAM);
    xml_set_attr(m, "xmlns", XMLNS_CLIENT); /* as on a parsed stream header */
    xml_set_attr(m, "xmlns:db", "jabber:server:dialback");
    xml_set_attr(m, "to", "example.com");
    return m;
}

static xml_node *build_xml_ns(void)
{
    xml_node *m = xml_new("message", XMLNS_CLIENT);
    xml_node *x = xml_add_child(m, "x", XMLNS_XML);
    xml_add_child(x, "y", XMLNS_XML);
    xml_add_child(x, "body", XMLNS_CLIENT);
    return m;
}

static xml_node *build_mixed(void)
{
    xml_node *b = xml_new("body", XMLNS_CLIENT);
    xml_add_text(b, "a", 1);
    xml_add_child(b, "br", NULL);
    xml_add_text(b, "b", 1);
    xml_add_text(b, "c", 1); /* merged with "b" */
    return b;
}

static xml_node *build_text_node(void)
{
    xml_node *b = xml_new("body", NULL);
    xml_add_text(b, "x<y", 3);
    xml_node *t = b->children[0];
    xml_detach(t);
    xml_free(b);
    return t;
}

static void test_serialize(void)
{
    static const struct {
        const char *name;
        xml_node *(*build)(void);
        const char *parent_ns, *want;
    } cases[] = {
        {"empty", build_empty, XMLNS_CLIENT, "<presence/>"},
        {"empty, other parent", build_empty, "", "<presence xmlns='jabber:client'/>"},
        {"empty, NULL parent", build_empty, NULL, "<presence xmlns='jabber:client'/>"},
        {"message", build_message, XMLNS_CLIENT,
         "<message to='juliet@example.com' type='chat'><body>Hi</body>"
         "<active xmlns='http://jabber.org/protocol/chatstates'/></message>"},
        {"nested namespaces", build_nested_ns, XMLNS_CLIENT,
         "<iq><query xmlns='jabber:iq:roster'><item jid='a@b'><group/></item>"
         "<x xmlns='jabber:client'/><none xmlns=''/></query></iq>"},
        {"nested namespaces in server stream", build_nested_ns, "jabber:server",
         "<iq xmlns='jabber:client'><query xmlns='jabber:iq:roster'><item jid='a@b'><group/>"
         "</item><x xmlns='jabber:client'/><none xmlns=''/></query></iq>"},
        {"xml:lang", build_lang, XMLNS_CLIENT,
         "<message xml:lang='en'><body xml:lang='fr'>salut</body></message>"},
        {"prefixed attributes", build_prefixed_attrs, XMLNS_CLIENT,
         "<message xmlns:foo='urn:foo' foo:a='1' foo:b='2' xmlns:bar='urn:bar&amp;&apos;' "
         "bar:c='3'/>"},
        {"xmlns attributes are not written", build_nsdecl_attrs, "",
         "<stream xmlns='http://etherx.jabber.org/streams' to='example.com'/>"},
        {"element in the xml namespace", build_xml_ns, XMLNS_CLIENT,
         "<message><xml:x><xml:y/><body/></xml:x></message>"},
        {"mixed content", build_mixed, XMLNS_CLIENT, "<body>a<br/>bc</body>"},
        {"text node", build_text_node, XMLNS_CLIENT, "x&lt;y"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        xml_node *n = cases[i].build();
        check_xml(n, cases[i].parent_ns, cases[i].want);
        /* xml_serialize appends */
        sbuf b;
        sbuf_init(&b);
        sbuf_adds(&b, "pre:");
        xml_serialize(n, cases[i].parent_ns, &b);
        CHECK(strncmp(b.data, "pre:", 4) == 0);
        CHECK_STR(b.data + 4, cases[i].want);
        sbuf_free(&b);
        xml_free(n);
    }
}

static void test_attrs(void)
{
    xml_node *n = xml_new("iq", NULL);
    CHECK_STR(n->ns, "");
    CHECK(xml_attr_get(n, "id") == NULL);
    xml_set_attr(n, "id", "1");
    xml_set_attr(n, "type", "get");
    xml_set_attr(n, "to", "a@b");
    CHECK_STR(xml_attr_get(n, "id"), "1");
    xml_set_attr(n, "id", "2"); /* replaced in place */
    check_xml(n, "", "<iq id='2' type='get' to='a@b'/>");
    xml_set_attr(n, "type", NULL); /* removed */
    CHECK(xml_attr_get(n, "type") == NULL);
    CHECK_INT(n->nattrs, 2);
    xml_set_attr(n, "type", NULL);                /* removing a missing one is fine */
    xml_set_attr(n, "id", xml_attr_get(n, "id")); /* value aliasing the old one */
    check_xml(n, "", "<iq id='2' to='a@b'/>");
    for (int i = 0; i < 100; i++) {
        char name[16];
        snprintf(name, sizeof name, "a%d", i);
        xml_set_attr(n, name, name);
    }
    CHECK_INT(n->nattrs, 102);
    CHECK_STR(xml_attr_get(n, "a99"), "a99");
    CHECK(xml_attr_get(NULL, "id") == NULL);
    xml_free(n);
}

/* Child lookup by name and namespace; NULL matches anything. */
static void test_child_lookup(void)
{
    xml_node *iq = xml_new("iq", XMLNS_CLIENT);
    xml_add_text(iq, " ", 1);
    xml_add_child(iq, "query", "jabber:iq:roster");  /* 0 */
    xml_add_child(iq, "query", "jabber:iq:version"); /* 1 */
    xml_add_child(iq, "error", NULL);                /* 2 */
    xml_add_text(iq, "t", 1);
    xml_add_child(iq, "query", "jabber:iq:roster"); /* 3 */
    xml_node *el[4];
    for (size_t i = 0, k = 0; i < iq->nchildren; i++)
        if (iq->children[i]->name)
            el[k++] = iq->children[i];
    static const struct {
        const char *name, *ns;
        int first, second; /* indexes into el, -1 for none */
    } cases[] = {
        {"query", "jabber:iq:roster", 0, 3},
        {"query", "jabber:iq:version", 1, -1},
        {"query", NULL, 0, 1},
        {NULL, "jabber:iq:roster", 0, 3},
        {NULL, XMLNS_CLIENT, 2, -1},
        {NULL, NULL, 0, 1},
        {"error", XMLNS_CLIENT, 2, -1},
        {"error", "", -1, -1},
        {"missing", NULL, -1, -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        xml_node *a = xml_child(iq, cases[i].name, cases[i].ns);
        CHECK(a == (cases[i].first < 0 ? NULL : el[cases[i].first]));
        xml_node *b = a ? xml_next_child(iq, a, cases[i].name, cases[i].ns) : NULL;
        CHECK(b == (cases[i].second < 0 ? NULL : el[cases[i].second]));
    }
    int n = 0;
    for (xml_node *c = NULL; (c = xml_next_child(iq, c, "query", NULL));)
        n++;
    CHECK_INT(n, 3);
    CHECK_INT(xml_element_count(iq), 4);
    CHECK(xml_next_child(iq, el[0]->parent, NULL, NULL) == NULL); /* not a child */
    CHECK(xml_child(NULL, "query", NULL) == NULL);
    CHECK(xml_next_child(NULL, NULL, NULL, NULL) == NULL);
    CHECK_INT(xml_element_count(NULL), 0);
    xml_free(iq);
}

/* Text is appended to a trailing text node; xml_text concatenates the
 * direct text children only. */
static void test_text(void)
{
    static const struct {
        const char *parts[4]; /* "<" adds an element child in between */
        const char *text;
        size_t nchildren;
    } cases[] = {
        {{"abc"}, "abc", 1},
        {{"a", "b", "c"}, "abc", 1},
        {{"a", "<", "b"}, "ab", 3},
        {{"<", "<"}, "", 2},
        {{""}, "", 0},
        {{"x", "", "y"}, "xy", 1},
        {{"caf\xC3\xA9", "<", " \xF0\x9F\x98\x80"}, "caf\xC3\xA9 \xF0\x9F\x98\x80", 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        xml_node *n = xml_new("body", XMLNS_CLIENT);
        for (size_t k = 0; k < 4 && cases[i].parts[k]; k++) {
            if (strcmp(cases[i].parts[k], "<") == 0) {
                xml_node *c = xml_add_child(n, "x", NULL);
                xml_add_text(c, "inner", 5); /* not direct text */
            } else {
                xml_add_text(n, cases[i].parts[k], strlen(cases[i].parts[k]));
            }
        }
        size_t len = 99;
        char *t = xml_text(n, &len);
        CHECK_STR(t, cases[i].text);
        CHECK_INT(len, strlen(cases[i].text));
        CHECK_INT(n->nchildren, cases[i].nchildren);
        free(t);
        t = xml_text(n, NULL);
        CHECK_STR(t, cases[i].text);
        free(t);
        xml_free(n);
    }
    char *t = xml_text(NULL, NULL);
    CHECK_STR(t, "");
    free(t);
    /* a text node's own text */
    xml_node *b = xml_new("b", NULL);
    xml_add_text(b, "own", 3);
    t = xml_text(b->children[0], NULL);
    CHECK_STR(t, "own");
    free(t);
    xml_free(b);
}

static void test_copy(void)
{
    xml_node *(*const builds[])(void) = {build_empty,    build_message,        build_nested_ns,
                                         build_lang,     build_prefixed_attrs, build_mixed,
                                         build_text_node};
    for (size_t i = 0; i < sizeof builds / sizeof builds[0]; i++) {
        xml_node *a = builds[i]();
        xml_node *b = xml_copy(a);
        CHECK(b != a && b->parent == NULL);
        char *sa = xml_to_string(a, "", NULL), *sb = xml_to_string(b, "", NULL);
        CHECK_STR(sb, sa);
        free(sb);
        for (size_t k = 0; k < b->nchildren; k++)
            CHECK(b->children[k]->parent == b);
        /* the copy is independent */
        if (b->name) {
            xml_set_attr(b, "changed", "1");
            xml_add_child(b, "new", NULL);
        }
        xml_free(b);
        sb = xml_to_string(a, "", NULL);
        CHECK_STR(sb, sa);
        free(sa);
        free(sb);
        xml_free(a);
    }
    /* copying a subtree gives a root */
    xml_node *m = build_message();
    xml_node *body = xml_copy(xml_child(m, "body", NULL));
    CHECK(body->parent == NULL);
    check_xml(body, XMLNS_CLIENT, "<body>Hi</body>");
    xml_free(body);
    xml_free(m);
}

static void test_detach_append(void)
{
    xml_node *r = xml_new("r", NULL);
    xml_node *a = xml_add_child(r, "a", NULL);
    xml_node *b = xml_add_child(r, "b", NULL);
    xml_node *c = xml_add_child(r, "c", NULL);
    CHECK(b->parent == r);
    xml_detach(b);
    CHECK(b->parent == NULL);
    check_xml(r, "", "<r><a/><c/></r>");
    xml_detach(b); /* detaching a root is a no-op */
    xml_append(a, b);
    CHECK(b->parent == a);
    check_xml(r, "", "<r><a><b/></a><c/></r>");
    xml_append(r, b); /* moves it */
    check_xml(r, "", "<r><a/><c/><b/></r>");
    xml_detach(a);
    xml_detach(c);
    check_xml(r, "", "<r><b/></r>");
    xml_free(a);
    xml_free(c);
    /* freeing a node that still has a parent detaches it first */
    xml_free(b);
    check_xml(r, "", "<r/>");
    /* namespaces follow the node, not the new parent */
    xml_node *q = xml_new("query", "jabber:iq:roster");
    xml_append(r, q);
    check_xml(r, "", "<r><query xmlns='jabber:iq:roster'/></r>");
    xml_free(r);
    xml_free(NULL);
}

/* A deep tree is freed without deep recursion. */
static void test_deep_free(void)
{
    xml_node *root = xml_new("a", NULL), *cur = root;
    for (int i = 0; i < 200000; i++)
        cur = xml_add_child(cur, "a", NULL);
    xml_free(root);
}

TEST_MAIN(TEST(test_escaping), TEST(test_serialize), TEST(test_attrs), TEST(test_child_lookup),
          TEST(test_text), TEST(test_copy), TEST(test_detach_append), TEST(test_deep_free))
