/* muc_history: the last MUC_HISTORY_LENGTH groupchat messages of a room,
 * replayed to each joiner (with <delay/>), narrowed by the join's
 * <history maxstanzas maxchars seconds since/>. */
#include "muc_room.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void muc_history_free(muc_room *r)
{
    for (size_t i = 0; i < r->hist_len; i++)
        free(r->history[(r->hist_head + i) % r->hist_cap].xml);
    free(r->history);
    r->history = NULL;
    r->hist_len = r->hist_head = 0;
}

static void muc_stamp(time_t t, char *buf, size_t n)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void muc_history_message(muc_room *r, const xml_node *msg)
{
    size_t cap = (size_t)r->svc->srv->set.muc_history_length;
    if (cap == 0)
        return;
    if (!r->history) {
        r->hist_cap = cap;
        r->history = xcalloc(cap, sizeof *r->history);
    }
    xml_node *m = xml_copy(msg);
    time_t now = time(NULL);
    char stamp[32];
    muc_stamp(now, stamp, sizeof stamp);
    xml_node *d = xml_add_child(m, "delay", XMLNS_DELAY);
    xml_set_attr(d, "from", r->jid);
    xml_set_attr(d, "stamp", stamp);
    muc_history_entry e;
    e.xml = xml_to_string(m, XMLNS_CLIENT, &e.len);
    e.chars = e.len;
    e.at = now;
    xml_free(m);
    if (r->hist_len == r->hist_cap) {
        free(r->history[r->hist_head].xml);
        r->history[r->hist_head] = e;
        r->hist_head = (r->hist_head + 1) % r->hist_cap;
    } else {
        r->history[(r->hist_head + r->hist_len++) % r->hist_cap] = e;
    }
}

/* Parses an XEP-0082 date-time (YYYY-MM-DDThh:mm:ss[.sss]Z); -1 if bad. */
static time_t muc_parse_stamp(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end)
        return -1;
    if (*end == '.')
        while (*++end >= '0' && *end <= '9')
            ;
    if (*end != 'Z' && *end != '\0')
        return -1;
    return timegm(&tm);
}

void muc_history_joined(muc_room *r, muc_occupant *o, const char *full, const xml_node *x)
{
    (void)o;
    xml_node *h = xml_child(x, "history", XMLNS_MUC);
    long maxstanzas = (long)r->hist_len, maxchars = -1, seconds = -1;
    time_t since = 0;
    if (h) {
        const char *v;
        if ((v = xml_attr_get(h, "maxstanzas")))
            maxstanzas = strtol(v, NULL, 10);
        if ((v = xml_attr_get(h, "maxchars")))
            maxchars = strtol(v, NULL, 10);
        if ((v = xml_attr_get(h, "seconds")))
            seconds = strtol(v, NULL, 10);
        if ((v = xml_attr_get(h, "since"))) {
            time_t t = muc_parse_stamp(v);
            if (t > 0)
                since = t;
        }
    }
    if (maxstanzas < 0)
        maxstanzas = 0;
    time_t now = time(NULL);
    /* walk back from the newest while the limits allow, then send in order */
    size_t take = 0;
    long chars = 0;
    while (take < r->hist_len && (long)take < maxstanzas) {
        muc_history_entry *e = &r->history[(r->hist_head + r->hist_len - 1 - take) % r->hist_cap];
        if (seconds >= 0 && now - e->at > seconds)
            break;
        if (since && e->at < since)
            break;
        if (maxchars >= 0 && chars + (long)e->chars > maxchars)
            break;
        chars += (long)e->chars;
        take++;
    }
    for (size_t i = r->hist_len - take; i < r->hist_len; i++) {
        muc_history_entry *e = &r->history[(r->hist_head + i) % r->hist_cap];
        muc_send_raw(r->svc->srv, full, e->xml, e->len);
    }
}
