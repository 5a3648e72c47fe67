/* jid: parsing, normalization (stringprep nodeprep / nameprep /
 * resourceprep, RFC 6122 via libidn) and formatting of XMPP addresses.
 *
 * Limits: each part at most 1023 bytes after preparation; the domain is
 * required and lower-cased, a trailing dot is removed; IPv4 and bracketed
 * IPv6 literals are accepted as domains.
 *
 * Ownership: a jid owns its three strings; jid_clear frees them. Returned
 * strings are malloc'd and owned by the caller. Any loop. */
#ifndef PARLEY_JID_H
#define PARLEY_JID_H

#include <stdbool.h>
#include <stddef.h>

typedef struct jid {
    char *node;     /* NULL if absent */
    char *domain;   /* never NULL in a parsed jid */
    char *resource; /* NULL if absent */
} jid;

/* Parses and normalizes s. Returns 0 and fills out (caller jid_clear()s), or
 * -1 if s is not a valid JID (out is left zeroed). */
int jid_parse(const char *s, jid *out);
/* Frees the parts and zeroes j. NULL-safe on parts. */
void jid_clear(jid *j);
/* Deep copy into out (caller jid_clear()s). */
void jid_copy(jid *out, const jid *in);
/* "node@domain/resource" (parts present only); caller frees. */
char *jid_full(const jid *j);
/* "node@domain" (or "domain"); caller frees. */
char *jid_bare(const jid *j);
/* Normalizes a JID string; returns the malloc'd normalized full form, or
 * NULL if invalid. bare != 0 drops the resource. */
char *jid_normalize(const char *s, bool bare);
/* Single-part preparation; each returns a malloc'd prepared string or NULL
 * if the input is invalid or too long. */
char *jid_prep_node(const char *s);
char *jid_prep_domain(const char *s);
char *jid_prep_resource(const char *s);
/* SASLprep (RFC 4013) of a password or username; malloc'd, NULL if invalid. */
char *saslprep(const char *s);

#endif
