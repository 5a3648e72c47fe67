/* Unit tests: common/sbuf.c, common/hmap.c and the base64 helpers. */
#include "hmap.h"
#include "sbuf.h"
#include "test.h"
#include "util.h"

static void test_sbuf_append(void)
{
    sbuf b;
    sbuf_init(&b);
    sbuf_adds(&b, "abc");
    sbuf_addc(&b, '-');
    sbuf_printf(&b, "%d/%s", 42, "x");
    CHECK_STR(b.data, "abc-42/x");
    CHECK_INT(b.len, 8);
    for (int i = 0; i < 1000; i++)
        sbuf_addc(&b, 'z');
    CHECK_INT(b.len, 1008);
    sbuf_reset(&b);
    CHECK_STR(b.data, "");
    sbuf_free(&b);
}

static void test_sbuf_escape(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"plain", "plain"},
        {"a&b", "a&amp;b"},
        {"<x y='1'>\"", "&lt;x y=&apos;1&apos;&gt;&quot;"},
        {"", ""},
        {"&&", "&amp;&amp;"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sbuf b;
        sbuf_init(&b);
        sbuf_add_xml_escaped(&b, cases[i].in, strlen(cases[i].in));
        size_t len;
        char *s = sbuf_steal(&b, &len);
        CHECK_STR(s, cases[i].out);
        free(s);
    }
}

static void test_base64(void)
{
    static const struct {
        const char *raw, *b64;
    } cases[] = {
        {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foobar", "Zm9vYmFy"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *e = base64_encode(cases[i].raw, strlen(cases[i].raw));
        CHECK_STR(e, cases[i].b64);
        free(e);
        size_t n;
        unsigned char *d = base64_decode(cases[i].b64, strlen(cases[i].b64), &n);
        CHECK(d != NULL);
        CHECK_INT(n, strlen(cases[i].raw));
        CHECK(memcmp(d, cases[i].raw, n) == 0);
        free(d);
    }
    static const char *bad[] = {"Zg=", "Z===", "Zm9v!", "Zg==Zg==", "=Zg="};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n;
        unsigned char *d = base64_decode(bad[i], strlen(bad[i]), &n);
        if (d)
            fprintf(stderr, "accepted bad base64 '%s'\n", bad[i]);
        CHECK(d == NULL);
    }
}

static void test_hmap(void)
{
    hmap m;
    hmap_init(&m);
    char keys[2000][16];
    for (int i = 0; i < 2000; i++) {
        snprintf(keys[i], sizeof keys[i], "k%d", i);
        CHECK(hmap_put(&m, keys[i], keys[i]) == NULL);
    }
    CHECK_INT(m.len, 2000);
    for (int i = 0; i < 2000; i += 2)
        CHECK(hmap_del(&m, keys[i]) == keys[i]);
    CHECK_INT(m.len, 1000);
    for (int i = 0; i < 2000; i++)
        CHECK(hmap_get(&m, keys[i]) == (i % 2 ? keys[i] : NULL));
    size_t it = 0, seen = 0;
    hmap_entry *e;
    while ((e = hmap_next(&m, &it))) {
        seen++;
        hmap_del(&m, e->key);
    }
    CHECK_INT(seen, 1000);
    CHECK_INT(m.len, 0);
    CHECK(hmap_put(&m, "a", "1") == NULL);
    CHECK(hmap_put(&m, "a", "2") != NULL);
    CHECK_STR(hmap_get(&m, "a"), "2");
    hmap_free(&m);
}

TEST_MAIN(TEST(test_sbuf_append), TEST(test_sbuf_escape), TEST(test_base64), TEST(test_hmap))
