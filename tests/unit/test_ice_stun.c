/* Unit tests: common/ice_stun.c (RFC 5769 sample request and IPv4/IPv6
 * responses parsed and authenticated, requests / success / error responses
 * built and parsed back, every flipped byte and every truncation rejected,
 * structural rejects, builders bounded by their capacity, RFC 7983 demux,
 * USERNAME split). */
#include "ice_stun.h"
#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char rfc5769_pwd[] = "VOkJxbRl1RmTxUk/WvJxBt";

/* RFC 5769 §2.1: request with SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME
 * "evtj:h6vY", MESSAGE-INTEGRITY and FINGERPRINT. */
static const uint8_t rfc5769_request[] = {
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
    0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
    0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09,
    0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14,
    0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
    0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
};

/* RFC 5769 §2.2: success response, XOR-MAPPED-ADDRESS 192.0.2.1:32853. */
static const uint8_t rfc5769_response_v4[] = {
    0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
    0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9,
    0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
};

/* RFC 5769 §2.3: success response, XOR-MAPPED-ADDRESS
 * [2001:db8:1234:5678:11:2233:4455:6677]:32853. */
static const uint8_t rfc5769_response_v6[] = {
    0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
    0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9, 0x00, 0x08, 0x00, 0x14,
    0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75,
    0xbf, 0xe3, 0xed, 0x41, 0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c,
};

static const uint8_t rfc5769_txid[12] = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
                                         0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};

static const uint8_t txid1[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

static struct sockaddr_in v4(const char *ip, uint16_t port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    CHECK(inet_pton(AF_INET, ip, &a.sin_addr) == 1);
    return a;
}

static struct sockaddr_in6 v6(const char *ip, uint16_t port)
{
    struct sockaddr_in6 a;
    memset(&a, 0, sizeof a);
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    CHECK(inet_pton(AF_INET6, ip, &a.sin6_addr) == 1);
    return a;
}

/* The parsed mapped address is ip:port of the given family. */
static void check_mapped(const ice_stun_info *in, int family, const char *ip, uint16_t port)
{
    char got[INET6_ADDRSTRLEN];
    CHECK(in->has_mapped);
    CHECK_INT(in->mapped.ss_family, family);
    if (family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)&in->mapped;
        CHECK(inet_ntop(AF_INET, &a->sin_addr, got, sizeof got));
        CHECK_INT(ntohs(a->sin_port), port);
    } else {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&in->mapped;
        CHECK(inet_ntop(AF_INET6, &a->sin6_addr, got, sizeof got));
        CHECK_INT(ntohs(a->sin6_port), port);
    }
    CHECK_STR(got, ip);
}

/* Every single-byte change (each bit, and all bits) makes the message fail
 * parsing or integrity; every proper prefix fails both. */
static void check_tamper(const uint8_t *msg, size_t len, const char *pwd)
{
    uint8_t copy[1024];
    ice_stun_info in;
    CHECK(len <= sizeof copy);
    for (size_t i = 0; i < len; i++) {
        static const uint8_t masks[] = {0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff};
        for (size_t m = 0; m < N(masks); m++) {
            memcpy(copy, msg, len);
            copy[i] ^= masks[m];
            bool parsed = ice_stun_parse(copy, len, &in);
            bool authentic = ice_stun_check_integrity(copy, len, pwd);
            if (parsed && authentic) {
                fprintf(stderr, "byte %zu ^ 0x%02x still parses and authenticates\n", i, masks[m]);
                CHECK(0);
            }
        }
    }
    for (size_t n = 0; n < len; n++) {
        /* exact-size heap copy: ASan catches any read past n */
        uint8_t *p = malloc(n ? n : 1);
        CHECK(p);
        memcpy(p, msg, n);
        CHECK(!ice_stun_parse(p, n, &in));
        CHECK(!ice_stun_check_integrity(p, n, pwd));
        free(p);
    }
}

static void test_rfc5769_request(void)
{
    ice_stun_info in;
    CHECK(ice_stun_is_stun(rfc5769_request, sizeof rfc5769_request));
    CHECK(ice_stun_parse(rfc5769_request, sizeof rfc5769_request, &in));
    CHECK_INT(in.kind, ICE_STUN_REQUEST);
    CHECK(memcmp(in.txid, rfc5769_txid, 12) == 0);
    CHECK_STR(in.username, "evtj:h6vY");
    CHECK(in.has_integrity && in.has_fingerprint);
    CHECK(in.has_priority);
    CHECK_INT(in.priority, 0x6e0001ff);
    CHECK(in.controlled && !in.controlling);
    CHECK(in.tiebreaker == 0x932ff9b151263b36ull);
    CHECK(!in.use_candidate && !in.has_mapped);
    CHECK_INT(in.error_code, 0);
    CHECK(ice_stun_check_integrity(rfc5769_request, sizeof rfc5769_request, rfc5769_pwd));
    CHECK(!ice_stun_check_integrity(rfc5769_request, sizeof rfc5769_request,
                                    "VOkJxbRl1RmTxUk/WvJxBT"));
    CHECK(!ice_stun_check_integrity(rfc5769_request, sizeof rfc5769_request, ""));
    CHECK(!ice_stun_check_integrity(rfc5769_request, sizeof rfc5769_request, NULL));

    const char *local;
    size_t local_len;
    CHECK(ice_stun_username_local(in.username, &local, &local_len));
    CHECK(local == in.username);
    CHECK_INT(local_len, 4);
    CHECK(memcmp(local, "evtj", 4) == 0);
}

static void test_rfc5769_responses(void)
{
    ice_stun_info in;
    CHECK(ice_stun_parse(rfc5769_response_v4, sizeof rfc5769_response_v4, &in));
    CHECK_INT(in.kind, ICE_STUN_SUCCESS);
    CHECK(memcmp(in.txid, rfc5769_txid, 12) == 0);
    CHECK(in.has_integrity && in.has_fingerprint);
    CHECK_STR(in.username, "");
    check_mapped(&in, AF_INET, "192.0.2.1", 32853);
    CHECK(ice_stun_check_integrity(rfc5769_response_v4, sizeof rfc5769_response_v4, rfc5769_pwd));
    CHECK(!ice_stun_check_integrity(rfc5769_response_v4, sizeof rfc5769_response_v4, "x"));

    CHECK(ice_stun_parse(rfc5769_response_v6, sizeof rfc5769_response_v6, &in));
    CHECK_INT(in.kind, ICE_STUN_SUCCESS);
    CHECK(in.has_integrity && in.has_fingerprint);
    check_mapped(&in, AF_INET6, "2001:db8:1234:5678:11:2233:4455:6677", 32853);
    CHECK(ice_stun_check_integrity(rfc5769_response_v6, sizeof rfc5769_response_v6, rfc5769_pwd));
    CHECK(!ice_stun_check_integrity(rfc5769_response_v6, sizeof rfc5769_response_v6, "x"));
}

static void test_rfc5769_tamper(void)
{
    check_tamper(rfc5769_request, sizeof rfc5769_request, rfc5769_pwd);
    check_tamper(rfc5769_response_v4, sizeof rfc5769_response_v4, rfc5769_pwd);
    check_tamper(rfc5769_response_v6, sizeof rfc5769_response_v6, rfc5769_pwd);
}

static void test_request_round_trip(void)
{
    static const struct {
        const char *username;
        uint32_t priority;
        bool controlling;
        uint64_t tie;
        bool use_candidate;
    } cases[] = {
        {"remote:local", 0x7e7f00ff, true, 0x0123456789abcdefull, true},
        {"remote:local", 1, true, 0, false},
        {"bridgeufrag:clientufrag", 0xffffffffu, false, 0xffffffffffffffffull, false},
        {"a:b", 2130706431, false, 42, false}, /* 3 bytes: padded */
    };
    const char *pwd = "asd88fgpdd777uzjYhagZg";
    for (size_t i = 0; i < N(cases); i++) {
        uint8_t buf[ICE_STUN_BUILD_MAX];
        size_t len = ice_stun_build_request(buf, sizeof buf, txid1, cases[i].username, pwd,
                                            cases[i].priority, cases[i].controlling, cases[i].tie,
                                            cases[i].use_candidate);
        CHECK(len > 0 && len % 4 == 0 && len <= sizeof buf);
        CHECK(ice_stun_is_stun(buf, len));
        ice_stun_info in;
        CHECK(ice_stun_parse(buf, len, &in));
        CHECK_INT(in.kind, ICE_STUN_REQUEST);
        CHECK(memcmp(in.txid, txid1, 12) == 0);
        CHECK_STR(in.username, cases[i].username);
        CHECK(in.has_priority);
        CHECK(in.priority == cases[i].priority);
        CHECK(in.controlling == cases[i].controlling);
        CHECK(in.controlled == !cases[i].controlling);
        CHECK(in.tiebreaker == cases[i].tie);
        CHECK(in.use_candidate == cases[i].use_candidate);
        CHECK(in.has_integrity && in.has_fingerprint && !in.has_mapped);
        CHECK(ice_stun_check_integrity(buf, len, pwd));
        CHECK(!ice_stun_check_integrity(buf, len, "asd88fgpdd777uzjYhagZh"));
        CHECK(!ice_stun_check_integrity(buf, len, "asd88fgpdd777uzjYhagZ"));
        check_tamper(buf, len, pwd);
    }
}

static void test_request_limits(void)
{
    uint8_t buf[ICE_STUN_BUILD_MAX];
    char user[ICE_STUN_MAX_USERNAME + 1];
    memset(user, 'u', sizeof user);
    user[5] = ':';
    user[ICE_STUN_MAX_USERNAME - 1] = '\0'; /* 512 bytes: the most allowed */
    size_t len = ice_stun_build_request(buf, sizeof buf, txid1, user, "pw", 1, true, 2, true);
    CHECK(len > 0 && len <= ICE_STUN_BUILD_MAX);
    ice_stun_info in;
    CHECK(ice_stun_parse(buf, len, &in));
    CHECK_STR(in.username, user);
    CHECK(ice_stun_check_integrity(buf, len, "pw"));
    user[ICE_STUN_MAX_USERNAME - 1] = 'u';
    user[ICE_STUN_MAX_USERNAME] = '\0'; /* 513 bytes */
    CHECK_INT(ice_stun_build_request(buf, sizeof buf, txid1, user, "pw", 1, true, 2, true), 0);
    CHECK_INT(ice_stun_build_request(buf, sizeof buf, txid1, "", "pw", 1, true, 2, false), 0);
    CHECK_INT(ice_stun_build_request(buf, sizeof buf, txid1, NULL, "pw", 1, true, 2, false), 0);
    CHECK_INT(ice_stun_build_request(buf, sizeof buf, txid1, "a:b", "", 1, true, 2, false), 0);
    CHECK_INT(ice_stun_build_request(buf, sizeof buf, txid1, "a:b", NULL, 1, true, 2, false), 0);
    /* only the controlling agent nominates */
    CHECK_INT(ice_stun_build_request(buf, sizeof buf, txid1, "a:b", "pw", 1, false, 2, true), 0);
}

/* Every capacity short of the message fails without writing past it. */
static void test_build_capacity(void)
{
    uint8_t ref[ICE_STUN_BUILD_MAX];
    struct sockaddr_in6 a6 = v6("2001:db8::1", 5000);
    size_t need[3];
    need[0] = ice_stun_build_request(ref, sizeof ref, txid1, "abcde:fgh", "pw", 7, true, 9, true);
    need[1] = ice_stun_build_success(ref, sizeof ref, txid1, (struct sockaddr *)&a6, "pw");
    need[2] = ice_stun_build_error(ref, sizeof ref, txid1, 487, "Role Conflict!", "pw");
    for (int k = 0; k < 3; k++) {
        CHECK(need[k] > 0);
        for (size_t cap = 0; cap <= need[k] + 3; cap++) {
            uint8_t *p = malloc(cap ? cap : 1);
            CHECK(p);
            size_t len = 0;
            if (k == 0)
                len = ice_stun_build_request(p, cap, txid1, "abcde:fgh", "pw", 7, true, 9, true);
            else if (k == 1)
                len = ice_stun_build_success(p, cap, txid1, (struct sockaddr *)&a6, "pw");
            else
                len = ice_stun_build_error(p, cap, txid1, 487, "Role Conflict!", "pw");
            CHECK_INT(len, cap < need[k] ? 0 : need[k]);
            free(p);
        }
    }
}

static void test_success_round_trip(void)
{
    const char *pwd = "localpassword1234567890";
    struct sockaddr_in a4 = v4("203.0.113.77", 54321);
    struct sockaddr_in6 a6 = v6("2001:db8:1234:5678:11:2233:4455:6677", 1);
    struct sockaddr_in a4b = v4("0.0.0.0", 0);
    struct sockaddr_in6 a6b = v6("::ffff:10.0.0.1", 65535);
    const struct {
        const struct sockaddr *sa;
        int family;
        const char *ip;
        uint16_t port;
    } cases[] = {
        {(struct sockaddr *)&a4, AF_INET, "203.0.113.77", 54321},
        {(struct sockaddr *)&a6, AF_INET6, "2001:db8:1234:5678:11:2233:4455:6677", 1},
        {(struct sockaddr *)&a4b, AF_INET, "0.0.0.0", 0},
        {(struct sockaddr *)&a6b, AF_INET6, "::ffff:10.0.0.1", 65535},
    };
    for (size_t i = 0; i < N(cases); i++) {
        uint8_t buf[ICE_STUN_BUILD_MAX];
        size_t len = ice_stun_build_success(buf, sizeof buf, txid1, cases[i].sa, pwd);
        CHECK(len > 0 && len % 4 == 0);
        ice_stun_info in;
        CHECK(ice_stun_parse(buf, len, &in));
        CHECK_INT(in.kind, ICE_STUN_SUCCESS);
        CHECK(memcmp(in.txid, txid1, 12) == 0);
        CHECK(in.has_integrity && in.has_fingerprint);
        CHECK(!in.has_priority && !in.controlling && !in.controlled && !in.use_candidate);
        CHECK_STR(in.username, "");
        check_mapped(&in, cases[i].family, cases[i].ip, cases[i].port);
        CHECK(ice_stun_check_integrity(buf, len, pwd));
        CHECK(!ice_stun_check_integrity(buf, len, "localpassword1234567891"));
        check_tamper(buf, len, pwd);
    }
    struct sockaddr bad = {.sa_family = AF_UNIX};
    uint8_t buf[ICE_STUN_BUILD_MAX];
    CHECK_INT(ice_stun_build_success(buf, sizeof buf, txid1, &bad, pwd), 0);
    CHECK_INT(ice_stun_build_success(buf, sizeof buf, txid1, NULL, pwd), 0);
    CHECK_INT(ice_stun_build_success(buf, sizeof buf, txid1, cases[0].sa, ""), 0);
}

static void test_error_responses(void)
{
    uint8_t buf[ICE_STUN_BUILD_MAX];
    ice_stun_info in;
    /* 401 without integrity: parses, never authenticates */
    size_t len = ice_stun_build_error(buf, sizeof buf, txid1, 401, "Unauthorized", NULL);
    CHECK(len > 0);
    CHECK(ice_stun_parse(buf, len, &in));
    CHECK_INT(in.kind, ICE_STUN_ERROR);
    CHECK_INT(in.error_code, 401);
    CHECK(memcmp(in.txid, txid1, 12) == 0);
    CHECK(!in.has_integrity && in.has_fingerprint);
    CHECK(!ice_stun_check_integrity(buf, len, "pw"));
    check_tamper(buf, len, "pw");
    /* FINGERPRINT alone catches every flip but one in its own type field,
     * which turns it into an unknown comprehension-optional attribute */
    for (size_t i = 0; i < len; i++) {
        if (i == len - 8 || i == len - 7)
            continue;
        buf[i] ^= 0x04;
        CHECK(!ice_stun_parse(buf, len, &in));
        buf[i] ^= 0x04;
    }

    /* 400 with libnice's reason phrase */
    len = ice_stun_build_error(buf, sizeof buf, txid1, 400, NULL, NULL);
    CHECK(len > 0 && ice_stun_parse(buf, len, &in));
    CHECK_INT(in.error_code, 400);
    CHECK(!in.has_integrity);

    /* 487 with integrity */
    const char *pwd = "theremotepassword";
    len = ice_stun_build_error(buf, sizeof buf, txid1, 487, "Role Conflict", pwd);
    CHECK(len > 0);
    CHECK(ice_stun_parse(buf, len, &in));
    CHECK_INT(in.kind, ICE_STUN_ERROR);
    CHECK_INT(in.error_code, 487);
    CHECK(in.has_integrity && in.has_fingerprint);
    CHECK(ice_stun_check_integrity(buf, len, pwd));
    CHECK(!ice_stun_check_integrity(buf, len, "theremotepassworD"));
    check_tamper(buf, len, pwd);

    /* a signed 401 is still not reported as authentic (libnice skips it) */
    len = ice_stun_build_error(buf, sizeof buf, txid1, 401, NULL, pwd);
    CHECK(len > 0 && ice_stun_parse(buf, len, &in) && in.has_integrity);
    CHECK(!ice_stun_check_integrity(buf, len, pwd));

    /* bad arguments */
    CHECK_INT(ice_stun_build_error(buf, sizeof buf, txid1, 299, NULL, NULL), 0);
    CHECK_INT(ice_stun_build_error(buf, sizeof buf, txid1, 700, NULL, NULL), 0);
    CHECK_INT(ice_stun_build_error(buf, sizeof buf, txid1, 487, NULL, ""), 0);
    char reason[ICE_STUN_MAX_REASON + 2];
    memset(reason, 'r', sizeof reason);
    reason[ICE_STUN_MAX_REASON] = '\0';
    CHECK(ice_stun_build_error(buf, sizeof buf, txid1, 500, reason, pwd) > 0);
    reason[ICE_STUN_MAX_REASON] = 'r';
    reason[ICE_STUN_MAX_REASON + 1] = '\0';
    CHECK_INT(ice_stun_build_error(buf, sizeof buf, txid1, 500, reason, pwd), 0);
}

/* Hand-made messages without MESSAGE-INTEGRITY/FINGERPRINT: header with the
 * given type, then attrs (len bytes, already padded). */
static size_t make_msg(uint8_t *out, uint16_t type, const uint8_t *attrs, size_t len)
{
    out[0] = (uint8_t)(type >> 8);
    out[1] = (uint8_t)type;
    out[2] = (uint8_t)(len >> 8);
    out[3] = (uint8_t)len;
    out[4] = 0x21;
    out[5] = 0x12;
    out[6] = 0xa4;
    out[7] = 0x42;
    memcpy(out + 8, txid1, 12);
    if (len)
        memcpy(out + 20, attrs, len);
    return 20 + len;
}

static void test_structure(void)
{
    static const struct {
        const char *name;
        uint16_t type;
        uint8_t attrs[64];
        size_t len;
        bool ok;
    } cases[] = {
        {"empty request", 0x0001, {0}, 0, true},
        {"indication", 0x0011, {0}, 0, true},
        {"allocate (not binding)", 0x0003, {0}, 0, false},
        {"unknown optional 0xc057", 0x0001, {0xc0, 0x57, 0x00, 0x02, 0x00, 0x01, 0, 0}, 8, true},
        {"unknown required 0x0030", 0x0001, {0x00, 0x30, 0x00, 0x02, 0x00, 0x01, 0, 0}, 8, false},
        {"attr runs past end", 0x0001, {0x80, 0x22, 0x00, 0x08, 1, 2, 3, 4}, 8, false},
        {"truncated attr header", 0x0001, {0x80, 0x22, 0x00, 0x00, 0x80, 0x22, 0, 0}, 6, false},
        {"username with NUL", 0x0001, {0x00, 0x06, 0x00, 0x03, 'a', 0, 'b', 0}, 8, false},
        {"username ok", 0x0001, {0x00, 0x06, 0x00, 0x03, 'a', ':', 'b', 0}, 8, true},
        {"priority 3 bytes", 0x0001, {0x00, 0x24, 0x00, 0x03, 1, 2, 3, 0}, 8, false},
        {"use-candidate 4 bytes", 0x0001, {0x00, 0x25, 0x00, 0x04, 1, 2, 3, 4}, 8, false},
        {"controlling 4 bytes", 0x0001, {0x80, 0x2a, 0x00, 0x04, 1, 2, 3, 4}, 8, false},
        {"both roles",
         0x0001,
         {0x80, 0x2a, 0x00, 0x08, 0, 0, 0, 0, 0, 0, 0, 1,
          0x80, 0x29, 0x00, 0x08, 0, 0, 0, 0, 0, 0, 0, 2},
         24,
         false},
        {"error without code", 0x0111, {0}, 0, false},
        {"error 420", 0x0111, {0x00, 0x09, 0x00, 0x04, 0, 0, 4, 20}, 8, true},
        {"error class 7", 0x0111, {0x00, 0x09, 0x00, 0x04, 0, 0, 7, 0}, 8, false},
        {"error number 100", 0x0111, {0x00, 0x09, 0x00, 0x04, 0, 0, 4, 100}, 8, false},
        {"xor-mapped family 3",
         0x0101,
         {0x00, 0x20, 0x00, 0x08, 0, 3, 0, 0, 0, 0, 0, 0},
         12,
         false},
        {"xor-mapped v4 short", 0x0101, {0x00, 0x20, 0x00, 0x04, 0, 1, 0, 0}, 8, false},
        {"integrity 16 bytes", 0x0001, {0x00, 0x08, 0x00, 0x10}, 20, false},
        {"unknown optional after integrity",
         0x0001,
         {0x00, 0x08, 0x00, 0x14, [24] = 0x80, 0x30, 0x00, 0x00},
         28,
         false},
        {"empty sha256 integrity after integrity",
         0x0001,
         {0x00, 0x08, 0x00, 0x14, [24] = 0x00, 0x1c, 0x00, 0x00},
         28,
         false},
        {"sha256 integrity after integrity (skipped)",
         0x0001,
         {0x00, 0x08, 0x00, 0x14, [24] = 0x00, 0x1c, 0x00, 0x20},
         60,
         true},
        {"sha256 integrity alone", 0x0001, {0x00, 0x1c, 0x00, 0x00}, 4, false},
        {"fingerprint not last",
         0x0001,
         {0x80, 0x28, 0x00, 0x04, 0, 0, 0, 0, 0x80, 0x22, 0x00, 0x00},
         12,
         false},
    };
    for (size_t i = 0; i < N(cases); i++) {
        uint8_t msg[96];
        size_t len = make_msg(msg, cases[i].type, cases[i].attrs, cases[i].len);
        ice_stun_info in;
        bool ok = ice_stun_parse(msg, len, &in);
        if (ok != cases[i].ok) {
            fprintf(stderr, "case '%s': parse %d\n", cases[i].name, ok);
            CHECK(0);
        }
    }

    /* an error code and an unauthenticated indication */
    static const uint8_t code420[] = {0x00, 0x09, 0x00, 0x04, 0, 0, 4, 20};
    uint8_t msg[96];
    ice_stun_info in;
    size_t len = make_msg(msg, 0x0111, code420, sizeof code420);
    CHECK(ice_stun_parse(msg, len, &in));
    CHECK_INT(in.kind, ICE_STUN_ERROR);
    CHECK_INT(in.error_code, 420);
    len = make_msg(msg, 0x0011, NULL, 0);
    CHECK(ice_stun_parse(msg, len, &in));
    CHECK_INT(in.kind, ICE_STUN_INDICATION);
    CHECK(!in.has_integrity && !in.has_fingerprint);
    CHECK(!ice_stun_check_integrity(msg, len, "pw"));

    /* trailing bytes after the message, a length not a multiple of 4 */
    uint8_t big[sizeof rfc5769_request + 4];
    memcpy(big, rfc5769_request, sizeof rfc5769_request);
    memset(big + sizeof rfc5769_request, 0, 4);
    CHECK(!ice_stun_parse(big, sizeof big, &in));
    CHECK(!ice_stun_check_integrity(big, sizeof big, rfc5769_pwd));
    len = make_msg(msg, 0x0001, (const uint8_t *)"\x80\x22\x00\x01x", 5);
    CHECK(!ice_stun_parse(msg, len, &in));

    /* no magic cookie (RFC 3489) */
    memcpy(big, rfc5769_request, sizeof rfc5769_request);
    big[4] = 0;
    CHECK(!ice_stun_is_stun(big, sizeof rfc5769_request));
    CHECK(!ice_stun_parse(big, sizeof rfc5769_request, &in));
    CHECK(!ice_stun_check_integrity(big, sizeof rfc5769_request, rfc5769_pwd));

    CHECK(!ice_stun_parse(NULL, 0, &in));
    CHECK(!ice_stun_parse(rfc5769_request, sizeof rfc5769_request, NULL));
    CHECK(!ice_stun_check_integrity(NULL, 0, "pw"));
}

static void test_is_stun(void)
{
    static const uint8_t rtp[] = {0x80, 0x60, 0x00, 0x01, 0x21, 0x12, 0xa4, 0x42, 0, 0,
                                  0,    0,    0,    0,    0,    0,    0,    0,    0, 0};
    static const uint8_t rtcp[] = {0x81, 0xc9, 0x00, 0x07, 0x21, 0x12, 0xa4, 0x42, 0, 0,
                                   0,    0,    0,    0,    0,    0,    0,    0,    0, 0};
    static const uint8_t dtls[] = {22, 0xfe, 0xfd, 0, 0x21, 0x12, 0xa4, 0x42, 0, 0, 0, 0,
                                   0,  0,    0,    0, 0,    0,    0,    0,    0, 0, 0};
    CHECK(!ice_stun_is_stun(rtp, sizeof rtp));
    CHECK(!ice_stun_is_stun(rtcp, sizeof rtcp));
    CHECK(!ice_stun_is_stun(dtls, sizeof dtls));
    ice_stun_info in;
    CHECK(!ice_stun_parse(rtp, sizeof rtp, &in));
    CHECK(!ice_stun_parse(dtls, 20, &in));
    CHECK(ice_stun_is_stun(rfc5769_request, sizeof rfc5769_request));
    CHECK(ice_stun_is_stun(rfc5769_response_v6, sizeof rfc5769_response_v6));
    CHECK(ice_stun_is_stun(rfc5769_request, 20));
    CHECK(!ice_stun_is_stun(rfc5769_request, 19));
    CHECK(!ice_stun_is_stun(NULL, 20));
    uint8_t b[20];
    memcpy(b, rfc5769_request, 20);
    b[0] = 3;
    CHECK(ice_stun_is_stun(b, sizeof b));
    b[0] = 4;
    CHECK(!ice_stun_is_stun(b, sizeof b));
}

static void test_username_local(void)
{
    static const struct {
        const char *in;
        bool ok;
        size_t len;
    } cases[] = {
        {"bridge1:client", true, 7}, {"a:b", true, 1},      {"abc:", true, 3}, {"a:b:c", true, 1},
        {":remote", false, 0},       {"nocolon", false, 0}, {"", false, 0},    {NULL, false, 0},
    };
    for (size_t i = 0; i < N(cases); i++) {
        const char *local = (const char *)1;
        size_t len = 99;
        bool ok = ice_stun_username_local(cases[i].in, &local, &len);
        CHECK(ok == cases[i].ok);
        if (ok) {
            CHECK(local == cases[i].in);
            CHECK_INT(len, cases[i].len);
        } else {
            CHECK(local == (const char *)1 && len == 99);
        }
    }
}

TEST_MAIN(TEST(test_rfc5769_request), TEST(test_rfc5769_responses), TEST(test_rfc5769_tamper),
          TEST(test_request_round_trip), TEST(test_request_limits), TEST(test_build_capacity),
          TEST(test_success_round_trip), TEST(test_error_responses), TEST(test_structure),
          TEST(test_is_stun), TEST(test_username_local))
