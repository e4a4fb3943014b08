/* The simulated device the transport targets (http, console) run against:
 * the real runtime and posix port, modules "main" and "aux" registered,
 * storage files in a private directory. */
#ifndef FUZZ_DEVICE_H
#define FUZZ_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FUZZ_KEY_LEN 32
extern const uint8_t fuzz_key[FUZZ_KEY_LEN];

/* FUZZ_VERBOSE set: the targets print what the device answered (is a seed
 * getting where it should?). */
extern bool fuzz_verbose;

/* Once, before the first input. */
void fuzz_device_start(void);
/* Before each input: forget what the previous one left behind. */
void fuzz_device_reset(void);
/* After each input: nothing may be left half done. */
void fuzz_device_check(void);

/* Uploads get stored only when they name the firmware they were built for:
 * this process, whose build-id no input can know. Seeds carry
 * FUZZ_FWID_MARK (a build-id's 20 bytes) where a module names its firmware;
 * fuzz_bind returns a malloc'd copy of d with every mark replaced by the
 * real build-id, or NULL when there is none. */
#define FUZZ_FWID_MARK "HOTRELOAD-FUZZ-FWID!"
uint8_t *fuzz_bind(const uint8_t *d, size_t n);

/* The Authorization value for a request, signed with fuzz_key for this
 * boot's nonce and the next counter; -1 when a field cannot be signed. */
int fuzz_sign(const char *method, const char *target, const void *body, size_t len,
              char *auth);

/* The answer text must be what hotd can read: every byte printable ASCII,
 * and (json) a JSON object hotd's parser accepts. Returns the parsed "ok". */
int fuzz_json_answer(const char *text, size_t len);

#endif
