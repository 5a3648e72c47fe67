/* muc_password: a password-protected room needs <password/> in the join;
 * owners and admins enter without it. */
#include "muc_room.h"
#include "util.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

int muc_password_may_join(muc_join_ctx *ctx)
{
    const char *want = ctx->room->cfg.password;
    if (!want || !*want || ctx->aff >= AFF_ADMIN)
        return 0;
    xml_node *pw = xml_child(ctx->muc_x, "password", XMLNS_MUC);
    char *got = pw ? xml_text(pw, NULL) : NULL;
    bool ok = got && strlen(got) == strlen(want) && CRYPTO_memcmp(got, want, strlen(want)) == 0;
    free(got);
    if (ok)
        return 0;
    ctx->err_type = "auth";
    ctx->err_cond = "not-authorized";
    ctx->err_text = "a password is required";
    return -1;
}
