/* Below the upload session: staging an upload into storage and preparing
 * its module (transport.c). Only the session (upload.c) calls these; the
 * transports' tests replace them with a fake. */
#ifndef HR_STAGE_H
#define HR_STAGE_H

#include "hotreload/transport.h"

struct hr_stage;
/* Before anything else is checked: TOO_LARGE, the message naming the limit
 * and how to raise it, when `length` is over the module's limit, its
 * partition's or `max_size` (0: none). A module not registered passes here
 * (begin names it once the credential is checked). */
hotreload_err_t hr_rt_stage_fits(const char *module, uint64_t length, size_t max_size, char *msg,
                                 size_t msgsize);
/* Start staging `length` bytes for `module`: TOO_LARGE as hr_rt_stage_fits,
 * BUSY while another upload stages, NOT_FOUND for an unregistered module,
 * STORAGE when the slot cannot be erased. `module` NULL: "main", else the
 * device's only module. */
hotreload_err_t hr_rt_stage_begin(const char *module, uint32_t length, size_t max_size,
                                  struct hr_stage **out, char *msg, size_t msgsize);
hotreload_err_t hr_rt_stage_write(struct hr_stage *st, const void *data, size_t len);
/* The staging module's name (`module` given to begin, or the one NULL chose). */
const char *hr_rt_stage_module(const struct hr_stage *st);
/* Every byte arrived: their SHA-256 (ARG when bytes are missing). */
hotreload_err_t hr_rt_stage_digest(struct hr_stage *st, uint8_t sha256[32], char *msg,
                                   size_t msgsize);
/* Prepare the module from the staged bytes (FIRMWARE, INVALID or NOMEM with
 * the loader's message) and commit it as the newest stored image. With
 * `keep` the prepared module waits for the next reload; without, it is
 * dropped (the check alone). Ends the staging whatever the outcome. */
hotreload_err_t hr_rt_stage_commit(struct hr_stage *st, bool keep, char *msg, size_t msgsize);
void hr_rt_stage_abort(struct hr_stage *st);

#endif
