/* dataform: XEP-0004 data forms (jabber:x:data). See dataform.h.
 *
 * Parsing counts fields, values and value bytes before allocating anything
 * for them, so a hostile form cannot make us allocate more than the limits
 * in the header allow. Only children in the jabber:x:data namespace are
 * looked at; everything else under <x/> or <field/> is ignored. */
#include "dataform.h"

#include "util.h"

#include <stdlib.h>
#include <string.h>

static const char *const dataform_types[] = {"form", "submit", "cancel", "result"};

static bool dataform_type_ok(const char *type)
{
    if (!type)
        return false;
    for (size_t i = 0; i < sizeof dataform_types / sizeof dataform_types[0]; i++)
        if (strcmp(type, dataform_types[i]) == 0)
            return true;
    return false;
}

/* Number of element children of node named name in XMLNS_DATA, counting
 * no further than limit + 1. */
static size_t dataform_count(const xml_node *node, const char *name, size_t limit)
{
    size_t n = 0;
    for (const xml_node *c = xml_next_child(node, NULL, name, XMLNS_DATA); c && n <= limit;
         c = xml_next_child(node, c, name, XMLNS_DATA))
        n++;
    return n;
}

/* Length of the text directly under node (what xml_text would return). */
static size_t dataform_text_len(const xml_node *node)
{
    size_t total = 0;
    for (size_t i = 0; i < node->nchildren; i++) {
        const xml_node *c = node->children[i];
        if (!c->name) {
            total += c->text_len;
            if (total > DATAFORM_MAX_VALUE)
                break; /* enough to reject; avoids any overflow */
        }
    }
    return total;
}

static void dataform_field_clear(dataform_field *fl)
{
    free(fl->var);
    free(fl->type);
    for (size_t i = 0; i < fl->nvalues; i++)
        free(fl->values[i]);
    free(fl->values);
    memset(fl, 0, sizeof *fl);
}

/* Fills fl from the <field/> element fe. 0 or -1 with *why. */
static int dataform_parse_field(const xml_node *fe, dataform_field *fl, const char **why)
{
    const char *var = xml_attr_get(fe, "var");
    const char *type = xml_attr_get(fe, "type");
    if (!var && !(type && strcmp(type, "fixed") == 0)) {
        *why = "A data form field has no var.";
        return -1;
    }
    size_t nv = dataform_count(fe, "value", DATAFORM_MAX_VALUES);
    if (nv > DATAFORM_MAX_VALUES) {
        *why = "A data form field has too many values.";
        return -1;
    }
    for (const xml_node *v = xml_next_child(fe, NULL, "value", XMLNS_DATA); v;
         v = xml_next_child(fe, v, "value", XMLNS_DATA)) {
        if (dataform_text_len(v) > DATAFORM_MAX_VALUE) {
            *why = "A data form value is too long.";
            return -1;
        }
    }
    fl->var = var ? xstrdup(var) : NULL;
    fl->type = type ? xstrdup(type) : NULL;
    fl->values = nv ? xcalloc(nv, sizeof *fl->values) : NULL;
    for (const xml_node *v = xml_next_child(fe, NULL, "value", XMLNS_DATA); v;
         v = xml_next_child(fe, v, "value", XMLNS_DATA))
        fl->values[fl->nvalues++] = xml_text(v, NULL);
    return 0;
}

int dataform_parse(const xml_node *x, dataform *out, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    memset(out, 0, sizeof *out);
    if (!x || !x->name || strcmp(x->name, "x") != 0 || !x->ns || strcmp(x->ns, XMLNS_DATA) != 0) {
        *why = "The element is not a jabber:x:data form.";
        return -1;
    }
    const char *type = xml_attr_get(x, "type");
    if (!dataform_type_ok(type)) {
        *why = type ? "The data form type is unknown." : "The data form has no type.";
        return -1;
    }
    size_t nf = dataform_count(x, "field", DATAFORM_MAX_FIELDS);
    if (nf > DATAFORM_MAX_FIELDS) {
        *why = "The data form has too many fields.";
        return -1;
    }
    out->type = xstrdup(type);
    out->fields = nf ? xcalloc(nf, sizeof *out->fields) : NULL;
    for (const xml_node *fe = xml_next_child(x, NULL, "field", XMLNS_DATA); fe;
         fe = xml_next_child(x, fe, "field", XMLNS_DATA)) {
        const char *var = xml_attr_get(fe, "var");
        if (var && dataform_field_get(out, var)) {
            *why = "A data form has two fields with the same var.";
            goto fail;
        }
        if (dataform_parse_field(fe, &out->fields[out->nfields], why) != 0)
            goto fail;
        out->nfields++;
    }
    const char *ft = dataform_value(out, "FORM_TYPE");
    out->form_type = ft ? xstrdup(ft) : NULL;
    return 0;
fail:
    dataform_clear(out);
    return -1;
}

void dataform_clear(dataform *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->nfields; i++)
        dataform_field_clear(&f->fields[i]);
    free(f->fields);
    free(f->type);
    free(f->form_type);
    memset(f, 0, sizeof *f);
}

const dataform_field *dataform_field_get(const dataform *f, const char *var)
{
    if (!f || !var)
        return NULL;
    for (size_t i = 0; i < f->nfields; i++)
        if (f->fields[i].var && strcmp(f->fields[i].var, var) == 0)
            return &f->fields[i];
    return NULL;
}

const char *dataform_value(const dataform *f, const char *var)
{
    const dataform_field *fl = dataform_field_get(f, var);
    return fl && fl->nvalues ? fl->values[0] : NULL;
}

int dataform_bool(const dataform *f, const char *var, bool *out)
{
    const dataform_field *fl = dataform_field_get(f, var);
    if (!fl)
        return 0;
    if (fl->nvalues != 1)
        return -1;
    const char *v = fl->values[0];
    if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0) {
        *out = true;
        return 1;
    }
    if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0) {
        *out = false;
        return 1;
    }
    return -1;
}

xml_node *dataform_new(xml_node *parent, const char *type, const char *form_type)
{
    xml_node *x = xml_add_child(parent, "x", XMLNS_DATA);
    xml_set_attr(x, "type", type);
    if (form_type)
        dataform_add_field(x, "FORM_TYPE", "hidden", NULL, form_type);
    return x;
}

xml_node *dataform_add_field(xml_node *x, const char *var, const char *type, const char *label,
                             const char *value)
{
    xml_node *field = xml_add_child(x, "field", XMLNS_DATA);
    if (var)
        xml_set_attr(field, "var", var);
    if (type)
        xml_set_attr(field, "type", type);
    if (label)
        xml_set_attr(field, "label", label);
    if (value)
        dataform_add_value(field, value);
    return field;
}

void dataform_add_value(xml_node *field, const char *value)
{
    xml_node *v = xml_add_child(field, "value", XMLNS_DATA);
    if (value && *value)
        xml_add_text(v, value, strlen(value));
}

void dataform_add_option(xml_node *field, const char *label, const char *value)
{
    xml_node *opt = xml_add_child(field, "option", XMLNS_DATA);
    if (label)
        xml_set_attr(opt, "label", label);
    dataform_add_value(opt, value);
}
