/* fuzz_stun: libFuzzer target for common/ice_stun.c. Parses the input as a
 * STUN Binding message and checks its MESSAGE-INTEGRITY with a fixed
 * password (the RFC 5769 one, so the RFC samples in the corpus
 * authenticate); when it parses, builds a success response from the parsed
 * transaction id and mapped address, an error response with its error code,
 * and, for a request, the request again, and parses each back. Aborts if an
 * invariant breaks: a parsed message must be whole STUN with sane fields,
 * must not parse when cut short, and every built message must parse to the
 * values given and authenticate with its password only. */
#include "ice_stun.h"

#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(c)                                                                             \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

static const char fuzz_pwd[] = "VOkJxbRl1RmTxUk/WvJxBt";
static const char fuzz_other_pwd[] = "VOkJxbRl1RmTxUk/WvJxBT";

/* Same family, address and port. */
static int fuzz_same_addr(const struct sockaddr_storage *a, const struct sockaddr *b)
{
    if (a->ss_family != b->sa_family)
        return 0;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const struct sockaddr_in *)a;
        const struct sockaddr_in *y = (const struct sockaddr_in *)(const void *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a;
    const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)(const void *)b;
    return x->sin6_port == y->sin6_port && memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
}

static void fuzz_check_info(const uint8_t *data, size_t size, const ice_stun_info *in)
{
    FUZZ_ASSERT(ice_stun_is_stun(data, size));
    FUZZ_ASSERT(size >= ICE_STUN_HEADER_LEN && size % 4 == 0);
    FUZZ_ASSERT((size_t)(data[2] << 8 | data[3]) + ICE_STUN_HEADER_LEN == size);
    FUZZ_ASSERT(in->kind >= ICE_STUN_REQUEST && in->kind <= ICE_STUN_INDICATION);
    FUZZ_ASSERT(memcmp(in->txid, data + 8, 12) == 0);
    FUZZ_ASSERT(memchr(in->username, 0, sizeof in->username) != NULL);
    FUZZ_ASSERT(!(in->controlling && in->controlled));
    FUZZ_ASSERT(in->controlling || in->controlled || in->tiebreaker == 0);
    FUZZ_ASSERT(in->has_priority || in->priority == 0);
    if (in->kind == ICE_STUN_ERROR)
        FUZZ_ASSERT(in->error_code >= 300 && in->error_code <= 699);
    else
        FUZZ_ASSERT(in->error_code == 0);
    if (in->has_mapped)
        FUZZ_ASSERT(in->mapped.ss_family == AF_INET || in->mapped.ss_family == AF_INET6);
    const char *local = NULL;
    size_t local_len = 0;
    if (ice_stun_username_local(in->username, &local, &local_len)) {
        FUZZ_ASSERT(local == in->username && local_len > 0);
        FUZZ_ASSERT(local_len < strlen(in->username) && in->username[local_len] == ':');
    }
}

/* A built message of len bytes parses, carries txid, integrity (when
 * signed) and fingerprint, and authenticates with pwd only. */
static void fuzz_check_built(const uint8_t *buf, size_t len, const uint8_t txid[12],
                             const char *pwd, ice_stun_kind kind, ice_stun_info *out)
{
    FUZZ_ASSERT(len > 0 && len <= ICE_STUN_BUILD_MAX && len % 4 == 0);
    FUZZ_ASSERT(ice_stun_parse(buf, len, out));
    FUZZ_ASSERT(out->kind == kind && memcmp(out->txid, txid, 12) == 0);
    FUZZ_ASSERT(out->has_fingerprint && out->has_integrity == (pwd != NULL));
    int code = out->error_code; /* libnice never authenticates 400, 401, 438 */
    if (pwd && !(kind == ICE_STUN_ERROR && (code == 400 || code == 401 || code == 438))) {
        FUZZ_ASSERT(ice_stun_check_integrity(buf, len, pwd));
        FUZZ_ASSERT(!ice_stun_check_integrity(buf, len, fuzz_other_pwd));
    } else {
        FUZZ_ASSERT(!ice_stun_check_integrity(buf, len, fuzz_pwd));
    }
}

static void fuzz_rebuild(const ice_stun_info *in)
{
    uint8_t buf[ICE_STUN_BUILD_MAX];
    ice_stun_info back;

    /* success response to the source the message names (or a fixed one) */
    struct sockaddr_storage src;
    memset(&src, 0, sizeof src);
    if (in->has_mapped) {
        src = in->mapped;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&src;
        a->sin_family = AF_INET;
        a->sin_port = htons(9);
        a->sin_addr.s_addr = htonl(0xC0000201); /* 192.0.2.1 */
    }
    size_t len =
        ice_stun_build_success(buf, sizeof buf, in->txid, (struct sockaddr *)&src, fuzz_pwd);
    fuzz_check_built(buf, len, in->txid, fuzz_pwd, ICE_STUN_SUCCESS, &back);
    FUZZ_ASSERT(back.has_mapped && fuzz_same_addr(&back.mapped, (struct sockaddr *)&src));

    /* error response: the parsed code (or 400), signed only for 487 */
    int code = in->error_code ? in->error_code : 400;
    const char *pwd = code == 487 ? fuzz_pwd : NULL;
    len = ice_stun_build_error(buf, sizeof buf, in->txid, code, NULL, pwd);
    fuzz_check_built(buf, len, in->txid, pwd, ICE_STUN_ERROR, &back);
    FUZZ_ASSERT(back.error_code == code && !back.has_mapped);

    /* the request again, when it has what a check needs */
    if (in->kind != ICE_STUN_REQUEST || !in->username[0] || !in->has_priority ||
        !(in->controlling || in->controlled))
        return;
    bool nominate = in->use_candidate && in->controlling;
    len = ice_stun_build_request(buf, sizeof buf, in->txid, in->username, fuzz_pwd, in->priority,
                                 in->controlling, in->tiebreaker, nominate);
    fuzz_check_built(buf, len, in->txid, fuzz_pwd, ICE_STUN_REQUEST, &back);
    FUZZ_ASSERT(strcmp(back.username, in->username) == 0);
    FUZZ_ASSERT(back.has_priority && back.priority == in->priority);
    FUZZ_ASSERT(back.controlling == in->controlling && back.controlled == in->controlled);
    FUZZ_ASSERT(back.tiebreaker == in->tiebreaker && back.use_candidate == nominate);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ice_stun_info in;
    bool is_stun = ice_stun_is_stun(data, size);
    bool authentic = ice_stun_check_integrity(data, size, fuzz_pwd);
    FUZZ_ASSERT(!authentic || (is_stun && size % 4 == 0));
    FUZZ_ASSERT(!ice_stun_check_integrity(data, size, ""));
    if (!ice_stun_parse(data, size, &in))
        return 0;
    fuzz_check_info(data, size, &in);
    FUZZ_ASSERT(!authentic || in.has_integrity);
    FUZZ_ASSERT(!ice_stun_parse(data, size - 1, &in)); /* a whole message only */
    FUZZ_ASSERT(ice_stun_parse(data, size, &in));
    fuzz_rebuild(&in);
    return 0;
}
