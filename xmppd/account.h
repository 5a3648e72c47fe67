/* account: turning a password into stored SCRAM credentials and checking a
 * PLAIN password against them. Shared by sasl.c and parleyctl. Any loop. */
#ifndef PARLEY_ACCOUNT_H
#define PARLEY_ACCOUNT_H

#include "store.h"

#include <stdbool.h>

/* Fresh salt, SCRAM_DEFAULT_ITERATIONS, SHA-1 and SHA-256 keys. -1 if the
 * password is not acceptable (SASLprep fails, empty, over 1023 bytes). */
int account_make_creds(const char *password, account_creds *out);
/* True if password matches the stored SHA-256 StoredKey. */
bool account_check_password(const account_creds *c, const char *password);

#endif
