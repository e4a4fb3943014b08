/* Telling gdb: after a reload, the add-symbol-file command for the module
 * at its new addresses -- the unstripped module and every placed section --
 * written to BUILD/modules/NAME.gdb, where the gdb helper reads it. */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotd.h"
#include "json.h"

static const struct json *find_module(const struct json *status, const char *name)
{
    const struct json *mods = json_get(status, "modules");
    for (const struct json *m = mods ? mods->child : NULL; m; m = m->next)
        if (!strcmp(json_get_str(m, "name", ""), name))
            return m;
    return NULL;
}

/* Section names come from the module's ELF and addresses from the device:
 * anything but one plain word each (a newline, a space, a quote) would make
 * the file more than the one command it is meant to be, and gdb runs every
 * line of a file it sources. */
static bool plain_word(const char *s, const char *allowed)
{
    if (!*s)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (allowed ? !strchr(allowed, *p) : *p <= ' ' || *p >= 0x7f || strchr("'\"\\", *p))
            return false;
    return true;
}

static bool plain_sections(const struct json *secs, const char *build, const char *name)
{
    for (const struct json *s = secs->child; s; s = s->next) {
        const char *sname = json_get_str(s, "name", ""), *addr = json_get_str(s, "addr", "0");
        if (!plain_word(sname, NULL) || !plain_word(addr, "0123456789abcdefABCDEFx")) {
            fprintf(stderr, "hotd: %s/modules/%s.gdb not written: the device reports a section "
                    "whose name or address is not one plain word (control characters, spaces "
                    "or quotes), which gdb would not read as one command\n", build, name);
            return false;
        }
    }
    return true;
}

int hotd_gdb_command(const char *build, const char *name, const char *status_json, char *out,
                     size_t size)
{
    char msg[256], debug[PATH_MAX], path[PATH_MAX + 64];
    struct json *st = json_parse(status_json, msg, sizeof msg);
    const struct json *m = st ? find_module(st, name) : NULL;
    const struct json *secs = m ? json_get(m, "sections") : NULL;
    snprintf(path, sizeof path, "%s/modules/%s.debug.o", build, name);
    if (!secs || !realpath(path, debug) || !plain_sections(secs, build, name)) {
        json_free(st);
        return -1;
    }
    /* gdb wants .text as the positional address, the rest as -s pairs;
     * loader-built areas (.hr.*) are no sections of the file. */
    size_t used = (size_t)snprintf(out, size, "add-symbol-file %s", debug);
    const char *text = NULL;
    for (const struct json *s = secs->child; s; s = s->next)
        if (!strcmp(json_get_str(s, "name", ""), ".text"))
            text = json_get_str(s, "addr", NULL);
    if (text && used < size)
        used += (size_t)snprintf(out + used, size - used, " %s", text);
    for (const struct json *s = secs->child; s && used < size; s = s->next) {
        const char *sname = json_get_str(s, "name", "");
        if (!strcmp(sname, ".text") || !strncmp(sname, ".hr.", 4))
            continue;
        used += (size_t)snprintf(out + used, size - used, " -s %s %s", sname,
                                 json_get_str(s, "addr", "0"));
    }
    json_free(st);
    if (used >= size)
        return -1;
    snprintf(path, sizeof path, "%s/modules/%s.gdb", build, name);
    FILE *f = fopen(path, "w");
    if (!f || fprintf(f, "%s\n", out) < 0 || fclose(f) != 0)
        return -1;
    return 0;
}
