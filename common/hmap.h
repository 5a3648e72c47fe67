/* hmap: a string-keyed hash map (open addressing, linear probing).
 *
 * Ownership: the map copies keys and frees them; values are borrowed
 * pointers, never freed by the map. Any loop; not thread-safe. */
#ifndef PARLEY_HMAP_H
#define PARLEY_HMAP_H

#include <stddef.h>

typedef struct hmap_entry {
    char *key; /* NULL: empty slot; HMAP_TOMBSTONE: deleted */
    void *value;
} hmap_entry;

typedef struct hmap {
    hmap_entry *slots;
    size_t cap;  /* power of two, 0 until first insert */
    size_t len;  /* live entries */
    size_t used; /* live + tombstones */
} hmap;

void hmap_init(hmap *m);
/* Frees keys and slots; values are the caller's. */
void hmap_free(hmap *m);
void *hmap_get(const hmap *m, const char *key);
/* Inserts or replaces; returns the previous value (or NULL). */
void *hmap_put(hmap *m, const char *key, void *value);
/* Removes key; returns its value (or NULL). */
void *hmap_del(hmap *m, const char *key);
/* Iteration: i starts at 0; returns the next live entry or NULL at the end.
 * Deleting the returned entry during iteration is allowed. */
hmap_entry *hmap_next(const hmap *m, size_t *i);

#endif
