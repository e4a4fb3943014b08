/* Decoding code addresses printed by a device into function+offset and
 * file:line (libdwfl): firmware addresses from the firmware ELF, module
 * addresses from the unstripped module (BUILD/modules/NAME.debug.o) placed
 * at the section addresses the device reports in its status. */
#ifndef HOTD_DECODE_H
#define HOTD_DECODE_H

#include <stdbool.h>
#include <stddef.h>

struct hotd_decoder;

/* `build` holds modules/NAME.debug.o; `firmware` (NULL: none) is the
 * firmware ELF, `fw_bias` its load address when it is position-independent
 * (0 otherwise). NULL with a message when the firmware cannot be read. */
struct hotd_decoder *hotd_decoder_new(const char *build, const char *firmware,
                                      unsigned long long fw_bias, char *msg, size_t msgsize);
void hotd_decoder_free(struct hotd_decoder *d);

/* Take the module placement from the device's status JSON (docs/http.md):
 * every loaded module with its sections' addresses. Replaces the previous
 * placement. 0, or -1 with a message (the old placement is then kept). */
int hotd_decoder_set_status(struct hotd_decoder *d, const char *json, char *msg, size_t msgsize);

/* Decode one address: "name+0xoff at file:line" (or less, when the debug
 * information says less) into out. false when nothing knows the address. */
bool hotd_decode_addr(struct hotd_decoder *d, unsigned long long addr, char *out, size_t size);

/* `line` with each code address in it (a 0x token of 6 or more hex digits)
 * followed by " <decoded>". Returns a malloc'd string. */
char *hotd_decode_line(struct hotd_decoder *d, const char *line);

#endif
