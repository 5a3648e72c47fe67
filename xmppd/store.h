/* store: xmppd's sqlite database (WAL mode): accounts (SCRAM salted keys
 * only, never passwords), rosters and pending inbound subscription requests.
 *
 * Calls are synchronous on the caller's loop; each is one small indexed
 * statement. parleyctl and a running xmppd share the file safely (WAL, busy
 * timeout). Ownership: store_open's result is freed by store_close; strings
 * and arrays returned through out-parameters are the caller's to free with
 * the matching *_free helper. Functions return 0 on success, -1 on a
 * database error (logged), and 1 where noted. */
#ifndef PARLEY_STORE_H
#define PARLEY_STORE_H

#include "scram.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct store store;

typedef struct account_creds {
    uint8_t salt[32];
    size_t salt_len;
    unsigned iterations;
    uint8_t stored_key[2][SCRAM_MAX_HASH]; /* indexed by scram_hash */
    uint8_t server_key[2][SCRAM_MAX_HASH];
} account_creds;

typedef enum roster_sub { SUB_NONE = 0, SUB_TO, SUB_FROM, SUB_BOTH } roster_sub;

typedef struct roster_item {
    char *contact; /* bare JID, normalized */
    char *name;    /* NULL if none */
    roster_sub sub;
    bool ask; /* outbound subscription request pending ("ask='subscribe'") */
    char **groups;
    size_t ngroups;
} roster_item;

/* Opens (creating if needed) the database at path. NULL and *err (malloc'd)
 * on failure. */
store *store_open(const char *path, char **err);
void store_close(store *st);

/* 1 and *out filled if the account exists, 0 if not, -1 on error. */
int store_account_get(store *st, const char *host, const char *user, account_creds *out);
/* create_only: 1 if it already exists (nothing written). Otherwise upsert. */
int store_account_put(store *st, const char *host, const char *user, const account_creds *c,
                      bool create_only);
/* 1 if there was no such account. Also removes its roster and pending rows. */
int store_account_delete(store *st, const char *host, const char *user);
/* Calls fn for every account user of host, in name order. */
int store_account_list(store *st, const char *host, void (*fn)(void *ud, const char *user),
                       void *ud);

/* Loads the whole roster of host/user into *items (caller frees with
 * roster_items_free). */
int store_roster_load(store *st, const char *host, const char *user, roster_item **items,
                      size_t *n);
/* 1 and *out filled (caller roster_item_clear()s) if the contact is there. */
int store_roster_get(store *st, const char *host, const char *user, const char *contact,
                     roster_item *out);
int store_roster_put(store *st, const char *host, const char *user, const roster_item *item);
int store_roster_delete(store *st, const char *host, const char *user, const char *contact);
/* Deletes a whole roster (anonymous users at logout). */
int store_roster_clear(store *st, const char *host, const char *user);

/* Pending inbound subscription requests: contact asked to see user. */
int store_pending_add(store *st, const char *host, const char *user, const char *contact);
int store_pending_remove(store *st, const char *host, const char *user, const char *contact);
/* 1 if contact has a pending request to user. */
int store_pending_has(store *st, const char *host, const char *user, const char *contact);
int store_pending_list(store *st, const char *host, const char *user,
                       void (*fn)(void *ud, const char *contact), void *ud);

/* Persistent MUC rooms: config is the room's KEY=value text (muc_room.c). */
int store_muc_put(store *st, const char *service, const char *room, const char *config);
int store_muc_delete(store *st, const char *service, const char *room);
int store_muc_affs_clear(store *st, const char *service, const char *room);
int store_muc_aff_put(store *st, const char *service, const char *room, const char *jid, int aff);
int store_muc_load(store *st, const char *service,
                   void (*fn)(void *ud, const char *room, const char *config), void *ud);
/* aff is passed as its decimal text. */
int store_muc_affs_load(store *st, const char *service, const char *room,
                        void (*fn)(void *ud, const char *jid, const char *aff), void *ud);

void roster_item_clear(roster_item *item);
void roster_items_free(roster_item *items, size_t n);
const char *roster_sub_name(roster_sub s);

#endif
