/* Telling gdb: after a reload, the add-symbol-file command for the module
 * at its new addresses -- the unstripped module (the copy kept for its
 * build-id) and every placed section -- written to BUILD/modules/NAME.gdb,
 * where the gdb helper reads it. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

#define KEPT_MAX 32 /* copies kept per module: the oldest goes first */

/* Room for one more copy in `dir` (ID/NAME.debug.o each): past KEPT_MAX,
 * the oldest is removed. */
static void prune(const char *dir, const char *name)
{
    char path[PATH_MAX + 600], oldest[PATH_MAX + 600] = "";
    time_t oldest_t = 0;
    int count = 0;
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        struct stat st;
        snprintf(path, sizeof path, "%s/%s/%s.debug.o", dir, e->d_name, name);
        if (e->d_name[0] == '.' || stat(path, &st) != 0)
            continue;
        count++;
        if (!oldest[0] || st.st_mtime < oldest_t) {
            oldest_t = st.st_mtime;
            snprintf(oldest, sizeof oldest, "%s", path);
        }
    }
    if (d)
        closedir(d);
    if (count < KEPT_MAX || !oldest[0])
        return;
    unlink(oldest);
    *strrchr(oldest, '/') = '\0';
    rmdir(oldest);
}

/* The unstripped module of every build pushed, kept under its GNU build-id
 * (BUILD/modules/NAME.debug.d/ID/NAME.debug.o): the next build rewrites
 * NAME.debug.o, but a device restarted onto an older image still runs that
 * one, and gdb must find its file (the gdb helper searches there too; the
 * newest KEPT_MAX are kept). `kept` gets the copy's path. */
static int keep_copy(const char *build, const char *name, const char *id, const char *debug,
                     char *kept, size_t size)
{
    char dir[PATH_MAX], sub[PATH_MAX + 200], msg[256], *data;
    size_t len;
    if (!plain_word(id, "0123456789abcdef") || strlen(id) > 128)
        return -1;
    snprintf(dir, sizeof dir, "%s/modules/%s.debug.d", build, name);
    snprintf(sub, sizeof sub, "%s/%s", dir, id);
    snprintf(kept, size, "%s/%s.debug.o", sub, name);
    if (access(kept, R_OK) == 0)
        return 0;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return -1;
    prune(dir, name);
    if ((mkdir(sub, 0755) != 0 && errno != EEXIST) ||
        hotd_read_file(debug, &data, &len, msg, sizeof msg) != 0)
        return -1;
    FILE *f = fopen(kept, "wb");
    bool ok = f && fwrite(data, 1, len, f) == len;
    ok = f && fclose(f) == 0 && ok;
    free(data);
    return ok ? 0 : -1;
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
    char kept[PATH_MAX + 400];
    const char *id = json_get_str(m, "build_id", NULL);
    const char *file = id && keep_copy(build, name, id, debug, kept, sizeof kept) == 0
                           ? kept : debug;
    /* gdb wants .text as the positional address, the rest as -s pairs;
     * loader-built areas (.hr.*) are no sections of the file. */
    size_t used = (size_t)snprintf(out, size, "add-symbol-file %s", file);
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
