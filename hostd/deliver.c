/* One push of a built module, shared by `hotd push` and `hotd watch`. */
#define _POSIX_C_SOURCE 200809L
#include "deliver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotd.h"
#include "serial.h"

/* Tell the gdb helper where the module now is: the first device that took it. */
static void write_gdb_command(struct hotd_delivery *d)
{
    d->gdb[0] = '\0';
    for (size_t i = 0; d->reload && i < d->nurls; i++)
        if (d->results[i].ok && d->results[i].status_json[0]) {
            if (hotd_gdb_command(d->build, d->name, d->results[i].status_json, d->gdb,
                                 sizeof d->gdb) != 0)
                d->gdb[0] = '\0';
            return;
        }
}

int hotd_deliver(struct hotd_delivery *d)
{
    struct hotd_key key;
    d->img = NULL;
    d->results = NULL;
    d->gdb[0] = d->error[0] = '\0';
    if (hotd_read_file(d->image, &d->img, &d->len, d->error, sizeof d->error) != 0)
        return HOTD_NOT_SENT;
    if (d->len == 0) {
        snprintf(d->error, sizeof d->error, "%s: empty, not a module", d->image);
        return HOTD_NOT_SENT;
    }
    /* Saving a file unchanged or editing a comment builds the same image: the
     * device runs it already, a push would only bump its generation. */
    if (d->running && d->running_len == d->len && !memcmp(d->running, d->img, d->len))
        return HOTD_UNCHANGED;
    if (hotd_load_key(d->build, &key, d->error, sizeof d->error) != 0)
        return HOTD_NOT_SENT;
    /* An exported function whose interface changed would be called the old
     * way by the device's firmware: refuse before anything is sent. The
     * serial line has no status to ask: the device checks the build-id. */
    char report[3900];
    if (hotd_abi_gate(d->build, d->name, d->urls, d->serial ? 0 : d->nurls, report,
                      sizeof report) == 1) {
        snprintf(d->error, sizeof d->error, "%srebuild and reflash the firmware", report);
        return HOTD_NOT_SENT;
    }
    if (!(d->results = calloc(d->nurls, sizeof *d->results))) {
        snprintf(d->error, sizeof d->error, "out of memory");
        return HOTD_NOT_SENT;
    }
    int failed = d->serial ? hotd_serial_push(d->serial, d->baud, !d->no_compress, &key,
                                              d->name, d->img, d->len, d->reload, d->progress,
                                              d->results)
                           : hotd_push(d->urls, d->nurls, &key, d->name, d->img, d->len,
                                       d->reload, d->progress, d->results);
    write_gdb_command(d);
    return failed;
}

void hotd_delivery_free(struct hotd_delivery *d)
{
    free(d->img);
    free(d->results);
    d->img = NULL;
    d->results = NULL;
}
