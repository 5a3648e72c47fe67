/* Unit tests: xmppd/dataform.c. Input forms are written as XML text and
 * parsed with the stream parser inside a jabber:client stream, wrapped in a
 * <message/>; the first <x xmlns='jabber:x:data'/> child is the form. A
 * parsed form is compared through a dump: "type|form_type|" then, per
 * field, "var(type)=v1,v2;" with "-" for a missing var or type. */
#include "sbuf.h"
#include "test.h"
#include "util.h"
#include "xmppd/dataform.h"
#include "xmppd/xml_stream.h"

#define HDR "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"
#define XD "jabber:x:data"
#define MUC_OWNER "http://jabber.org/protocol/muc#owner"
#define MUC_ROOMCONFIG "http://jabber.org/protocol/muc#roomconfig"

static void take_stanza(void *ud, xml_node *st)
{
    xml_node **out = ud;
    if (*out)
        xml_free(st);
    else
        *out = st;
}

/* Parses one stanza from text; the caller frees it. */
static xml_node *parse_stanza(const char *text, size_t len)
{
    const xml_stream_limits lim = {1u << 24, 64, 64};
    const xml_stream_callbacks cbs = {NULL, take_stanza, NULL};
    xml_node *st = NULL;
    xml_stream *xs = xml_stream_new(&lim, &cbs, &st);
    CHECK_INT(xml_stream_feed(xs, HDR, strlen(HDR)), XS_OK);
    CHECK_INT(xml_stream_feed(xs, text, len), XS_OK);
    xml_stream_free(xs);
    CHECK(st != NULL);
    return st;
}

/* Wraps body in a message, parses it and runs dataform_parse on its first
 * jabber:x:data <x/> (or on the first child if there is none). */
static int parse_form(const char *body, size_t len, dataform *f, const char **why)
{
    sbuf b;
    sbuf_init(&b);
    sbuf_adds(&b, "<message>");
    sbuf_add(&b, body, len);
    sbuf_adds(&b, "</message>");
    xml_node *st = parse_stanza(b.data, b.len);
    sbuf_free(&b);
    xml_node *x = xml_child(st, "x", XD);
    if (!x)
        x = xml_child(st, NULL, NULL);
    int rc = dataform_parse(x, f, why);
    xml_free(st);
    return rc;
}

static char *dump(const dataform *f)
{
    sbuf b;
    sbuf_init(&b);
    sbuf_printf(&b, "%s|%s|", f->type ? f->type : "-", f->form_type ? f->form_type : "-");
    for (size_t i = 0; i < f->nfields; i++) {
        const dataform_field *fl = &f->fields[i];
        sbuf_printf(&b, "%s(%s)=", fl->var ? fl->var : "-", fl->type ? fl->type : "-");
        for (size_t j = 0; j < fl->nvalues; j++)
            sbuf_printf(&b, "%s%s", j ? "," : "", fl->values[j]);
        sbuf_addc(&b, ';');
    }
    return sbuf_steal(&b, NULL);
}

static void check_empty(const dataform *f)
{
    CHECK(f->type == NULL && f->form_type == NULL && f->fields == NULL && f->nfields == 0);
}

typedef struct valid_case {
    const char *xml;
    const char *dump;
} valid_case;

static const valid_case valid_cases[] = {
    /* a MUC owner configuration submit */
    {"<x xmlns='jabber:x:data' type='submit'>"
     "<field var='FORM_TYPE' type='hidden'><value>" MUC_ROOMCONFIG "</value></field>"
     "<field var='muc#roomconfig_roomname' type='text-single'><value>A Room</value></field>"
     "<field var='muc#roomconfig_persistentroom' type='boolean'><value>1</value></field>"
     "<field var='muc#roomconfig_getmemberlist' type='list-multi'>"
     "<value>moderator</value><value>participant</value></field>"
     "<field var='muc#roomconfig_roomadmins' type='jid-multi'>"
     "<value>wiccarocks@shakespeare.lit</value><value>hecate@shakespeare.lit</value></field>"
     "<field var='muc#roomconfig_roomsecret' type='text-private'><value>cauldronburn</value>"
     "</field></x>",
     "submit|" MUC_ROOMCONFIG "|FORM_TYPE(hidden)=" MUC_ROOMCONFIG ";"
     "muc#roomconfig_roomname(text-single)=A Room;"
     "muc#roomconfig_persistentroom(boolean)=1;"
     "muc#roomconfig_getmemberlist(list-multi)=moderator,participant;"
     "muc#roomconfig_roomadmins(jid-multi)=wiccarocks@shakespeare.lit,hecate@shakespeare.lit;"
     "muc#roomconfig_roomsecret(text-private)=cauldronburn;"},
    /* entities and character references in values */
    {"<x xmlns='jabber:x:data' type='submit'><field var='a'><value>&lt;b&gt; &amp; &quot;c&quot;"
     " &apos;d&apos; &#233;&#x41;</value></field></x>",
     "submit|-|a(-)=<b> & \"c\" 'd' \xc3\xa9"
     "A;"},
    /* a form with title, instructions, labels, options, desc and required */
    {"<x xmlns='jabber:x:data' type='form'><title>Config</title><instructions>Fill</instructions>"
     "<field type='fixed'><value>Section</value></field>"
     "<field var='l' type='list-single' label='L'><desc>d</desc><required/>"
     "<option label='One'><value>1</value></option><option><value>2</value></option>"
     "<value>2</value></field></x>",
     "form|-|-(fixed)=Section;l(list-single)=2;"},
    /* cancel and result; empty forms */
    {"<x xmlns='jabber:x:data' type='cancel'/>", "cancel|-|"},
    {"<x xmlns='jabber:x:data' type='result'><reported><field var='r'/></reported>"
     "<item><field var='r'><value>x</value></field></item></x>",
     "result|-|"},
    /* fields without values, empty values */
    {"<x xmlns='jabber:x:data' type='submit'><field var='a'/><field var='b'><value/></field>"
     "<field var='c'><value></value><value>z</value></field></x>",
     "submit|-|a(-)=;b(-)=;c(-)=,z;"},
    /* children in other namespaces are ignored (a field without var
     * included), as is a nested element's text inside a value */
    {"<x xmlns='jabber:x:data' type='submit'><field xmlns='urn:other'/>"
     "<field var='a'><value xmlns='urn:other'>no</value><value>y<b>no</b>es</value></field>"
     "<o:field xmlns:o='urn:o' var='a'/></x>",
     "submit|-|a(-)=yes;"},
    /* FORM_TYPE of another type, and a fixed field with a var */
    {"<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:t</value></field>"
     "<field var='f' type='fixed'/></x>",
     "submit|urn:t|FORM_TYPE(-)=urn:t;f(fixed)=;"},
    /* several fixed fields without var are no duplicates */
    {"<x xmlns='jabber:x:data' type='form'><field type='fixed'/><field type='fixed'/></x>",
     "form|-|-(fixed)=;-(fixed)=;"},
    /* whitespace is kept */
    {"<x xmlns='jabber:x:data' type='submit'>\n <field var='w'> <value> a b </value> </field>\n"
     "</x>",
     "submit|-|w(-)= a b ;"},
};

static void test_parse_valid(void)
{
    for (size_t i = 0; i < sizeof valid_cases / sizeof valid_cases[0]; i++) {
        dataform f;
        const char *why = NULL;
        int rc = dataform_parse(NULL, &f, &why); /* also checks NULL input */
        CHECK_INT(rc, -1);
        CHECK(why != NULL);
        why = NULL;
        rc = parse_form(valid_cases[i].xml, strlen(valid_cases[i].xml), &f, &why);
        if (rc != 0)
            fprintf(stderr, "case %zu: %s\n", i, why ? why : "(null)");
        CHECK_INT(rc, 0);
        char *d = dump(&f);
        CHECK_STR(d, valid_cases[i].dump);
        free(d);
        dataform_clear(&f);
        check_empty(&f);
        dataform_clear(&f); /* twice is fine */
    }
}

static const char *const invalid_cases[] = {
    /* not a data form */
    "<x xmlns='urn:other' type='submit'/>",
    "<form xmlns='jabber:x:data' type='submit'/>",
    /* form type */
    "<x xmlns='jabber:x:data'/>",
    "<x xmlns='jabber:x:data' type=''/>",
    "<x xmlns='jabber:x:data' type='Submit'/>",
    "<x xmlns='jabber:x:data' type='submit '/>",
    "<x xmlns='jabber:x:data' type='get'/>",
    /* missing var */
    "<x xmlns='jabber:x:data' type='submit'><field><value>1</value></field></x>",
    "<x xmlns='jabber:x:data' type='submit'><field type='text-single'/></x>",
    "<x xmlns='jabber:x:data' type='submit'><field var='a'/><field type='hidden'/></x>",
    /* duplicate var */
    "<x xmlns='jabber:x:data' type='submit'><field var='a'/><field var='a'/></x>",
    "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'>"
    "<value>urn:a</value></field><field var='b'/><field var='FORM_TYPE' type='hidden'>"
    "<value>urn:b</value></field></x>",
    "<x xmlns='jabber:x:data' type='form'><field var='a' type='fixed'/><field var='a'/></x>",
};

static void test_parse_invalid(void)
{
    for (size_t i = 0; i < sizeof invalid_cases / sizeof invalid_cases[0]; i++) {
        dataform f;
        const char *why = NULL;
        int rc = parse_form(invalid_cases[i], strlen(invalid_cases[i]), &f, &why);
        if (rc != -1)
            fprintf(stderr, "case %zu accepted\n", i);
        CHECK_INT(rc, -1);
        CHECK(why != NULL && *why);
        check_empty(&f);
        dataform_clear(&f);
    }
    /* why may be NULL */
    dataform f;
    CHECK_INT(parse_form(invalid_cases[0], strlen(invalid_cases[0]), &f, NULL), -1);
}

/* Builds a submit form with nfields fields of nvalues values of vlen bytes
 * each (the first field carries the values; the others have one short
 * value). vlen bytes are written as "&amp;" entities when amp is set. */
static char *gen_form(size_t nfields, size_t nvalues, size_t vlen, bool amp, size_t *len)
{
    sbuf b;
    sbuf_init(&b);
    sbuf_adds(&b, "<x xmlns='jabber:x:data' type='submit'>");
    for (size_t i = 0; i < nfields; i++) {
        sbuf_printf(&b, "<field var='f%zu'>", i);
        if (i == 0) {
            for (size_t j = 0; j < nvalues; j++) {
                sbuf_adds(&b, "<value>");
                for (size_t k = 0; k < vlen; k++)
                    sbuf_adds(&b, amp ? "&amp;" : "v");
                sbuf_adds(&b, "</value>");
            }
        } else {
            sbuf_adds(&b, "<value>x</value>");
        }
        sbuf_adds(&b, "</field>");
    }
    sbuf_adds(&b, "</x>");
    return sbuf_steal(&b, len);
}

typedef struct limit_case {
    size_t nfields, nvalues, vlen;
    bool amp;
    int rc;
} limit_case;

static const limit_case limit_cases[] = {
    {DATAFORM_MAX_FIELDS, 1, 1, false, 0},
    {DATAFORM_MAX_FIELDS + 1, 1, 1, false, -1},
    {DATAFORM_MAX_FIELDS * 4, 1, 1, false, -1},
    {1, DATAFORM_MAX_VALUES, 1, false, 0},
    {1, DATAFORM_MAX_VALUES + 1, 1, false, -1},
    {2, DATAFORM_MAX_VALUES * 4, 0, false, -1},
    {1, 1, DATAFORM_MAX_VALUE, false, 0},
    {1, 1, DATAFORM_MAX_VALUE + 1, false, -1},
    {1, 2, DATAFORM_MAX_VALUE, true, 0},
    {1, 1, DATAFORM_MAX_VALUE + 1, true, -1},
    {3, 2, 1000, true, 0},
};

static void test_limits(void)
{
    for (size_t i = 0; i < sizeof limit_cases / sizeof limit_cases[0]; i++) {
        const limit_case *c = &limit_cases[i];
        size_t len;
        char *xml = gen_form(c->nfields, c->nvalues, c->vlen, c->amp, &len);
        dataform f;
        const char *why = NULL;
        int rc = parse_form(xml, len, &f, &why);
        free(xml);
        if (rc != c->rc)
            fprintf(stderr, "case %zu: rc %d (%s)\n", i, rc, why ? why : "-");
        CHECK_INT(rc, c->rc);
        if (rc == 0) {
            CHECK_INT(f.nfields, c->nfields);
            CHECK_INT(f.fields[0].nvalues, c->nvalues);
            CHECK_INT(strlen(f.fields[0].values[0]), c->vlen);
            if (c->nfields > 1)
                CHECK_STR(dataform_value(&f, "f1"), "x");
        } else {
            CHECK(why != NULL);
            check_empty(&f);
        }
        dataform_clear(&f);
    }
}

/* Field and value limits count only jabber:x:data children. */
static void test_limits_other_ns(void)
{
    sbuf b;
    sbuf_init(&b);
    sbuf_adds(&b, "<x xmlns='jabber:x:data' type='submit'><field var='a'>");
    for (size_t i = 0; i < DATAFORM_MAX_VALUES + 10; i++)
        sbuf_adds(&b, "<value xmlns='urn:o'>v</value>");
    sbuf_adds(&b, "<value>ok</value></field>");
    for (size_t i = 0; i < DATAFORM_MAX_FIELDS + 10; i++)
        sbuf_adds(&b, "<field xmlns='urn:o'/>");
    sbuf_adds(&b, "</x>");
    dataform f;
    CHECK_INT(parse_form(b.data, b.len, &f, NULL), 0);
    sbuf_free(&b);
    CHECK_INT(f.nfields, 1);
    CHECK_INT(f.fields[0].nvalues, 1);
    CHECK_STR(dataform_value(&f, "a"), "ok");
    dataform_clear(&f);
}

#define ACC_FORM                                                                                   \
    "<x xmlns='jabber:x:data' type='submit'>"                                                      \
    "<field var='t'><value>1</value></field>"                                                      \
    "<field var='f'><value>0</value></field>"                                                      \
    "<field var='tt'><value>true</value></field>"                                                  \
    "<field var='ff'><value>false</value></field>"                                                 \
    "<field var='yes'><value>yes</value></field>"                                                  \
    "<field var='up'><value>TRUE</value></field>"                                                  \
    "<field var='sp'><value> 1</value></field>"                                                    \
    "<field var='two'><value>1</value><value>0</value></field>"                                    \
    "<field var='none'/>"                                                                          \
    "<field var='empty'><value/></field>"                                                          \
    "<field var='multi'><value>first</value><value>second</value></field>"                         \
    "<field type='fixed'><value>fixed</value></field>"                                             \
    "</x>"

typedef struct acc_case {
    const char *var;
    const char *value; /* dataform_value, NULL for none */
    int brc;           /* dataform_bool */
    bool b;
} acc_case;

static const acc_case acc_cases[] = {
    {"t", "1", 1, true},       {"f", "0", 1, false},          {"tt", "true", 1, true},
    {"ff", "false", 1, false}, {"yes", "yes", -1, false},     {"up", "TRUE", -1, false},
    {"sp", " 1", -1, false},   {"two", "1", -1, false},       {"none", NULL, -1, false},
    {"empty", "", -1, false},  {"multi", "first", -1, false}, {"absent", NULL, 0, false},
    {"T", NULL, 0, false},     {"", NULL, 0, false},          {NULL, NULL, 0, false},
};

static void test_accessors(void)
{
    dataform f;
    CHECK_INT(parse_form(ACC_FORM, strlen(ACC_FORM), &f, NULL), 0);
    for (size_t i = 0; i < sizeof acc_cases / sizeof acc_cases[0]; i++) {
        const acc_case *c = &acc_cases[i];
        const char *v = dataform_value(&f, c->var);
        if (c->value)
            CHECK_STR(v, c->value);
        else
            CHECK(v == NULL);
        const dataform_field *fl = dataform_field_get(&f, c->var);
        CHECK((fl != NULL) == (c->brc != 0));
        if (fl)
            CHECK_STR(fl->var, c->var);
        bool b = !c->b;
        int rc = dataform_bool(&f, c->var, &b);
        if (rc != c->brc)
            fprintf(stderr, "case %zu (%s): %d\n", i, c->var ? c->var : "NULL", rc);
        CHECK_INT(rc, c->brc);
        if (rc == 1)
            CHECK(b == c->b);
    }
    CHECK(f.form_type == NULL);
    dataform_clear(&f);
    /* an empty form */
    dataform e = {0};
    CHECK(dataform_field_get(&e, "a") == NULL);
    CHECK(dataform_value(&e, "a") == NULL);
    bool b;
    CHECK_INT(dataform_bool(&e, "a", &b), 0);
}

/* Serializes x, parses it back and returns the dump of the parse. */
static char *roundtrip(const xml_node *x, const char *expect_xml)
{
    char *s = xml_to_string(x, XMLNS_CLIENT, NULL);
    if (expect_xml)
        CHECK_STR(s, expect_xml);
    dataform f;
    const char *why = NULL;
    int rc = parse_form(s, strlen(s), &f, &why);
    if (rc != 0)
        fprintf(stderr, "%s: %s\n", s, why);
    CHECK_INT(rc, 0);
    free(s);
    char *d = dump(&f);
    dataform_clear(&f);
    return d;
}

static void test_build_roundtrip(void)
{
    /* a room configuration form, as the MUC service sends it */
    xml_node *iq = xml_new("iq", XMLNS_CLIENT);
    xml_node *q = xml_add_child(iq, "query", MUC_OWNER);
    xml_node *x = dataform_new(q, "form", MUC_ROOMCONFIG);
    CHECK(x->parent == q);
    CHECK_STR(x->name, "x");
    CHECK_STR(x->ns, XD);
    xml_node *fl = dataform_add_field(x, "muc#roomconfig_roomname", "text-single", "Name", "R&D");
    CHECK_STR(fl->name, "field");
    dataform_add_field(x, "muc#roomconfig_persistentroom", "boolean", NULL, "0");
    fl = dataform_add_field(x, "muc#roomconfig_whois", "list-single", "Who", "moderators");
    dataform_add_option(fl, "Moderators only", "moderators");
    dataform_add_option(fl, NULL, "anyone");
    fl = dataform_add_field(x, "muc#roomconfig_roomadmins", "jid-multi", NULL, NULL);
    dataform_add_value(fl, "a@b.c");
    dataform_add_value(fl, "d@e.f/<g>");
    dataform_add_field(x, NULL, "fixed", NULL, "Section 'two'");
    dataform_add_field(x, "empty", NULL, NULL, "");
    char *d = roundtrip(x, NULL);
    CHECK_STR(d, "form|" MUC_ROOMCONFIG "|FORM_TYPE(hidden)=" MUC_ROOMCONFIG ";"
                 "muc#roomconfig_roomname(text-single)=R&D;"
                 "muc#roomconfig_persistentroom(boolean)=0;"
                 "muc#roomconfig_whois(list-single)=moderators;"
                 "muc#roomconfig_roomadmins(jid-multi)=a@b.c,d@e.f/<g>;"
                 "-(fixed)=Section 'two';"
                 "empty(-)=;");
    free(d);
    /* the options are there */
    xml_node *w = NULL;
    for (xml_node *c = xml_next_child(x, NULL, "field", XD); c;
         c = xml_next_child(x, c, "field", XD))
        if (str_eq(xml_attr_get(c, "var"), "muc#roomconfig_whois"))
            w = c;
    CHECK(w != NULL);
    CHECK_STR(xml_attr_get(w, "label"), "Who");
    xml_node *o = xml_child(w, "option", XD);
    CHECK(o != NULL);
    CHECK_STR(xml_attr_get(o, "label"), "Moderators only");
    char *ov = xml_text(xml_child(o, "value", XD), NULL);
    CHECK_STR(ov, "moderators");
    free(ov);
    o = xml_next_child(w, o, "option", XD);
    CHECK(o != NULL && xml_attr_get(o, "label") == NULL);
    xml_free(iq);

    /* exact serialization of a small submit without FORM_TYPE */
    xml_node *m = xml_new("message", XMLNS_CLIENT);
    x = dataform_new(m, "submit", NULL);
    dataform_add_field(x, "a", NULL, NULL, "1");
    d = roundtrip(x, "<x xmlns='jabber:x:data' type='submit'><field var='a'><value>1</value>"
                     "</field></x>");
    CHECK_STR(d, "submit|-|a(-)=1;");
    free(d);
    xml_free(m);

    /* a result form and a cancel */
    m = xml_new("message", XMLNS_CLIENT);
    x = dataform_new(m, "result", "http://jabber.org/protocol/muc#roominfo");
    dataform_add_field(x, "muc#roominfo_occupants", NULL, "Occupants", "3");
    d = roundtrip(x, NULL);
    CHECK_STR(d, "result|http://jabber.org/protocol/muc#roominfo|"
                 "FORM_TYPE(hidden)=http://jabber.org/protocol/muc#roominfo;"
                 "muc#roominfo_occupants(-)=3;");
    free(d);
    x = dataform_new(m, "cancel", NULL);
    d = roundtrip(x, "<x xmlns='jabber:x:data' type='cancel'/>");
    CHECK_STR(d, "cancel|-|");
    free(d);
    xml_free(m);
}

TEST_MAIN(TEST(test_parse_valid), TEST(test_parse_invalid), TEST(test_limits),
          TEST(test_limits_other_ns), TEST(test_accessors), TEST(test_build_roundtrip))
