/* muc_room: the room core shared by the muc_*.c files: rooms, occupants,
 * affiliations, roles, presence and the fan-out helpers. Feature files
 * (password, members-only, history, hidden occupants, creation policy) hook
 * the core through the tables in muc_hooks.c.
 *
 * Ownership: a service owns its rooms (hmap name -> muc_room); a room owns
 * its occupants, history and configuration strings. Stanzas passed to
 * functions are borrowed unless the function says it takes them. */
#ifndef PARLEY_MUC_ROOM_H
#define PARLEY_MUC_ROOM_H

#include "hmap.h"
#include "jid.h"
#include "xml.h"
#include "xmppd.h"

#include <stdbool.h>
#include <time.h>

#define XMLNS_MUC "http://jabber.org/protocol/muc"
#define XMLNS_MUC_USER "http://jabber.org/protocol/muc#user"
#define XMLNS_MUC_ADMIN "http://jabber.org/protocol/muc#admin"
#define XMLNS_MUC_OWNER "http://jabber.org/protocol/muc#owner"
#define XMLNS_DELAY "urn:xmpp:delay"

typedef enum muc_aff {
    AFF_OUTCAST = -1,
    AFF_NONE = 0,
    AFF_MEMBER = 1,
    AFF_ADMIN = 2,
    AFF_OWNER = 3
} muc_aff;

typedef enum muc_role { ROLE_NONE = 0, ROLE_VISITOR, ROLE_PARTICIPANT, ROLE_MODERATOR } muc_role;

typedef struct muc_service {
    xmppd *srv;
    char *domain;
    bool internal; /* the brewery service */
    hmap rooms;    /* room node -> muc_room */
} muc_service;

typedef struct muc_occupant {
    char *nick;
    char *occ_jid;   /* room@service/nick */
    char *real_bare; /* real bare JID */
    char **fulls;    /* real full JIDs in this occupant (same bare, same nick) */
    size_t nfulls;
    xml_node *presence; /* last presence, as sent to the room (from/to removed) */
    muc_role role;
    bool hidden;
} muc_occupant;

typedef struct muc_config {
    char *name, *desc, *password;
    bool persistent, public_room, members_only, moderated, whois_anyone, change_subject,
        allow_invites;
    int max_users; /* 0: the service default */
} muc_config;

typedef struct muc_history_entry {
    char *xml; /* serialized message without 'to', delay included */
    size_t len, chars;
    time_t at;
} muc_history_entry;

typedef struct muc_room {
    muc_service *svc;
    char *name; /* node */
    char *jid;  /* node@service */
    char meeting_id[37];
    muc_config cfg;
    hmap affs;         /* real bare JID -> (muc_aff + 2) as intptr */
    hmap by_nick;      /* nick -> muc_occupant */
    hmap by_full;      /* real full JID -> muc_occupant */
    hmap pending_iqs;  /* "responder full\nid" -> requester full (malloc'd) */
    size_t noccupants; /* all occupants, hidden ones included */
    char *subject, *subject_from;
    muc_history_entry *history; /* ring of MUC_HISTORY_LENGTH */
    size_t hist_len, hist_head, hist_cap;
    bool destroyed;
} muc_room;

/* ---- muc_room.c ---- */
muc_room *muc_room_new(muc_service *svc, const char *name);
/* Removes the room from its service and frees it. */
void muc_room_free(muc_room *room);
muc_aff muc_room_aff(const muc_room *room, const char *bare);
void muc_room_set_aff(muc_room *room, const char *bare, muc_aff aff);
const char *muc_aff_name(muc_aff a);
const char *muc_role_name(muc_role r);
int muc_aff_parse(const char *s);  /* -2 if unknown */
int muc_role_parse(const char *s); /* -1 if unknown */
/* The role an occupant with affiliation aff gets. */
muc_role muc_room_default_role(const muc_room *room, muc_aff aff);
/* Whether viewer may see target (hidden occupants). */
bool muc_room_can_see(const muc_room *room, const muc_occupant *viewer, const muc_occupant *target);
/* Occupants that count (not hidden). */
size_t muc_room_visible_count(const muc_room *room);
/* Sends st (borrowed, 'to' ignored) to the real JID full. */
void muc_send(xmppd *srv, const char *full, const xml_node *st);
/* Sends the serialized stanza text (which starts with "<message" or
 * "<presence" or "<iq" and has no 'to') to full, inserting to=full. */
void muc_send_raw(xmppd *srv, const char *full, const char *xml, size_t len);
/* Broadcasts occupant o's presence (its stored presence, or unavailable
 * when unavail) to every occupant who may see it, with the muc#user item
 * and the given status codes (codes end with 0); self-codes go to o itself
 * (110 is added for o). destroy (borrowed) is copied into the x. */
void muc_room_broadcast_presence(muc_room *room, muc_occupant *o, bool unavail, const int *codes,
                                 const int *self_codes, const xml_node *extra_item_child);
/* Removes occupant o (frees it); destroys a non-persistent room left empty
 * (returns true when the room is gone). */
bool muc_room_remove_occupant(muc_room *room, muc_occupant *o);
/* Stores persistent rooms (configuration, affiliations) or deletes them. */
void muc_room_save(muc_room *room);
/* Destroys room: unavailable + <destroy/> to everyone, deleted from the store. */
void muc_room_destroy(muc_room *room, const char *reason, const char *alt);

/* ---- muc_presence.c ---- */
void muc_presence(muc_service *svc, xml_node *st, const jid *to);

/* ---- muc_message.c ---- */
void muc_message(muc_service *svc, xml_node *st, const jid *to);
void muc_occupant_iq(muc_service *svc, xml_node *st, const jid *to);

/* ---- muc_admin.c / muc_owner.c / muc_disco.c ---- */
void muc_admin_iq(muc_room *room, xml_node *st, muc_occupant *from_occ, const char *from_bare);
void muc_owner_iq(muc_room *room, xml_node *st, const char *from_bare);
void muc_disco_room(muc_room *room, xml_node *st);
void muc_disco_service(muc_service *svc, xml_node *st);

/* ---- hooks (muc_hooks.c lists them; one feature a file) ---- */
typedef struct muc_join_ctx {
    muc_service *svc;
    muc_room *room; /* NULL while deciding whether to create */
    const char *real_full, *real_bare;
    const char *nick;
    const xml_node *muc_x; /* the join's <x xmlns=muc/>, or NULL */
    muc_aff aff;
    /* set by a hook that refuses: */
    const char *err_type, *err_cond, *err_text;
} muc_join_ctx;

/* Every hook returns 0 to allow, -1 (with the ctx error set) to refuse. */
int muc_hooks_may_create(muc_join_ctx *ctx);
int muc_hooks_may_join(muc_join_ctx *ctx);
/* After a join: the joiner's session full gets history, subject... */
void muc_hooks_joined(muc_room *room, muc_occupant *o, const char *full, const xml_node *muc_x);
/* A groupchat message (serialized, without 'to') was broadcast. */
void muc_hooks_message(muc_room *room, const xml_node *msg);

/* feature files */
int muc_policy_may_create(muc_join_ctx *ctx);
int muc_policy_may_join(muc_join_ctx *ctx);
int muc_members_may_join(muc_join_ctx *ctx);
int muc_password_may_join(muc_join_ctx *ctx);
void muc_history_joined(muc_room *room, muc_occupant *o, const char *full, const xml_node *x);
void muc_history_message(muc_room *room, const xml_node *msg);
void muc_history_free(muc_room *room);
bool muc_hidden_is(xmppd *srv, const char *real_bare);

#endif
