/* muc_policy: who may create rooms (on XMPP_MUC_DOMAIN: the focus component
 * and XMPP_AUTH_DOMAIN accounts unless MUC_RESTRICT_ROOM_CREATION=false),
 * who may enter brewery rooms (XMPP_AUTH_DOMAIN and XMPP_HIDDEN_DOMAIN
 * accounts, components), and the occupant limit. */
#include "muc_room.h"
#include "settings.h"
#include "util.h"

#include <string.h>

static const char *muc_domain_of(const char *bare)
{
    const char *at = strchr(bare, '@');
    return at ? at + 1 : bare;
}

static bool muc_is_service_account(xmppd *srv, const char *bare)
{
    const char *d = muc_domain_of(bare);
    return settings_component(&srv->set, d) != NULL ||
           strcmp(d, srv->set.vhosts[1].domain) == 0; /* XMPP_AUTH_DOMAIN */
}

static int muc_brewery_check(muc_join_ctx *ctx)
{
    xmppd *srv = ctx->svc->srv;
    if (!ctx->svc->internal)
        return 0;
    if (muc_is_service_account(srv, ctx->real_bare) || muc_hidden_is(srv, ctx->real_bare))
        return 0;
    ctx->err_type = "auth";
    ctx->err_cond = "forbidden";
    ctx->err_text = "brewery rooms are for service accounts";
    return -1;
}

int muc_policy_may_create(muc_join_ctx *ctx)
{
    xmppd *srv = ctx->svc->srv;
    if (ctx->svc->internal)
        return muc_brewery_check(ctx);
    if (ctx->svc->rooms.len >= (size_t)srv->set.muc_max_rooms) {
        ctx->err_type = "wait";
        ctx->err_cond = "resource-constraint";
        ctx->err_text = "too many rooms";
        return -1;
    }
    if (srv->set.muc_restrict_creation && !muc_is_service_account(srv, ctx->real_bare)) {
        ctx->err_type = "cancel";
        ctx->err_cond = "not-allowed";
        ctx->err_text = "rooms are created by the conference focus";
        return -1;
    }
    return 0;
}

int muc_policy_may_join(muc_join_ctx *ctx)
{
    if (muc_brewery_check(ctx) != 0)
        return -1;
    muc_room *r = ctx->room;
    int max = r->cfg.max_users ? r->cfg.max_users : ctx->svc->srv->set.muc_max_occupants;
    if (ctx->aff < AFF_ADMIN && !muc_hidden_is(ctx->svc->srv, ctx->real_bare) &&
        muc_room_visible_count(r) >= (size_t)max) {
        ctx->err_type = "cancel";
        ctx->err_cond = "service-unavailable";
        ctx->err_text = "the room is full";
        return -1;
    }
    return 0;
}
