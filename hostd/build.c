/* Building one module through the project's own build (build.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "build.h"

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

bool hotd_can_build(const char *build)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/CMakeCache.txt", build);
    return access(path, R_OK) == 0;
}

/* What the compiler said: the error and warning lines, with the source and
 * caret lines under them. `all`: everything when no line matched (a CMake
 * or make failure says what happened in its own words). */
static void show_diagnostics(char *out, bool all, bool color)
{
    bool shown = false, context = false;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        bool err = strcasestr(line, "error:"), warn = !err && strcasestr(line, "warning:");
        if (err || warn)
            printf("%s%s%s\n", !color ? "" : err ? "\033[31m" : "\033[33m", line,
                   color ? "\033[0m" : "");
        else if (context && line[0] == ' ')
            printf("%s\n", line);
        context = err || warn || (context && line[0] == ' ');
        shown |= err || warn;
    }
    if (!shown && all)
        printf("%s\n", out);
}

/* A Ninja build is run by ninja itself: what cmake --build adds is ~50 ms
 * of each edit's wait, and ninja re-runs cmake on its own when a
 * CMakeLists.txt changed. */
static pid_t start(const struct hotd_build *b, int out_fd)
{
    char target[128], ninja_file[PATH_MAX];
    if (b->name)
        snprintf(target, sizeof target, "%s_image", b->name);
    else
        snprintf(target, sizeof target, "all");
    snprintf(ninja_file, sizeof ninja_file, "%s/build.ninja", b->build);
    bool ninja = access(ninja_file, R_OK) == 0;
    pid_t pid = fork();
    if (pid == 0) {
        if (b->mask)
            sigprocmask(SIG_SETMASK, b->mask, NULL); /* exec keeps blocked signals blocked */
        dup2(out_fd, 1);
        dup2(out_fd, 2);
        if (ninja)
            execlp("ninja", "ninja", "-C", b->build, target, (char *)NULL);
        execlp("cmake", "cmake", "--build", b->build, "--target", target, (char *)NULL);
        fprintf(stderr, "hotd: cannot run %s: %s\n", ninja ? "ninja" : "cmake", strerror(errno));
        _exit(127);
    }
    return pid;
}

/* The child's output until it closes it, or until stop_fd is readable
 * (*stopped: the child is sent SIGTERM). NUL-terminated; NULL on no memory. */
static char *collect(int fd, pid_t pid, int stop_fd, bool *stopped)
{
    size_t len = 0, cap = 65536;
    char *out = malloc(cap);
    *stopped = false;
    while (out) {
        struct pollfd fds[2] = {{fd, POLLIN, 0}, {stop_fd, POLLIN, 0}};
        if (poll(fds, stop_fd >= 0 ? 2 : 1, -1) < 0 && errno != EINTR)
            break;
        if (stop_fd >= 0 && (*stopped = fds[1].revents & POLLIN)) {
            kill(pid, SIGTERM);
            break;
        }
        if (len + 4096 > cap) {
            char *more = realloc(out, cap *= 2);
            if (!more) {
                free(out);
                return NULL;
            }
            out = more;
        }
        ssize_t n = read(fd, out + len, cap - len - 1);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    if (out)
        out[len] = 0;
    return out;
}

int hotd_build_module(struct hotd_build *b)
{
    int pfd[2], status = 0;
    double t0 = now_ms();
    if (pipe(pfd) < 0)
        return 1;
    pid_t pid = start(b, pfd[1]);
    close(pfd[1]);
    bool stopped = false;
    char *out = pid > 0 ? collect(pfd[0], pid, b->stop_fd, &stopped) : NULL;
    close(pfd[0]);
    if (pid > 0)
        waitpid(pid, &status, 0);
    b->ms = now_ms() - t0;
    int rc = stopped ? -1 : pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
    if (out && rc >= 0) {
        if (b->verbose)
            fputs(out, stdout);
        else
            show_diagnostics(out, rc == 1, b->color); /* a good build's warnings too */
    }
    free(out);
    return rc;
}
