/* addrmap: address -> endpoint map (see addrmap.h). */
#include "addrmap.h"

#include "util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int addrmap_key_of(const struct sockaddr *sa, addrmap_key *k)
{
    memset(k, 0, sizeof *k);
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        k->addr[10] = 0xff;
        k->addr[11] = 0xff;
        memcpy(k->addr + 12, &in->sin_addr, 4);
        k->port = in->sin_port;
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        memcpy(k->addr, &in6->sin6_addr, 16);
        k->port = in6->sin6_port;
    } else {
        return -1;
    }
    k->used = 1;
    return 0;
}

static size_t addrmap_hash(const addrmap_key *k)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < 16; i++)
        h = (h ^ k->addr[i]) * 1099511628211ULL;
    h = (h ^ k->port) * 1099511628211ULL;
    return (size_t)(h ^ (h >> 29));
}

static int addrmap_same(const addrmap_key *a, const addrmap_key *b)
{
    return a->port == b->port && memcmp(a->addr, b->addr, 16) == 0;
}

void addrmap_init(addrmap *m)
{
    memset(m, 0, sizeof *m);
}

void addrmap_free(addrmap *m)
{
    free(m->slots);
    memset(m, 0, sizeof *m);
}

static addrmap_slot *addrmap_find(const addrmap *m, const addrmap_key *k)
{
    if (!m->cap)
        return NULL;
    for (size_t i = addrmap_hash(k) & (m->cap - 1), n = 0; n < m->cap;
         i = (i + 1) & (m->cap - 1), n++) {
        addrmap_slot *s = &m->slots[i];
        if (s->k.used == 0)
            return NULL;
        if (s->k.used == 1 && addrmap_same(&s->k, k))
            return s;
    }
    return NULL;
}

void *addrmap_get(const addrmap *m, const struct sockaddr *sa)
{
    addrmap_key k;
    if (addrmap_key_of(sa, &k) != 0)
        return NULL;
    addrmap_slot *s = addrmap_find(m, &k);
    return s ? s->value : NULL;
}

static void addrmap_grow(addrmap *m)
{
    addrmap old = *m;
    m->cap = old.cap ? old.cap * 2 : 64;
    if (old.cap && old.len * 4 < old.cap)
        m->cap = old.cap; /* mostly tombstones: rehash at the same size */
    m->slots = xcalloc(m->cap, sizeof *m->slots);
    m->len = m->used = 0;
    for (size_t i = 0; i < old.cap; i++) {
        addrmap_slot *s = &old.slots[i];
        if (s->k.used != 1)
            continue;
        size_t j = addrmap_hash(&s->k) & (m->cap - 1);
        while (m->slots[j].k.used)
            j = (j + 1) & (m->cap - 1);
        m->slots[j] = *s;
        m->len++;
        m->used++;
    }
    free(old.slots);
}

void addrmap_put(addrmap *m, const struct sockaddr *sa, void *value)
{
    addrmap_key k;
    if (addrmap_key_of(sa, &k) != 0)
        return;
    addrmap_slot *s = addrmap_find(m, &k);
    if (s) {
        s->value = value;
        return;
    }
    if ((m->used + 1) * 4 > m->cap * 3)
        addrmap_grow(m);
    size_t i = addrmap_hash(&k) & (m->cap - 1);
    while (m->slots[i].k.used == 1)
        i = (i + 1) & (m->cap - 1);
    if (m->slots[i].k.used == 0)
        m->used++;
    m->slots[i].k = k;
    m->slots[i].value = value;
    m->len++;
}

void addrmap_del(addrmap *m, const struct sockaddr *sa)
{
    addrmap_key k;
    if (addrmap_key_of(sa, &k) != 0)
        return;
    addrmap_slot *s = addrmap_find(m, &k);
    if (s) {
        s->k.used = 2;
        s->value = NULL;
        m->len--;
    }
}

void addrmap_del_value(addrmap *m, const void *v)
{
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].k.used == 1 && m->slots[i].value == v) {
            m->slots[i].k.used = 2;
            m->slots[i].value = NULL;
            m->len--;
        }
    }
}

const char *addr_str(const struct sockaddr *sa, char out[64])
{
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
        port = ntohs(in->sin_port);
        snprintf(out, 64, "%s:%d", ip, port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
        port = ntohs(in6->sin6_port);
        snprintf(out, 64, "[%s]:%d", ip, port);
    } else {
        snprintf(out, 64, "?");
    }
    return out;
}
