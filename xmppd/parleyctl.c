/* parleyctl: the operator's command for xmppd's accounts and configuration,
 * with prosodyctl's verbs. With no --config it acts on the deployment that
 * `make up` created (the same default path xmppd uses). It writes the same
 * sqlite database a running xmppd reads, so changes apply at once. */
#include "account.h"
#include "config.h"
#include "jid.h"
#include "log.h"
#include "parley_version.h"
#include "settings.h"
#include "store.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

typedef struct ctl {
    char *path;
    config *cfg;
    settings set;
    store *st;
} ctl;

static void ctl_usage(FILE *f)
{
    fprintf(f, "usage: parleyctl [--config FILE] COMMAND ...\n"
               "  adduser JID                  create an account (password from stdin)\n"
               "  passwd JID                   change an account's password\n"
               "  deluser JID                  delete an account\n"
               "  register USER HOST PASSWORD  create an account non-interactively\n"
               "  list HOST                    list the accounts of HOST\n"
               "  check                        check the configuration, print every problem\n");
}

static int ctl_open(ctl *c)
{
    size_t nerr;
    const char *const *errs = config_errors(c->cfg, &nerr);
    if (nerr) {
        for (size_t i = 0; i < nerr; i++)
            fprintf(stderr, "parleyctl: config: %s\n", errs[i]);
        return -1;
    }
    if (c->set.data_dir && mkdir(c->set.data_dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "parleyctl: %s: %s\n", c->set.data_dir, strerror(errno));
        return -1;
    }
    char *err = NULL;
    c->st = store_open(c->set.db_path, &err);
    if (!c->st) {
        fprintf(stderr, "parleyctl: database: %s\n", err ? err : "cannot open");
        free(err);
        return -1;
    }
    return 0;
}

/* Splits and checks a JID for an account host; returns 0 and malloc'd parts. */
static int ctl_account_jid(ctl *c, const char *s, char **user, char **host)
{
    jid j;
    if (jid_parse(s, &j) != 0 || !j.node || j.resource) {
        fprintf(stderr, "parleyctl: '%s' is not a valid account JID (user@host)\n", s);
        if (j.domain)
            jid_clear(&j);
        return -1;
    }
    const vhost *v = settings_vhost(&c->set, j.domain);
    if (!v || !(v->auth & VHOST_AUTH_ACCOUNTS)) {
        fprintf(stderr, "parleyctl: %s is not a host with accounts here%s\n", j.domain,
                v ? " (anonymous only)" : "");
        jid_clear(&j);
        return -1;
    }
    *user = xstrdup(j.node);
    *host = xstrdup(j.domain);
    jid_clear(&j);
    return 0;
}

static char *ctl_read_line(const char *prompt, bool tty)
{
    struct termios old, quiet;
    if (tty) {
        /* echo off before the prompt shows, so a fast typist is not echoed */
        tcgetattr(STDIN_FILENO, &old);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
        fprintf(stderr, "%s", prompt);
        fflush(stderr);
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSANOW, &old);
        fputc('\n', stderr);
    }
    if (n < 0) {
        free(line);
        return NULL;
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    return line;
}

/* Password from the terminal (asked twice) or one line of stdin. */
static char *ctl_password(void)
{
    bool tty = isatty(STDIN_FILENO);
    char *p1 = ctl_read_line("Enter new password: ", tty);
    if (!p1) {
        fprintf(stderr, "parleyctl: no password given\n");
        return NULL;
    }
    if (tty) {
        char *p2 = ctl_read_line("Retype new password: ", tty);
        bool same = p2 && strcmp(p1, p2) == 0;
        free(p2);
        if (!same) {
            fprintf(stderr, "parleyctl: passwords do not match\n");
            free(p1);
            return NULL;
        }
    }
    return p1;
}

static int ctl_set_password(ctl *c, const char *user, const char *host, const char *password,
                            bool create)
{
    account_creds cr;
    if (account_make_creds(password, &cr) != 0) {
        fprintf(stderr, "parleyctl: that password is not acceptable (empty, too long or "
                        "contains prohibited characters)\n");
        return 1;
    }
    if (!create) {
        account_creds old;
        int have = store_account_get(c->st, host, user, &old);
        if (have != 1) {
            fprintf(stderr, "parleyctl: no such user %s@%s\n", user, host);
            return 1;
        }
    }
    int r = store_account_put(c->st, host, user, &cr, create);
    if (r == 1) {
        fprintf(stderr, "parleyctl: user %s@%s already exists\n", user, host);
        return 1;
    }
    if (r != 0)
        return 1;
    printf("%s %s@%s\n", create ? "created" : "password changed for", user, host);
    return 0;
}

static int ctl_adduser_passwd(ctl *c, const char *j, bool create)
{
    char *user, *host;
    if (ctl_account_jid(c, j, &user, &host) != 0)
        return 1;
    account_creds old;
    int have = store_account_get(c->st, host, user, &old);
    int r = 1;
    if (create && have == 1)
        fprintf(stderr, "parleyctl: user %s@%s already exists\n", user, host);
    else if (!create && have != 1)
        fprintf(stderr, "parleyctl: no such user %s@%s\n", user, host);
    else {
        char *pw = ctl_password();
        if (pw)
            r = ctl_set_password(c, user, host, pw, create);
        free(pw);
    }
    free(user);
    free(host);
    return r;
}

static int ctl_deluser(ctl *c, const char *j)
{
    char *user, *host;
    if (ctl_account_jid(c, j, &user, &host) != 0)
        return 1;
    int r = store_account_delete(c->st, host, user);
    if (r == 1)
        fprintf(stderr, "parleyctl: no such user %s@%s\n", user, host);
    else if (r == 0)
        printf("deleted %s@%s\n", user, host);
    free(user);
    free(host);
    return r == 0 ? 0 : 1;
}

static void ctl_list_cb(void *ud, const char *user)
{
    printf("%s@%s\n", user, (const char *)ud);
}

static int ctl_list(ctl *c, const char *h)
{
    char *host = jid_prep_domain(h);
    const vhost *v = host ? settings_vhost(&c->set, host) : NULL;
    if (!v) {
        fprintf(stderr, "parleyctl: %s is not a host served here\n", h);
        free(host);
        return 1;
    }
    int r = store_account_list(c->st, host, ctl_list_cb, host);
    free(host);
    return r == 0 ? 0 : 1;
}

/* Every problem at once: configuration values, files, TLS pair, database. */
static int ctl_check(ctl *c)
{
    int problems = 0;
    size_t n;
    const char *const *unk = config_unknown(c->cfg, &n);
    for (size_t i = 0; i < n; i++)
        printf("warning: unknown setting %s\n", unk[i]);
    const char *const *errs = config_errors(c->cfg, &n);
    for (size_t i = 0; i < n; i++, problems++)
        printf("problem: %s\n", errs[i]);
    if (c->set.tls_cert && access(c->set.tls_cert, R_OK) == 0 && c->set.tls_key &&
        access(c->set.tls_key, R_OK) == 0) {
        SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
        if (SSL_CTX_use_certificate_chain_file(ctx, c->set.tls_cert) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx, c->set.tls_key, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(ctx) != 1) {
            char buf[256];
            ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
            printf("problem: TLS certificate/key %s / %s: %s\n", c->set.tls_cert, c->set.tls_key,
                   buf);
            problems++;
        }
        SSL_CTX_free(ctx);
    }
    if (c->set.db_path) {
        char *err = NULL;
        store *st = NULL;
        bool dir_ok = !c->set.data_dir || access(c->set.data_dir, W_OK) == 0 || errno == ENOENT;
        if (dir_ok && access(c->set.db_path, F_OK) == 0)
            st = store_open(c->set.db_path, &err);
        if (!dir_ok || (access(c->set.db_path, F_OK) == 0 && !st)) {
            printf("problem: database %s: %s\n", c->set.db_path,
                   err ? err : "directory not writable");
            problems++;
        }
        store_close(st);
        free(err);
    }
    if (problems == 0)
        printf("%s: OK\n", c->path);
    else
        printf("%d problem(s) in %s\n", problems, c->path);
    return problems ? 1 : 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {"version", no_argument, NULL, 'V'},
                                         {NULL, 0, NULL, 0}};
    ctl c;
    memset(&c, 0, sizeof c);
    int o;
    while ((o = getopt_long(argc, argv, "+c:hV", opts, NULL)) != -1) {
        switch (o) {
        case 'c':
            free(c.path);
            c.path = xstrdup(optarg);
            break;
        case 'h':
            ctl_usage(stdout);
            return 0;
        case 'V':
            printf("parleyctl %s\n", PARLEY_VERSION);
            return 0;
        default:
            ctl_usage(stderr);
            return 2;
        }
    }
    argc -= optind;
    argv += optind;
    if (argc < 1) {
        ctl_usage(stderr);
        return 2;
    }
    if (!c.path)
        c.path = settings_default_path();
    log_init("parleyctl", LOG_WARN);
    c.cfg = config_load(c.path, xmppd_config_keys, xmppd_config_nkeys);
    settings_load(&c.set, c.cfg);
    const char *cmd = argv[0];
    int r = 2;
    if (strcmp(cmd, "check") == 0 && argc == 1) {
        r = ctl_check(&c);
    } else if (ctl_open(&c) != 0) {
        r = 1;
    } else if (strcmp(cmd, "adduser") == 0 && argc == 2) {
        r = ctl_adduser_passwd(&c, argv[1], true);
    } else if (strcmp(cmd, "passwd") == 0 && argc == 2) {
        r = ctl_adduser_passwd(&c, argv[1], false);
    } else if (strcmp(cmd, "deluser") == 0 && argc == 2) {
        r = ctl_deluser(&c, argv[1]);
    } else if (strcmp(cmd, "list") == 0 && argc == 2) {
        r = ctl_list(&c, argv[1]);
    } else if (strcmp(cmd, "register") == 0 && argc == 4) {
        char *j = NULL;
        if (asprintf(&j, "%s@%s", argv[1], argv[2]) < 0)
            fatal("out of memory");
        char *user, *host;
        r = 1;
        if (ctl_account_jid(&c, j, &user, &host) == 0) {
            r = ctl_set_password(&c, user, host, argv[3], true);
            free(user);
            free(host);
        }
        free(j);
    } else {
        fprintf(stderr, "parleyctl: unknown command or wrong arguments: %s\n", cmd);
        ctl_usage(stderr);
    }
    store_close(c.st);
    settings_clear(&c.set);
    config_free(c.cfg);
    free(c.path);
    return r;
}
