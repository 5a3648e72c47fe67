/* muc_hidden: occupants whose real JID is in XMPP_HIDDEN_DOMAIN (recorders)
 * are hidden from everyone but the room's owners and are not counted; the
 * core asks muc_room_can_see, which consults the flag set from here. */
#include "muc_room.h"

#include <string.h>

bool muc_hidden_is(xmppd *srv, const char *real_bare)
{
    const char *at = strchr(real_bare, '@');
    const char *d = at ? at + 1 : real_bare;
    return strcmp(d, srv->set.vhosts[2].domain) == 0; /* XMPP_HIDDEN_DOMAIN */
}
