/* muc_hooks: the table that connects the room core's events to the
 * optional features, one file each. Adding a feature = one file + a line. */
#include "muc_room.h"

#include <stddef.h>

typedef int (*muc_join_hook)(muc_join_ctx *ctx);

static const muc_join_hook muc_create_hooks[] = {
    muc_policy_may_create, /* muc_policy.c: who may create, brewery admission */
};

static const muc_join_hook muc_join_hooks[] = {
    muc_policy_may_join,   /* muc_policy.c: brewery admission, occupant limit */
    muc_members_may_join,  /* muc_members.c: outcasts, members-only */
    muc_password_may_join, /* muc_password.c: room password */
};

static int muc_hooks_run(const muc_join_hook *hooks, size_t n, muc_join_ctx *ctx)
{
    for (size_t i = 0; i < n; i++)
        if (hooks[i](ctx) != 0)
            return -1;
    return 0;
}

int muc_hooks_may_create(muc_join_ctx *ctx)
{
    return muc_hooks_run(muc_create_hooks, sizeof muc_create_hooks / sizeof *muc_create_hooks, ctx);
}

int muc_hooks_may_join(muc_join_ctx *ctx)
{
    return muc_hooks_run(muc_join_hooks, sizeof muc_join_hooks / sizeof *muc_join_hooks, ctx);
}

void muc_hooks_joined(muc_room *room, muc_occupant *o, const char *full, const xml_node *muc_x)
{
    muc_history_joined(room, o, full, muc_x); /* muc_history.c */
}

void muc_hooks_message(muc_room *room, const xml_node *msg)
{
    muc_history_message(room, msg); /* muc_history.c */
}
