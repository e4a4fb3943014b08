#ifndef HOTD_H
#define HOTD_H

#include <stddef.h>

/* One entry point per subcommand, one file each. argv[0] is the subcommand. */
int cmd_relocate(int argc, char **argv);
int cmd_build_id(int argc, char **argv);
int cmd_bind(int argc, char **argv);
int cmd_abi(int argc, char **argv);

/* Compare a module's exported interface with the record of the one its
 * firmware was built against: 0 same, 1 changed (report names what), -1
 * error (report says why). */
int hotd_abi_check(const char *module, const char *record, char *report, size_t size);
/* After a reload: write BUILD/modules/NAME.gdb, the add-symbol-file command
 * for the module at the addresses in `status_json`, and copy it to `out`.
 * 0, or -1 when the status lacks the module or the module file is missing. */
int hotd_gdb_command(const char *build, const char *name, const char *status_json, char *out,
                     size_t size);
/* Before a push (abi_gate.c): for each device, the functions the build's
 * firmware calls that the device's firmware has no stub for, then
 * BUILD/modules/NAME.debug.o against the record of the firmware the device
 * runs. 1 with a report naming the functions, else 0 (no record: nothing to
 * compare). */
int hotd_abi_gate(const char *build, const char *name, const char *const *urls, size_t n,
                  char *report, size_t size);
int cmd_stubs(int argc, char **argv);
int cmd_link(int argc, char **argv);
int cmd_push(int argc, char **argv);
int cmd_status(int argc, char **argv);
/* Print a device's GET /status text as hotd status does: 0, or 1 with a
 * message on stderr when it is not a JSON object. */
int hotd_status_show(const char *url, const char *text);
int cmd_watch(int argc, char **argv);
int cmd_console(int argc, char **argv);
int cmd_key(int argc, char **argv);

/* The GNU build-id of an ELF file. Returns 0, or -1 with a message. */
/* The firmware identity an image is bound to (its .hotreload.fwid), in hex;
 * -1 when it has none. */
int hotd_image_fwid(const void *img, size_t len, char *hex, size_t hexsize);
int hotd_read_build_id(const char *path, unsigned char *id, size_t cap, size_t *len, char *msg,
                       size_t msgsize);

/* The whole of the file at `path` in *data (malloc'd, NUL-terminated, the
 * NUL not counted in *len): 0, or -1 with "PATH: why" in msg (when not
 * NULL) and errno set. Every file hotd reads whole is read here. */
int hotd_read_file(const char *path, char **data, size_t *len, char *msg, size_t msgsize);

#endif
