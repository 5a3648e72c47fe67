#include "account.h"
#include "util.h"

#include <openssl/crypto.h>
#include <string.h>

int account_make_creds(const char *password, account_creds *out)
{
    size_t len = strlen(password);
    if (len == 0 || len > 1023)
        return -1;
    memset(out, 0, sizeof *out);
    out->salt_len = 16;
    random_bytes(out->salt, out->salt_len);
    out->iterations = SCRAM_DEFAULT_ITERATIONS;
    for (int h = 0; h < 2; h++)
        if (scram_derive((scram_hash)h, password, out->salt, out->salt_len, out->iterations,
                         out->stored_key[h], out->server_key[h]) != 0)
            return -1;
    return 0;
}

bool account_check_password(const account_creds *c, const char *password)
{
    uint8_t stored[SCRAM_MAX_HASH], server[SCRAM_MAX_HASH];
    if (strlen(password) > 1023 || scram_derive(SCRAM_SHA256, password, c->salt, c->salt_len,
                                                c->iterations, stored, server) != 0)
        return false;
    return CRYPTO_memcmp(stored, c->stored_key[SCRAM_SHA256], scram_hash_len(SCRAM_SHA256)) == 0;
}
