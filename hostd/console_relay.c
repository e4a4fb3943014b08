/* hotd console's relay: the pushes of other hotd commands reach the line
 * through the console that holds it (a line serves one client, and the
 * console would otherwise take their answers). See console_relay.h. */
#define _GNU_SOURCE /* accept4 */
#include "console_relay.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "serial.h"

int hotd_relay_open(struct hotd_relay *r, const char *spec, char *msg, size_t size)
{
    *r = (struct hotd_relay){.listen_fd = -1, .client_fd = -1};
    r->listen_fd = hotd_console_listen(spec, r->path, sizeof r->path, msg, size);
    return r->listen_fd < 0 ? -1 : 0;
}

void hotd_relay_close(struct hotd_relay *r)
{
    if (r->client_fd >= 0)
        close(r->client_fd);
    if (r->listen_fd >= 0) {
        close(r->listen_fd);
        unlink(r->path);
    }
    r->client_fd = r->listen_fd = -1;
}

size_t hotd_relay_pollfds(const struct hotd_relay *r, struct pollfd *p)
{
    /* One push at a time: the next waits in the socket's backlog. */
    if (r->client_fd < 0) {
        p[0] = (struct pollfd){.fd = r->listen_fd, .events = POLLIN};
        return r->listen_fd >= 0;
    }
    p[0] = (struct pollfd){.fd = r->client_fd, .events = POLLIN};
    return r->active;
}

static int write_all(int fd, const char *data, size_t len, bool sock)
{
    while (len) {
        ssize_t n = sock ? send(fd, data, len, MSG_NOSIGNAL) : write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static int end(struct hotd_relay *r)
{
    close(r->client_fd);
    r->client_fd = -1;
    r->active = false;
    bool open = r->upload_open;
    r->upload_open = false;
    return open ? HOTD_RELAY_ENDED_IN_UPLOAD : HOTD_RELAY_ENDED;
}

int hotd_relay_step(struct hotd_relay *r, const struct pollfd *p, size_t n, int line_fd,
                    bool idle)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i].fd == r->listen_fd && (p[i].revents & POLLIN) && r->client_fd < 0)
            r->client_fd = accept4(r->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (p[i].fd != r->client_fd || !r->active ||
            !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        char buf[4096];
        ssize_t got = read(r->client_fd, buf, sizeof buf);
        if (got < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        /* A push that ends, or a line that fails: either way this push is over. */
        if (got <= 0 || write_all(line_fd, buf, (size_t)got, false) != 0)
            return end(r);
    }
    if (r->client_fd >= 0 && !r->active && idle)
        r->active = true;
    return HOTD_RELAY_GOING;
}

void hotd_relay_to_client(struct hotd_relay *r, const char *data, size_t len)
{
    /* A push gone away shows at its next read as the end. */
    if (r->active)
        write_all(r->client_fd, data, len, true);
}

static bool word(const char *s, const char *w)
{
    size_t n = strlen(w);
    return !strncmp(s, w, n) && (s[n] == ' ' || s[n] == '\0');
}

bool hotd_relay_line(struct hotd_relay *r, const char *line, char *note, size_t size)
{
    note[0] = '\0';
    if (!strncmp(line, "  ", 2) || word(line, "nak"))
        return true;
    if (word(line, "ack")) {
        r->upload_open |= !strncmp(line, "ack 0", 5) && (line[5] == ' ' || !line[5]);
        return true;
    }
    /* Of the answers only the outcomes say something: not the nonce, acks, status JSON. */
    if (word(line, "error")) {
        r->upload_open = false;
        snprintf(note, size, "hotd console: push: %s", line);
        return true;
    }
    if (!word(line, "ok"))
        return false;
    if (!strncmp(line, "ok stored ", 10))
        r->upload_open = false;
    if (!strncmp(line, "ok stored ", 10) || !strncmp(line, "ok reloaded ", 12) ||
        !strncmp(line, "ok unloaded ", 12))
        snprintf(note, size, "hotd console: push: %s", line + 3);
    return true;
}

/* The child: hotd push through this console's socket (/proc/self/exe is this hotd). */
static void exec_push(const char *spec, const char *build, const char *args)
{
    char *argv[16] = {"hotd", "push", "--serial", (char *)spec, "--build", (char *)build};
    int argc = 6;
    char *copy = strdup(args), *save = NULL;
    for (char *t = strtok_r(copy, " \t", &save); t && argc < 15; t = strtok_r(NULL, " \t", &save))
        argv[argc++] = t;
    argv[argc] = NULL;
    execv("/proc/self/exe", argv);
    fprintf(stderr, "hotd console: push: cannot run hotd: %s\n", strerror(errno));
    _exit(127);
}

int hotd_push_child_start(struct hotd_push_child *c, const char *spec, const char *build,
                          const char *args, bool stderr_to_tty, char *msg, size_t size)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        snprintf(msg, size, "push: %s", strerror(errno));
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        if (!stderr_to_tty)
            dup2(fds[1], STDERR_FILENO);
        int null = open("/dev/null", O_RDONLY);
        dup2(null, STDIN_FILENO); /* the console's input is the user's, not the push's */
        exec_push(spec, build, args);
    }
    close(fds[1]);
    if (pid < 0) {
        close(fds[0]);
        snprintf(msg, size, "push: %s", strerror(errno));
        return -1;
    }
    *c = (struct hotd_push_child){.pid = pid, .fd = fds[0]};
    return 0;
}

void hotd_push_child_read(struct hotd_push_child *c, void (*show)(const char *line))
{
    ssize_t n = read(c->fd, c->out + c->len, sizeof c->out - 1 - c->len);
    if (n < 0 && errno == EINTR)
        return;
    if (n > 0)
        c->len += (size_t)n;
    /* Whole lines; at the end, or when one overflows the buffer, what there is. */
    char *nl;
    while ((nl = memchr(c->out, '\n', c->len)) ||
           (c->len && (n <= 0 || c->len == sizeof c->out - 1))) {
        size_t k = nl ? (size_t)(nl - c->out) : c->len;
        c->out[k] = '\0';
        show(c->out);
        c->len -= nl ? k + 1 : k;
        memmove(c->out, c->out + k + (nl ? 1 : 0), c->len);
    }
    if (n <= 0) {
        close(c->fd);
        waitpid(c->pid, NULL, 0);
        c->pid = 0;
    }
}
