/* hotd, the host daemon: subcommand dispatch. */
#include <stdio.h>
#include <string.h>

#include "hotd.h"
#include "hotreload/version.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"relocate", cmd_relocate, "run the device's loader on the host as a dry run"},
    {"build-id", cmd_build_id, "print the GNU build-id of a firmware (or write it raw)"},
    {"abi", cmd_abi, "record and check a module's interface (DWARF) against its firmware's"},
    {"bind", cmd_bind, "bind a module to its firmware (build-id, optionally absolute imports)"},
    {"stubs", cmd_stubs, "generate a module's firmware stubs, symbol table and import list"},
    {"link", cmd_link, "the firmware's linker launcher: stubs for what the firmware calls"},
    {"push", cmd_push, "upload a built module to one or several devices and reload it"},
    {"status", cmd_status, "show what a device runs: firmware, modules, sections"},
    {"watch", cmd_watch, "rebuild and push a module on every save (also: hotd --watch)"},
    {"key", cmd_key, "make the signing key (HR2), or write its public key for a firmware"},
    {"console", cmd_console, "the device's serial console, code addresses decoded"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: hotd COMMAND [OPTIONS]\n       hotd --version\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'hotd COMMAND --help' describes a command. A variable a command reads\n"
               "($HOTRELOAD_BUILD, $HOTRELOAD_URL, $HOTRELOAD_SERIAL) counts as unset when\n"
               "empty; an option given wins over it.\n");
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
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        printf("hotd %s\n", HOTRELOAD_VERSION);
        return 0;
    }
    /* `hotd --watch` is the spelling the docs use; the same as `hotd watch`. */
    if (!strcmp(argv[1], "--watch"))
        argv[1] = "watch";
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "hotd: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
