/* The progress bar of a push, shared by the HTTP client and the serial
 * upload: one look, one rule for when it shows. */
#define _POSIX_C_SOURCE 200809L
#include "progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define WIDTH 24

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

void hotd_progress_start(struct hotd_progress *p, double total, bool wanted)
{
    *p = (struct hotd_progress){.on = wanted && isatty(2), .t0 = now_ms(), .total = total};
}

void hotd_progress_draw(struct hotd_progress *p, double done, const char *what)
{
    double ms = now_ms() - p->t0;
    if (!p->on || ms < HOTD_PROGRESS_AFTER_MS)
        return;
    double frac = p->total > 0 ? done / p->total : 1;
    frac = frac < 0 ? 0 : frac > 1 ? 1 : frac;
    int w = (int)(frac * WIDTH);
    double rate = done / (ms / 1e3); /* bytes per second since the push began */
    char eta[32] = "";
    if (frac < 1 && rate > 0)
        snprintf(eta, sizeof eta, "  ETA %.0f s", (p->total - done) / rate + 0.5);
    fprintf(stderr, "\r[%.*s%*s] %3d%%  %.1f/%.1f KiB  %.1f KiB/s%s%s%s\033[K", w,
            "########################", WIDTH - w, "", (int)(frac * 100), done / 1024,
            p->total / 1024, rate / 1024, eta, what ? "  " : "", what ? what : "");
    p->drawn = true;
}

void hotd_progress_end(struct hotd_progress *p)
{
    if (p->drawn)
        fputs("\r\033[K", stderr);
    p->drawn = false;
}
