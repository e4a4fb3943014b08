/* The progress bar of a push (HTTP and serial): bytes, rate and time left on
 * stderr, when it is a terminal and the push takes noticeable time. */
#ifndef HOTD_PROGRESS_H
#define HOTD_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>

/* A push shorter than this draws nothing: a bar that flashes for a moment
 * says nothing and leaves the eye looking for it. */
#define HOTD_PROGRESS_AFTER_MS 500

struct hotd_progress {
    bool on;      /* wanted, and stderr is a terminal */
    bool drawn;   /* something is on the line: hotd_progress_end clears it */
    double t0;    /* when the push began (ms, monotonic) */
    double total; /* bytes to send */
};

/* Begin a push of `total` bytes; `wanted` false (--quiet, --json) or a
 * stderr that is not a terminal keeps the bar off. */
void hotd_progress_start(struct hotd_progress *p, double total, bool wanted);
/* `done` of the total bytes are out; `what` (may be NULL) follows the
 * numbers, e.g. what the device does once every byte is out. */
void hotd_progress_draw(struct hotd_progress *p, double done, const char *what);
/* Clear the bar, if one was drawn, so the result line starts clean. */
void hotd_progress_end(struct hotd_progress *p);

#endif
