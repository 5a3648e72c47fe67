/* addrmap: remote transport address (IPv4/IPv6 + port) -> endpoint, the
 * second demultiplexing key after the STUN USERNAME. Open addressing with
 * linear probing on a binary key, so a lookup per packet costs a hash and
 * a memcmp, no formatting.
 *
 * Ownership: the map owns its slots; values are borrowed. Main loop. */
#ifndef PARLEY_ADDRMAP_H
#define PARLEY_ADDRMAP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct addrmap_key {
    uint8_t addr[16]; /* IPv4 as ::ffff:a.b.c.d */
    uint16_t port;
    uint16_t used; /* 0 empty, 1 live, 2 tombstone */
} addrmap_key;

typedef struct addrmap_slot {
    addrmap_key k;
    void *value;
} addrmap_slot;

typedef struct addrmap {
    addrmap_slot *slots;
    size_t cap, len, used;
} addrmap;

void addrmap_init(addrmap *m);
void addrmap_free(addrmap *m);
void *addrmap_get(const addrmap *m, const struct sockaddr *sa);
void addrmap_put(addrmap *m, const struct sockaddr *sa, void *value);
void addrmap_del(addrmap *m, const struct sockaddr *sa);
/* Removes every entry whose value is v. */
void addrmap_del_value(addrmap *m, const void *v);
/* "ip:port" of sa into out (64 bytes). */
const char *addr_str(const struct sockaddr *sa, char out[64]);

#endif
