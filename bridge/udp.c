/* udp: the bridge's one media socket. Reads up to UDP_BATCH datagrams per
 * wakeup with recvmmsg into the bridge's fixed buffers, hands each to the
 * demultiplexer, and sends everything queued while handling the batch with
 * sendmmsg at its end (udp_out_*), so a packet forwarded to N receivers
 * costs one system call per UDP_BATCH datagrams instead of N. The kernel's
 * receive timestamp of each datagram (SO_TIMESTAMPNS) travels with the
 * copies it causes, so udp_flush can count how long the bridge held them
 * (br->delay). */
#include "bridge.h"
#include "log.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int64_t realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The SO_TIMESTAMPNS receive time of a datagram, or `fallback`. */
static int64_t rx_time_ns(struct msghdr *h, int64_t fallback)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS &&
            c->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
            struct timespec ts;
            memcpy(&ts, CMSG_DATA(c), sizeof ts);
            return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
        }
    return fallback;
}

static void udp_readable(evutil_socket_t fd, short what, void *arg)
{
    bridge *br = arg;
    struct mmsghdr msgs[UDP_BATCH];
    struct iovec iov[UDP_BATCH];
    struct sockaddr_storage from[UDP_BATCH];
    /* CMSG_SPACE is a multiple of the header's alignment: every row aligned */
    _Alignas(struct cmsghdr) char ctl[UDP_BATCH][CMSG_SPACE(sizeof(struct timespec))];
    /* bounded: at most 8 batches per wakeup so timers and XMPP get a turn */
    for (int round = 0; round < 8; round++) {
        for (int i = 0; i < UDP_BATCH; i++) {
            iov[i].iov_base = br->rx_bufs[i];
            iov[i].iov_len = PKT_BUF;
            memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            msgs[i].msg_hdr.msg_name = &from[i];
            msgs[i].msg_hdr.msg_namelen = sizeof from[i];
            msgs[i].msg_hdr.msg_control = ctl[i];
            msgs[i].msg_hdr.msg_controllen = sizeof ctl[i];
        }
        int n = recvmmsg(br->udp_fd, msgs, UDP_BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0)
            break;
        int64_t batch_ns = realtime_ns();
        for (int i = 0; i < n; i++) {
            size_t len = msgs[i].msg_len;
            br->rx_ns = rx_time_ns(&msgs[i].msg_hdr, batch_ns);
            br->c.rx_packets++;
            br->c.rx_bytes += len;
            if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
                br->c.malformed++;
                continue;
            }
            media_on_datagram(br, br->rx_bufs[i], len, (struct sockaddr *)&from[i],
                              msgs[i].msg_hdr.msg_namelen);
        }
        udp_flush(br);
        if (n < UDP_BATCH)
            break;
    }
    br->rx_ns = 0; /* what timers send was not received */
}

int udp_open(bridge *br)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t slen;
    int family;
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, br->set.media_bind, &in->sin_addr) == 1) {
        family = in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)br->set.media_port);
        slen = sizeof *in;
    } else if (inet_pton(AF_INET6, br->set.media_bind, &in6->sin6_addr) == 1) {
        family = in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)br->set.media_port);
        slen = sizeof *in6;
    } else {
        log_error(NULL, "JVB_BIND_ADDRESS '%s' is not an IP address", br->set.media_bind);
        return -1;
    }
    int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    /* about 100-200 ms of input at a busy bridge's rates: enough for bursts,
     * short enough that a bridge that falls behind drops instead of
     * delaying everyone's media by seconds */
    int sz = 1 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    sz = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
    if (bind(fd, (struct sockaddr *)&ss, slen) != 0) {
        log_error(NULL, "cannot listen on udp %s:%d: %s", br->set.media_bind, br->set.media_port,
                  strerror(errno));
        close(fd);
        return -1;
    }
    if (br->set.media_port == 0) { /* tests: the kernel picks; advertise that port */
        getsockname(fd, (struct sockaddr *)&ss, &slen);
        br->set.media_port = ntohs(family == AF_INET ? in->sin_port : in6->sin6_port);
        for (int i = 0; i < br->set.nadv; i++)
            if (br->set.adv[i].port == 0)
                br->set.adv[i].port = br->set.media_port;
    }
    br->udp_fd = fd;
    br->out = xcalloc(SEND_BATCH, sizeof *br->out);
    br->udp_ev = event_new(br->base, fd, EV_READ | EV_PERSIST, udp_readable, br);
    event_add(br->udp_ev, NULL);
    return 0;
}

void udp_close(bridge *br)
{
    if (br->udp_ev)
        event_free(br->udp_ev);
    br->udp_ev = NULL;
    if (br->udp_fd >= 0)
        close(br->udp_fd);
    br->udp_fd = -1;
    free(br->out);
    br->out = NULL;
}

out_pkt *udp_out_slot(bridge *br)
{
    if (br->nout == SEND_BATCH)
        udp_flush(br);
    return &br->out[br->nout];
}

void udp_out_commit(bridge *br, out_pkt *p, const struct sockaddr *to, socklen_t tolen)
{
    memcpy(&p->to, to, tolen);
    p->tolen = tolen;
    p->rx_ns = br->rx_ns;
    br->nout++;
}

void udp_flush(bridge *br)
{
    struct mmsghdr msgs[UDP_BATCH];
    struct iovec iov[UDP_BATCH];
    int done = 0;
    while (done < br->nout) {
        int n = br->nout - done < UDP_BATCH ? br->nout - done : UDP_BATCH;
        for (int i = 0; i < n; i++) {
            out_pkt *p = &br->out[done + i];
            iov[i].iov_base = p->buf;
            iov[i].iov_len = p->len;
            memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            msgs[i].msg_hdr.msg_name = &p->to;
            msgs[i].msg_hdr.msg_namelen = p->tolen;
        }
        int sent = sendmmsg(br->udp_fd, msgs, (unsigned)n, MSG_DONTWAIT);
        if (sent <= 0) {
            /* a full socket buffer or an unreachable peer: drop this one, go on */
            br->c.tx_dropped++;
            sent = 1;
        } else {
            int64_t now = 0;
            for (int i = 0; i < sent; i++) {
                const out_pkt *p = &br->out[done + i];
                br->c.tx_packets++;
                br->c.tx_bytes += p->len;
                if (p->rx_ns) { /* a copy of a received datagram */
                    if (!now)
                        now = realtime_ns();
                    delay_hist_add(&br->delay,
                                   now > p->rx_ns ? (uint64_t)(now - p->rx_ns) / 1000 : 0);
                }
            }
        }
        done += sent;
    }
    br->nout = 0;
}

void udp_send_now(bridge *br, const void *data, size_t len, const struct sockaddr *to,
                  socklen_t tolen)
{
    if (len > sizeof br->out[0].buf)
        return;
    out_pkt *p = udp_out_slot(br);
    memcpy(p->buf, data, len);
    p->len = len;
    udp_out_commit(br, p, to, tolen);
    p->rx_ns = 0; /* an answer, not a forwarded copy */
    udp_flush(br);
}
