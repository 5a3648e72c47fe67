/* fuzz_jid: libFuzzer target for common/jid.c. Parses the input as a JID
 * and as single parts, and aborts if an invariant breaks: normalizing a
 * normalized JID (or re-preparing a prepared part) must be the identity, and
 * jid_parse, jid_full, jid_bare and jid_normalize must agree. */
#include "jid.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Aborts unless a and b are both NULL or equal strings. */
static void fuzz_same(const char *a, const char *b)
{
    if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0))
        abort();
}

/* prep(prep(s)) must equal prep(s). */
static void fuzz_idempotent(char *(*prep)(const char *), const char *s)
{
    char *once = prep(s);
    if (!once)
        return;
    char *twice = prep(once);
    fuzz_same(once, twice);
    free(once);
    free(twice);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';

    jid j;
    int rc = jid_parse(s, &j);
    char *full = jid_normalize(s, false);
    char *bare = jid_normalize(s, true);
    if (rc == 0) {
        if (!j.domain || !full || !bare)
            abort();
        char *f = jid_full(&j), *b = jid_bare(&j);
        fuzz_same(f, full);
        fuzz_same(b, bare);
        jid c;
        jid_copy(&c, &j);
        fuzz_same(c.node, j.node);
        fuzz_same(c.domain, j.domain);
        fuzz_same(c.resource, j.resource);
        jid_clear(&c);
        free(f);
        free(b);

        /* idempotence of the normalized forms */
        char *full2 = jid_normalize(full, false);
        char *bare2 = jid_normalize(bare, true);
        char *bare_of_full = jid_normalize(full, true);
        fuzz_same(full2, full);
        fuzz_same(bare2, bare);
        fuzz_same(bare_of_full, bare);
        free(full2);
        free(bare2);
        free(bare_of_full);

        /* the parts re-prepare to themselves */
        if (j.node)
            fuzz_idempotent(jid_prep_node, j.node);
        fuzz_idempotent(jid_prep_domain, j.domain);
        if (j.resource)
            fuzz_idempotent(jid_prep_resource, j.resource);
        jid_clear(&j);
    } else if (full || bare || j.node || j.domain || j.resource) {
        abort();
    }
    free(full);
    free(bare);

    /* the whole input as a single part */
    fuzz_idempotent(jid_prep_node, s);
    fuzz_idempotent(jid_prep_domain, s);
    fuzz_idempotent(jid_prep_resource, s);
    char *sp = saslprep(s);
    free(sp);

    free(s);
    return 0;
}
