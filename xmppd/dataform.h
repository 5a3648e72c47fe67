/* dataform: XEP-0004 data forms (jabber:x:data), parsed from hostile input
 * with bounds, and built for replies (room configuration, room info).
 *
 * Limits: at most DATAFORM_MAX_FIELDS fields, DATAFORM_MAX_VALUES values per
 * field, DATAFORM_MAX_VALUE bytes per value; a field needs a var unless it
 * is of type fixed; duplicate vars are an error.
 *
 * Ownership: dataform_parse fills a caller-owned struct (free with
 * dataform_clear); strings inside are owned by it. Builders add children to
 * a tree the caller owns. Any loop. */
#ifndef PARLEY_DATAFORM_H
#define PARLEY_DATAFORM_H

#include "xml.h"

#include <stdbool.h>
#include <stddef.h>

#define XMLNS_DATA "jabber:x:data"
#define DATAFORM_MAX_FIELDS 256
#define DATAFORM_MAX_VALUES 256
#define DATAFORM_MAX_VALUE 65536

typedef struct dataform_field {
    char *var;  /* NULL only for type fixed */
    char *type; /* NULL if absent */
    char **values;
    size_t nvalues;
} dataform_field;

typedef struct dataform {
    char *type;      /* form, submit, cancel, result */
    char *form_type; /* the value of the hidden FORM_TYPE field, or NULL */
    dataform_field *fields;
    size_t nfields;
} dataform;

/* Parses x (an element <x xmlns='jabber:x:data'>). 0 on success; -1 with
 * *why (a static English sentence) on malformed input; out is then empty. */
int dataform_parse(const xml_node *x, dataform *out, const char **why);
void dataform_clear(dataform *f);
/* The field named var, or NULL. */
const dataform_field *dataform_field_get(const dataform *f, const char *var);
/* First value of var, or NULL (absent or no value). */
const char *dataform_value(const dataform *f, const char *var);
/* Boolean field: 1 and *out set if present and valid (1/0/true/false), 0 if
 * absent, -1 if present but not a boolean. */
int dataform_bool(const dataform *f, const char *var, bool *out);

/* Builders. dataform_new appends <x xmlns='jabber:x:data' type=type> to
 * parent and, if form_type != NULL, the hidden FORM_TYPE field. Returns x. */
xml_node *dataform_new(xml_node *parent, const char *type, const char *form_type);
/* Appends a field with zero or one value (value may be NULL); label may be
 * NULL. Returns the field element (to add options or more values). */
xml_node *dataform_add_field(xml_node *x, const char *var, const char *type, const char *label,
                             const char *value);
/* Appends another <value/> to a field element. */
void dataform_add_value(xml_node *field, const char *value);
/* Appends <option label=label><value>value</value></option>. */
void dataform_add_option(xml_node *field, const char *label, const char *value);

#endif
