/* Unit tests: common/config.c (file format, environment override, typed
 * values, unknown keys, every error reported). */
#include "config.h"
#include "test.h"

static const config_key keys[] = {
    {"XMPP_DOMAIN", "meet.parley", ""},
    {"XMPP_PORT", "5222", ""},
    {"FLAG", "false", ""},
    {"EMPTY", NULL, ""},
};

static char *write_tmp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/parley-test-config-XXXXXX");
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_config_file_values(void)
{
    static const struct {
        const char *file, *key, *want;
    } cases[] = {
        {"XMPP_DOMAIN=a.example\n", "XMPP_DOMAIN", "a.example"},
        {"  XMPP_DOMAIN =  b.example  \n", "XMPP_DOMAIN", "b.example"},
        {"XMPP_DOMAIN=\"c.example\"\n", "XMPP_DOMAIN", "c.example"},
        {"# comment\n\nXMPP_PORT=1\nXMPP_PORT=2\n", "XMPP_PORT", "2"},
        {"", "XMPP_DOMAIN", "meet.parley"},
        {"XMPP_DOMAIN=x=y\n", "XMPP_DOMAIN", "x=y"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *p = write_tmp(cases[i].file);
        config *c = config_load(p, keys, 4);
        CHECK_STR(config_get(c, cases[i].key), cases[i].want);
        size_t n;
        config_errors(c, &n);
        CHECK_INT(n, 0);
        config_free(c);
        unlink(p);
    }
}

static void test_config_env_overrides(void)
{
    char *p = write_tmp("XMPP_DOMAIN=file.example\n");
    setenv("XMPP_DOMAIN", "env.example", 1);
    config *c = config_load(p, keys, 4);
    CHECK_STR(config_get(c, "XMPP_DOMAIN"), "env.example");
    unsetenv("XMPP_DOMAIN");
    CHECK_STR(config_get(c, "XMPP_DOMAIN"), "file.example");
    config_free(c);
    unlink(p);
}

static void test_config_errors_and_unknown(void)
{
    char *p = write_tmp("XMPP_PORT=abc\nNO_EQUALS_SIGN\nSOMETHING_ELSE=1\nFLAG=maybe\n");
    config *c = config_load(p, keys, 4);
    CHECK_INT(config_get_int(c, "XMPP_PORT", 0, 65535, 5222), 5222);
    CHECK(config_get_bool(c, "FLAG", true) == true);
    size_t n;
    const char *const *errs = config_errors(c, &n);
    CHECK_INT(n, 3); /* bad line, bad int, bad bool: all reported */
    CHECK(strstr(errs[0], "expected KEY=value") != NULL);
    CHECK(strstr(errs[1], "XMPP_PORT") != NULL);
    CHECK(strstr(errs[2], "FLAG") != NULL);
    const char *const *unk = config_unknown(c, &n);
    CHECK_INT(n, 1);
    CHECK_STR(unk[0], "SOMETHING_ELSE");
    CHECK(config_get(c, "EMPTY") == NULL);
    config_free(c);
    unlink(p);
}

static void test_config_missing_file(void)
{
    config *c = config_load("/nonexistent/parley.conf", keys, 4);
    size_t n;
    config_errors(c, &n);
    CHECK_INT(n, 1);
    CHECK_STR(config_get(c, "XMPP_PORT"), "5222");
    config_free(c);
}

static void test_config_int_range(void)
{
    static const struct {
        const char *v;
        long want;
        int errors;
    } cases[] = {
        {"0", 0, 0},     {"65535", 65535, 0}, {"65536", 5222, 1},
        {"-1", 5222, 1}, {"12x", 5222, 1},    {"", 5222, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        setenv("XMPP_PORT", cases[i].v, 1);
        config *c = config_load(NULL, keys, 4);
        CHECK_INT(config_get_int(c, "XMPP_PORT", 0, 65535, 5222), cases[i].want);
        size_t n;
        config_errors(c, &n);
        CHECK_INT(n, cases[i].errors);
        config_free(c);
    }
    unsetenv("XMPP_PORT");
}

TEST_MAIN(TEST(test_config_file_values), TEST(test_config_env_overrides),
          TEST(test_config_errors_and_unknown), TEST(test_config_missing_file),
          TEST(test_config_int_range))
