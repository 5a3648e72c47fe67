/* httpapi: the focus's HTTP port (FOCUS_HTTP_PORT, 8888), Jicofo's paths:
 *   GET /about/health   200 {} when connected to xmppd, in the bridge brewery
 *                       and some bridge is usable; 503 and the reason
 *   GET /about/version  {"name","version"}
 *   GET /stats          conferences, participants, bridges and their state
 *   GET /metrics        Prometheus text, parley_focus_* names */
#include "focus.h"
#include "log.h"
#include "util.h"

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct counter_def {
    const char *name;
    size_t off;
} counter_def;

#define C(field)                                                                                   \
    {                                                                                              \
#field, offsetof(focus_counters, field)                                                    \
    }
static const counter_def counters[] = {
    C(conference_requests), C(conferences_created), C(conferences_ended),  C(participants_joined),
    C(participants_left),   C(sessions_initiated),  C(sessions_accepted),  C(sessions_terminated),
    C(reinvites),           C(source_adds),         C(source_removes),     C(bad_jingle),
    C(colibri_requests),    C(colibri_errors),      C(colibri_timeouts),   C(bridges_failed),
    C(conferences_moved),   C(recordings_started),  C(recordings_stopped), C(mutes),
};
#undef C

static uint64_t counter(const focus *f, const counter_def *d)
{
    uint64_t v;
    memcpy(&v, (const char *)&f->c + d->off, sizeof v);
    return v;
}

static const char *health_problem(focus *f)
{
    if (!f->xmpp || !xmpp_ev_connected(f->xmpp))
        return "not connected to xmppd";
    if (!f->in_jvb_brewery)
        return "not in the bridge brewery";
    if (!bridges_any_usable(f))
        return "no usable bridge";
    return NULL;
}

char *focus_stats_json(focus *f)
{
    json_t *o = json_object();
    int parts = 0, sessions = 0;
    json_t *confs = json_array();
    size_t it = 0;
    hmap_entry *e;
    while ((e = hmap_next(&f->confs, &it))) {
        fconf *c = e->value;
        parts += c->nparts;
        json_t *cj = json_object();
        json_object_set_new(cj, "room", json_string(c->room));
        json_object_set_new(cj, "meeting_id", json_string(c->meeting_id));
        json_object_set_new(cj, "bridge", json_string(c->bridge_occupant));
        json_object_set_new(cj, "recording", json_string(c->rec_status));
        json_t *pj = json_array();
        for (int i = 0; i < c->nparts; i++) {
            participant *p = c->parts[i];
            static const char *states[] = {"none", "allocating", "initiated", "active"};
            sessions += p->state == PS_ACTIVE;
            json_t *one = json_object();
            json_object_set_new(one, "id", json_string(p->epid));
            json_object_set_new(one, "session", json_string(states[p->state]));
            json_object_set_new(one, "moderator", json_boolean(p->moderator));
            json_object_set_new(one, "hidden", json_boolean(p->hidden));
            json_object_set_new(one, "sources", json_integer(p->nsources));
            json_array_append_new(pj, one);
        }
        json_object_set_new(cj, "participants", pj);
        json_array_append_new(confs, cj);
    }
    json_t *bj = json_array();
    it = 0;
    while ((e = hmap_next(&f->bridges, &it))) {
        fbridge *b = e->value;
        json_t *one = json_object();
        json_object_set_new(one, "id", json_string(b->nick));
        json_object_set_new(one, "jid", json_string(b->occupant));
        json_object_set_new(one, "region", json_string(b->region));
        json_object_set_new(one, "stress", json_real(b->stress));
        json_object_set_new(one, "operational", json_boolean(b->operational));
        json_object_set_new(one, "healthy", json_boolean(b->healthy));
        json_object_set_new(one, "drain", json_boolean(b->drain));
        json_object_set_new(one, "conferences", json_integer(b->conferences));
        json_array_append_new(bj, one);
    }
    json_object_set_new(o, "conferences", json_integer((json_int_t)f->confs.len));
    json_object_set_new(o, "participants", json_integer(parts));
    json_object_set_new(o, "active_sessions", json_integer(sessions));
    json_object_set_new(o, "bridge_count", json_integer((json_int_t)f->bridges.len));
    json_object_set_new(o, "recorder_count", json_integer((json_int_t)f->recorders.len));
    json_object_set_new(o, "xmpp_connected", json_boolean(f->xmpp && xmpp_ev_connected(f->xmpp)));
    json_object_set_new(o, "conference_list", confs);
    json_object_set_new(o, "bridges", bj);
    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++)
        json_object_set_new(o, counters[i].name,
                            json_integer((json_int_t)counter(f, &counters[i])));
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return s;
}

static char *metrics(focus *f)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (!out)
        fatal("out of memory");
    int parts = 0;
    size_t it = 0;
    hmap_entry *e;
    while ((e = hmap_next(&f->confs, &it)))
        parts += ((fconf *)e->value)->nparts;
    int usable = 0;
    it = 0;
    while ((e = hmap_next(&f->bridges, &it))) {
        fbridge *b = e->value;
        usable += b->operational && b->healthy && !b->drain;
    }
    fprintf(out, "# TYPE parley_focus_conferences gauge\nparley_focus_conferences %zu\n",
            f->confs.len);
    fprintf(out, "# TYPE parley_focus_participants gauge\nparley_focus_participants %d\n", parts);
    fprintf(out, "# TYPE parley_focus_bridges gauge\nparley_focus_bridges %zu\n", f->bridges.len);
    fprintf(out, "# TYPE parley_focus_bridges_usable gauge\nparley_focus_bridges_usable %d\n",
            usable);
    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++)
        fprintf(out, "# TYPE parley_focus_%s_total counter\nparley_focus_%s_total %llu\n",
                counters[i].name, counters[i].name, (unsigned long long)counter(f, &counters[i]));
    fclose(out);
    return buf;
}

static void focus_http_handler(void *ud, http_request *req)
{
    focus *f = ud;
    const char *p = req->path;
    bool get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
    if (!get &&
        (strncmp(p, "/about/", 7) == 0 || strcmp(p, "/stats") == 0 || strcmp(p, "/metrics") == 0)) {
        http_respond(req, 405, "text/plain", "method not allowed\n", 19, "Allow: GET\r\n");
    } else if (strcmp(p, "/about/health") == 0) {
        const char *why = health_problem(f);
        char body[160];
        snprintf(body, sizeof body, why ? "{\"error\":\"%s\"}" : "{}", why ? why : "");
        http_respond(req, why ? 503 : 200, "application/json", body, strlen(body), NULL);
    } else if (strcmp(p, "/about/version") == 0) {
        static const char v[] = "{\"name\":\"parley-focus\",\"version\":\"" PARLEY_VERSION "\"}";
        http_respond(req, 200, "application/json", v, sizeof v - 1, NULL);
    } else if (strcmp(p, "/stats") == 0) {
        char *s = focus_stats_json(f);
        http_respond(req, 200, "application/json", s, strlen(s), NULL);
        free(s);
    } else if (strcmp(p, "/metrics") == 0) {
        char *s = metrics(f);
        http_respond(req, 200, "text/plain; version=0.0.4", s, strlen(s), NULL);
        free(s);
    } else {
        http_respond(req, 404, "text/plain", "not found\n", 10, NULL);
    }
}

int focus_http_start(focus *f)
{
    if (f->set.http_port == 0)
        return 0;
    http_limits lim = {.max_body = 16 * 1024,
                       .idle_timeout_s = 75,
                       .request_timeout_s = 30,
                       .max_connections = 1024};
    f->http = http_server_new(f->base, &lim, focus_http_handler, f);
    return http_server_listen(f->http, f->set.http_bind, f->set.http_port, NULL);
}
