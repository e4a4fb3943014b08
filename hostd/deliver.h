/* One push of a built module, as `hotd push` and `hotd watch` make it:
 * read the image, the key, the interface check, the signed upload (HTTP or
 * the serial console), the gdb command file. */
#ifndef HOTD_DELIVER_H
#define HOTD_DELIVER_H

#include <stdbool.h>
#include <stddef.h>

#include "client.h"

struct hotd_delivery {
    /* What, where, how. */
    const char *build;             /* the build directory: its key, its records */
    const char *name;              /* the module's name on the device */
    const char *image;             /* the image file */
    const char *const *urls;       /* the devices; with `serial`, urls[0] names the line */
    size_t nurls;
    const char *serial;            /* push over this serial line instead (NULL: HTTP) */
    unsigned baud;
    bool no_compress;              /* serial: never compressed (docs/serial.md) */
    bool reload, progress;
    const char *running;           /* the image the devices run already, or NULL: */
    size_t running_len;            /* the same bytes are not sent again */

    /* What came of it. The caller frees img and results (hotd_delivery_free). */
    char *img;                     /* the image read */
    size_t len;
    struct hotd_push_result *results; /* one per device */
    char gdb[2048];                /* the gdb command written, "" when none */
    char error[4096];              /* why nothing was sent */
};

enum {
    HOTD_NOT_SENT = -1,  /* d->error says why */
    HOTD_UNCHANGED = -2, /* the image is d->running: nothing sent */
};

/* Read the image and the key, refuse a module whose interface changed since
 * the devices' firmware was built (hotd_abi_gate), push it, and after a
 * reload write BUILD/modules/NAME.gdb from the first device that took it.
 * Returns the number of devices that failed (d->results says how), or one
 * of the above. */
int hotd_deliver(struct hotd_delivery *d);
void hotd_delivery_free(struct hotd_delivery *d);

#endif
