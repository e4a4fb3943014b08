/* What reaches the line through `hotd console` besides its user's commands:
 * the pushes of other hotd commands (push --serial, watch --serial) over the
 * console's local socket, and the console's own `push`, a hotd push run as
 * a child that goes the same way. The console holds the line; the upload is
 * serial.c's, relayed byte for byte (hostd/console_relay.c). */
#ifndef HOTD_CONSOLE_RELAY_H
#define HOTD_CONSOLE_RELAY_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct hotd_relay {
    int listen_fd;    /* the console's socket (hotd_console_listen) */
    int client_fd;    /* a push connected to it, or -1 */
    bool active;      /* the push's bytes flow: the console sends nothing of its own */
    bool upload_open; /* the device took an upload that has not ended yet */
    char path[108];
};

enum { HOTD_RELAY_GOING, HOTD_RELAY_ENDED, HOTD_RELAY_ENDED_IN_UPLOAD };

/* Serve the socket of the line `spec`: 0, or -1 with msg. */
int hotd_relay_open(struct hotd_relay *r, const char *spec, char *msg, size_t size);
void hotd_relay_close(struct hotd_relay *r);
/* The descriptors the console's poll adds for the relay (at most 2). */
size_t hotd_relay_pollfds(const struct hotd_relay *r, struct pollfd *p);
/* After the poll: take a push that connected, let it flow once the console
 * is `idle` (no command of its own waiting for an answer: the device answers
 * in order, and the push must get only its own answers), carry its bytes to
 * `line_fd`. Says when a push ended, and whether it left an upload open on
 * the device (then abort it). */
int hotd_relay_step(struct hotd_relay *r, const struct pollfd *p, size_t n, int line_fd,
                    bool idle);
/* The device's bytes, to the push while it flows. */
void hotd_relay_to_client(struct hotd_relay *r, const char *data, size_t len);
/* A line from the device while a push flows: true when it belongs to the
 * push's protocol (hidden from the monitor); `note` gets what the monitor
 * shows instead ("" for nothing): the push's outcome. */
bool hotd_relay_line(struct hotd_relay *r, const char *line, char *note, size_t size);

/* The console's `push ARGS`: `hotd push --serial SPEC --build BUILD ARGS` as a
 * child, its stdout (and stderr unless `stderr_to_tty`, where its progress
 * bar then draws) read by hotd_push_child_read. */
struct hotd_push_child {
    pid_t pid; /* 0: none running */
    int fd;
    char out[1024];
    size_t len;
};
/* 0, or -1 with msg. */
int hotd_push_child_start(struct hotd_push_child *c, const char *spec, const char *build,
                          const char *args, bool stderr_to_tty, char *msg, size_t size);
/* Its output, a line at a time to show(); at its end, reaped (pid 0). */
void hotd_push_child_read(struct hotd_push_child *c, void (*show)(const char *line));

#endif
