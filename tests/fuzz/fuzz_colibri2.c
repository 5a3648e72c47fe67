/* fuzz_colibri2: libFuzzer target for common/colibri2.c. Parses the input
 * as XML with libstrophe, takes the <conference-modify> (the root or one of
 * its children) and runs c2_parse_request on it. Aborts if an invariant
 * breaks: a failed parse must leave the request zeroed and say why with a
 * condition; a successful one must respect every bound, and rebuilding it
 * with c2_build_request must parse again to the same request. The same is
 * done for a <conference-modified> with c2_parse_modified and
 * c2_build_modified. The libstrophe context is created on the first call
 * and kept for the process (a static is acceptable in a fuzz target only):
 * every stanza is released before returning, so nothing leaks per input. */
#include "colibri2.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(c)                                                                             \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

/* The first element named name in jitsi:colibri2: s itself or a child. */
static xmpp_stanza_t *fuzz_find(xmpp_stanza_t *s, const char *name)
{
    const char *n = xmpp_stanza_get_name(s);
    if (n && !strcmp(n, name))
        return s;
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(s); c; c = xmpp_stanza_get_next(c)) {
        n = xmpp_stanza_get_name(c);
        if (xmpp_stanza_is_tag(c) && n && !strcmp(n, name))
            return c;
    }
    return NULL;
}

static void fuzz_check_request(const c2_request *r)
{
    FUZZ_ASSERT(r->meeting_id[0] && !(r->create && r->expire));
    FUZZ_ASSERT(r->n_endpoints <= C2_MAX_ENDPOINTS && (r->n_endpoints == 0) == !r->endpoints);
    for (size_t i = 0; i < r->n_endpoints; i++) {
        const c2_endpoint *ep = &r->endpoints[i];
        FUZZ_ASSERT(ep->id[0] && strlen(ep->id) <= C2_ID_MAX && !(ep->create && ep->expire));
        FUZZ_ASSERT(!ep->create || ep->capabilities.source_names);
        FUZZ_ASSERT(ep->n_media <= C2_MAX_MEDIA && ep->n_media_sources <= C2_MAX_MEDIA_SOURCES);
        for (size_t j = 0; j < i; j++)
            FUZZ_ASSERT(strcmp(ep->id, r->endpoints[j].id) != 0);
        const c2_transport *t = &ep->transport;
        FUZZ_ASSERT(t->n_candidates <= C2_MAX_CANDIDATES);
        FUZZ_ASSERT(t->n_fingerprints <= C2_MAX_FINGERPRINTS);
        FUZZ_ASSERT(!(t->n_candidates || t->n_fingerprints) || (t->ufrag[0] && t->pwd[0]));
        for (size_t j = 0; j < t->n_candidates; j++)
            FUZZ_ASSERT(t->candidates[j].port != 0 && t->candidates[j].component != 0);
        for (size_t m = 0; m < ep->n_media_sources; m++) {
            const c2_media_source *ms = &ep->media_sources[m];
            FUZZ_ASSERT(ms->n_sources <= C2_MAX_SOURCES && ms->n_groups <= C2_MAX_GROUPS);
            for (size_t k = 0; k < ms->n_sources; k++)
                FUZZ_ASSERT(ms->sources[k].ssrc != 0);
            for (size_t g = 0; g < ms->n_groups; g++)
                FUZZ_ASSERT(ms->groups[g].n_ssrcs >= 1 &&
                            ms->groups[g].n_ssrcs <= C2_MAX_GROUP_SSRCS);
        }
    }
}

static void fuzz_request(xmpp_ctx_t *ctx, xmpp_stanza_t *root)
{
    xmpp_stanza_t *cm = fuzz_find(root, "conference-modify");
    if (!cm)
        return;
    c2_request r;
    c2_error e;
    if (c2_parse_request(cm, &r, &e) != 0) {
        FUZZ_ASSERT(r.endpoints == NULL && r.n_endpoints == 0 && e.condition[0] && e.type[0]);
        xmpp_stanza_t *iq = c2_build_error_iq(ctx, root, &e);
        FUZZ_ASSERT(iq != NULL);
        xmpp_stanza_release(iq);
        return;
    }
    fuzz_check_request(&r);

    xmpp_stanza_t *built = c2_build_request(ctx, &r);
    c2_request r2;
    FUZZ_ASSERT(c2_parse_request(built, &r2, &e) == 0);
    FUZZ_ASSERT(r2.n_endpoints == r.n_endpoints);
    FUZZ_ASSERT(!strcmp(r2.meeting_id, r.meeting_id) && !strcmp(r2.name, r.name));
    FUZZ_ASSERT(r2.create == r.create && r2.expire == r.expire);
    for (size_t i = 0; i < r.n_endpoints; i++) {
        /* unknown capabilities are not rebuilt */
        r.endpoints[i].capabilities.n_unknown = 0;
        FUZZ_ASSERT(memcmp(&r.endpoints[i], &r2.endpoints[i], sizeof r.endpoints[i]) == 0);
    }
    c2_request_free(&r2);
    xmpp_stanza_release(built);
    c2_request_free(&r);
}

static void fuzz_answer(xmpp_ctx_t *ctx, xmpp_stanza_t *root)
{
    xmpp_stanza_t *cm = fuzz_find(root, "conference-modified");
    if (!cm)
        return;
    c2_answer a, b;
    c2_error e;
    if (c2_parse_modified(cm, &a, &e) != 0) {
        FUZZ_ASSERT(a.endpoints == NULL && a.n_endpoints == 0 && e.condition[0]);
        return;
    }
    FUZZ_ASSERT(a.n_endpoints <= C2_MAX_ENDPOINTS);
    xmpp_stanza_t *built = c2_build_modified(ctx, &a);
    FUZZ_ASSERT(c2_parse_modified(built, &b, &e) == 0);
    FUZZ_ASSERT(b.n_endpoints == a.n_endpoints);
    FUZZ_ASSERT(b.include_sources == a.include_sources);
    for (size_t i = 0; i < a.n_endpoints; i++) {
        FUZZ_ASSERT(!strcmp(a.endpoints[i].id, b.endpoints[i].id));
        FUZZ_ASSERT(a.endpoints[i].has_transport == b.endpoints[i].has_transport);
        FUZZ_ASSERT(a.endpoints[i].n_candidates == b.endpoints[i].n_candidates);
    }
    c2_answer_free(&b);
    xmpp_stanza_release(built);
    c2_answer_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static xmpp_ctx_t *ctx;
    if (!ctx && !(ctx = xmpp_ctx_new(NULL, NULL)))
        abort();
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    xmpp_stanza_t *root = xmpp_stanza_new_from_string(ctx, text);
    free(text);
    if (!root)
        return 0;
    fuzz_request(ctx, root);
    fuzz_answer(ctx, root);
    xmpp_stanza_release(root);
    return 0;
}
