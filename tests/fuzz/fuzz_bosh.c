/* Fuzz target: the BOSH request body parser (bosh_parse_body), which sees
 * every byte a browser POSTs to /http-bind before any session logic. */
#include "xmppd/bosh.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *why = NULL;
    xml_node *body = bosh_parse_body((const char *)data, size, 65536, &why);
    if (body) {
        /* what bosh_request reads from a body */
        (void)xml_attr_get(body, "rid");
        (void)xml_attr_get(body, "sid");
        (void)xml_attr_get(body, "xmpp:restart");
        size_t len = 0;
        char *s = xml_to_string(body, "jabber:client", &len);
        if (strlen(s) != len)
            abort();
        free(s);
        xml_free(body);
    } else if (!why) {
        abort(); /* a refusal always says why */
    }
    return 0;
}
