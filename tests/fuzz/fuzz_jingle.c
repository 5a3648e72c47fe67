/* fuzz_jingle: libFuzzer target for common/jingle.c. Parses the input as
 * XML with libstrophe, takes the <jingle> (the root or one of its children)
 * and runs jingle_parse on it. Aborts if an invariant breaks: a failed
 * parse must leave the message zeroed and say why; a successful one must
 * respect every bound, and (for a known action) rebuilding it with
 * jingle_build must parse again with the same action, sid and contents.
 * jingle_validate_sources runs on every parsed message and must either
 * pass or say why. The libstrophe context is created on the first call and
 * kept for the process (a static is acceptable in a fuzz target only);
 * every stanza and message is released before returning, so nothing leaks
 * per input. */
#include "jingle.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(c)                                                                             \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

/* The first element named name: s itself or a child. */
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

static bool fuzz_zeroed(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

static void fuzz_check_msg(const jingle_msg *m)
{
    FUZZ_ASSERT(m->sid[0] && strlen(m->sid) <= JINGLE_SID_MAX);
    FUZZ_ASSERT(m->n_contents <= JINGLE_MAX_CONTENTS && m->n_bundle <= JINGLE_MAX_CONTENTS);
    FUZZ_ASSERT(!m->reason.present || m->reason.condition[0]);
    for (size_t i = 0; i < m->n_contents; i++) {
        const jingle_content *ct = &m->contents[i];
        FUZZ_ASSERT(ct->name[0]);
        for (size_t j = 0; j < i; j++)
            FUZZ_ASSERT(strcmp(ct->name, m->contents[j].name) != 0);
        FUZZ_ASSERT(ct->n_payload_types <= C2_MAX_PAYLOAD_TYPES);
        FUZZ_ASSERT(ct->n_hdrexts <= C2_MAX_HDREXTS);
        FUZZ_ASSERT(ct->n_sources <= JINGLE_MAX_SOURCES && ct->n_groups <= JINGLE_MAX_GROUPS);
        for (size_t g = 0; g < ct->n_groups; g++)
            FUZZ_ASSERT(ct->groups[g].n_ssrcs >= 1 && ct->groups[g].n_ssrcs <= C2_MAX_GROUP_SSRCS);
        FUZZ_ASSERT(ct->has_transport == ct->transport.present);
        const c2_transport *t = &ct->transport;
        FUZZ_ASSERT(t->n_candidates <= C2_MAX_CANDIDATES);
        FUZZ_ASSERT(t->n_fingerprints <= C2_MAX_FINGERPRINTS);
        FUZZ_ASSERT(!(t->n_candidates || t->n_fingerprints) || (t->ufrag[0] && t->pwd[0]));
        for (size_t j = 0; j < t->n_candidates; j++)
            FUZZ_ASSERT(t->candidates[j].port != 0 && t->candidates[j].component != 0);
        FUZZ_ASSERT(!t->sctp_present || t->sctp_port != 0);
    }
}

static void fuzz_jingle(xmpp_ctx_t *ctx, xmpp_stanza_t *root)
{
    xmpp_stanza_t *j = fuzz_find(root, "jingle");
    if (!j)
        return;
    jingle_msg *m = malloc(sizeof *m), *m2 = malloc(sizeof *m2);
    if (!m || !m2)
        abort();
    char err[256];
    if (jingle_parse(j, m, err, sizeof err) != 0) {
        FUZZ_ASSERT(err[0] && fuzz_zeroed(m, sizeof *m));
        goto out;
    }
    fuzz_check_msg(m);
    err[0] = '\0';
    int rc = jingle_validate_sources(m, "7b4f1a2c", 20, err, sizeof err);
    FUZZ_ASSERT(rc == 0 ? err[0] == '\0' : rc == -1 && err[0]);
    rc = jingle_validate_sources(m, NULL, 1000, NULL, 0);
    FUZZ_ASSERT(rc == 0 || rc == -1);
    if (m->action == JINGLE_UNKNOWN) {
        FUZZ_ASSERT(m->n_contents == 0);
        goto out;
    }

    xmpp_stanza_t *built = jingle_build(ctx, m);
    FUZZ_ASSERT(jingle_parse(built, m2, err, sizeof err) == 0);
    FUZZ_ASSERT(m2->action == m->action && !strcmp(m2->sid, m->sid));
    FUZZ_ASSERT(m2->n_contents == m->n_contents);
    /* an empty BUNDLE group is rebuilt listing every content */
    FUZZ_ASSERT(m2->has_bundle == m->has_bundle);
    FUZZ_ASSERT(m2->n_bundle == (m->n_bundle || !m->has_bundle ? m->n_bundle : m->n_contents));
    FUZZ_ASSERT(m2->reason.present == m->reason.present);
    FUZZ_ASSERT(m2->bridge_session.present == m->bridge_session.present);
    bool sources_only = m->action == JINGLE_SOURCE_ADD || m->action == JINGLE_SOURCE_REMOVE;
    for (size_t i = 0; i < m->n_contents; i++) {
        const jingle_content *a = &m->contents[i], *b = &m2->contents[i];
        FUZZ_ASSERT(!strcmp(a->name, b->name) && !strcmp(a->media, b->media));
        FUZZ_ASSERT(a->n_sources == b->n_sources && a->n_groups == b->n_groups);
        FUZZ_ASSERT(!memcmp(a->sources, b->sources, a->n_sources * sizeof a->sources[0]));
        FUZZ_ASSERT(!memcmp(a->groups, b->groups, a->n_groups * sizeof a->groups[0]));
        if (!sources_only) {
            FUZZ_ASSERT(a->has_transport == b->has_transport);
            FUZZ_ASSERT(!memcmp(&a->transport, &b->transport, sizeof a->transport));
            FUZZ_ASSERT(a->n_payload_types == b->n_payload_types);
        }
    }
    /* the rebuilt message validates the same way */
    FUZZ_ASSERT(jingle_validate_sources(m2, "7b4f1a2c", 20, NULL, 0) ==
                jingle_validate_sources(m, "7b4f1a2c", 20, NULL, 0));
    xmpp_stanza_release(built);
out:
    free(m2);
    free(m);
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
    fuzz_jingle(ctx, root);
    xmpp_stanza_release(root);
    return 0;
}
