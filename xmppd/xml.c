/* xml: the element tree every stanza is held in (see xml.h). */
#include "xml.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* Grows a pointer/struct array so that one more item fits. */
static void *xml_grow(void *arr, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return arr;
    size_t ncap = *cap ? *cap * 2 : 4;
    arr = xrealloc(arr, ncap * size);
    *cap = ncap;
    return arr;
}

static xml_node *xml_new_node(void)
{
    return xcalloc(1, sizeof(xml_node));
}

xml_node *xml_new(const char *name, const char *ns)
{
    xml_node *n = xml_new_node();
    n->name = xstrdup(name);
    n->ns = xstrdup(ns ? ns : "");
    return n;
}

static void xml_push_child(xml_node *parent, xml_node *child)
{
    parent->children =
        xml_grow(parent->children, parent->nchildren, &parent->children_cap, sizeof(xml_node *));
    parent->children[parent->nchildren++] = child;
    child->parent = parent;
}

xml_node *xml_add_child(xml_node *parent, const char *name, const char *ns)
{
    xml_node *child = xml_new(name, ns ? ns : parent->ns ? parent->ns : "");
    xml_push_child(parent, child);
    return child;
}

/* Appending a node under itself or one of its descendants would make a
 * cycle: that is a programming error, so it is fatal. A child that still
 * has a parent is detached from it first. */
void xml_append(xml_node *parent, xml_node *child)
{
    for (const xml_node *p = parent; p; p = p->parent)
        if (p == child)
            fatal("xml_append: node appended under itself");
    if (child->parent)
        xml_detach(child);
    xml_push_child(parent, child);
}

void xml_detach(xml_node *child)
{
    xml_node *parent = child->parent;
    if (!parent)
        return;
    for (size_t i = parent->nchildren; i-- > 0;) { /* the last child is the common case */
        if (parent->children[i] != child)
            continue;
        memmove(&parent->children[i], &parent->children[i + 1],
                (parent->nchildren - i - 1) * sizeof(xml_node *));
        parent->nchildren--;
        break;
    }
    child->parent = NULL;
}

void xml_add_text(xml_node *parent, const char *text, size_t len)
{
    if (len == 0)
        return;
    xml_node *last = parent->nchildren ? parent->children[parent->nchildren - 1] : NULL;
    if (last && !last->name) {
        last->text = xrealloc(last->text, last->text_len + len + 1);
        memcpy(last->text + last->text_len, text, len);
        last->text_len += len;
        last->text[last->text_len] = '\0';
        return;
    }
    xml_node *t = xml_new_node();
    t->text = xstrndup(text, len);
    t->text_len = len;
    xml_push_child(parent, t);
}

static xml_attr *xml_find_attr(const xml_node *node, const char *name)
{
    for (size_t i = 0; i < node->nattrs; i++)
        if (strcmp(node->attrs[i].name, name) == 0)
            return &node->attrs[i];
    return NULL;
}

/* A replaced value keeps the attribute's position and attr_ns; a new
 * attribute is appended (attributes are written in insertion order). */
void xml_set_attr(xml_node *node, const char *name, const char *value)
{
    xml_attr *a = xml_find_attr(node, name);
    if (!value) {
        if (!a)
            return;
        size_t i = (size_t)(a - node->attrs);
        free(a->name);
        free(a->value);
        free(a->attr_ns);
        memmove(&node->attrs[i], &node->attrs[i + 1], (node->nattrs - i - 1) * sizeof(xml_attr));
        node->nattrs--;
        return;
    }
    if (a) {
        char *v = xstrdup(value); /* value may point into the old one */
        free(a->value);
        a->value = v;
        return;
    }
    node->attrs = xml_grow(node->attrs, node->nattrs, &node->attrs_cap, sizeof(xml_attr));
    a = &node->attrs[node->nattrs++];
    a->name = xstrdup(name);
    a->value = xstrdup(value);
    a->attr_ns = NULL;
}

/* The read-only accessors accept node == NULL (nothing found), so lookups
 * can be chained: xml_child(xml_child(iq, "bind", ns), "resource", ns). */
const char *xml_attr_get(const xml_node *node, const char *name)
{
    if (!node)
        return NULL;
    const xml_attr *a = xml_find_attr(node, name);
    return a ? a->value : NULL;
}

static bool xml_matches(const xml_node *n, const char *name, const char *ns)
{
    return n->name && (!name || strcmp(n->name, name) == 0) && (!ns || strcmp(n->ns, ns) == 0);
}

xml_node *xml_child(const xml_node *node, const char *name, const char *ns)
{
    return xml_next_child(node, NULL, name, ns);
}

/* Returns NULL if prev is not a child of node. */
xml_node *xml_next_child(const xml_node *node, const xml_node *prev, const char *name,
                         const char *ns)
{
    size_t i = 0;
    if (!node)
        return NULL;
    if (prev) {
        if (prev->parent != node)
            return NULL;
        while (i < node->nchildren && node->children[i] != prev)
            i++;
        i++;
    }
    for (; i < node->nchildren; i++)
        if (xml_matches(node->children[i], name, ns))
            return node->children[i];
    return NULL;
}

size_t xml_element_count(const xml_node *node)
{
    size_t n = 0;
    for (size_t i = 0; node && i < node->nchildren; i++)
        n += node->children[i]->name != NULL;
    return n;
}

/* For a text node, a copy of its own text; for NULL, "". Never returns
 * NULL. */
char *xml_text(const xml_node *node, size_t *len)
{
    if (!node) {
        if (len)
            *len = 0;
        return xstrdup("");
    }
    if (!node->name) {
        if (len)
            *len = node->text_len;
        return xstrndup(node->text ? node->text : "", node->text_len);
    }
    size_t total = 0;
    for (size_t i = 0; i < node->nchildren; i++)
        if (!node->children[i]->name)
            total += node->children[i]->text_len;
    char *out = xmalloc(total + 1), *p = out;
    for (size_t i = 0; i < node->nchildren; i++) {
        const xml_node *c = node->children[i];
        if (!c->name && c->text_len) {
            memcpy(p, c->text, c->text_len);
            p += c->text_len;
        }
    }
    *p = '\0';
    if (len)
        *len = total;
    return out;
}

xml_node *xml_copy(const xml_node *node)
{
    xml_node *n = xml_new_node();
    if (!node->name) {
        n->text = xstrndup(node->text ? node->text : "", node->text_len);
        n->text_len = node->text_len;
        return n;
    }
    n->name = xstrdup(node->name);
    n->ns = xstrdup(node->ns ? node->ns : "");
    if (node->nattrs) {
        n->attrs = xmalloc(node->nattrs * sizeof(xml_attr));
        n->nattrs = n->attrs_cap = node->nattrs;
        for (size_t i = 0; i < node->nattrs; i++) {
            n->attrs[i].name = xstrdup(node->attrs[i].name);
            n->attrs[i].value = xstrdup(node->attrs[i].value);
            n->attrs[i].attr_ns = node->attrs[i].attr_ns ? xstrdup(node->attrs[i].attr_ns) : NULL;
        }
    }
    if (node->nchildren) {
        n->children = xmalloc(node->nchildren * sizeof(xml_node *));
        n->children_cap = node->nchildren;
        for (size_t i = 0; i < node->nchildren; i++) {
            xml_node *c = xml_copy(node->children[i]);
            c->parent = n;
            n->children[n->nchildren++] = c;
        }
    }
    return n;
}

static void xml_free_fields(xml_node *n)
{
    for (size_t i = 0; i < n->nattrs; i++) {
        free(n->attrs[i].name);
        free(n->attrs[i].value);
        free(n->attrs[i].attr_ns);
    }
    free(n->attrs);
    free(n->children);
    free(n->name);
    free(n->ns);
    free(n->text);
    free(n);
}

/* Iterative (children are popped from the back, parent pointers lead the
 * way up), so a deep tree cannot exhaust the stack. A node that still has
 * a parent is detached first. */
void xml_free(xml_node *node)
{
    if (!node)
        return;
    xml_detach(node);
    xml_node *cur = node;
    for (;;) {
        if (cur->nchildren) {
            cur = cur->children[--cur->nchildren];
            continue;
        }
        xml_node *up = cur->parent;
        xml_free_fields(cur);
        if (cur == node)
            return;
        cur = up;
    }
}

/* Escapes & < > " ' and also the characters a parser would not read back
 * as they are: CR in text (it becomes LF), TAB, LF and CR in attribute
 * values (they become spaces). */
static void xml_escape(sbuf *out, const char *s, size_t len, bool in_attr)
{
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        const char *rep;
        if (s[i] == '\r')
            rep = "&#13;";
        else if (in_attr && s[i] == '\n')
            rep = "&#10;";
        else if (in_attr && s[i] == '\t')
            rep = "&#9;";
        else
            continue;
        sbuf_add_xml_escaped(out, s + start, i - start);
        sbuf_adds(out, rep);
        start = i + 1;
    }
    sbuf_add_xml_escaped(out, s + start, len - start);
}

static void xml_add_quoted(sbuf *out, const char *name, const char *value)
{
    sbuf_addc(out, ' ');
    sbuf_adds(out, name);
    sbuf_adds(out, "='");
    xml_escape(out, value, strlen(value), true);
    sbuf_addc(out, '\'');
}

static bool xml_is_nsdecl(const char *name)
{
    return strcmp(name, "xmlns") == 0 || strncmp(name, "xmlns:", 6) == 0;
}

/* Writes xmlns:PREFIX='attr_ns' for attribute i unless an earlier
 * attribute of the element already declared that prefix. */
static void xml_declare_attr_prefix(const xml_node *node, size_t i, sbuf *out)
{
    const xml_attr *a = &node->attrs[i];
    const char *colon = strchr(a->name, ':');
    if (!a->attr_ns || !colon)
        return;
    size_t plen = (size_t)(colon - a->name);
    if (plen == 3 && strncmp(a->name, "xml", 3) == 0)
        return;
    for (size_t j = 0; j < i; j++) {
        const xml_attr *b = &node->attrs[j];
        if (b->attr_ns && strncmp(b->name, a->name, plen + 1) == 0)
            return;
    }
    sbuf_adds(out, " xmlns:");
    sbuf_add(out, a->name, plen);
    sbuf_adds(out, "='");
    xml_escape(out, a->attr_ns, strlen(a->attr_ns), true);
    sbuf_addc(out, '\'');
}

/* Attributes named xmlns or xmlns:* are not written: namespace
 * declarations are derived from the ns and attr_ns fields. parent_ns is the
 * default namespace in scope. The XML namespace cannot be declared as a
 * default namespace, so elements in it are written with the predeclared
 * prefix, as xml:NAME, and leave the default namespace alone. */
void xml_serialize(const xml_node *node, const char *parent_ns, sbuf *out)
{
    if (!node->name) {
        xml_escape(out, node->text ? node->text : "", node->text_len, false);
        return;
    }
    const char *ns = node->ns ? node->ns : "";
    const char *scope = parent_ns ? parent_ns : "";
    bool xml_ns = strcmp(ns, XMLNS_XML) == 0;
    const char *prefix = xml_ns ? "xml:" : "";
    sbuf_addc(out, '<');
    sbuf_adds(out, prefix);
    sbuf_adds(out, node->name);
    if (!xml_ns && strcmp(ns, scope) != 0) {
        xml_add_quoted(out, "xmlns", ns);
        scope = ns;
    }
    for (size_t i = 0; i < node->nattrs; i++) {
        if (xml_is_nsdecl(node->attrs[i].name))
            continue;
        xml_declare_attr_prefix(node, i, out);
        xml_add_quoted(out, node->attrs[i].name, node->attrs[i].value);
    }
    if (!node->nchildren) {
        sbuf_adds(out, "/>");
        return;
    }
    sbuf_addc(out, '>');
    for (size_t i = 0; i < node->nchildren; i++)
        xml_serialize(node->children[i], scope, out);
    sbuf_adds(out, "</");
    sbuf_adds(out, prefix);
    sbuf_adds(out, node->name);
    sbuf_addc(out, '>');
}

char *xml_to_string(const xml_node *node, const char *parent_ns, size_t *len)
{
    sbuf b;
    sbuf_init(&b);
    xml_serialize(node, parent_ns, &b);
    return sbuf_steal(&b, len);
}
