/* test.h: the tiny test library for parley's unit tests.
 *
 * A test file defines test functions and lists them in main with
 * TEST_MAIN(...). Each test runs in a forked child with a time bound (10 s),
 * so a crash or hang fails that test only; `./test_x NAME` runs one test in
 * the foreground (handy under gdb). Output ends with "N passed, N failed". */
#ifndef PARLEY_TEST_H
#define PARLEY_TEST_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct test_case {
    const char *name;
    void (*fn)(void);
} test_case;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                                   \
            fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a,      \
                    a_ ? a_ : "(null)", b_ ? b_ : "(null)");                                       \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#define CHECK_INT(a, b)                                                                            \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        if (a_ != b_) {                                                                            \
            fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, #a, a_, b_); \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#define TEST(name)                                                                                 \
    {                                                                                              \
#name, name                                                                                \
    }

static inline int test_run_all(const test_case *cases, size_t n, int argc, char **argv)
{
    int passed = 0, failed = 0;
    for (size_t i = 0; i < n; i++) {
        if (argc > 1 && strcmp(argv[1], cases[i].name) != 0)
            continue;
        if (argc > 1) { /* one named test: run in the foreground */
            cases[i].fn();
            printf("ok %s\n", cases[i].name);
            return 0;
        }
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            alarm(10);
            cases[i].fn();
            exit(0);
        }
        int st = 0;
        waitpid(pid, &st, 0);
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
            printf("ok %s\n", cases[i].name);
            passed++;
        } else {
            printf("FAIL %s (%s %d)\n", cases[i].name, WIFSIGNALED(st) ? "signal" : "exit",
                   WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
            failed++;
        }
    }
    if (argc > 1 && passed + failed == 0) {
        fprintf(stderr, "no test named %s\n", argv[1]);
        return 2;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

#define TEST_MAIN(...)                                                                             \
    int main(int argc, char **argv)                                                                \
    {                                                                                              \
        static const test_case cases_[] = {__VA_ARGS__};                                           \
        return test_run_all(cases_, sizeof cases_ / sizeof cases_[0], argc, argv);                 \
    }

#endif
