/* ice_stun: STUN Binding messages for ICE (build, parse, integrity) on top of
 * libnice's STUN library; see ice_stun.h. No allocation and no global
 * mutable state here: every StunAgent lives on the stack of one call.
 *
 * libnice quirks this file works around:
 * - stun_agent_validate() accepts a response or error response only if its
 *   transaction id is in the agent's table of sent requests (else
 *   STUN_VALIDATION_UNMATCHED_RESPONSE). The caller tracks transactions, so
 *   ice_stun_validate() first "sends" a request with the response's id
 *   through the call's own agent (ice_stun_expect).
 * - stun_agent_validate() does not check that MESSAGE-INTEGRITY is 20 bytes
 *   before hashing up to 20 bytes past its start and comparing 20 bytes: a
 *   shorter last attribute would be read past the datagram. The length is
 *   checked here first.
 * - With a zero-length key, or for error responses 400/401/438, it returns
 *   success without comparing any HMAC; and a response without
 *   MESSAGE-INTEGRITY is accepted when the agent has no key for it. So the
 *   presence of the attribute, the code and a non-empty key are checked here.
 * - stun_message_append() bounds the attribute but not its padding (up to 3
 *   bytes more): builders give libnice a capacity rounded down to 4.
 * - stun_agent_finish_message() signs with msg->key when set, ignoring its
 *   key argument; messages here are set up with msg->key NULL.
 * - stun_agent_init_error() always writes libnice's own reason phrase;
 *   ERROR-CODE is appended here instead.
 * - stun_agent_init() keeps the known-attribute list pointer and dereferences
 *   it in stun_agent_validate(): it must be a 0-terminated array, never
 *   NULL. */
#include "ice_stun.h"

#include <netinet/in.h>
#include <string.h>

#include <stun/stunagent.h>
#include <stun/stunmessage.h>

/* Comprehension-required attribute types this module knows (0-terminated,
 * the form stun_agent_init() wants). */
static const uint16_t ice_stun_known[] = {
    STUN_ATTRIBUTE_MAPPED_ADDRESS,
    STUN_ATTRIBUTE_USERNAME,
    STUN_ATTRIBUTE_MESSAGE_INTEGRITY,
    STUN_ATTRIBUTE_ERROR_CODE,
    STUN_ATTRIBUTE_UNKNOWN_ATTRIBUTES,
    STUN_ATTRIBUTE_REALM,
    STUN_ATTRIBUTE_NONCE,
    STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS,
    STUN_ATTRIBUTE_PRIORITY,
    STUN_ATTRIBUTE_USE_CANDIDATE,
    0,
};

#define ICE_STUN_USERNAME_MAX (ICE_STUN_MAX_USERNAME - 1)
#define ICE_STUN_ATTR_MI_SHA256 0x001C /* RFC 8489 MESSAGE-INTEGRITY-SHA256 */

static uint16_t ice_stun_rd16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t ice_stun_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool ice_stun_is_known(uint16_t type)
{
    for (size_t i = 0; ice_stun_known[i]; i++)
        if (ice_stun_known[i] == type)
            return true;
    return false;
}

/* The 16-byte libnice transaction id: magic cookie, then the 12-byte txid. */
static void ice_stun_full_id(StunTransactionId id, const uint8_t txid[12])
{
    id[0] = 0x21;
    id[1] = 0x12;
    id[2] = 0xA4;
    id[3] = 0x42;
    memcpy(id + 4, txid, 12);
}

/* True when buf is exactly one whole STUN message with the magic cookie
 * (header length + 20 == len, attributes framed) and of method Binding;
 * then *msg views it (libnice wants a non-const buffer; nothing writes). */
static bool ice_stun_view(const uint8_t *buf, size_t len, StunAgent *agent, StunMessage *msg)
{
    if (!ice_stun_is_stun(buf, len) || len > STUN_MAX_MESSAGE_SIZE)
        return false;
    if (stun_message_validate_buffer_length(buf, len, true) != (int)len)
        return false;
    memset(msg, 0, sizeof *msg);
    msg->agent = agent;
    msg->buffer = (uint8_t *)buf;
    msg->buffer_len = len;
    return stun_message_get_method(msg) == STUN_BINDING;
}

/* Makes agent take a response with transaction id txid: stun_agent_validate
 * matches responses against the requests the agent has finished. The
 * request is built in a scratch buffer with no key, so validation then asks
 * the key callback for the response's key. */
static bool ice_stun_expect(StunAgent *agent, const uint8_t *txid)
{
    uint8_t scratch[64];
    StunMessage req;
    if (!stun_agent_init_request(agent, &req, scratch, sizeof scratch, STUN_BINDING))
        return false;
    memcpy(scratch + 8, txid, 12); /* init_request drew a random id */
    return stun_agent_finish_message(agent, &req, NULL, 0) != 0;
}

/* stun_agent_validate key callback: the password in user_data, whatever the
 * USERNAME (which the caller matched when it chose the password). */
static bool ice_stun_key_cb(StunAgent *agent, StunMessage *message, uint8_t *username,
                            uint16_t username_len, uint8_t **password, size_t *password_len,
                            void *user_data)
{
    const char *pwd = user_data;
    if (!pwd || !pwd[0])
        return false;
    *password = (uint8_t *)pwd; /* libnice only reads it */
    *password_len = strlen(pwd);
    return true;
}

/* Runs stun_agent_validate on a message ice_stun_view accepted, with a
 * fresh RFC 5389 agent using flags; pwd (may be NULL) is the key. True on
 * success; an unknown comprehension-required attribute is reported only
 * after the fingerprint and integrity checks passed, so it counts as success
 * here (ice_stun_parse rejects those itself). */
static bool ice_stun_validate(const uint8_t *buf, size_t len, StunAgentUsageFlags flags,
                              const char *pwd)
{
    StunAgent agent;
    StunMessage msg;
    stun_agent_init(&agent, ice_stun_known, STUN_COMPATIBILITY_RFC5389, flags);
    if (!ice_stun_view(buf, len, &agent, &msg))
        return false;
    StunClass cls = stun_message_get_class(&msg);
    if ((cls == STUN_RESPONSE || cls == STUN_ERROR) && !ice_stun_expect(&agent, buf + 8))
        return false;
    switch (
        stun_agent_validate(&agent, &msg, buf, len, pwd ? ice_stun_key_cb : NULL, (void *)pwd)) {
    case STUN_VALIDATION_SUCCESS:
    case STUN_VALIDATION_UNKNOWN_REQUEST_ATTRIBUTE:
    case STUN_VALIDATION_UNKNOWN_ATTRIBUTE:
        return true;
    default:
        return false;
    }
}

bool ice_stun_is_stun(const uint8_t *buf, size_t len)
{
    return buf && len >= ICE_STUN_HEADER_LEN && buf[0] <= 3 &&
           ice_stun_rd32(buf + 4) == ICE_STUN_MAGIC_COOKIE;
}

/* Walks the attributes of a framed message (ice_stun_view passed) and
 * checks the structure ice_stun.h promises: nothing after FINGERPRINT, only
 * MESSAGE-INTEGRITY-SHA256 between MESSAGE-INTEGRITY and FINGERPRINT, no
 * unknown comprehension-required attribute and the right lengths before
 * MESSAGE-INTEGRITY. Sets has_integrity / has_fingerprint (the latter not
 * yet verified). */
static bool ice_stun_walk(const uint8_t *buf, size_t len, ice_stun_info *out)
{
    size_t off = ICE_STUN_HEADER_LEN;
    bool after_mi = false;
    while (off < len) {
        if (out->has_fingerprint || len - off < 4)
            return false; /* FINGERPRINT must be last */
        uint16_t type = ice_stun_rd16(buf + off);
        size_t alen = ice_stun_rd16(buf + off + 2);
        size_t padded = (alen + 3) & ~(size_t)3;
        if (padded > len - off - 4)
            return false;
        const uint8_t *val = buf + off + 4;
        off += 4 + padded;
        if (type == STUN_ATTRIBUTE_FINGERPRINT) {
            if (alen != 4)
                return false;
            out->has_fingerprint = true;
            continue;
        }
        if (after_mi) {
            /* RFC 8489 §14.5 lets only MESSAGE-INTEGRITY-SHA256 and
             * FINGERPRINT follow MESSAGE-INTEGRITY; the former is skipped.
             * Anything else there is unauthenticated: reject rather than
             * ignore, so no byte after MESSAGE-INTEGRITY can change. */
            if (type != ICE_STUN_ATTR_MI_SHA256 || alen < 16 || alen > 32 || alen % 4)
                return false;
            continue;
        }
        switch (type) {
        case STUN_ATTRIBUTE_MESSAGE_INTEGRITY:
            if (alen != 20)
                return false;
            out->has_integrity = true;
            after_mi = true;
            break;
        case STUN_ATTRIBUTE_USERNAME:
            if (alen > ICE_STUN_USERNAME_MAX || memchr(val, 0, alen))
                return false;
            break;
        case STUN_ATTRIBUTE_PRIORITY:
            if (alen != 4)
                return false;
            break;
        case STUN_ATTRIBUTE_USE_CANDIDATE:
            if (alen != 0)
                return false;
            break;
        case STUN_ATTRIBUTE_ICE_CONTROLLING:
        case STUN_ATTRIBUTE_ICE_CONTROLLED:
            if (alen != 8)
                return false;
            break;
        case STUN_ATTRIBUTE_ERROR_CODE:
            if (alen < 4)
                return false;
            break;
        default:
            if (type < 0x8000 && !ice_stun_is_known(type))
                return false; /* unknown comprehension-required */
            break;
        }
    }
    return true;
}

bool ice_stun_parse(const uint8_t *buf, size_t len, ice_stun_info *out)
{
    if (!out)
        return false;
    memset(out, 0, sizeof *out);
    StunMessage msg;
    if (!ice_stun_view(buf, len, NULL, &msg) || !ice_stun_walk(buf, len, out))
        return false;
    if (out->has_fingerprint &&
        !ice_stun_validate(
            buf, len, STUN_AGENT_USAGE_USE_FINGERPRINT | STUN_AGENT_USAGE_IGNORE_CREDENTIALS, NULL))
        return false;

    switch (stun_message_get_class(&msg)) {
    case STUN_REQUEST:
        out->kind = ICE_STUN_REQUEST;
        break;
    case STUN_RESPONSE:
        out->kind = ICE_STUN_SUCCESS;
        break;
    case STUN_ERROR:
        out->kind = ICE_STUN_ERROR;
        break;
    default:
        out->kind = ICE_STUN_INDICATION;
        break;
    }
    memcpy(out->txid, buf + 8, sizeof out->txid);

    /* Values through libnice's finders: each takes the first occurrence and
     * stops at MESSAGE-INTEGRITY, as ice_stun_walk does. */
    StunMessageReturn r = stun_message_find_string(&msg, STUN_ATTRIBUTE_USERNAME, out->username,
                                                   sizeof out->username);
    if (r != STUN_MESSAGE_RETURN_SUCCESS && r != STUN_MESSAGE_RETURN_NOT_FOUND)
        return false;
    r = stun_message_find32(&msg, STUN_ATTRIBUTE_PRIORITY, &out->priority);
    if (r != STUN_MESSAGE_RETURN_SUCCESS && r != STUN_MESSAGE_RETURN_NOT_FOUND)
        return false;
    out->has_priority = r == STUN_MESSAGE_RETURN_SUCCESS;
    r = stun_message_find_flag(&msg, STUN_ATTRIBUTE_USE_CANDIDATE);
    if (r != STUN_MESSAGE_RETURN_SUCCESS && r != STUN_MESSAGE_RETURN_NOT_FOUND)
        return false;
    out->use_candidate = r == STUN_MESSAGE_RETURN_SUCCESS;

    uint64_t tie = 0;
    r = stun_message_find64(&msg, STUN_ATTRIBUTE_ICE_CONTROLLING, &tie);
    if (r != STUN_MESSAGE_RETURN_SUCCESS && r != STUN_MESSAGE_RETURN_NOT_FOUND)
        return false;
    out->controlling = r == STUN_MESSAGE_RETURN_SUCCESS;
    if (out->controlling)
        out->tiebreaker = tie;
    r = stun_message_find64(&msg, STUN_ATTRIBUTE_ICE_CONTROLLED, &tie);
    if (r != STUN_MESSAGE_RETURN_SUCCESS && r != STUN_MESSAGE_RETURN_NOT_FOUND)
        return false;
    out->controlled = r == STUN_MESSAGE_RETURN_SUCCESS;
    if (out->controlled) {
        if (out->controlling)
            return false; /* both roles at once */
        out->tiebreaker = tie;
    }

    if (out->kind == ICE_STUN_ERROR &&
        stun_message_find_error(&msg, &out->error_code) != STUN_MESSAGE_RETURN_SUCCESS)
        return false;

    socklen_t alen = sizeof out->mapped;
    r = stun_message_find_xor_addr(&msg, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS, &out->mapped, &alen);
    if (r != STUN_MESSAGE_RETURN_SUCCESS && r != STUN_MESSAGE_RETURN_NOT_FOUND)
        return false;
    out->has_mapped = r == STUN_MESSAGE_RETURN_SUCCESS;
    return true;
}

bool ice_stun_check_integrity(const uint8_t *buf, size_t len, const char *pwd)
{
    if (!pwd || !pwd[0])
        return false;
    StunMessage msg;
    if (!ice_stun_view(buf, len, NULL, &msg))
        return false;
    uint16_t mi_len = 0;
    if (!stun_message_find(&msg, STUN_ATTRIBUTE_MESSAGE_INTEGRITY, &mi_len) || mi_len != 20)
        return false;
    int code = 0;
    if (stun_message_get_class(&msg) == STUN_ERROR &&
        stun_message_find_error(&msg, &code) == STUN_MESSAGE_RETURN_SUCCESS &&
        (code == 400 || code == 401 || code == 438))
        return false; /* libnice would not compare the HMAC */
    return ice_stun_validate(buf, len, STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS, pwd);
}

/* Usable capacity for libnice: it bounds each attribute but not its padding,
 * so a multiple of 4 keeps every write within cap. */
static size_t ice_stun_cap(size_t cap)
{
    if (cap > STUN_MAX_MESSAGE_SIZE)
        cap = STUN_MAX_MESSAGE_SIZE;
    return cap & ~(size_t)3;
}

/* Sets up msg in buf as a Binding response (cls STUN_RESPONSE) or error
 * response (STUN_ERROR) with transaction id txid, through agent: libnice's
 * init_response answers a request message, so one is made over a 20-byte
 * header; stun_message_init then rewrites the header for an error. */
static bool ice_stun_init_response(StunAgent *agent, StunMessage *msg, uint8_t *buf, size_t cap,
                                   StunClass cls, const uint8_t txid[12])
{
    StunTransactionId id;
    ice_stun_full_id(id, txid);
    uint8_t hdr[ICE_STUN_HEADER_LEN];
    StunMessage req;
    memset(&req, 0, sizeof req); /* key NULL: finish_message takes ours */
    req.agent = agent;
    req.buffer = hdr;
    req.buffer_len = sizeof hdr;
    if (!stun_message_init(&req, STUN_REQUEST, STUN_BINDING, id))
        return false;
    if (!stun_agent_init_response(agent, msg, buf, cap, &req))
        return false;
    return cls == STUN_RESPONSE || stun_message_init(msg, cls, STUN_BINDING, id);
}

/* Appends MESSAGE-INTEGRITY (when pwd is non-NULL) and FINGERPRINT; returns
 * the message length or 0. */
static size_t ice_stun_finish(StunAgent *agent, StunMessage *msg, const char *pwd)
{
    if (pwd)
        return stun_agent_finish_message(agent, msg, (const uint8_t *)pwd, strlen(pwd));
    return stun_agent_finish_message(agent, msg, NULL, 0);
}

size_t ice_stun_build_request(uint8_t *buf, size_t cap, const uint8_t txid[12],
                              const char *username, const char *pwd, uint32_t priority,
                              bool controlling, uint64_t tiebreaker, bool use_candidate)
{
    if (!buf || !txid || !username || !pwd || !pwd[0] || (use_candidate && !controlling))
        return 0;
    size_t ulen = strlen(username);
    if (ulen == 0 || ulen > ICE_STUN_USERNAME_MAX)
        return 0;
    StunAgent agent;
    StunMessage msg;
    stun_agent_init(&agent, ice_stun_known, STUN_COMPATIBILITY_RFC5389,
                    STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
    if (!stun_agent_init_request(&agent, &msg, buf, ice_stun_cap(cap), STUN_BINDING))
        return 0;
    memcpy(buf + 8, txid, 12); /* replace libnice's random id */
    if (stun_message_append_string(&msg, STUN_ATTRIBUTE_USERNAME, username) ||
        stun_message_append32(&msg, STUN_ATTRIBUTE_PRIORITY, priority) ||
        stun_message_append64(
            &msg, controlling ? STUN_ATTRIBUTE_ICE_CONTROLLING : STUN_ATTRIBUTE_ICE_CONTROLLED,
            tiebreaker) ||
        (use_candidate && stun_message_append_flag(&msg, STUN_ATTRIBUTE_USE_CANDIDATE)))
        return 0;
    return ice_stun_finish(&agent, &msg, pwd);
}

size_t ice_stun_build_success(uint8_t *buf, size_t cap, const uint8_t txid[12],
                              const struct sockaddr *mapped, const char *pwd)
{
    if (!buf || !txid || !mapped || !pwd || !pwd[0])
        return 0;
    socklen_t alen;
    if (mapped->sa_family == AF_INET)
        alen = sizeof(struct sockaddr_in);
    else if (mapped->sa_family == AF_INET6)
        alen = sizeof(struct sockaddr_in6);
    else
        return 0;
    StunAgent agent;
    StunMessage msg;
    stun_agent_init(&agent, ice_stun_known, STUN_COMPATIBILITY_RFC5389,
                    STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
    if (!ice_stun_init_response(&agent, &msg, buf, ice_stun_cap(cap), STUN_RESPONSE, txid))
        return 0;
    /* libnice copies alen bytes out of the "storage", so a sockaddr_in is fine */
    if (stun_message_append_xor_addr(&msg, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS,
                                     (const struct sockaddr_storage *)(const void *)mapped, alen))
        return 0;
    return ice_stun_finish(&agent, &msg, pwd);
}

size_t ice_stun_build_error(uint8_t *buf, size_t cap, const uint8_t txid[12], int code,
                            const char *reason, const char *pwd)
{
    if (!buf || !txid || code < 300 || code > 699 || (pwd && !pwd[0]))
        return 0;
    if (!reason)
        reason = stun_strerror((StunError)code);
    size_t rlen = strlen(reason);
    if (rlen > ICE_STUN_MAX_REASON)
        return 0;
    StunAgent agent;
    StunMessage msg;
    stun_agent_init(&agent, ice_stun_known, STUN_COMPATIBILITY_RFC5389,
                    STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
    if (!ice_stun_init_response(&agent, &msg, buf, ice_stun_cap(cap), STUN_ERROR, txid))
        return 0;
    /* ERROR-CODE (RFC 5389 §15.6): 2 zero bytes, class, number, reason */
    uint8_t *p = stun_message_append(&msg, STUN_ATTRIBUTE_ERROR_CODE, 4 + rlen);
    if (!p)
        return 0;
    p[0] = 0;
    p[1] = 0;
    p[2] = (uint8_t)(code / 100);
    p[3] = (uint8_t)(code % 100);
    memcpy(p + 4, reason, rlen);
    return ice_stun_finish(&agent, &msg, pwd);
}

bool ice_stun_username_local(const char *username, const char **local, size_t *local_len)
{
    if (!username || !local || !local_len)
        return false;
    const char *colon = strchr(username, ':');
    if (!colon || colon == username)
        return false;
    *local = username;
    *local_len = (size_t)(colon - username);
    return true;
}
