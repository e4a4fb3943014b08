#ifndef HOTD_H
#define HOTD_H

/* One entry point per subcommand, one file each. argv[0] is the subcommand. */
int cmd_relocate(int argc, char **argv);

/* Parse an address or size: decimal or 0x-hex. Returns 0 on success. */
int hotd_parse_u64(const char *s, unsigned long long *out);

#endif
