/* hotd's side of the serial console (docs/serial.md): opening the line and
 * the framed, signed upload. */
#ifndef HOTD_SERIAL_H
#define HOTD_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client.h"

#define HOTD_SERIAL_BAUD 115200u

/* Open a serial line: "tcp:HOST:PORT" (a socket, as QEMU exposes a UART) or
 * a tty device put in raw mode, 8N1 at `baud`. The fd, or -1 with a message. */
int hotd_serial_open(const char *spec, unsigned baud, char *msg, size_t msgsize);

/* A line serves one client: `hotd console` holds it and serves a local
 * socket through which push and watch reach the device. The connected
 * socket of the console holding `spec`, or -1 when none does. */
int hotd_console_connect(const char *spec);
/* Become the holder of `spec`: the listening socket (its path in `path`),
 * or -1 with msg (another console holds the line, or no private folder). */
int hotd_console_listen(const char *spec, char *path, size_t size, char *msg, size_t msgsize);

/* Upload a module over the line `spec` (see hotd_serial_open): nonce, signed
 * `upload` (with `compress`, compressed when the device takes that and it
 * saves more than a sixteenth), frames with resend on nak or silence, then
 * `reload` unless
 * `reload` is false; through the `hotd console` holding the line, if one
 * does. Fills `r` like hotd_push (r->url = spec, http_status 0)
 * and returns 0 when the device took the module, 1 when not. A progress
 * line on stderr when `progress` and stderr is a tty. */
int hotd_serial_push(const char *spec, unsigned baud, bool compress, const struct hotd_key *key,
                     const char *module, const void *img, size_t len, bool reload,
                     bool progress, struct hotd_push_result *r);

#endif
