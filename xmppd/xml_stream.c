/* xml_stream: the incremental, hostile-input-safe XML stream parser (see
 * xml_stream.h).
 *
 * Expat runs with namespace processing (names arrive as
 * "URI<sep>LOCAL<sep>PREFIX"), forced UTF-8 input (RFC 6120 section 11.6;
 * an encoding in the XML declaration is ignored) and reparse deferral off,
 * so every complete token is reported as soon as its last byte is fed (an
 * XMPP peer waits for our answer; deferral would hold stanzas back).
 *
 * Byte accounting: `fed` counts the bytes given to the current expat
 * parser and `mark` is the offset just past the last top-level boundary
 * (end of the stream header, end of a stanza, end of text between
 * stanzas), both in expat's byte-index space. Before a piece of input goes
 * to expat, fed - mark + piece must stay within max_stanza, so neither
 * expat nor the tree under construction ever holds more than max_stanza
 * bytes of one stanza. Without deferral, a start tag that arrives in many
 * small reads is rescanned by expat on each read; the cost per read is
 * bounded by max_stanza.
 *
 * Idle memory: an expat parser holds about 10 KiB once it has seen a
 * stream header. So when a feed() ends exactly on a top-level boundary
 * inside the stream (nothing buffered), the parser is freed and only a
 * synthetic copy of the stream header's start tag is kept (its qualified
 * name and namespace declarations, the only context a stanza can depend
 * on). The next feed() creates a parser and silently replays that tag
 * before the new bytes. The parser is also created lazily at the first
 * feed() and after a restart. */
#include "xml_stream.h"
#include "util.h"

#include <expat.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Separates URI, local name and prefix; never part of valid UTF-8. */
#define XS_SEP '\xFF'
/* Smallest piece handed to expat at once (larger when a big stanza is
 * being buffered, so that its partial token is rescanned O(log n) times
 * per feed, not O(n / piece)). Expat's input buffer grows to about twice
 * the piece plus 1 KiB of context. */
#define XS_PIECE 4096
#define XS_PIECE_MAX (1 << 30) /* XML_Parse takes an int */
/* Stanzas up to this size may arrive in any number of pieces. */
#define XS_TRICKLE_FREE 4096
/* Text buffers bigger than this are freed after each stanza. */
#define XS_TEXT_KEEP 256

struct xml_stream {
    XML_Parser p; /* NULL until needed, while idle, and once halted or failed */
    xml_stream_limits lim;
    xml_stream_callbacks cb;
    void *ud;
    xml_stream_error err;
    bool halted;
    bool restart;     /* restart requested from a callback */
    bool in_feed;     /* inside xml_stream_feed, so callbacks may be running */
    bool replaying;   /* parsing the synthetic header: no callbacks */
    bool in_cdata;    /* inside a CDATA section */
    unsigned depth;   /* open elements, the stream element included */
    unsigned ndecls;  /* namespace declarations on the pending start tag */
    char *default_ns; /* default namespace declared on the pending header */
    sbuf decls;       /* the pending header's declarations, as markup */
    char *replay;     /* synthetic header start tag, once one was seen */
    size_t replay_len;
    long long fed, mark;  /* see the top of the file */
    long long pass_mark;  /* the mark the pass count below belongs to */
    unsigned long passes; /* XML_Parse calls since pass_mark */
    xml_node *root, *cur;
    sbuf text; /* character data not yet added to cur */
};

typedef struct xml_stream_name {
    const char *ns, *local, *prefix;
    size_t ns_len, local_len, prefix_len;
} xml_stream_name;

/* Splits an expat name "LOCAL", "URI<sep>LOCAL" or "URI<sep>LOCAL<sep>PREFIX". */
static void xml_stream_split(const char *s, xml_stream_name *n)
{
    const char *a = strchr(s, XS_SEP);
    n->prefix = NULL;
    n->prefix_len = 0;
    if (!a) {
        n->ns = "";
        n->ns_len = 0;
        n->local = s;
        n->local_len = strlen(s);
        return;
    }
    n->ns = s;
    n->ns_len = (size_t)(a - s);
    n->local = a + 1;
    const char *b = strchr(n->local, XS_SEP);
    if (!b) {
        n->local_len = strlen(n->local);
        return;
    }
    n->local_len = (size_t)(b - n->local);
    n->prefix = b + 1;
    n->prefix_len = strlen(n->prefix);
}

static bool xml_stream_eq(const char *s, size_t len, const char *lit)
{
    return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

static char *xml_stream_join(const char *a, size_t alen, const char *b, size_t blen)
{
    char *s = xmalloc(alen + 1 + blen + 1);
    memcpy(s, a, alen);
    s[alen] = ':';
    memcpy(s + alen + 1, b, blen);
    s[alen + 1 + blen] = '\0';
    return s;
}

/* Appends an attribute, taking ownership of name and attr_ns. */
static void xml_stream_push_attr(xml_node *node, char *name, const char *value, char *attr_ns)
{
    if (node->nattrs == node->attrs_cap) {
        node->attrs_cap = node->attrs_cap ? node->attrs_cap * 2 : 4;
        node->attrs = xrealloc(node->attrs, node->attrs_cap * sizeof(xml_attr));
    }
    xml_attr *a = &node->attrs[node->nattrs++];
    a->name = name;
    a->value = xstrdup(value);
    a->attr_ns = attr_ns;
}

/* Builds a detached element from expat's name and attribute list. */
static xml_node *xml_stream_element(const char *name, const char **atts, size_t nattrs)
{
    xml_stream_name n;
    xml_stream_split(name, &n);
    xml_node *node = xcalloc(1, sizeof(xml_node));
    node->name = xstrndup(n.local, n.local_len);
    node->ns = xstrndup(n.ns, n.ns_len);
    if (nattrs) {
        node->attrs = xmalloc(nattrs * sizeof(xml_attr));
        node->attrs_cap = nattrs;
    }
    for (size_t i = 0; i < nattrs; i++) {
        xml_stream_split(atts[2 * i], &n);
        char *aname, *attr_ns = NULL;
        if (n.ns_len == 0) {
            aname = xstrndup(n.local, n.local_len);
        } else if (xml_stream_eq(n.ns, n.ns_len, XMLNS_XML)) {
            aname = xml_stream_join("xml", 3, n.local, n.local_len);
        } else {
            aname = n.prefix ? xml_stream_join(n.prefix, n.prefix_len, n.local, n.local_len)
                             : xstrndup(n.local, n.local_len);
            attr_ns = xstrndup(n.ns, n.ns_len);
        }
        xml_stream_push_attr(node, aname, atts[2 * i + 1], attr_ns);
    }
    return node;
}

static bool xml_stream_active(const xml_stream *xs)
{
    return !xs->err && !xs->halted && !xs->restart;
}

/* Records the first error and stops expat; only from inside a handler. */
static void xml_stream_fail(xml_stream *xs, xml_stream_error err)
{
    if (!xml_stream_active(xs))
        return;
    xs->err = err;
    XML_StopParser(xs->p, XML_FALSE);
}

/* Moves the boundary to the end of the current expat event. */
static void xml_stream_set_mark(xml_stream *xs)
{
    long long end = (long long)XML_GetCurrentByteIndex(xs->p) + XML_GetCurrentByteCount(xs->p);
    if (end > xs->mark)
        xs->mark = end;
}

static void xml_stream_flush_text(xml_stream *xs)
{
    if (!xs->text.len)
        return;
    xml_add_text(xs->cur, xs->text.data, xs->text.len);
    sbuf_reset(&xs->text);
}

/* Appends s as an attribute value that parses back to exactly s. */
static void xml_stream_add_escaped(sbuf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            sbuf_adds(b, "&amp;");
            break;
        case '<':
            sbuf_adds(b, "&lt;");
            break;
        case '\'':
            sbuf_adds(b, "&apos;");
            break;
        case '\t':
            sbuf_adds(b, "&#9;");
            break;
        case '\n':
            sbuf_adds(b, "&#10;");
            break;
        case '\r':
            sbuf_adds(b, "&#13;");
            break;
        default:
            sbuf_addc(b, *s);
        }
    }
}

/* Drops the parser (if any) and all per-document state; the error and
 * halted flags stay. */
static void xml_stream_clear(xml_stream *xs)
{
    if (xs->p)
        XML_ParserFree(xs->p);
    xs->p = NULL;
    xml_free(xs->root);
    xs->root = xs->cur = NULL;
    sbuf_free(&xs->text);
    sbuf_free(&xs->decls);
    free(xs->default_ns);
    xs->default_ns = NULL;
    free(xs->replay);
    xs->replay = NULL;
    xs->replay_len = 0;
    xs->ndecls = 0;
    xs->depth = 0;
    xs->fed = xs->mark = 0;
    xs->pass_mark = 0;
    xs->passes = 0;
    xs->restart = false;
    xs->in_cdata = false;
}

static void XMLCALL xml_stream_on_nsdecl(void *ud, const XML_Char *prefix, const XML_Char *uri)
{
    xml_stream *xs = ud;
    if (xs->ndecls < (unsigned)-1)
        xs->ndecls++;
    if (xs->depth != 0 || xs->replaying || !xml_stream_active(xs))
        return;
    sbuf_adds(&xs->decls, prefix ? " xmlns:" : " xmlns");
    if (prefix)
        sbuf_adds(&xs->decls, prefix);
    sbuf_adds(&xs->decls, "='");
    xml_stream_add_escaped(&xs->decls, uri ? uri : "");
    sbuf_addc(&xs->decls, '\'');
    if (!prefix) {
        free(xs->default_ns);
        xs->default_ns = xstrdup(uri ? uri : "");
    }
}

/* The root element: checks it is a stream header, keeps its replay copy
 * and reports it to open(). */
static void xml_stream_open(xml_stream *xs, const char *name, const char **atts, size_t nattrs,
                            char *default_ns)
{
    xml_stream_name n;
    xml_stream_split(name, &n);
    if (!xml_stream_eq(n.local, n.local_len, "stream") ||
        !xml_stream_eq(n.ns, n.ns_len, XMLNS_STREAM)) {
        xml_stream_fail(xs, XS_ERR_BAD_NAMESPACE);
        return;
    }
    xs->depth = 1;
    xml_stream_set_mark(xs);
    if (xs->replaying)
        return;
    sbuf r;
    sbuf_init(&r);
    sbuf_addc(&r, '<');
    if (n.prefix) {
        sbuf_add(&r, n.prefix, n.prefix_len);
        sbuf_addc(&r, ':');
    }
    sbuf_adds(&r, "stream");
    sbuf_add(&r, xs->decls.data ? xs->decls.data : "", xs->decls.len);
    sbuf_addc(&r, '>');
    sbuf_free(&xs->decls);
    free(xs->replay);
    xs->replay = sbuf_steal(&r, &xs->replay_len);

    xml_node *header = xml_stream_element(name, atts, nattrs);
    if (default_ns && *default_ns) { /* first, as on the wire */
        xml_set_attr(header, "xmlns", default_ns);
        xml_attr a = header->attrs[header->nattrs - 1];
        memmove(&header->attrs[1], &header->attrs[0], (header->nattrs - 1) * sizeof(xml_attr));
        header->attrs[0] = a;
    }
    if (xs->cb.open)
        xs->cb.open(xs->ud, header);
    xml_free(header);
}

static void XMLCALL xml_stream_on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    xml_stream *xs = ud;
    unsigned ndecls = xs->ndecls;
    char *default_ns = xs->default_ns;
    xs->ndecls = 0;
    xs->default_ns = NULL;
    if (!xml_stream_active(xs))
        goto out;
    size_t nattrs = 0;
    while (atts[2 * nattrs])
        nattrs++;
    if (nattrs + ndecls > xs->lim.max_attrs) {
        xml_stream_fail(xs, XS_ERR_TOO_MANY_ATTRS);
        goto out;
    }
    if (xs->depth == 0) {
        xml_stream_open(xs, name, atts, nattrs, default_ns);
        goto out;
    }
    if (xs->depth > xs->lim.max_depth) { /* the new element is at depth xs->depth */
        xml_stream_fail(xs, XS_ERR_TOO_DEEP);
        goto out;
    }
    xml_node *node = xml_stream_element(name, atts, nattrs);
    if (xs->cur) {
        xml_stream_flush_text(xs);
        xml_append(xs->cur, node);
    } else {
        xs->root = node;
    }
    xs->cur = node;
    xs->depth++;
out:
    free(default_ns);
}

static void XMLCALL xml_stream_on_end(void *ud, const XML_Char *name)
{
    xml_stream *xs = ud;
    if (!xml_stream_active(xs) || xs->depth == 0)
        return;
    if (xs->depth == 1) {
        xs->depth = 0;
        xml_stream_set_mark(xs);
        if (xs->cb.close)
            xs->cb.close(xs->ud);
        return;
    }
    xml_stream_flush_text(xs);
    if (--xs->depth > 1) {
        xs->cur = xs->cur->parent;
        return;
    }
    xml_node *stanza = xs->root;
    xs->root = xs->cur = NULL;
    xml_stream_set_mark(xs);
    if (xs->text.cap > XS_TEXT_KEEP)
        sbuf_free(&xs->text);
    if (xs->cb.stanza)
        xs->cb.stanza(xs->ud, stanza);
    else
        xml_free(stanza);
}

static void XMLCALL xml_stream_on_text(void *ud, const XML_Char *s, int len)
{
    xml_stream *xs = ud;
    if (!xml_stream_active(xs) || len <= 0)
        return;
    if (xs->depth >= 2)
        sbuf_add(&xs->text, s, (size_t)len);
    else if (xs->depth == 1 && !xs->in_cdata) /* keepalive whitespace between stanzas */
        xml_stream_set_mark(xs);
}

/* A CDATA section between stanzas counts as one unit: the boundary moves
 * only at its end, so the parser is never dropped inside one. */
static void XMLCALL xml_stream_on_cdata_start(void *ud)
{
    xml_stream *xs = ud;
    xs->in_cdata = true;
}

static void XMLCALL xml_stream_on_cdata_end(void *ud)
{
    xml_stream *xs = ud;
    xs->in_cdata = false;
    if (xml_stream_active(xs) && xs->depth == 1)
        xml_stream_set_mark(xs);
}

static void XMLCALL xml_stream_on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                                          const XML_Char *pubid, int has_internal_subset)
{
    xml_stream_fail(ud, XS_ERR_RESTRICTED);
}

static void XMLCALL xml_stream_on_entity(void *ud, const XML_Char *name, int is_param,
                                         const XML_Char *value, int value_len, const XML_Char *base,
                                         const XML_Char *sysid, const XML_Char *pubid,
                                         const XML_Char *notation)
{
    xml_stream_fail(ud, XS_ERR_RESTRICTED);
}

static void XMLCALL xml_stream_on_pi(void *ud, const XML_Char *target, const XML_Char *data)
{
    xml_stream_fail(ud, XS_ERR_RESTRICTED);
}

static void XMLCALL xml_stream_on_comment(void *ud, const XML_Char *data)
{
    xml_stream_fail(ud, XS_ERR_RESTRICTED);
}

static xml_stream_error xml_stream_map_error(enum XML_Error e)
{
    switch (e) {
    case XML_ERROR_NO_MEMORY:
        return XS_ERR_TOO_BIG;
    default:
        return XS_ERR_NOT_WELL_FORMED;
    }
}

/* Creates the expat parser, and if a stream header was already seen,
 * replays it (without callbacks) so the new parser is inside the stream
 * again with the same namespace declarations in scope. */
static void xml_stream_create_parser(xml_stream *xs)
{
    XML_Parser p = XML_ParserCreateNS("UTF-8", XS_SEP);
    if (!p)
        fatal("out of memory (expat parser)");
    XML_SetUserData(p, xs);
    XML_SetReturnNSTriplet(p, 1);
    XML_SetParamEntityParsing(p, XML_PARAM_ENTITY_PARSING_NEVER);
    /* Expat >= 2.6.0, and Debian's 2.5.0 with the CVE-2023-52425 fix. */
    XML_SetReparseDeferralEnabled(p, XML_FALSE);
    XML_SetElementHandler(p, xml_stream_on_start, xml_stream_on_end);
    XML_SetCharacterDataHandler(p, xml_stream_on_text);
    XML_SetCdataSectionHandler(p, xml_stream_on_cdata_start, xml_stream_on_cdata_end);
    XML_SetStartNamespaceDeclHandler(p, xml_stream_on_nsdecl);
    XML_SetStartDoctypeDeclHandler(p, xml_stream_on_doctype);
    XML_SetEntityDeclHandler(p, xml_stream_on_entity);
    XML_SetProcessingInstructionHandler(p, xml_stream_on_pi);
    XML_SetCommentHandler(p, xml_stream_on_comment);
    xs->p = p;
    xs->fed = xs->mark = 0;
    xs->pass_mark = 0;
    xs->passes = 0;
    if (!xs->replay)
        return;
    xs->replaying = true;
    xs->depth = 0;
    enum XML_Status st = XML_Parse(p, xs->replay, (int)xs->replay_len, XML_FALSE);
    xs->replaying = false;
    xs->fed = (long long)xs->replay_len;
    if (st != XML_STATUS_OK || xs->depth != 1 || xs->mark != xs->fed)
        xs->err = XS_ERR_NOT_WELL_FORMED; /* cannot happen: it parsed before */
}

xml_stream *xml_stream_new(const xml_stream_limits *limits, const xml_stream_callbacks *cbs,
                           void *ud)
{
    xml_stream *xs = xcalloc(1, sizeof(*xs));
    xs->lim = *limits;
    xs->cb = *cbs;
    xs->ud = ud;
    sbuf_init(&xs->text);
    sbuf_init(&xs->decls);
    return xs;
}

/* Not from inside a callback. */
void xml_stream_free(xml_stream *xs)
{
    if (!xs)
        return;
    if (xs->in_feed)
        fatal("xml_stream_free called from a callback");
    xml_stream_clear(xs);
    free(xs);
}

/* Frees the parser of a stream idle on a top-level boundary (see the top
 * of the file); the next feed replays the header. */
static void xml_stream_idle(xml_stream *xs)
{
    XML_ParserFree(xs->p);
    xs->p = NULL;
    sbuf_free(&xs->text);
    xs->fed = xs->mark = 0;
    xs->pass_mark = 0;
    xs->passes = 0;
}

/* Expat detects UTF-16 from the first two bytes of a document (a byte
 * order mark, or a NUL byte) even when told the input is UTF-8; no UTF-8
 * document starts with NUL, 0xFE or 0xFF. data holds n bytes from document
 * offset at. */
static bool xml_stream_utf16(const char *data, size_t n, size_t at)
{
    for (size_t i = 0; at + i < 2 && i < n; i++) {
        unsigned char c = (unsigned char)data[i];
        if (c == 0x00 || c == 0xFE || c == 0xFF)
            return true;
    }
    return false;
}

/* Feeds data in pieces that keep the bytes since the last boundary within
 * max_stanza; see the top of the file. Not reentrant. */
xml_stream_error xml_stream_feed(xml_stream *xs, const char *data, size_t len)
{
    if (xs->in_feed)
        fatal("xml_stream_feed called from a callback");
    if (xs->err || xs->halted || len == 0)
        return xs->err;
    if (!xs->p)
        xml_stream_create_parser(xs);
    xs->in_feed = true;
    while (len > 0 && !xs->err) {
        unsigned long long buffered = (unsigned long long)(xs->fed - xs->mark);
        if (buffered >= xs->lim.max_stanza) {
            xs->err = XS_ERR_TOO_BIG;
            break;
        }
        size_t n = len;
        if (n > xs->lim.max_stanza - buffered)
            n = (size_t)(xs->lim.max_stanza - buffered);
        size_t piece = buffered > XS_PIECE ? (size_t)buffered : XS_PIECE;
        if (piece > XS_PIECE_MAX)
            piece = XS_PIECE_MAX;
        if (n > piece)
            n = piece;
        if (!xs->replay && xs->fed < 2 && xml_stream_utf16(data, n, (size_t)xs->fed)) {
            xs->err = XS_ERR_NOT_WELL_FORMED;
            break;
        }
        if (xs->pass_mark != xs->mark) {
            xs->pass_mark = xs->mark;
            xs->passes = 0;
        }
        if (buffered > XS_TRICKLE_FREE && ++xs->passes > 64 + buffered / 512) {
            xs->err = XS_ERR_TRICKLE;
            break;
        }
        enum XML_Status st = XML_Parse(xs->p, data, (int)n, XML_FALSE);
        xs->fed += (long long)n;
        data += n;
        len -= n;
        if (!xml_stream_active(xs))
            break;
        if (st != XML_STATUS_OK) {
            xs->err = xml_stream_map_error(XML_GetErrorCode(xs->p));
            break;
        }
    }
    xs->in_feed = false;
    if (xs->err || xs->halted || xs->restart)
        xml_stream_clear(xs); /* after a restart the next feed starts afresh */
    else if (xs->depth == 1 && xs->fed == xs->mark && xs->replay)
        xml_stream_idle(xs);
    return xs->err;
}

void xml_stream_restart(xml_stream *xs)
{
    if (xs->err || xs->halted)
        return;
    if (!xs->in_feed) {
        xml_stream_clear(xs);
    } else if (!xs->restart) {
        xs->restart = true;
        XML_StopParser(xs->p, XML_FALSE);
    }
}

void xml_stream_halt(xml_stream *xs)
{
    if (xs->halted)
        return;
    xs->halted = true;
    if (xs->in_feed)
        XML_StopParser(xs->p, XML_FALSE);
    else
        xml_stream_clear(xs);
}

const char *xml_stream_strerror(xml_stream_error err)
{
    switch (err) {
    case XS_OK:
        return "no error";
    case XS_ERR_NOT_WELL_FORMED:
        return "XML not well-formed";
    case XS_ERR_TOO_BIG:
        return "stanza too big";
    case XS_ERR_TOO_DEEP:
        return "elements nested too deeply";
    case XS_ERR_TOO_MANY_ATTRS:
        return "too many attributes";
    case XS_ERR_RESTRICTED:
        return "restricted XML (DOCTYPE, entity, processing instruction or comment)";
    case XS_ERR_BAD_NAMESPACE:
        return "first element is not a stream header";
    case XS_ERR_TRICKLE:
        return "a large stanza arrived in too many tiny pieces";
    }
    return "unknown error";
}
