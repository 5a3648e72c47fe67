/* focus: the conference brain's top-level state and the types its modules
 * share (a Jicofo equivalent; wire formats in ../shared/docs/protocol.md).
 *
 * One XEP-0114 component connection (focus.DOMAIN) carries everything:
 * the conference IQ from clients, the focus's presence in every conference
 * room and in the bridge and recorder breweries, Colibri2 to the bridges,
 * Jingle with every participant, moderator mute and recording IQs.
 *
 * Ownership: main() owns the focus; the focus owns conferences (freed when
 * their room empties), bridges and recorders (freed when they leave their
 * brewery); a conference owns its participants. Pending IQs (iq.c) hold
 * only ids (conference room JID + participant nick, or bridge occupant JID)
 * and look their targets up again when the answer arrives, so nothing
 * dangles when a participant or bridge goes away meanwhile. One loop. */
#ifndef PARLEY_FOCUS_H
#define PARLEY_FOCUS_H

#include "colibri2.h"
#include "config.h"
#include "hmap.h"
#include "http.h"
#include "jingle.h"
#include "parley_version.h"
#include "xmpp_ev.h"

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>

#define FOCUS_NICK "focus"
#define MAX_PARTICIPANT_SSRCS 20
#define PARTICIPANT_MAX_SOURCES 24
#define PARTICIPANT_MAX_GROUPS 12

typedef struct focus focus;
typedef struct fconf fconf;
typedef struct participant participant;
typedef struct fbridge fbridge;
typedef struct recorder recorder;

typedef struct focus_settings {
    char *domain, *muc_domain, *internal_muc_domain, *hidden_domain, *focus_domain;
    char *xmpp_host;
    int component_port;
    char *secret;
    char *jvb_brewery, *jibri_brewery;
    char *http_bind;
    int http_port;
    int healthcheck_interval_s;
    int iq_timeout_ms;
    int single_participant_timeout_s;
    int log_level;
} focus_settings;

/* A bridge seen in the brewery. */
struct fbridge {
    char occupant[512]; /* jvbbrewery@IMUC/NICK: where Colibri2 goes */
    char nick[128];
    char region[64], relay_id[128], version[64];
    double stress, avg_participant_stress;
    bool healthy, drain, shutting_down;
    bool operational; /* false after failures: no new conferences, existing ones move */
    int hc_failures;
    bool hc_pending;
    int conferences; /* conferences of this focus on it */
    int recently_added;
};

/* A recorder in its brewery. */
struct recorder {
    char occupant[512];
    bool idle, healthy;
    long long selected_ms;
};

typedef enum psession {
    PS_NONE = 0,   /* no Jingle session */
    PS_ALLOCATING, /* Colibri2 endpoint requested */
    PS_INITIATED,  /* session-initiate sent, waiting for session-accept */
    PS_ACTIVE,     /* session-accept received */
} psession;

typedef struct psource {
    uint32_t ssrc;
    bool video;
    char name[128];
    char msid[256];
    char video_type[32];
} psource;

struct participant {
    fconf *conf;
    char nick[128]; /* occupant resource */
    char epid[65];  /* endpoint id: the nick (Colibri2-safe) */
    unsigned seen_round;
    char occupant[640]; /* ROOM/NICK */
    char real_jid[3072];
    char region[64];
    char stats_id[128];
    bool hidden;    /* a recorder (HIDDEN domain): never a moderator */
    bool moderator; /* owner affiliation granted */
    long long joined_ms;
    unsigned seq;       /* join order */
    int alloc_failures; /* Colibri2 allocations refused: given up after 3 */
    psession state;
    char sid[32];        /* current Jingle session id */
    unsigned invite_gen; /* bumps on every (re)invite: stale answers are dropped */
    psource sources[PARTICIPANT_MAX_SOURCES];
    int nsources;
    c2_ssrc_group groups[PARTICIPANT_MAX_GROUPS];
    int ngroups;
    bool on_bridge; /* an endpoint exists on the conference's bridge */
};

struct fconf {
    focus *f;
    char room[512];      /* ROOM@MUC */
    char meeting_id[64]; /* Colibri2 meeting-id (UUID) */
    char bridge_session[64];
    char bridge_occupant[512]; /* the conference's bridge ("" until the first invite) */
    bool bridge_created;       /* the Colibri2 conference exists on the bridge */
    bool create_pending;       /* a Colibri2 create is on its way */
    unsigned bridge_gen;       /* focus-wide unique, renewed on a move: stale answers dropped */
    uint32_t fb_audio_ssrc, fb_video_ssrc; /* the bridge's feedback sources */
    xmpp_stanza_t *waiting[16]; /* conference IQs answered once the focus is in the room */
    int nwaiting;
    unsigned round; /* rejoin round: occupants not seen again are gone */
    bool joined;    /* the focus's self-presence came back */
    participant *parts[200];
    int nparts;
    unsigned next_seq;
    struct event *lone_timer;
    struct event *join_timer; /* ends a conference nobody joins */
    /* recording */
    char rec_session[64];
    char rec_occupant[512];
    char rec_initiator[640];
    char rec_status[16]; /* "", "pending", "on", "off" */
    long long created_ms;
};

typedef struct focus_counters {
    uint64_t conference_requests, conferences_created, conferences_ended;
    uint64_t participants_joined, participants_left;
    uint64_t sessions_initiated, sessions_accepted, sessions_terminated, reinvites;
    uint64_t source_adds, source_removes, bad_jingle;
    uint64_t colibri_requests, colibri_errors, colibri_timeouts;
    uint64_t bridges_failed, conferences_moved;
    uint64_t recordings_started, recordings_stopped, mutes;
} focus_counters;

struct focus {
    struct event_base *base;
    focus_settings set;
    config *cfg;
    xmpp_ev *xmpp;
    char *jid;      /* focus.DOMAIN/focus */
    hmap confs;     /* room JID -> fconf */
    hmap bridges;   /* occupant JID -> fbridge */
    hmap recorders; /* occupant JID -> recorder */
    hmap pending;   /* IQ id -> pending_iq (iq.c) */
    bool in_jvb_brewery, in_jibri_brewery;
    http_server *http;
    struct event *hc_ev, *sig_int, *sig_term;
    focus_counters c;
    unsigned long iq_seq;
    unsigned gen_seq; /* source of fconf.bridge_gen */
    long long started_ms;
};

/* settings.c */
extern const config_key focus_config_keys[];
extern const size_t focus_config_nkeys;
int focus_settings_load(focus_settings *s, config *c);
void focus_settings_clear(focus_settings *s);

/* iq.c: requests the focus sends, with a time bound. The callback gets the
 * answer (type result or error), or NULL on timeout or disconnect. key is
 * copied and handed back: look the target up with it, it may be gone. */
typedef void (*iq_cb)(focus *f, xmpp_stanza_t *answer, const char *key, unsigned gen);
/* Sends iq (sets its id and from; cb may be NULL); takes no ownership of iq. */
void iq_send(focus *f, xmpp_stanza_t *iq, int timeout_ms, iq_cb cb, const char *key, unsigned gen);
/* Handles an incoming result/error; true when it answered a pending one. */
bool iq_on_answer(focus *f, xmpp_stanza_t *st);
/* Every pending request fails now (connection lost). */
void iq_fail_all(focus *f);
/* Helpers for answers the focus sends. */
void iq_result(focus *f, xmpp_stanza_t *req, xmpp_stanza_t *child);
void iq_error(focus *f, xmpp_stanza_t *req, const char *type, const char *cond, const char *text,
              xmpp_stanza_t *extra);
xmpp_stanza_t *st_new(focus *f, const char *name, const char *ns);
void st_add(xmpp_stanza_t *parent, xmpp_stanza_t *child); /* takes child */
void st_text(focus *f, xmpp_stanza_t *parent, const char *text);
void focus_send(focus *f, xmpp_stanza_t *st); /* sets from=focus jid if unset */

/* conference.c: rooms, occupants, moderation */
void conf_request(focus *f, xmpp_stanza_t *iq);
void conf_presence(focus *f, xmpp_stanza_t *p);
fconf *conf_find(focus *f, const char *room);
participant *conf_participant(fconf *c, const char *nick);
void conf_end(fconf *c, const char *why);
void conf_send_presence(fconf *c);
/* Participants that count for a call (non-hidden, or all when recording). */
int conf_active_count(const fconf *c);

/* bridges.c: the jvb brewery */
void bridges_presence(focus *f, xmpp_stanza_t *p);
fbridge *bridges_select(focus *f, const char *region);
void bridges_healthcheck_all(focus *f);
/* A bridge failed (left, healthchecks, Colibri2 timeout/error): its
 * conferences move elsewhere. */
void bridges_mark_down(focus *f, const char *occupant, const char *why);
bool bridges_any_usable(focus *f);
/* Conferences waiting for a bridge (or whose bridge vanished) try again. */
void bridges_retry_waiting(focus *f);

/* session.c: Colibri2 + Jingle per participant */
void session_invite(participant *p);
void session_invite_all(fconf *c);
void session_on_jingle(focus *f, xmpp_stanza_t *iq);
/* Participant gone (left the room): its sources leave the others, its
 * endpoint expires. */
void session_remove(participant *p, bool left_room);
/* Move a conference to another bridge: terminate + re-invite everyone. */
void session_move_conference(fconf *c, const char *why);
void session_expire_conference(fconf *c);

/* moderation.c: mute IQs and the recording relay */
void mute_request(focus *f, xmpp_stanza_t *iq);
void jibri_request(focus *f, xmpp_stanza_t *iq);
void jibri_presence(focus *f, xmpp_stanza_t *p);

/* xmpp.c */
void focus_xmpp_start(focus *f);
void focus_xmpp_stop(focus *f);
void focus_join_breweries(focus *f);

/* httpapi.c */
int focus_http_start(focus *f);
char *focus_stats_json(focus *f);

#endif
