/* scram: SCRAM-SHA-1 and SCRAM-SHA-256 (RFC 5802, RFC 7677) for the server
 * side, and the salted-key derivation used when storing passwords.
 *
 * No channel binding is offered: the client's gs2 header must be "n,," or
 * "y,," (an authzid "a=..." is accepted and returned). Passwords are never
 * stored: only salt, iteration count, StoredKey and ServerKey.
 *
 * Ownership: scram_server objects are created and freed by the caller; all
 * returned strings are malloc'd and owned by the caller. Any loop. */
#ifndef PARLEY_SCRAM_H
#define PARLEY_SCRAM_H

#include <stddef.h>
#include <stdint.h>

typedef enum scram_hash { SCRAM_SHA1 = 0, SCRAM_SHA256 = 1 } scram_hash;

#define SCRAM_MAX_HASH 32
#define SCRAM_DEFAULT_ITERATIONS 10000

size_t scram_hash_len(scram_hash h);
/* "SCRAM-SHA-1" / "SCRAM-SHA-256". */
const char *scram_mech_name(scram_hash h);

/* Derives StoredKey and ServerKey (each scram_hash_len bytes) from a password
 * (SASLprep'd here), salt and iteration count. 0 on success, -1 if the
 * password fails SASLprep. */
int scram_derive(scram_hash h, const char *password, const uint8_t *salt, size_t salt_len,
                 unsigned iterations, uint8_t *stored_key, uint8_t *server_key);

typedef struct scram_server scram_server;

/* New exchange. server_nonce NULL means a fresh random nonce (tests pass the
 * RFC's nonce). */
scram_server *scram_server_new(scram_hash h, const char *server_nonce);
void scram_server_free(scram_server *s);

/* Step 1: parses client-first-message. On success returns 0 and sets
 * *username (decoded from =2C/=3D and SASLprep'd, malloc'd) and *authzid
 * (malloc'd or NULL). Returns -1 on a malformed message. */
int scram_server_client_first(scram_server *s, const char *msg, size_t len, char **username,
                              char **authzid);
/* Step 2: with the stored credentials of that user, returns the
 * server-first-message (malloc'd). For an unknown user pass known = 0 and any
 * salt: the exchange proceeds and fails at step 3, so usernames do not leak. */
char *scram_server_first(scram_server *s, int known, const uint8_t *salt, size_t salt_len,
                         unsigned iterations, const uint8_t *stored_key, const uint8_t *server_key);
/* Step 3: verifies client-final-message. Returns 0 and sets *server_final
 * (malloc'd "v=...") if the proof is right, -1 otherwise (malformed,
 * nonce mismatch, wrong proof, unknown user). */
int scram_server_client_final(scram_server *s, const char *msg, size_t len, char **server_final);

#endif
