/* delay_hist: see delay_hist.h. */
#include "delay_hist.h"

#include <stddef.h>

/* 8 us * 2^(i/4), rounded: the four steps of one octave, then doubled */
static const uint32_t quarter[4] = {8000, 9514, 11314, 13454}; /* 8 us * 2^(k/4), in ns */

uint32_t delay_hist_bound_us(int i)
{
    if (i >= DELAY_BUCKETS - 1)
        return UINT32_MAX;
    if (i < 0)
        return 0;
    uint64_t ns = (uint64_t)quarter[i % 4] << (i / 4);
    return (uint32_t)((ns + 500) / 1000);
}

void delay_hist_add(delay_hist *h, uint64_t us)
{
    /* binary search over the bounds: the first bucket whose bound holds us */
    int lo = 0, hi = DELAY_BUCKETS - 1;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (us <= delay_hist_bound_us(mid))
            hi = mid;
        else
            lo = mid + 1;
    }
    h->count[lo]++;
    h->total++;
    h->sum_us += us;
}

double delay_hist_quantile_ms(const delay_hist *cur, const delay_hist *prev, double q)
{
    uint64_t total = cur->total - (prev ? prev->total : 0);
    if (total == 0)
        return -1;
    if (q < 0)
        q = 0;
    if (q > 1)
        q = 1;
    double want = q * (double)total;
    uint64_t seen = 0;
    for (int i = 0; i < DELAY_BUCKETS; i++) {
        uint64_t n = cur->count[i] - (prev ? prev->count[i] : 0);
        if (n == 0)
            continue;
        if ((double)(seen + n) >= want) {
            double lo = i ? delay_hist_bound_us(i - 1) : 0;
            /* the open bucket: report its lower bound, the most that is known */
            double hi = i == DELAY_BUCKETS - 1 ? lo : delay_hist_bound_us(i);
            double frac = want <= (double)seen ? 0 : (want - (double)seen) / (double)n;
            return (lo + (hi - lo) * frac) / 1000.0;
        }
        seen += n;
    }
    return delay_hist_bound_us(DELAY_BUCKETS - 2) / 1000.0;
}
