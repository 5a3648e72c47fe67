/* delay_hist: a fixed log-scale histogram of how long forwarded packets
 * stayed in the bridge, from the kernel's receive timestamp of the
 * incoming datagram (SO_TIMESTAMPNS) to the sendmmsg that sent each copy.
 * That is the latency the bridge adds, queueing in its socket included,
 * without the sender's or receiver's own delays. Buckets are a quarter
 * octave wide (about 19 %), from 8 us to 0.37 s; the last one is
 * open. Quantiles are read over a window as the difference of two
 * snapshots.
 *
 * Ownership: plain values, no allocation. Main loop. */
#ifndef PARLEY_DELAY_HIST_H
#define PARLEY_DELAY_HIST_H

#include <stdint.h>

#define DELAY_BUCKETS 64

typedef struct delay_hist {
    uint64_t count[DELAY_BUCKETS]; /* bucket i: up to delay_hist_bound_us(i) */
    uint64_t total;
    uint64_t sum_us;
} delay_hist;

/* Upper bound of bucket i in microseconds (inclusive); the last bucket has
 * no bound (UINT32_MAX). */
uint32_t delay_hist_bound_us(int i);
/* Counts one delay of `us` microseconds. */
void delay_hist_add(delay_hist *h, uint64_t us);
/* Quantile q (0..1) in milliseconds of what was added to `cur` since the
 * snapshot `prev` (NULL: since the start), interpolated inside the bucket;
 * -1 when nothing was added. */
double delay_hist_quantile_ms(const delay_hist *cur, const delay_hist *prev, double q);

#endif
