/* Before a push, for each device: has the firmware it runs what the module
 * needs? Its record (BUILD/modules/NAME.abi.d/ID.abi, written when firmware
 * ID linked) lists the functions it has a stub for, with their interface. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "hotd.h"

/* The firmware build-id a device reports in its status, as hex. */
static int device_firmware(const char *url, char *id, size_t size)
{
    char *json = NULL, msg[256];
    if (hotd_get_status(url, NULL, &json, msg, sizeof msg) != 0) /* the firmware: public */
        return -1;
    const char *p = strstr(json, "\"firmware\":\"");
    size_t n = p ? strspn(p + 12, "0123456789abcdef") : 0;
    if (n && n < size)
        snprintf(id, size, "%.*s", (int)n, p + 12);
    free(json);
    return n && n < size ? 0 : -1;
}

/* Whether a record has a line for function `name` (n bytes). */
static bool record_has(const char *rec, const char *name, size_t n)
{
    for (const char *p = rec; *p; p += strcspn(p, "\n") + (p[strcspn(p, "\n")] != 0))
        if (strcspn(p, ":\n") == n && !strncmp(p, name, n))
            return true;
    return false;
}

/* The functions of record `a` that `b` lacks, as "f(), g()" into out. */
static size_t names_missing(const char *a, const char *b, char *out, size_t size)
{
    size_t used = 0, count = 0;
    out[0] = '\0';
    for (const char *p = a; *p; p += strcspn(p, "\n") + (p[strcspn(p, "\n")] != 0)) {
        size_t n = strcspn(p, ":\n");
        if (!n || record_has(b, p, n))
            continue;
        if (used < size)
            used += (size_t)snprintf(out + used, size - used, "%s%.*s()", count ? ", " : "",
                                     (int)n, p);
        count++;
    }
    return count;
}

/* When the device runs another firmware than the build's and the two
 * differ in the functions they have stubs for, say which: that is why a
 * reflash is needed. 1 with the report, else 0. */
static int stubs_gate(const char *dir, const char *url, const char *runs, const char *built_for,
                      char *report, size_t size)
{
    char path[4400], *then = NULL, *now = NULL, added[1024], gone[1024];
    size_t len;
    int rc = 0;
    snprintf(path, sizeof path, "%s/%s.abi", dir, runs);
    hotd_read_file(path, &then, &len, NULL, 0);
    snprintf(path, sizeof path, "%s/%s.abi", dir, built_for);
    hotd_read_file(path, &now, &len, NULL, 0);
    bool more = then && now && names_missing(now, then, added, sizeof added) > 0;
    bool fewer = then && now && names_missing(then, now, gone, sizeof gone) > 0;
    if (more || fewer) {
        snprintf(report, size, "%s: the firmware on the device must be replaced: the build's "
                 "firmware %s%s%s%s%s\n", url, more ? "calls " : "", more ? added : "",
                 more ? ", which the running one has no stub for" : "", more && fewer ? "; "
                 "it " : "", fewer ? "no longer calls " : "");
        if (fewer)
            snprintf(report + strlen(report) - 1, size - strlen(report) + 1, "%s\n", gone);
        rc = 1;
    }
    free(then);
    free(now);
    return rc;
}

int hotd_abi_gate(const char *build, const char *name, const char *const *urls, size_t n,
                  char *report, size_t size)
{
    char module[4096], dir[4200], record[4400], id[130], built_for[130] = "";
    snprintf(module, sizeof module, "%s/modules/%s.debug.o", build, name);
    snprintf(dir, sizeof dir, "%s/modules/%s.abi.d", build, name);
    report[0] = '\0';
    char *img;
    size_t len;
    if (hotd_read_file(module, &img, &len, NULL, 0) == 0) {
        hotd_image_fwid(img, len, built_for, sizeof built_for);
        free(img);
    }
    for (size_t i = 0; i < n; i++) {
        if (device_firmware(urls[i], id, sizeof id) != 0)
            continue; /* unreachable: the push itself reports it */
        if (built_for[0] && strcmp(id, built_for) != 0 &&
            stubs_gate(dir, urls[i], id, built_for, report, size))
            return 1;
        snprintf(record, sizeof record, "%s/%s.abi", dir, id);
        if (access(record, R_OK) != 0 || access(module, R_OK) != 0)
            continue; /* firmware not built here: the device checks the build-id */
        char part[4096];
        if (hotd_abi_check(module, record, part, sizeof part) == 1) {
            snprintf(report, size, "%s: the interface of module '%s' changed since the "
                     "firmware on the device was built:\n%s", urls[i], name, part);
            return 1;
        }
    }
    return 0;
}
