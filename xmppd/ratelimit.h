/* ratelimit: per-IP token buckets for logins (XMPP_LOGIN_RATE per minute,
 * with that many in a burst). Buckets live in srv->login_buckets and are
 * pruned by ratelimit_prune once full again. Main loop. */
#ifndef PARLEY_RATELIMIT_H
#define PARLEY_RATELIMIT_H

#include "xmppd.h"

#include <stdbool.h>

/* Takes one token for ip; false if its bucket is empty. */
bool ratelimit_login(xmppd *srv, const char *ip);
/* Drops buckets that have refilled completely. */
void ratelimit_prune(xmppd *srv);
/* Frees every bucket. */
void ratelimit_free(xmppd *srv);

#endif
