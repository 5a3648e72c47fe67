/* bridge_metrics: reads the bridge's forwarding-delay histogram
 * (parley_bridge_forward_delay_seconds) from its /metrics page, so a
 * benchmark can report the delay the bridge itself adds over a window
 * (delay_hist_quantile_ms of two readings).
 *
 * Ownership: fills the caller's struct; nothing allocated survives. */
#ifndef PARLEY_BRIDGE_METRICS_H
#define PARLEY_BRIDGE_METRICS_H

#include "delay_hist.h"

/* GET http://ip:port/metrics (blocking, 2 s timeout); 0 and *out filled, or
 * -1 (the page could not be read or has no such histogram). */
int bridge_metrics_delay(const char *ip, int port, delay_hist *out);

#endif
