/* Unit tests for the bridge's small pure pieces: the address map that
 * demultiplexes by remote transport address, the colibri-ws path and the
 * forwarding-delay histogram. */
#include "addrmap.h"
#include "bridge.h"
#include "delay_hist.h"
#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>

static struct sockaddr_storage v4(const char *ip, int port)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, ip, &in->sin_addr);
    return ss;
}

static struct sockaddr_storage v6(const char *ip, int port)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in6 *in = (struct sockaddr_in6 *)&ss;
    in->sin6_family = AF_INET6;
    in->sin6_port = htons((uint16_t)port);
    inet_pton(AF_INET6, ip, &in->sin6_addr);
    return ss;
}

#define SA(x) ((struct sockaddr *)&(x))

static void test_addrmap_basic(void)
{
    addrmap m;
    addrmap_init(&m);
    int a, b;
    struct sockaddr_storage x = v4("127.0.0.1", 5000), y = v4("127.0.0.1", 5001),
                            z = v6("2001:db8::1", 5000), w = v6("::ffff:127.0.0.1", 5000);
    CHECK(addrmap_get(&m, SA(x)) == NULL);
    addrmap_put(&m, SA(x), &a);
    addrmap_put(&m, SA(z), &b);
    CHECK(addrmap_get(&m, SA(x)) == &a);
    CHECK(addrmap_get(&m, SA(y)) == NULL); /* another port is another key */
    CHECK(addrmap_get(&m, SA(z)) == &b);
    CHECK(addrmap_get(&m, SA(w)) == &a); /* v4-mapped v6 is the same transport address */
    addrmap_put(&m, SA(x), &b);          /* replace */
    CHECK(addrmap_get(&m, SA(x)) == &b);
    CHECK_INT((int)m.len, 2);
    addrmap_del(&m, SA(x));
    CHECK(addrmap_get(&m, SA(x)) == NULL);
    CHECK(addrmap_get(&m, SA(z)) == &b);
    addrmap_free(&m);
}

static void test_addrmap_growth_and_del_value(void)
{
    addrmap m;
    addrmap_init(&m);
    int vals[3];
    for (int i = 0; i < 3000; i++) {
        struct sockaddr_storage s = v4("10.0.0.1", 1000 + i);
        addrmap_put(&m, SA(s), &vals[i % 3]);
    }
    CHECK_INT((int)m.len, 3000);
    for (int i = 0; i < 3000; i++) {
        struct sockaddr_storage s = v4("10.0.0.1", 1000 + i);
        CHECK(addrmap_get(&m, SA(s)) == &vals[i % 3]);
    }
    addrmap_del_value(&m, &vals[1]);
    CHECK_INT((int)m.len, 2000);
    for (int i = 0; i < 3000; i++) {
        struct sockaddr_storage s = v4("10.0.0.1", 1000 + i);
        CHECK(addrmap_get(&m, SA(s)) == (i % 3 == 1 ? NULL : &vals[i % 3]));
    }
    /* churn: insert and delete many times, the table stays bounded */
    for (int round = 0; round < 50; round++)
        for (int i = 0; i < 100; i++) {
            struct sockaddr_storage s = v4("10.9.9.9", 20000 + round * 100 + i);
            addrmap_put(&m, SA(s), &vals[0]);
            addrmap_del(&m, SA(s));
        }
    CHECK_INT((int)m.len, 2000);
    CHECK(m.cap <= 8192);
    addrmap_free(&m);
}

static void test_addr_str(void)
{
    char out[64];
    struct sockaddr_storage x = v4("192.0.2.7", 10000), z = v6("2001:db8::1", 443);
    CHECK_STR(addr_str(SA(x), out), "192.0.2.7:10000");
    CHECK_STR(addr_str(SA(z), out), "[2001:db8::1]:443");
}

static void test_ws_path(void)
{
    char b[32], c[17], e[65];
    CHECK_INT(
        colibri_ws_parse_path("/colibri-ws/jvb1/abc/ep1", b, sizeof b, c, sizeof c, e, sizeof e),
        0);
    CHECK_STR(b, "jvb1");
    CHECK_STR(c, "abc");
    CHECK_STR(e, "ep1");
    static const char *bad[] = {
        "/colibri-ws/jvb1/abc/ep1/", "/colibri-ws/jvb1//ep1",
        "/colibri-ws/jvb1/abc",      "/colibri-ws/",
        "/colibri-wsx/a/b/c",        "/colibri-ws/jvb1/0123456789abcdefg/ep1",
        "/xmpp-websocket",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_INT(colibri_ws_parse_path(bad[i], b, sizeof b, c, sizeof c, e, sizeof e), -1);
}

static void test_delay_hist_bounds(void)
{
    /* quarter octaves from 8 us; increasing; the last bucket is open */
    CHECK_INT((int)delay_hist_bound_us(0), 8);
    CHECK_INT((int)delay_hist_bound_us(4), 16);
    CHECK_INT((int)delay_hist_bound_us(40), 8192);
    for (int i = 1; i < DELAY_BUCKETS - 1; i++) {
        CHECK(delay_hist_bound_us(i) > delay_hist_bound_us(i - 1));
        /* about 19 % per step: quantiles are never off by more than that */
        CHECK(delay_hist_bound_us(i) <= delay_hist_bound_us(i - 1) * 5 / 4 + 1);
    }
    CHECK(delay_hist_bound_us(DELAY_BUCKETS - 2) > 300000);
    CHECK(delay_hist_bound_us(DELAY_BUCKETS - 1) == UINT32_MAX);
}

static void test_delay_hist_quantiles(void)
{
    delay_hist h, snap;
    memset(&h, 0, sizeof h);
    CHECK(delay_hist_quantile_ms(&h, NULL, 0.5) < 0); /* nothing counted */
    /* 1..1000 us once each: p50 near 0.5 ms, p99 near 0.99 ms */
    for (uint64_t us = 1; us <= 1000; us++)
        delay_hist_add(&h, us);
    CHECK(h.total == 1000);
    CHECK(h.sum_us == 500500);
    double p50 = delay_hist_quantile_ms(&h, NULL, 0.5),
           p99 = delay_hist_quantile_ms(&h, NULL, 0.99);
    CHECK(p50 > 0.5 * 0.81 && p50 < 0.5 * 1.19);
    CHECK(p99 > 0.99 * 0.81 && p99 < 0.99 * 1.19);
    CHECK(delay_hist_quantile_ms(&h, NULL, 0) >= 0);
    CHECK(delay_hist_quantile_ms(&h, NULL, 1) <= 1.0 * 1.19);
    /* a window: only what came after the snapshot counts */
    snap = h;
    CHECK(delay_hist_quantile_ms(&h, &snap, 0.5) < 0);
    for (int i = 0; i < 99; i++)
        delay_hist_add(&h, 20000); /* 20 ms */
    delay_hist_add(&h, 5);
    double w50 = delay_hist_quantile_ms(&h, &snap, 0.5);
    CHECK(w50 > 20 * 0.81 && w50 < 20 * 1.19);
    CHECK(delay_hist_quantile_ms(&h, &snap, 0.001) < 0.01);
    /* huge values land in the open bucket and report its lower bound */
    delay_hist big;
    memset(&big, 0, sizeof big);
    delay_hist_add(&big, 50ULL * 1000 * 1000);
    CHECK(big.count[DELAY_BUCKETS - 1] == 1);
    CHECK(delay_hist_quantile_ms(&big, NULL, 0.99) ==
          delay_hist_bound_us(DELAY_BUCKETS - 2) / 1000.0);
    /* zero and boundary values land in the bucket whose bound holds them */
    delay_hist z;
    memset(&z, 0, sizeof z);
    delay_hist_add(&z, 0);
    delay_hist_add(&z, 8);
    delay_hist_add(&z, 9);
    CHECK(z.count[0] == 2 && z.count[1] == 1);
}

TEST_MAIN(TEST(test_addrmap_basic), TEST(test_addrmap_growth_and_del_value), TEST(test_addr_str),
          TEST(test_ws_path), TEST(test_delay_hist_bounds), TEST(test_delay_hist_quantiles))
