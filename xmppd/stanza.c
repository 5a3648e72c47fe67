#include "stanza.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

const char *stanza_type(const xml_node *st)
{
    const char *t = xml_attr_get(st, "type");
    return t ? t : "";
}

bool stanza_is_stanza(const xml_node *st)
{
    return st->name && (strcmp(st->name, "message") == 0 || strcmp(st->name, "presence") == 0 ||
                        strcmp(st->name, "iq") == 0);
}

static const char *stanza_error_type_for(const char *cond)
{
    static const struct {
        const char *cond, *type;
    } map[] = {
        {"bad-request", "modify"},         {"jid-malformed", "modify"},
        {"not-acceptable", "modify"},      {"policy-violation", "modify"},
        {"not-authorized", "auth"},        {"forbidden", "auth"},
        {"registration-required", "auth"}, {"subscription-required", "auth"},
        {"internal-server-error", "wait"}, {"resource-constraint", "wait"},
        {"remote-server-timeout", "wait"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].cond, cond) == 0)
            return map[i].type;
    return "cancel";
}

xml_node *stanza_make_error(xml_node *st, const char *etype, const char *cond, const char *text)
{
    char *to = xml_attr_get(st, "to") ? xstrdup(xml_attr_get(st, "to")) : NULL;
    char *from = xml_attr_get(st, "from") ? xstrdup(xml_attr_get(st, "from")) : NULL;
    xml_set_attr(st, "to", from);
    xml_set_attr(st, "from", to);
    free(to);
    free(from);
    xml_set_attr(st, "type", "error");
    xml_node *err = xml_add_child(st, "error", NULL);
    xml_set_attr(err, "type", etype ? etype : stanza_error_type_for(cond));
    xml_add_child(err, cond, XMLNS_STANZAS);
    if (text) {
        xml_node *t = xml_add_child(err, "text", XMLNS_STANZAS);
        xml_set_attr(t, "xml:lang", "en");
        xml_add_text(t, text, strlen(text));
    }
    return st;
}

xml_node *stanza_iq_result(const xml_node *iq)
{
    xml_node *r = xml_new("iq", iq->ns);
    xml_set_attr(r, "type", "result");
    xml_set_attr(r, "id", xml_attr_get(iq, "id"));
    xml_set_attr(r, "to", xml_attr_get(iq, "from"));
    xml_set_attr(r, "from", xml_attr_get(iq, "to"));
    return r;
}

xml_node *stanza_iq_payload(const xml_node *iq)
{
    return xml_element_count(iq) == 1 ? xml_child(iq, NULL, NULL) : NULL;
}

bool stanza_no_error_reply(const xml_node *st)
{
    const char *t = stanza_type(st);
    return strcmp(t, "error") == 0 || (strcmp(st->name, "iq") == 0 && strcmp(t, "result") == 0);
}

void stanza_standalone(const struct iovec *v, int n, sbuf *out)
{
    sbuf el;
    sbuf_init(&el);
    for (int i = 0; i < n; i++)
        sbuf_add(&el, v[i].iov_base, v[i].iov_len);
    size_t name_end = 1;
    while (name_end < el.len && el.data[name_end] != ' ' && el.data[name_end] != '>' &&
           el.data[name_end] != '/')
        name_end++;
    const char *tag_end = el.len ? memchr(el.data, '>', el.len) : NULL;
    size_t tag_len = tag_end ? (size_t)(tag_end - el.data) : el.len;
    const char *decl = NULL;
    if (el.len > 8 && strncmp(el.data, "<stream:", 8) == 0)
        decl = " xmlns:stream='http://etherx.jabber.org/streams'";
    else if (el.len && !memmem(el.data, tag_len, " xmlns=", 7))
        decl = " xmlns='jabber:client'";
    if (decl) {
        sbuf_add(out, el.data, name_end);
        sbuf_adds(out, decl);
        sbuf_add(out, el.data + name_end, el.len - name_end);
    } else {
        sbuf_add(out, el.data ? el.data : "", el.len);
    }
    sbuf_free(&el);
}
