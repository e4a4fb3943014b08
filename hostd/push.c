/* hotd push: one build-less push of a built module to one or several
 * devices (docs/http.md). */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build.h"
#include "client.h"
#include "deliver.h"
#include "hotd.h"
#include "options.h"
#include "serial.h"

enum { BUILD, URL, SERIAL, BAUD, NAME, NO_RELOAD, NO_BUILD, NO_COMPRESS, QUIET, JSON };
static const struct hotd_opt options[] = {
    [BUILD] = {"build", 0, "DIR", "the build directory (default: $HOTRELOAD_BUILD,\n"
                                  "else ./build)"},
    [URL] = {"url", 0, "URL", "a device (default: $HOTRELOAD_URL, else\n"
                              "http://127.0.0.1:8080); several --url push to all\n"
                              "of them concurrently"},
    [SERIAL] = {"serial", 0, "DEV", "push over the device's serial console\n"
                                    "(docs/serial.md) instead of HTTP: a tty (DEV) or\n"
                                    "tcp:HOST:PORT (a UART exposed as a socket, as QEMU\n"
                                    "does), through the hotd console holding it if one\n"
                                    "does; default: $HOTRELOAD_SERIAL when no --url\n"
                                    "is given"},
    [BAUD] = {"baud", 0, "N", "the tty's baud rate (default 115200)"},
    [NAME] = {"name", 0, "NAME", "the module's name on the device (default: MODULE's\n"
                                 "file name without its extension)"},
    [NO_RELOAD] = {"no-reload", 0, NULL, "store only; the device loads it at its next\n"
                                         "start or reload"},
    [NO_BUILD] = {"no-build", 0, NULL, "push the image as it is, without building it first\n"
                                       "(it may be older than its sources)"},
    [NO_COMPRESS] = {"no-compress", 0, NULL, "over --serial, send the module as it is even\n"
                                             "when the device takes it compressed"},
    [QUIET] = {"quiet", 'q', NULL, "print nothing when every device succeeded"},
    [JSON] = {"json", 0, NULL, "one JSON object per device, in an array, on stdout"},
    {0},
};

static const struct hotd_cmd command = {
    .name = "push",
    .max_operands = 1,
    .opts = options,
    .usage =
    "usage: hotd push [MODULE] [--build DIR] [--url URL]... [--name NAME]\n"
    "                 [--no-reload] [--no-build] [--no-compress] [--quiet] [--json]\n"
    "       hotd push [MODULE] --serial DEV|tcp:HOST:PORT [--baud N] [...]\n"
    "\n"
    "Build a module (cmake --build DIR --target MODULE_image, as hotd watch does),\n"
    "then upload it and reload it on the device(s), signed with the build's key\n"
    "(DIR/hotreload.key). A failed build pushes nothing.\n"
    "\n"
    "  MODULE  a module name (DIR/modules/MODULE.img) or an image file;\n"
    "          default: the only DIR/modules/*.img\n",
    .notes =
    "Prints one line per device. Exit status: 0 when every device took the module,\n"
    "1 when any failed, 2 for usage errors.\n",
};

struct push_args {
    const char *build, *module, *name, *serial, *urls[HOTD_MAX_URLS];
    size_t nurls;
    unsigned baud;
    bool reload, build_first, no_compress, quiet, json;
};

/* argv into p, the devices completed from the environment: HOTD_ARGS_END,
 * or HOTD_ARGS_HELP or HOTD_ARGS_BAD (said). */
static int parse(int argc, char **argv, struct push_args *p)
{
    struct hotd_args a = {.cmd = &command};
    unsigned long long baud = 0;
    *p = (struct push_args){.baud = HOTD_SERIAL_BAUD, .reload = true, .build_first = true};
    for (int o, bad = 0; (o = hotd_next_option(&a, argc, argv)) != HOTD_ARGS_END;) {
        switch (o) {
        case BUILD: p->build = a.value; break;
        case URL: bad = hotd_option_url(&a, p->urls, &p->nurls); break;
        case SERIAL: p->serial = a.value; break;
        case BAUD:
            bad = hotd_option_number(&a, 1, 4000000, &baud);
            p->baud = (unsigned)baud;
            break;
        case NAME: p->name = a.value; break;
        case NO_RELOAD: p->reload = false; break;
        case NO_BUILD: p->build_first = false; break;
        case NO_COMPRESS: p->no_compress = true; break;
        case QUIET: p->quiet = true; break;
        case JSON: p->json = true; break;
        default: return o;
        }
        if (bad)
            return bad;
    }
    p->module = a.noperands ? a.operands[0] : NULL;
    p->build = hotd_build_dir(p->build);
    if (p->serial && p->nurls) {
        hotd_usage_error(&command, "--serial and --url exclude each other");
        return HOTD_ARGS_BAD;
    }
    if (!p->serial && p->nurls == 0)
        p->serial = hotd_env("HOTRELOAD_SERIAL");
    if (p->serial)
        p->urls[p->nurls++] = p->serial; /* the result line names the line */
    if (p->nurls == 0)
        p->urls[p->nurls++] = hotd_default_url();
    return HOTD_ARGS_END;
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

/* The only image in DIR/modules into path; 2 with a listing when there are
 * several, 1 when none. */
static int only_module(const char *dir, char *path, size_t size)
{
    char mods[4096], names[2048] = "";
    snprintf(mods, sizeof mods, "%s/modules", dir);
    DIR *d = opendir(mods);
    int count = 0;
    if (!d) {
        fprintf(stderr, "hotd push: %s: %s (build the project first, or name the module)\n",
                mods, strerror(errno));
        return 1;
    }
    for (struct dirent *e; (e = readdir(d));) {
        if (!has_suffix(e->d_name, ".img"))
            continue;
        if (count++ == 0 && snprintf(path, size, "%s/%s", mods, e->d_name) >= (int)size)
            count--; /* a path too long to use is no candidate */
        size_t used = strlen(names);
        snprintf(names + used, sizeof names - used, "  %.*s\n", (int)strlen(e->d_name) - 4,
                 e->d_name);
    }
    closedir(d);
    if (count == 1)
        return 0;
    if (count == 0)
        fprintf(stderr, "hotd push: no module in %s (build the project first)\n", mods);
    else
        fprintf(stderr, "hotd push: %d modules in %s; name the one to push:\n%s", count, mods,
                names);
    return count ? 2 : 1;
}

static void json_string(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20 || *p >= 0x7f)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

static void print_json(const struct hotd_push_result *r, size_t n)
{
    printf("[");
    for (size_t i = 0; i < n; i++) {
        printf("%s{\"url\":", i ? ",\n " : "");
        json_string(r[i].url);
        printf(",\"ok\":%s,\"http_status\":%d,\"message\":", r[i].ok ? "true" : "false",
               r[i].http_status);
        json_string(r[i].message);
        printf(",\"advice\":");
        json_string(r[i].advice);
        printf(",\"upload_ms\":%.1f,\"compressed\":%zu,\"device_ms\":%.1f,\"attempts\":%u}",
               r[i].upload_ms, r[i].compressed, r[i].device_ms, r[i].attempts);
    }
    printf("]\n");
}

static void print_lines(const struct hotd_push_result *r, size_t n, bool quiet)
{
    for (size_t i = 0; i < n; i++) {
        char packed[48] = "";
        if (r[i].compressed)
            snprintf(packed, sizeof packed, ", compressed to %zu bytes", r[i].compressed);
        if (r[i].ok && !quiet)
            printf("%s: ok, %s (upload %.0f ms%s, device %.0f ms)\n", r[i].url, r[i].message,
                   r[i].upload_ms, packed, r[i].device_ms);
        else if (!r[i].ok)
            printf("%s: failed: %s%s%s\n", r[i].url, r[i].message,
                   r[i].advice[0] ? " — " : "", r[i].advice);
    }
    fflush(stdout);
}

/* MODULE into the image's path (a file when it names one, else a module
 * of the build) and, without --name, the module's name: 0, or an exit status. */
static int find_module(struct push_args *p, char *path, size_t size, char *name, size_t namesize)
{
    if (!p->module) {
        int rc = only_module(p->build, path, size);
        if (rc)
            return rc;
    } else if (strchr(p->module, '/') || has_suffix(p->module, ".img") ||
               has_suffix(p->module, ".o")) {
        snprintf(path, size, "%s", p->module);
        p->build_first = false; /* a file: no build knows how to make it */
    } else {
        snprintf(path, size, "%s/modules/%s.img", p->build, p->module);
    }
    if (!p->name) {
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        snprintf(name, namesize, "%.*s", (int)strcspn(base, "."), base);
        p->name = name;
    }
    return 0;
}

int cmd_push(int argc, char **argv)
{
    struct push_args p;
    char path[4096], name[64];
    int rc = parse(argc, argv, &p);
    if (rc != HOTD_ARGS_END)
        return hotd_args_exit(rc);
    if ((rc = find_module(&p, path, sizeof path, name, sizeof name)) != 0)
        return rc;
    /* Never a stale image: what is pushed is what the sources say now. */
    if (p.build_first && hotd_can_build(p.build)) {
        struct hotd_build b = {.build = p.build, .name = p.name, .stop_fd = -1,
                               .color = isatty(1)};
        if (hotd_build_module(&b) != 0) {
            fprintf(stderr, "hotd push: not pushed: the build of '%s' failed (above); the "
                    "device keeps running its current module\n", p.name);
            return 1;
        }
    }
    struct hotd_delivery d = {
        .build = p.build, .name = p.name, .image = path, .urls = p.urls, .nurls = p.nurls,
        .serial = p.serial, .baud = p.baud, .no_compress = p.no_compress, .reload = p.reload,
        .progress = !p.quiet && !p.json,
    };
    int failed = hotd_deliver(&d);
    if (failed == HOTD_NOT_SENT)
        fprintf(stderr, "hotd push: not pushed: %s\n", d.error);
    else if (p.json)
        print_json(d.results, p.nurls);
    else
        print_lines(d.results, p.nurls, p.quiet);
    hotd_delivery_free(&d);
    return failed ? 1 : 0;
}
