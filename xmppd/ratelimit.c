#include "ratelimit.h"
#include "util.h"

#include <stdlib.h>

typedef struct bucket {
    double tokens;
    long long at_ms;
} bucket;

static void bucket_refill(const xmppd *srv, bucket *b, long long now)
{
    double rate = srv->set.login_rate_per_min;
    b->tokens += (double)(now - b->at_ms) * rate / 60000.0;
    if (b->tokens > rate)
        b->tokens = rate;
    b->at_ms = now;
}

bool ratelimit_login(xmppd *srv, const char *ip)
{
    long long now = now_ms();
    bucket *b = hmap_get(&srv->login_buckets, ip);
    if (!b) {
        b = xmalloc(sizeof *b);
        b->tokens = srv->set.login_rate_per_min;
        b->at_ms = now;
        hmap_put(&srv->login_buckets, ip, b);
    }
    bucket_refill(srv, b, now);
    if (b->tokens < 1.0)
        return false;
    b->tokens -= 1.0;
    return true;
}

void ratelimit_prune(xmppd *srv)
{
    long long now = now_ms();
    size_t i = 0;
    hmap_entry *e;
    while ((e = hmap_next(&srv->login_buckets, &i))) {
        bucket *b = e->value;
        bucket_refill(srv, b, now);
        if (b->tokens >= srv->set.login_rate_per_min) {
            free(hmap_del(&srv->login_buckets, e->key));
        }
    }
}

void ratelimit_free(xmppd *srv)
{
    size_t i = 0;
    hmap_entry *e;
    while ((e = hmap_next(&srv->login_buckets, &i)))
        free(e->value);
    hmap_free(&srv->login_buckets);
}
