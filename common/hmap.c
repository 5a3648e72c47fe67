#include "hmap.h"
#include "util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static char hmap_tomb;
#define HMAP_TOMBSTONE (&hmap_tomb)

void hmap_init(hmap *m)
{
    memset(m, 0, sizeof *m);
}

void hmap_free(hmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key && m->slots[i].key != HMAP_TOMBSTONE)
            free(m->slots[i].key);
    free(m->slots);
    hmap_init(m);
}

static uint64_t hmap_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static hmap_entry *hmap_find(const hmap *m, const char *key)
{
    if (!m->cap)
        return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = hmap_hash(key) & mask;; i = (i + 1) & mask) {
        hmap_entry *e = &m->slots[i];
        if (!e->key)
            return NULL;
        if (e->key != HMAP_TOMBSTONE && strcmp(e->key, key) == 0)
            return e;
    }
}

static void hmap_resize(hmap *m, size_t cap)
{
    hmap old = *m;
    m->slots = xcalloc(cap, sizeof *m->slots);
    m->cap = cap;
    m->len = m->used = 0;
    for (size_t i = 0; i < old.cap; i++) {
        hmap_entry *e = &old.slots[i];
        if (!e->key || e->key == HMAP_TOMBSTONE)
            continue;
        size_t mask = cap - 1, j = hmap_hash(e->key) & mask;
        while (m->slots[j].key)
            j = (j + 1) & mask;
        m->slots[j] = *e;
        m->len++;
        m->used++;
    }
    free(old.slots);
}

void *hmap_get(const hmap *m, const char *key)
{
    hmap_entry *e = hmap_find(m, key);
    return e ? e->value : NULL;
}

void *hmap_put(hmap *m, const char *key, void *value)
{
    hmap_entry *e = hmap_find(m, key);
    if (e) {
        void *old = e->value;
        e->value = value;
        return old;
    }
    if ((m->used + 1) * 4 >= m->cap * 3)
        hmap_resize(m, m->cap ? (m->len * 2 >= m->cap ? m->cap * 2 : m->cap) : 16);
    size_t mask = m->cap - 1, i = hmap_hash(key) & mask;
    while (m->slots[i].key && m->slots[i].key != HMAP_TOMBSTONE)
        i = (i + 1) & mask;
    if (!m->slots[i].key)
        m->used++;
    m->slots[i].key = xstrdup(key);
    m->slots[i].value = value;
    m->len++;
    return NULL;
}

void *hmap_del(hmap *m, const char *key)
{
    hmap_entry *e = hmap_find(m, key);
    if (!e)
        return NULL;
    void *v = e->value;
    free(e->key);
    e->key = HMAP_TOMBSTONE;
    e->value = NULL;
    m->len--;
    return v;
}

hmap_entry *hmap_next(const hmap *m, size_t *i)
{
    for (; *i < m->cap; (*i)++) {
        hmap_entry *e = &m->slots[*i];
        if (e->key && e->key != HMAP_TOMBSTONE) {
            (*i)++;
            return e;
        }
    }
    return NULL;
}
