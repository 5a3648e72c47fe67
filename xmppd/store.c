#include "store.h"
#include "log.h"
#include "util.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    Q_ACC_GET,
    Q_ACC_INSERT,
    Q_ACC_UPSERT,
    Q_ACC_DELETE,
    Q_ACC_LIST,
    Q_ROSTER_LOAD,
    Q_ROSTER_GET,
    Q_ROSTER_PUT,
    Q_ROSTER_DELETE,
    Q_ROSTER_CLEAR,
    Q_PEND_ADD,
    Q_PEND_REMOVE,
    Q_PEND_HAS,
    Q_PEND_LIST,
    Q_PEND_CLEAR,
    Q_MUC_PUT,
    Q_MUC_DELETE,
    Q_MUC_LOAD,
    Q_MUC_AFF_PUT,
    Q_MUC_AFF_CLEAR,
    Q_MUC_AFF_LOAD,
    Q_COUNT
};

static const char *const store_sql[Q_COUNT] = {
    [Q_ACC_GET] = "SELECT salt, iterations, stored_key_sha1, server_key_sha1, "
                  "stored_key_sha256, server_key_sha256 FROM accounts WHERE host=? AND user=?",
    [Q_ACC_INSERT] = "INSERT OR IGNORE INTO accounts VALUES (?,?,?,?,?,?,?,?,strftime('%s'))",
    [Q_ACC_UPSERT] = "INSERT OR REPLACE INTO accounts VALUES (?,?,?,?,?,?,?,?,strftime('%s'))",
    [Q_ACC_DELETE] = "DELETE FROM accounts WHERE host=? AND user=?",
    [Q_ACC_LIST] = "SELECT user FROM accounts WHERE host=? ORDER BY user",
    [Q_ROSTER_LOAD] = "SELECT contact, name, subscription, ask, groups FROM roster "
                      "WHERE host=? AND user=? ORDER BY contact",
    [Q_ROSTER_GET] = "SELECT contact, name, subscription, ask, groups FROM roster "
                     "WHERE host=? AND user=? AND contact=?",
    [Q_ROSTER_PUT] = "INSERT OR REPLACE INTO roster VALUES (?,?,?,?,?,?,?)",
    [Q_ROSTER_DELETE] = "DELETE FROM roster WHERE host=? AND user=? AND contact=?",
    [Q_ROSTER_CLEAR] = "DELETE FROM roster WHERE host=? AND user=?",
    [Q_PEND_ADD] = "INSERT OR IGNORE INTO pending_in VALUES (?,?,?)",
    [Q_PEND_REMOVE] = "DELETE FROM pending_in WHERE host=? AND user=? AND contact=?",
    [Q_PEND_HAS] = "SELECT 1 FROM pending_in WHERE host=? AND user=? AND contact=?",
    [Q_PEND_LIST] = "SELECT contact FROM pending_in WHERE host=? AND user=? ORDER BY contact",
    [Q_PEND_CLEAR] = "DELETE FROM pending_in WHERE host=? AND user=?",
    [Q_MUC_PUT] = "INSERT OR REPLACE INTO muc_rooms VALUES (?,?,?)",
    [Q_MUC_DELETE] = "DELETE FROM muc_rooms WHERE service=? AND room=?",
    [Q_MUC_LOAD] = "SELECT room, config FROM muc_rooms WHERE service=? ORDER BY room",
    [Q_MUC_AFF_PUT] = "INSERT OR REPLACE INTO muc_affiliations VALUES (?,?,?,?)",
    [Q_MUC_AFF_CLEAR] = "DELETE FROM muc_affiliations WHERE service=? AND room=?",
    [Q_MUC_AFF_LOAD] = "SELECT jid, affiliation FROM muc_affiliations WHERE service=? AND room=?",
};

static const char store_schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS accounts ("
    " host TEXT NOT NULL, user TEXT NOT NULL, salt BLOB NOT NULL, iterations INTEGER NOT NULL,"
    " stored_key_sha1 BLOB NOT NULL, server_key_sha1 BLOB NOT NULL,"
    " stored_key_sha256 BLOB NOT NULL, server_key_sha256 BLOB NOT NULL,"
    " created INTEGER NOT NULL, PRIMARY KEY (host, user));"
    "CREATE TABLE IF NOT EXISTS roster ("
    " host TEXT NOT NULL, user TEXT NOT NULL, contact TEXT NOT NULL, name TEXT,"
    " subscription INTEGER NOT NULL, ask INTEGER NOT NULL, groups TEXT,"
    " PRIMARY KEY (host, user, contact));"
    "CREATE TABLE IF NOT EXISTS pending_in ("
    " host TEXT NOT NULL, user TEXT NOT NULL, contact TEXT NOT NULL,"
    " PRIMARY KEY (host, user, contact));"
    "CREATE TABLE IF NOT EXISTS muc_rooms ("
    " service TEXT NOT NULL, room TEXT NOT NULL, config TEXT NOT NULL,"
    " PRIMARY KEY (service, room));"
    "CREATE TABLE IF NOT EXISTS muc_affiliations ("
    " service TEXT NOT NULL, room TEXT NOT NULL, jid TEXT NOT NULL, affiliation INTEGER NOT NULL,"
    " PRIMARY KEY (service, room, jid));"
    "PRAGMA user_version=1;";

struct store {
    sqlite3 *db;
    sqlite3_stmt *q[Q_COUNT];
};

static int store_fail(store *st, const char *what)
{
    log_error(NULL, "sqlite: %s: %s", what, sqlite3_errmsg(st->db));
    return -1;
}

store *store_open(const char *path, char **err)
{
    store *st = xcalloc(1, sizeof *st);
    if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        if (asprintf(err, "%s: %s", path, st->db ? sqlite3_errmsg(st->db) : "cannot open") < 0)
            *err = NULL;
        store_close(st);
        return NULL;
    }
    sqlite3_busy_timeout(st->db, 2000);
    char *msg = NULL;
    if (sqlite3_exec(st->db, store_schema, NULL, NULL, &msg) != SQLITE_OK) {
        if (asprintf(err, "%s: %s", path, msg ? msg : "schema failed") < 0)
            *err = NULL;
        sqlite3_free(msg);
        store_close(st);
        return NULL;
    }
    for (int i = 0; i < Q_COUNT; i++) {
        if (sqlite3_prepare_v2(st->db, store_sql[i], -1, &st->q[i], NULL) != SQLITE_OK) {
            if (asprintf(err, "%s: %s", path, sqlite3_errmsg(st->db)) < 0)
                *err = NULL;
            store_close(st);
            return NULL;
        }
    }
    return st;
}

void store_close(store *st)
{
    if (!st)
        return;
    for (int i = 0; i < Q_COUNT; i++)
        sqlite3_finalize(st->q[i]);
    sqlite3_close(st->db);
    free(st);
}

/* Binds text parameters 1..n and returns the reset statement. */
static sqlite3_stmt *store_bind(store *st, int q, int n, const char *a, const char *b,
                                const char *c)
{
    sqlite3_stmt *s = st->q[q];
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    const char *v[3] = {a, b, c};
    for (int i = 0; i < n; i++)
        sqlite3_bind_text(s, i + 1, v[i], -1, SQLITE_TRANSIENT);
    return s;
}

/* Runs a statement that returns no rows; returns sqlite3_changes or -1. */
static int store_exec(store *st, sqlite3_stmt *s, const char *what)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return store_fail(st, what);
    return sqlite3_changes(st->db);
}

static void blob_out(sqlite3_stmt *s, int col, uint8_t *out, size_t cap, size_t *len)
{
    size_t n = (size_t)sqlite3_column_bytes(s, col);
    const void *p = sqlite3_column_blob(s, col);
    if (n > cap)
        n = cap;
    if (p)
        memcpy(out, p, n);
    if (len)
        *len = n;
}

int store_account_get(store *st, const char *host, const char *user, account_creds *out)
{
    sqlite3_stmt *s = store_bind(st, Q_ACC_GET, 2, host, user, NULL);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) {
        sqlite3_reset(s);
        return 0;
    }
    if (rc != SQLITE_ROW) {
        sqlite3_reset(s);
        return store_fail(st, "account get");
    }
    memset(out, 0, sizeof *out);
    blob_out(s, 0, out->salt, sizeof out->salt, &out->salt_len);
    out->iterations = (unsigned)sqlite3_column_int(s, 1);
    blob_out(s, 2, out->stored_key[SCRAM_SHA1], SCRAM_MAX_HASH, NULL);
    blob_out(s, 3, out->server_key[SCRAM_SHA1], SCRAM_MAX_HASH, NULL);
    blob_out(s, 4, out->stored_key[SCRAM_SHA256], SCRAM_MAX_HASH, NULL);
    blob_out(s, 5, out->server_key[SCRAM_SHA256], SCRAM_MAX_HASH, NULL);
    sqlite3_reset(s);
    return 1;
}

int store_account_put(store *st, const char *host, const char *user, const account_creds *c,
                      bool create_only)
{
    sqlite3_stmt *s =
        store_bind(st, create_only ? Q_ACC_INSERT : Q_ACC_UPSERT, 2, host, user, NULL);
    sqlite3_bind_blob(s, 3, c->salt, (int)c->salt_len, SQLITE_TRANSIENT);
    sqlite3_bind_int(s, 4, (int)c->iterations);
    for (int h = 0; h < 2; h++) {
        int len = (int)scram_hash_len((scram_hash)h);
        sqlite3_bind_blob(s, 5 + 2 * h, c->stored_key[h], len, SQLITE_TRANSIENT);
        sqlite3_bind_blob(s, 6 + 2 * h, c->server_key[h], len, SQLITE_TRANSIENT);
    }
    int n = store_exec(st, s, "account put");
    if (n < 0)
        return -1;
    return (create_only && n == 0) ? 1 : 0;
}

int store_account_delete(store *st, const char *host, const char *user)
{
    int n = store_exec(st, store_bind(st, Q_ACC_DELETE, 2, host, user, NULL), "account delete");
    if (n < 0)
        return -1;
    if (store_roster_clear(st, host, user) < 0 ||
        store_exec(st, store_bind(st, Q_PEND_CLEAR, 2, host, user, NULL), "pending clear") < 0)
        return -1;
    return n == 0 ? 1 : 0;
}

int store_account_list(store *st, const char *host, void (*fn)(void *ud, const char *user),
                       void *ud)
{
    sqlite3_stmt *s = store_bind(st, Q_ACC_LIST, 1, host, NULL, NULL);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        fn(ud, (const char *)sqlite3_column_text(s, 0));
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : store_fail(st, "account list");
}

static void roster_row(sqlite3_stmt *s, roster_item *it)
{
    memset(it, 0, sizeof *it);
    it->contact = xstrdup((const char *)sqlite3_column_text(s, 0));
    if (sqlite3_column_type(s, 1) != SQLITE_NULL)
        it->name = xstrdup((const char *)sqlite3_column_text(s, 1));
    int sub = sqlite3_column_int(s, 2);
    it->sub = (sub >= SUB_NONE && sub <= SUB_BOTH) ? (roster_sub)sub : SUB_NONE;
    it->ask = sqlite3_column_int(s, 3) != 0;
    const char *g = (const char *)sqlite3_column_text(s, 4);
    /* groups are stored newline-separated (a group name cannot hold one:
     * roster.c rejects control characters) */
    while (g && *g) {
        const char *nl = strchr(g, '\n');
        size_t len = nl ? (size_t)(nl - g) : strlen(g);
        it->groups = xrealloc(it->groups, (it->ngroups + 1) * sizeof *it->groups);
        it->groups[it->ngroups++] = xstrndup(g, len);
        g += len + (nl ? 1 : 0);
    }
}

int store_roster_load(store *st, const char *host, const char *user, roster_item **items, size_t *n)
{
    *items = NULL;
    *n = 0;
    sqlite3_stmt *s = store_bind(st, Q_ROSTER_LOAD, 2, host, user, NULL);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        *items = xrealloc(*items, (*n + 1) * sizeof **items);
        roster_row(s, &(*items)[(*n)++]);
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : store_fail(st, "roster load");
}

int store_roster_get(store *st, const char *host, const char *user, const char *contact,
                     roster_item *out)
{
    sqlite3_stmt *s = store_bind(st, Q_ROSTER_GET, 3, host, user, contact);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        roster_row(s, out);
    sqlite3_reset(s);
    if (rc == SQLITE_ROW)
        return 1;
    return rc == SQLITE_DONE ? 0 : store_fail(st, "roster get");
}

int store_roster_put(store *st, const char *host, const char *user, const roster_item *item)
{
    sqlite3_stmt *s = store_bind(st, Q_ROSTER_PUT, 3, host, user, item->contact);
    if (item->name)
        sqlite3_bind_text(s, 4, item->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(s, 5, (int)item->sub);
    sqlite3_bind_int(s, 6, item->ask ? 1 : 0);
    char *groups = NULL;
    size_t glen = 0;
    for (size_t i = 0; i < item->ngroups; i++) {
        size_t l = strlen(item->groups[i]);
        groups = xrealloc(groups, glen + l + 2);
        memcpy(groups + glen, item->groups[i], l);
        glen += l;
        groups[glen++] = i + 1 < item->ngroups ? '\n' : '\0';
    }
    if (groups)
        sqlite3_bind_text(s, 7, groups, -1, SQLITE_TRANSIENT);
    free(groups);
    return store_exec(st, s, "roster put") < 0 ? -1 : 0;
}

int store_roster_delete(store *st, const char *host, const char *user, const char *contact)
{
    return store_exec(st, store_bind(st, Q_ROSTER_DELETE, 3, host, user, contact),
                      "roster delete") < 0
               ? -1
               : 0;
}

int store_roster_clear(store *st, const char *host, const char *user)
{
    return store_exec(st, store_bind(st, Q_ROSTER_CLEAR, 2, host, user, NULL), "roster clear") < 0
               ? -1
               : 0;
}

int store_pending_add(store *st, const char *host, const char *user, const char *contact)
{
    return store_exec(st, store_bind(st, Q_PEND_ADD, 3, host, user, contact), "pending add") < 0
               ? -1
               : 0;
}

int store_pending_remove(store *st, const char *host, const char *user, const char *contact)
{
    return store_exec(st, store_bind(st, Q_PEND_REMOVE, 3, host, user, contact), "pending remove") <
                   0
               ? -1
               : 0;
}

int store_pending_has(store *st, const char *host, const char *user, const char *contact)
{
    sqlite3_stmt *s = store_bind(st, Q_PEND_HAS, 3, host, user, contact);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc == SQLITE_ROW)
        return 1;
    return rc == SQLITE_DONE ? 0 : store_fail(st, "pending has");
}

int store_pending_list(store *st, const char *host, const char *user,
                       void (*fn)(void *ud, const char *contact), void *ud)
{
    sqlite3_stmt *s = store_bind(st, Q_PEND_LIST, 2, host, user, NULL);
    int rc;
    char **list = NULL;
    size_t n = 0;
    /* collect first: fn may run other statements */
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        list = xrealloc(list, (n + 1) * sizeof *list);
        list[n++] = xstrdup((const char *)sqlite3_column_text(s, 0));
    }
    sqlite3_reset(s);
    for (size_t i = 0; i < n; i++) {
        fn(ud, list[i]);
        free(list[i]);
    }
    free(list);
    return rc == SQLITE_DONE ? 0 : store_fail(st, "pending list");
}

void roster_item_clear(roster_item *it)
{
    free(it->contact);
    free(it->name);
    for (size_t i = 0; i < it->ngroups; i++)
        free(it->groups[i]);
    free(it->groups);
    memset(it, 0, sizeof *it);
}

void roster_items_free(roster_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        roster_item_clear(&items[i]);
    free(items);
}

const char *roster_sub_name(roster_sub s)
{
    static const char *names[] = {"none", "to", "from", "both"};
    return names[s];
}

int store_muc_put(store *st, const char *service, const char *room, const char *config)
{
    return store_exec(st, store_bind(st, Q_MUC_PUT, 3, service, room, config), "muc put") < 0 ? -1
                                                                                              : 0;
}

int store_muc_delete(store *st, const char *service, const char *room)
{
    if (store_exec(st, store_bind(st, Q_MUC_DELETE, 2, service, room, NULL), "muc delete") < 0)
        return -1;
    return store_muc_affs_clear(st, service, room);
}

int store_muc_affs_clear(store *st, const char *service, const char *room)
{
    return store_exec(st, store_bind(st, Q_MUC_AFF_CLEAR, 2, service, room, NULL),
                      "muc affiliations clear") < 0
               ? -1
               : 0;
}

int store_muc_aff_put(store *st, const char *service, const char *room, const char *jid, int aff)
{
    sqlite3_stmt *s = store_bind(st, Q_MUC_AFF_PUT, 3, service, room, jid);
    sqlite3_bind_int(s, 4, aff);
    return store_exec(st, s, "muc affiliation put") < 0 ? -1 : 0;
}

/* Runs a two-column query and collects its rows before calling back. */
static int store_rows2(store *st, sqlite3_stmt *s, const char *what,
                       void (*fn)(void *ud, const char *a, const char *b), void *ud)
{
    char **rows = NULL;
    size_t n = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        rows = xrealloc(rows, (n + 2) * sizeof *rows);
        rows[n++] = xstrdup((const char *)sqlite3_column_text(s, 0));
        rows[n++] = xstrdup((const char *)sqlite3_column_text(s, 1));
    }
    sqlite3_reset(s);
    for (size_t i = 0; i < n; i += 2) {
        fn(ud, rows[i], rows[i + 1]);
        free(rows[i]);
        free(rows[i + 1]);
    }
    free(rows);
    return rc == SQLITE_DONE ? 0 : store_fail(st, what);
}

int store_muc_load(store *st, const char *service,
                   void (*fn)(void *ud, const char *room, const char *config), void *ud)
{
    return store_rows2(st, store_bind(st, Q_MUC_LOAD, 1, service, NULL, NULL), "muc load", fn, ud);
}

int store_muc_affs_load(store *st, const char *service, const char *room,
                        void (*fn)(void *ud, const char *jid, const char *aff), void *ud)
{
    return store_rows2(st, store_bind(st, Q_MUC_AFF_LOAD, 2, service, room, NULL),
                       "muc affiliations load", fn, ud);
}
