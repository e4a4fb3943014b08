/* Who may hold one of the simulated device's HTTP connections (see
 * http_admit.h). Slow clients cost a connection for at most the head
 * deadline, and a client sending its whole head at once always gets one:
 * ten trickling sockets no longer lock the update channel. */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "hotreload/transport.h"
#include "http_admit.h"

/* The counted connections. A connection leaves (under the lock) before
 * its thread closes the socket, so any socket found here may be shut. */
static struct {
    pthread_mutex_t mu;
    struct conn *c[HR_POSIX_MAX_CONNECTIONS];
    unsigned dropped;   /* since the last log line about it (one a second at most) */
    uint64_t logged_ms;
} table = {.mu = PTHREAD_MUTEX_INITIALIZER};

static size_t peer_address(int fd, uint8_t out[16])
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
        return 0;
    if (ss.ss_family == AF_INET) {
        memcpy(out, &((struct sockaddr_in *)&ss)->sin_addr, 4);
        return 4;
    }
    const struct in6_addr *a6 = &((struct sockaddr_in6 *)&ss)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(a6)) {
        memcpy(out, a6->s6_addr + 12, 4);
        return 4;
    }
    memcpy(out, a6->s6_addr, 16);
    return 16;
}

static bool same_peer(const struct conn *a, const struct conn *b)
{
    return a->addr_len == b->addr_len && !memcmp(a->addr, b->addr, a->addr_len);
}

struct conn *admit_new(int fd, struct shared *sh)
{
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->fd = fd;
    c->sh = sh;
    c->accepted_ms = hr_rt_now_ms();
    c->state = HR_CONN_READING_HEAD;
    atomic_init(&c->dropped, false);
    c->addr_len = peer_address(fd, c->addr);
    return c;
}

/* Drop one connection that is not being served, to make room: one only
 * draining first, else the oldest still reading its head; from `peer`'s
 * address only when `peer` is set. False when every one is being served. */
static bool drop_one(const struct conn *peer)
{
    int victim = -1;
    for (int i = 0; i < HR_POSIX_MAX_CONNECTIONS; i++) {
        const struct conn *c = table.c[i];
        if (!c || c->state == HR_CONN_SERVING || (peer && !same_peer(c, peer)))
            continue;
        const struct conn *v = victim < 0 ? NULL : table.c[victim];
        if (!v || (c->state == HR_CONN_DRAINING && v->state != HR_CONN_DRAINING) ||
            (c->state == v->state && c->accepted_ms < v->accepted_ms))
            victim = i;
    }
    if (victim < 0)
        return false;
    atomic_store(&table.c[victim]->dropped, true);
    shutdown(table.c[victim]->fd, SHUT_RD); /* wakes its recv */
    table.c[victim] = NULL;                 /* its thread finishes on its own */
    table.dropped++;
    return true;
}

static bool place(struct conn *c, char *why, size_t whysize)
{
    int used = 0, mine = 0;
    for (int i = 0; i < HR_POSIX_MAX_CONNECTIONS; i++) {
        used += table.c[i] != NULL;
        mine += table.c[i] && same_peer(table.c[i], c);
    }
    if (mine >= HR_POSIX_MAX_PER_ADDRESS && !drop_one(c)) {
        snprintf(why, whysize, "too many requests in progress from your address (%d at a "
                 "time); try again when one has finished", HR_POSIX_MAX_PER_ADDRESS);
        return false;
    }
    if (mine < HR_POSIX_MAX_PER_ADDRESS && used >= HR_POSIX_MAX_CONNECTIONS && !drop_one(NULL)) {
        snprintf(why, whysize, "too many requests in progress (%d at a time); try again when "
                 "one has finished", HR_POSIX_MAX_CONNECTIONS);
        return false;
    }
    for (int i = 0; i < HR_POSIX_MAX_CONNECTIONS; i++)
        if (!table.c[i]) {
            table.c[i] = c;
            return true;
        }
    return false; /* not reached: a place was free or made */
}

bool admit(struct conn *c, char *why, size_t whysize)
{
    pthread_mutex_lock(&table.mu);
    bool in = place(c, why, whysize);
    unsigned dropped = table.dropped;
    bool say = dropped && hr_rt_now_ms() - table.logged_ms >= 1000u;
    if (say) {
        table.dropped = 0;
        table.logged_ms = hr_rt_now_ms();
    }
    pthread_mutex_unlock(&table.mu);
    /* Counted, not one line each: a client reconnecting at once would fill the log. */
    if (say)
        hr_rt_log("hotreload: http: %u connection%s still sending %s head dropped for newer "
                  "ones (clients slower than %u ms per head, or holding connections)", dropped,
                  dropped == 1 ? "" : "s", dropped == 1 ? "its" : "their",
                  HR_POSIX_HEAD_DEADLINE_MS);
    return in;
}

void admit_state(struct conn *c, enum hr_conn_state st)
{
    pthread_mutex_lock(&table.mu);
    c->state = st;
    pthread_mutex_unlock(&table.mu);
}

void admit_leave(struct conn *c)
{
    pthread_mutex_lock(&table.mu);
    for (int i = 0; i < HR_POSIX_MAX_CONNECTIONS; i++)
        if (table.c[i] == c)
            table.c[i] = NULL;
    pthread_mutex_unlock(&table.mu);
}
