/* hotd watch (hotd --watch): on every save, rebuild the module through the
 * project's own build and push it to the devices. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "build.h"
#include "deliver.h"
#include "hotd.h"
#include "options.h"
#include "serial.h"

#define MAX_MODULES 31 /* one bit each in a watched directory's mask */
#define FIRMWARE (1u << 31) /* the bit of the firmware's own sources */
#define MAX_DIRS 4096  /* inotify's default per-user limit is 8192 watches */

static struct {
    const char *build, *urls[HOTD_MAX_URLS], *mods[MAX_MODULES];
    char build_real[PATH_MAX];
    size_t nurls, nmods, ndirs;
    long debounce_ms;
    const char *restart;       /* --restart: the command that restarts the device */
    const char *serial;        /* --serial: push over this line instead of HTTP */
    unsigned baud;
    bool verbose, color;
    int ifd, sfd;
    sigset_t oldmask;
    char *pushed[MAX_MODULES]; /* the image each module last pushed: no-op pushes are skipped */
    size_t pushed_len[MAX_MODULES];
    struct { int wd; unsigned mods; char *path; } dirs[MAX_DIRS];
} w;

enum { BUILD, URL, SERIAL, BAUD, MODULE, DEBOUNCE, PUSH_NOW, RESTART, VERBOSE };
static const struct hotd_opt options[] = {
    [BUILD] = {"build", 0, "DIR", "build directory (default $HOTRELOAD_BUILD, else ./build)"},
    [URL] = {"url", 0, "URL", "a device, repeatable (default $HOTRELOAD_URL, else\n"
                              "http://127.0.0.1:8080)"},
    [SERIAL] = {"serial", 0, "DEV", "push over the device's serial console instead: a\n"
                                    "tty or tcp:HOST:PORT, through the hotd console\n"
                                    "holding it if one does (default: $HOTRELOAD_SERIAL\n"
                                    "when no --url is given)"},
    [BAUD] = {"baud", 0, "N", "the tty's baud rate (default 115200)"},
    [MODULE] = {"module", 0, "NAME", "only this module, repeatable (default: every module)"},
    [DEBOUNCE] = {"debounce", 0, "MS", "wait this long after the last change (default 300)"},
    [PUSH_NOW] = {"push-now", 0, NULL, "build and push once at start"},
    [RESTART] = {"restart", 0, "CMD", "after an edit of the firmware's own sources\n"
                                      "(DIR/hotreload/firmware.watch), run CMD (a shell\n"
                                      "command) to restart or reflash the device, then\n"
                                      "push every module to it"},
    [VERBOSE] = {"verbose", 'v', NULL, "show each change and the whole build output"},
    {0},
};

static const struct hotd_cmd command = {
    .name = "watch",
    .opts = options,
    .usage =
    "usage: hotd watch [--build DIR] [--url URL]... [--module NAME]... [--debounce MS]\n"
    "                  [--push-now] [--restart CMD] [--verbose]   (or: hotd --watch ...)\n"
    "       hotd watch --serial DEV|tcp:HOST:PORT [--baud N] [...]\n\n"
    "After every save of a module's sources or headers (the directories in\n"
    "DIR/modules/NAME.watch), rebuild it (cmake --build DIR --target NAME_image; a\n"
    "Ninja build with ninja directly) and push DIR/modules/NAME.img. A failed build\n"
    "or a refused module leaves the device running its current module. An edit of\n"
    "the firmware itself rebuilds it and says that the device must be restarted\n"
    "(reflashed); --restart CMD does it. Ctrl-C stops.\n",
};

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static bool ends_with(const char *s, const char *end)
{
    size_t n = strlen(s), m = strlen(end);
    return n >= m && !strcmp(s + n - m, end);
}

/* Files editors write next to the one being edited (vim's swap files and
 * its 4913 write test, backups, emacs lock files): never a reason to build. */
static bool ignored(const char *name)
{
    return !strcmp(name, "4913") || name[0] == '#' || !strncmp(name, ".#", 2) ||
           ends_with(name, "~") || ends_with(name, ".swp") || ends_with(name, ".swx");
}

static int find_wd(int wd)
{
    for (size_t i = 0; i < w.ndirs; i++)
        if (w.dirs[i].wd == wd)
            return (int)i;
    return -1;
}

/* Watch `path` and every directory below it, except build trees: the build
 * writes there, and each of its writes would start another build. */
static void add_tree(const char *path, unsigned mods)
{
    char real[PATH_MAX], sub[PATH_MAX + 256];
    if (!realpath(path, real) || !strcmp(real, w.build_real))
        return;
    snprintf(sub, sizeof sub, "%s/CMakeCache.txt", real);
    if (access(sub, F_OK) == 0)
        return;
    int wd = inotify_add_watch(w.ifd, real, IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_ONLYDIR);
    int i = wd < 0 ? -1 : find_wd(wd);
    if (wd < 0 || (i < 0 && w.ndirs == MAX_DIRS)) {
        fprintf(stderr, "hotd watch: cannot watch %s: %s\n", real,
                wd < 0 ? strerror(errno) : "too many directories");
        return;
    }
    if (i >= 0 && (w.dirs[i].mods | mods) == w.dirs[i].mods)
        return; /* already watched for these modules */
    if (i < 0) {
        i = (int)w.ndirs++;
        w.dirs[i].wd = wd;
        w.dirs[i].path = strdup(real);
        if (w.verbose)
            printf("watching %s\n", real);
    }
    w.dirs[i].mods |= mods;
    DIR *dir = opendir(real);
    struct dirent *e;
    struct stat st;
    while (dir && (e = readdir(dir))) {
        if (e->d_name[0] == '.') /* ., .. and hidden trees such as .git */
            continue;
        snprintf(sub, sizeof sub, "%s/%s", real, e->d_name);
        if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
            add_tree(sub, mods);
    }
    if (dir)
        closedir(dir);
}

/* The modules (--module, else every DIR/modules/NAME.watch), then watch the
 * directories each one's NAME.watch lists. */
static int load_modules(void)
{
    char path[PATH_MAX + 64], line[PATH_MAX];
    snprintf(path, sizeof path, "%s/modules", w.build);
    DIR *dir = w.nmods ? NULL : opendir(path);
    struct dirent *e;
    while (dir && (e = readdir(dir)))
        if (ends_with(e->d_name, ".watch") && e->d_name[0] != '.' && w.nmods < MAX_MODULES)
            w.mods[w.nmods++] = strndup(e->d_name, strlen(e->d_name) - 6);
    if (dir)
        closedir(dir);
    if (!w.nmods) {
        fprintf(stderr, "hotd watch: no modules in %s (*.watch): configure the project "
                        "with cmake first, or give --build\n", path);
        return -1;
    }
    for (size_t m = 0; m < w.nmods; m++) {
        snprintf(path, sizeof path, "%s/modules/%s.watch", w.build, w.mods[m]);
        FILE *f = fopen(path, "r");
        if (!f) {
            fprintf(stderr, "hotd watch: %s: %s (is '%s' a module of this build?)\n", path,
                    strerror(errno), w.mods[m]);
            return -1;
        }
        while (fgets(line, sizeof line, f))
            if ((line[strcspn(line, "\n")] = 0, line[0]))
                add_tree(line, 1u << m);
        fclose(f);
    }
    /* The firmware's own sources (hotreload_link_firmware writes the list). */
    snprintf(path, sizeof path, "%s/hotreload/firmware.watch", w.build);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f))
        if ((line[strcspn(line, "\n")] = 0, line[0]))
            add_tree(line, FIRMWARE);
    if (f)
        fclose(f);
    return 0;
}

/* The firmware's sources changed: rebuild everything; the device must
 * restart with the new firmware (--restart does it) before modules built
 * from now on load. Returns the modules to push: all after a restart. */
static unsigned firmware_changed(void)
{
    struct hotd_build b = {.build = w.build, .name = NULL, .stop_fd = w.sfd,
                           .mask = &w.oldmask, .verbose = w.verbose, .color = w.color};
    if (hotd_build_module(&b) != 0) {
        printf("firmware: build failed: the device keeps running what it runs\n");
        return 0;
    }
    if (!w.restart) {
        printf("firmware changed (rebuilt in %.0f ms): restart the device (reflash a board); "
               "modules built from now on are for the new firmware\n", b.ms);
        return 0;
    }
    printf("firmware changed (rebuilt in %.0f ms): restarting the device: %s\n", b.ms,
           w.restart);
    int rc = system(w.restart);
    if (rc != 0)
        printf("firmware: '%s' failed (status %d)\n", w.restart, rc);
    for (size_t m = 0; m < w.nmods; m++) { /* a new device runs nothing yet */
        free(w.pushed[m]);
        w.pushed[m] = NULL;
    }
    return ~0u >> (32 - w.nmods);
}

/* Drain the inotify queue; returns the modules whose files changed. */
static unsigned read_events(void)
{
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    char path[PATH_MAX + 256];
    unsigned dirty = 0;
    ssize_t n;
    while ((n = read(w.ifd, buf, sizeof buf)) > 0) {
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            int i = find_wd(ev->wd);
            p += sizeof *ev + ev->len;
            if (i < 0 || !ev->len || ignored(ev->name))
                continue;
            snprintf(path, sizeof path, "%s/%s", w.dirs[i].path, ev->name);
            if ((ev->mask & IN_ISDIR) && (ev->mask & (IN_CREATE | IN_MOVED_TO)))
                add_tree(path, w.dirs[i].mods); /* and build: files may be in it already */
            if (w.verbose)
                printf("changed: %s\n", path);
            dirty |= w.dirs[i].mods;
        }
    }
    return dirty;
}

/* Build the module (hostd/build.c), stopped by a signal on w.sfd. Returns
 * 0 built, 1 failed, -1 stopped. */
static int build(const char *name, double *ms)
{
    struct hotd_build b = {.build = w.build, .name = name, .stop_fd = w.sfd,
                           .mask = &w.oldmask, .verbose = w.verbose, .color = w.color};
    int rc = hotd_build_module(&b);
    *ms = b.ms;
    if (rc == 1)
        printf("%s: build failed: the device keeps running its current module\n", name);
    return rc;
}

/* The module's generation in a GET /status document, or -1. */
static long generation(const char *json, const char *name)
{
    char key[96];
    snprintf(key, sizeof key, "\"name\":\"%s\"", name);
    const char *p = strstr(json, key);
    p = p ? strstr(p, "\"generation\":") : NULL;
    return p ? strtol(p + 13, NULL, 10) : -1;
}

/* One line per device: the times, or why the push failed. */
static void print_result(const struct hotd_push_result *r, const char *name, double built_ms,
                         const char *url)
{
    const char *on = w.color ? "\033[31m" : "", *off = w.color ? "\033[0m" : "";
    long gen = r->ok ? generation(r->status_json, name) : -1;
    printf("%s%s: built %.0f ms, ", r->ok ? "" : on, name, built_ms);
    if (r->ok)
        printf("upload %.0f ms, device %.0f ms", r->upload_ms, r->device_ms);
    else if (r->http_status)
        printf("push failed (HTTP %d): %s", r->http_status, r->message);
    else if (w.serial) /* the line's answers carry no status code */
        printf("push failed: %s", r->message);
    else
        printf("push failed: the device did not answer%s%s", r->message[0] ? ": " : "",
               r->message);
    if (gen >= 0)
        printf(" — generation %ld", gen);
    if (!r->ok) /* a refusal leaves the previous module running (docs/http.md) */
        printf("%s%s%s%s", off, r->advice[0] ? " — " : "", r->advice,
               r->http_status ? " — the device keeps running its current module" : "");
    printf(w.nurls > 1 ? " (%s)\n" : "\n", url);
}

static void push(size_t m, double built_ms)
{
    const char *name = w.mods[m];
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/modules/%s.img", w.build, name);
    struct hotd_delivery d = {
        .build = w.build, .name = name, .image = path, .urls = w.urls, .nurls = w.nurls,
        .serial = w.serial, .baud = w.baud, .reload = true, .progress = true,
        .running = w.pushed[m], .running_len = w.pushed_len[m],
    };
    int failed = hotd_deliver(&d);
    if (failed == HOTD_NOT_SENT)
        printf("%s: built %.0f ms, not pushed: %s\n", name, built_ms, d.error);
    else if (failed == HOTD_UNCHANGED)
        printf("%s: built %.0f ms, image unchanged: not pushed\n", name, built_ms);
    for (size_t i = 0; failed >= 0 && i < w.nurls; i++)
        print_result(&d.results[i], name, built_ms, w.urls[i]);
    if (d.gdb[0] && w.verbose) /* the gdb helper reads it from BUILD/modules/NAME.gdb */
        printf("  gdb: %s\n", d.gdb);
    if (failed >= 0) { /* after a failure the next build pushes again */
        free(w.pushed[m]);
        w.pushed[m] = failed ? NULL : d.img;
        w.pushed_len[m] = d.len;
        d.img = failed ? d.img : NULL;
    }
    hotd_delivery_free(&d);
}

/* argv into w: HOTD_ARGS_END, or HOTD_ARGS_HELP or HOTD_ARGS_BAD (said). */
static int parse(int argc, char **argv, bool *push_now)
{
    struct hotd_args a = {.cmd = &command};
    unsigned long long ms = 0, baud = 0;
    w.debounce_ms = 300;
    w.baud = HOTD_SERIAL_BAUD;
    for (int o, bad = 0; (o = hotd_next_option(&a, argc, argv)) != HOTD_ARGS_END;) {
        switch (o) {
        case BUILD: w.build = a.value; break;
        case URL: bad = hotd_option_url(&a, w.urls, &w.nurls); break;
        case SERIAL: w.serial = a.value; break;
        case BAUD:
            bad = hotd_option_number(&a, 1, 4000000, &baud);
            w.baud = (unsigned)baud;
            break;
        case MODULE:
            if (w.nmods == MAX_MODULES) {
                hotd_usage_error(&command, "too many --module (at most %d)", MAX_MODULES);
                return HOTD_ARGS_BAD;
            }
            w.mods[w.nmods++] = a.value;
            break;
        case DEBOUNCE:
            bad = hotd_option_number(&a, 0, 59999, &ms);
            w.debounce_ms = (long)ms;
            break;
        case PUSH_NOW: *push_now = true; break;
        case RESTART: w.restart = a.value; break;
        case VERBOSE: w.verbose = true; break;
        default: return o;
        }
        if (bad)
            return bad;
    }
    w.build = hotd_build_dir(w.build);
    if (w.serial && w.nurls) {
        hotd_usage_error(&command, "--serial and --url exclude each other");
        return HOTD_ARGS_BAD;
    }
    if (!w.serial && !w.nurls) /* the rule hotd push follows */
        w.serial = hotd_env("HOTRELOAD_SERIAL");
    if (w.serial)
        w.urls[w.nurls++] = w.serial; /* the result lines name the line */
    if (!w.nurls)
        w.urls[w.nurls++] = hotd_default_url();
    return HOTD_ARGS_END;
}

int cmd_watch(int argc, char **argv)
{
    bool push_now = false;
    int parsed = parse(argc, argv, &push_now);
    if (parsed != HOTD_ARGS_END)
        return hotd_args_exit(parsed);
    if (!realpath(w.build, w.build_real)) {
        fprintf(stderr, "hotd watch: build directory %s: %s\n", w.build, strerror(errno));
        return 1;
    }
    w.color = isatty(STDOUT_FILENO) && !hotd_env("NO_COLOR");
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* Signals arrive on a descriptor, so one poll waits for edits and Ctrl-C.
     * A shell starting us with & ignores SIGINT, and an ignored signal never
     * reaches the descriptor: take the default back (blocked, it never runs). */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    sigprocmask(SIG_BLOCK, &mask, &w.oldmask);
    w.sfd = signalfd(-1, &mask, SFD_CLOEXEC);
    w.ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w.sfd < 0 || w.ifd < 0) {
        fprintf(stderr, "hotd watch: %s\n", strerror(errno));
        return 1;
    }
    if (load_modules() < 0)
        return 1;
    printf("watching %zu module%s (", w.nmods, w.nmods == 1 ? "" : "s");
    for (size_t m = 0; m < w.nmods; m++)
        printf("%s%s", m ? ", " : "", w.mods[m]);
    printf(") in %zu director%s; pushing to %s%s\n", w.ndirs, w.ndirs == 1 ? "y" : "ies",
           w.urls[0], w.nurls > 1 ? " and more" : "");

    unsigned dirty = push_now ? ~0u >> (32 - w.nmods) : 0;
    double deadline = now_ms();
    for (;;) {
        double left = deadline - now_ms();
        struct pollfd fds[2] = {{w.ifd, POLLIN, 0}, {w.sfd, POLLIN, 0}};
        if (poll(fds, 2, !dirty ? -1 : left > 0 ? (int)left + 1 : 0) < 0 && errno != EINTR)
            break;
        if (fds[1].revents & POLLIN)
            break;
        unsigned changed = fds[0].revents & POLLIN ? read_events() : 0;
        if (changed) {
            dirty |= changed;
            deadline = now_ms() + (double)w.debounce_ms; /* after the *last* event */
        } else if (dirty && now_ms() >= deadline) {
            if (dirty & FIRMWARE)
                dirty = (dirty & ~FIRMWARE) | firmware_changed();
            /* Edits made during the build wait in the inotify queue: next cycle. */
            for (size_t m = 0; m < w.nmods; m++) {
                double ms;
                int rc = dirty & (1u << m) ? build(w.mods[m], &ms) : 1;
                if (rc < 0)
                    goto out;
                if (rc == 0)
                    push(m, ms);
            }
            dirty = 0;
        }
    }
out:
    if (w.verbose)
        printf("stopped\n");
    return 0;
}
