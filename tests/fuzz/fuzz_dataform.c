/* fuzz_dataform: libFuzzer target for xmppd/dataform.c. The input follows a
 * jabber:client stream header into an xml_stream with small limits (65536-
 * byte stanzas, depth 16, 16 attributes); dataform_parse runs on every
 * <x xmlns='jabber:x:data'/> anywhere in each stanza. On success it aborts
 * if an invariant breaks:
 *  - every field has a var unless it is of type fixed, vars are unique and
 *    dataform_field_get finds each field; the limits hold;
 *  - dataform_value, dataform_bool and form_type agree with the fields;
 *  - the form rebuilt with the builders parses to the same form.
 * On failure the form must be empty. */
#include "sbuf.h"
#include "xmppd/dataform.h"
#include "xmppd/xml_stream.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const xml_stream_limits fuzz_limits = {65536, 16, 16};

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static bool fuzz_str_eq(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static bool fuzz_same(const dataform *a, const dataform *b)
{
    if (!fuzz_str_eq(a->type, b->type) || !fuzz_str_eq(a->form_type, b->form_type) ||
        a->nfields != b->nfields)
        return false;
    for (size_t i = 0; i < a->nfields; i++) {
        const dataform_field *fa = &a->fields[i], *fb = &b->fields[i];
        if (!fuzz_str_eq(fa->var, fb->var) || !fuzz_str_eq(fa->type, fb->type) ||
            fa->nvalues != fb->nvalues)
            return false;
        for (size_t j = 0; j < fa->nvalues; j++)
            if (strcmp(fa->values[j], fb->values[j]) != 0)
                return false;
    }
    return true;
}

static void fuzz_check_form(const dataform *f)
{
    FUZZ_CHECK(f->type != NULL);
    FUZZ_CHECK(f->nfields <= DATAFORM_MAX_FIELDS);
    const char *ft = dataform_value(f, "FORM_TYPE");
    FUZZ_CHECK(fuzz_str_eq(ft, f->form_type));
    for (size_t i = 0; i < f->nfields; i++) {
        const dataform_field *fl = &f->fields[i];
        FUZZ_CHECK(fl->nvalues <= DATAFORM_MAX_VALUES);
        for (size_t j = 0; j < fl->nvalues; j++)
            FUZZ_CHECK(strlen(fl->values[j]) <= DATAFORM_MAX_VALUE);
        if (!fl->var) {
            FUZZ_CHECK(fl->type && strcmp(fl->type, "fixed") == 0);
            continue;
        }
        FUZZ_CHECK(dataform_field_get(f, fl->var) == fl);
        const char *v = dataform_value(f, fl->var);
        FUZZ_CHECK(fl->nvalues ? v == fl->values[0] : v == NULL);
        bool b = false;
        int rc = dataform_bool(f, fl->var, &b);
        FUZZ_CHECK(rc == 1 || rc == -1);
        bool t = fl->nvalues == 1 && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0);
        bool n = fl->nvalues == 1 && (strcmp(v, "0") == 0 || strcmp(v, "false") == 0);
        FUZZ_CHECK(rc == ((t || n) ? 1 : -1));
        if (rc == 1)
            FUZZ_CHECK(b == t);
    }
    bool b;
    FUZZ_CHECK(dataform_bool(f, "\x01 absent", &b) == 0);
    FUZZ_CHECK(dataform_field_get(f, NULL) == NULL);

    /* rebuild with the builders and parse again */
    xml_node *m = xml_new("message", XMLNS_CLIENT);
    xml_node *x = dataform_new(m, f->type, NULL);
    for (size_t i = 0; i < f->nfields; i++) {
        const dataform_field *fl = &f->fields[i];
        xml_node *fe = dataform_add_field(x, fl->var, fl->type, "label", NULL);
        for (size_t j = 0; j < fl->nvalues; j++)
            dataform_add_value(fe, fl->values[j]);
        dataform_add_option(fe, "opt", "ignored");
    }
    dataform g;
    const char *why = NULL;
    FUZZ_CHECK(dataform_parse(x, &g, &why) == 0);
    FUZZ_CHECK(fuzz_same(f, &g));
    dataform_clear(&g);
    xml_free(m);
}

static void fuzz_walk(const xml_node *n)
{
    if (n->name && strcmp(n->name, "x") == 0 && strcmp(n->ns, XMLNS_DATA) == 0) {
        dataform f;
        const char *why = NULL;
        if (dataform_parse(n, &f, &why) == 0) {
            fuzz_check_form(&f);
        } else {
            FUZZ_CHECK(why != NULL);
            FUZZ_CHECK(f.type == NULL && f.form_type == NULL && f.fields == NULL && f.nfields == 0);
        }
        dataform_clear(&f);
    }
    for (size_t i = 0; i < n->nchildren; i++)
        if (n->children[i]->name)
            fuzz_walk(n->children[i]);
}

static void fuzz_stanza(void *ud, xml_node *st)
{
    (void)ud;
    fuzz_walk(st);
    xml_free(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char hdr[] = "<stream:stream xmlns='jabber:client' "
                              "xmlns:stream='http://etherx.jabber.org/streams'>";
    const xml_stream_callbacks cbs = {NULL, fuzz_stanza, NULL};
    xml_stream *xs = xml_stream_new(&fuzz_limits, &cbs, NULL);
    if (xml_stream_feed(xs, hdr, sizeof hdr - 1) == XS_OK)
        xml_stream_feed(xs, (const char *)data, size);
    xml_stream_free(xs);
    return 0;
}
