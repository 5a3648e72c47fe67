/* muc_members: outcasts may not enter; members-only rooms admit members,
 * admins and owners. */
#include "muc_room.h"

int muc_members_may_join(muc_join_ctx *ctx)
{
    if (ctx->aff == AFF_OUTCAST) {
        ctx->err_type = "auth";
        ctx->err_cond = "forbidden";
        ctx->err_text = "you are banned from this room";
        return -1;
    }
    if (ctx->room->cfg.members_only && ctx->aff < AFF_MEMBER) {
        ctx->err_type = "auth";
        ctx->err_cond = "registration-required";
        ctx->err_text = "this room is for members only";
        return -1;
    }
    return 0;
}
