/* The simulated device's HTTP connections (http_server.c) and who may
 * hold one (http_admit.c): at most 8 at a time, 4 per client address; a
 * newcomer over a limit takes the place of a connection that is not being
 * served (one only draining, else the oldest still sending its head), and
 * is refused only when every connection is being served. */
#ifndef HR_POSIX_HTTP_ADMIT_H
#define HR_POSIX_HTTP_ADMIT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HR_POSIX_MAX_CONNECTIONS 8
#define HR_POSIX_MAX_PER_ADDRESS 4        /* one client never holds every connection */
#define HR_POSIX_HEAD_DEADLINE_MS 2000u   /* the whole head (<= 4 KiB) within this */

/* What a connection is doing. One still reading its head, or only
 * draining after its answer, may be dropped for a newcomer; one whose
 * request is being served (a signed upload, a reload waiting for the safe
 * point) never is. */
enum hr_conn_state { HR_CONN_READING_HEAD, HR_CONN_SERVING, HR_CONN_DRAINING };

struct shared;

struct conn {
    int fd;
    struct shared *sh;
    uint64_t accepted_ms, received;
    enum hr_conn_state state; /* changed through admit_state */
    atomic_bool dropped;      /* its socket was shut to make room for a newcomer */
    unsigned head_end;        /* how much of "\r\n\r\n" the last bytes matched */
    bool last_word;           /* dropped, and now telling the client so */
    uint8_t addr[16];         /* the peer's address (IPv4-mapped as IPv4) */
    size_t addr_len;
};

/* A new connection on socket `fd` (reading its head), or NULL. */
struct conn *admit_new(int fd, struct shared *sh);
/* A place for `c` among the counted connections, dropping another one if a
 * limit is reached; false, and why (with what to do), when none is free. */
bool admit(struct conn *c, char *why, size_t whysize);
void admit_state(struct conn *c, enum hr_conn_state st);
/* `c` stops counting; call before closing its socket (admit shuts the
 * sockets of the connections it counts). */
void admit_leave(struct conn *c);

#endif
