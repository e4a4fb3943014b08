/* What the transports (HTTP server, serial console) ask of the runtime.
 * Every call is thread-safe: transports may run in their own threads while
 * the application runs module code. */
#ifndef HR_RUNTIME_H
#define HR_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "hotreload.h"

/* An upload streamed into a module's free storage slot. */
struct hr_upload;

/* Start an upload of `length` bytes for `module` (NULL: "main"). Fails with
 * TOO_LARGE over `max_size`, BUSY when another upload is in progress,
 * NOT_FOUND for an unregistered module. `msg` gets a sentence on failure. */
hotreload_err_t hr_rt_upload_begin(const char *module, uint32_t length, size_t max_size,
                                   struct hr_upload **out, char *msg, size_t msgsize);
hotreload_err_t hr_rt_upload_write(struct hr_upload *up, const void *data, size_t len);
/* Every byte arrived: the SHA-256 of the body (for request authentication). */
hotreload_err_t hr_rt_upload_digest(struct hr_upload *up, uint8_t sha256[32], char *msg,
                                    size_t msgsize);
/* Check the image (firmware build-id: FIRMWARE; a trial load: INVALID with
 * the loader's message) and commit it as the newest stored image. Frees
 * `up` whatever the outcome. */
hotreload_err_t hr_rt_upload_commit(struct hr_upload *up, char *msg, size_t msgsize);
/* Drop the upload; the stored images are untouched. Frees `up`. */
void hr_rt_upload_abort(struct hr_upload *up);

/* Ask the application to reload (or unload) `module` at its next safe point
 * (hotreload_poll / hotreload_reload) and wait up to `timeout_ms` for the
 * outcome. TIMEOUT if the application did not get there. */
hotreload_err_t hr_rt_request_reload(const char *module, uint32_t timeout_ms, char *msg,
                                     size_t msgsize);
hotreload_err_t hr_rt_request_unload(const char *module, uint32_t timeout_ms, char *msg,
                                     size_t msgsize);

/* Exported symbol names of a loaded module, one per call; returns false past
 * the end. For the console's `symbols` command. */
bool hr_rt_symbol(const char *module, size_t i, const char **name, uintptr_t *addr,
                  bool *is_func);

/* The per-boot nonce that request signatures must include, as 32 hex chars,
 * and the replay counter: a signed request must carry a counter above the
 * last one accepted. `hr_rt_counter_accept` accepts `counter` if it is
 * higher than every earlier one (and remembers it), atomically. */
const char *hr_rt_nonce(void);
uint64_t hr_rt_counter_last(void);
bool hr_rt_counter_accept(uint64_t counter);

/* Map a hotreload_err_t to a short English phrase. */
const char *hr_rt_err_name(hotreload_err_t err);

#endif
