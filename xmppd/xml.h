/* xml: the element tree every stanza is held in.
 *
 * An element has a local name, a namespace URI (never NULL; "" for none),
 * attributes and an ordered list of children (elements and text nodes).
 * Prefixes from the wire are not kept: namespaces are written back as
 * xmlns='...' wherever an element's namespace differs from its parent's.
 * Attribute names are local names, except "xml:lang" (and other attributes
 * in the XML namespace, as "xml:NAME"); attributes in other namespaces are
 * kept as "PREFIX:LOCAL" with the prefix's URI in attr_ns.
 *
 * Ownership: a tree belongs to whoever holds its root; xml_free frees the
 * node and everything under it. Children are owned by their parent.
 * Strings passed in are copied. Not thread-safe; any loop. */
#ifndef PARLEY_XML_H
#define PARLEY_XML_H

#include "sbuf.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct xml_attr {
    char *name;
    char *value;
    char *attr_ns; /* NULL except for prefixed attributes outside xml: */
} xml_attr;

typedef struct xml_node xml_node;
struct xml_node {
    char *name; /* NULL for a text node */
    char *ns;   /* element namespace; NULL for a text node */
    char *text; /* text node content (NUL-terminated, may contain no NUL) */
    size_t text_len;
    xml_attr *attrs;
    size_t nattrs, attrs_cap;
    xml_node **children;
    size_t nchildren, children_cap;
    xml_node *parent; /* borrowed back-pointer, NULL for a root */
};

#define XMLNS_STREAM "http://etherx.jabber.org/streams"
#define XMLNS_CLIENT "jabber:client"
#define XMLNS_XML "http://www.w3.org/XML/1998/namespace"

/* New element; ns NULL means "". Caller owns the result. */
xml_node *xml_new(const char *name, const char *ns);
/* Appends a new element child; ns NULL inherits parent's namespace.
 * Returns the child, owned by parent. */
xml_node *xml_add_child(xml_node *parent, const char *name, const char *ns);
/* Appends an existing tree as the last child; parent takes ownership. */
void xml_append(xml_node *parent, xml_node *child);
/* Detaches child from its parent (ownership passes to the caller). */
void xml_detach(xml_node *child);
/* Appends text (merged into a trailing text node if there is one). */
void xml_add_text(xml_node *parent, const char *text, size_t len);
/* Sets (value != NULL) or removes (value == NULL) an attribute. */
void xml_set_attr(xml_node *node, const char *name, const char *value);
/* Returns the attribute's value (borrowed) or NULL. */
const char *xml_attr_get(const xml_node *node, const char *name);
/* First element child matching name and ns (either NULL = any), or NULL. */
xml_node *xml_child(const xml_node *node, const char *name, const char *ns);
/* Next element child after prev (NULL = from the start) matching name/ns. */
xml_node *xml_next_child(const xml_node *node, const xml_node *prev, const char *name,
                         const char *ns);
/* Number of element children. */
size_t xml_element_count(const xml_node *node);
/* All text directly under node, concatenated; caller frees. len may be NULL. */
char *xml_text(const xml_node *node, size_t *len);
/* Deep copy; caller owns it. */
xml_node *xml_copy(const xml_node *node);
/* Frees node and its subtree; NULL is fine. Detach first if it has a parent. */
void xml_free(xml_node *node);
/* Serializes node into out. parent_ns is the namespace in scope where node
 * is written (e.g. the stream's default "jabber:client"); xmlns is written
 * only where the element's namespace differs. */
void xml_serialize(const xml_node *node, const char *parent_ns, sbuf *out);
/* Convenience: malloc'd serialization, length in *len if len != NULL. */
char *xml_to_string(const xml_node *node, const char *parent_ns, size_t *len);

#endif
