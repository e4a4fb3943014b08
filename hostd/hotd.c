/* hotd, the host daemon: subcommand dispatch. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotd.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"relocate", cmd_relocate, "run the device's loader on the host as a dry run"},
    {"build-id", cmd_build_id, "print the GNU build-id of a firmware (or write it raw)"},
    {"stubs", cmd_stubs, "generate a module's firmware stubs, symbol table and import list"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: hotd COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'hotd COMMAND --help' describes a command.\n");
}

int hotd_parse_u64(const char *s, unsigned long long *out)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-')
        return -1;
    *out = strtoull(s, &end, 0);
    return errno || *end ? -1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "hotd: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
