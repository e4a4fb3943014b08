/* hotd console: a readline console on the device's serial console
 * (docs/serial.md), every code address the device prints decoded.
 *
 * One loop polls the terminal and the serial line. Commands go out as typed;
 * the device answers each with exactly one ok/error line (after indented
 * lines for multi-line answers), in order, so a FIFO of the commands sent
 * says which command a reply belongs to. The console sends some of its own:
 * `status` (the placement of the modules, for decoding) and `symbols` (names
 * for completion), at start and after every reload it sees; their replies
 * are not shown.
 *
 * The console holds the line: other hotd commands (push --serial, watch
 * --serial) reach the device through its local socket, and its own `push`
 * runs hotd push that way too (console_relay.c). While a push flows the
 * console sends nothing of its own, and the push's protocol lines are not
 * shown, only its outcome. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "client.h"
#include "console_complete.h"
#include "console_relay.h"
#include "console_sign.h"
#include "decode.h"
#include "hotd.h"
#include "options.h"
#include "serial.h"

enum { SERIAL, BUILD, FIRMWARE, FIRMWARE_BIAS, URL, TIMEOUT };
static const struct hotd_opt options[] = {
    [SERIAL] = {"serial", 0, "S", "tcp:HOST:PORT, or a serial device (115200 8N1, raw)"},
    [BUILD] = {"build", 0, "DIR", "the build directory (default: $HOTRELOAD_BUILD,\n"
                                  "else ./build)"},
    [FIRMWARE] = {"firmware", 0, "FW.elf", "decode firmware addresses from FW.elf"},
    [FIRMWARE_BIAS] = {"firmware-bias", 0, "ADDR", "FW.elf's load address when it is\n"
                                                   "position-independent"},
    [URL] = {"url", 0, "URL", "fetch the status over HTTP, not the serial line"},
    [TIMEOUT] = {"timeout", 0, "SECONDS", "how long to wait for an answer (default 10)"},
    {0},
};

static const struct hotd_cmd command = {
    .name = "console",
    .opts = options,
    .usage =
    "usage: hotd console --serial tcp:HOST:PORT|DEVICE [--build DIR] [--firmware FW.elf]\n"
    "                    [--firmware-bias ADDR] [--url URL] [--timeout SECONDS]\n"
    "\n"
    "A console on the device's serial console: history (~/.hotd_history), completion\n"
    "of the device's commands and of the module's symbols, device output shown as it\n"
    "comes. Every code address the device prints is followed by <function+offset at\n"
    "file:line>: module addresses from BUILD/modules/NAME.debug.o at the addresses the\n"
    "device placed it (refreshed after each reload), firmware addresses from FW.elf.\n"
    "When stdin is not a terminal, commands are read from it one per line, each sent\n"
    "after the previous one's answer; the console exits after the last answer.\n"
    "\n"
    "The console holds the line: `push [MODULE] [OPTIONS]` pushes a module from\n"
    "here (hotd push --serial, built first), and hotd push --serial and hotd watch\n"
    "--serial run elsewhere go through this console (a local socket it serves),\n"
    "their protocol lines hidden, their outcome shown.\n",
};

#define QMAX 32

struct console {
    int fd;
    bool interactive;
    struct hotd_decoder *dec;
    const char *url;
    char in[16384];         /* a device line being received (a status is long) */
    size_t inlen;
    struct {
        char cmd[16];       /* the command's first word */
        bool internal;
    } q[QMAX];              /* commands sent, waiting for their ok/error */
    size_t qhead, qlen;
    time_t since;           /* when the oldest command started waiting */
    char **syms, **next_syms; /* completion names; those of a `symbols` in progress */
    size_t nsyms, nnext;
    const char *spec, *build;
    struct hotd_relay relay;  /* pushes going through this console */
    bool refresh_due;         /* a reload happened while a push held the line */
    char *held[QMAX];         /* what the user typed while a push held the line */
    size_t nheld;
    struct hotd_push_child push; /* the console's own push */
    struct console_sign sign;    /* reload, unload, confirm go out signed */
};

static struct console con;
static volatile sig_atomic_t interrupted;
static bool quit;

/* Show a line without breaking the prompt: clear the line being edited,
 * print, and let readline draw prompt and text again below it. */
static void show(const char *s)
{
    if (con.interactive)
        rl_clear_visible_line();
    fputs(s, stdout);
    fputc('\n', stdout);
    fflush(stdout);
    if (con.interactive) {
        rl_on_new_line();
        rl_redisplay();
    }
}

static void show_decoded(const char *s)
{
    char *d = hotd_decode_line(con.dec, s);
    show(d ? d : s);
    free(d);
}

static void send_cmd(const char *line, bool internal)
{
    if (con.relay.active && !internal) { /* the push gets the line to itself */
        if (con.nheld < QMAX && (con.held[con.nheld] = strdup(line)))
            con.nheld++;
        show("hotd console: a push is going through: sent when it ends");
        return;
    }
    if (con.qlen == QMAX) {
        show("hotd console: too many commands waiting for an answer; not sent");
        return;
    }
    if (!con.qlen)
        con.since = time(NULL);
    size_t i = (con.qhead + con.qlen++) % QMAX;
    snprintf(con.q[i].cmd, sizeof con.q[i].cmd, "%.*s", (int)strcspn(line, " \t"), line);
    con.q[i].internal = internal;
    dprintf(con.fd, "%.256s\n", line); /* the device takes lines of at most 256 */
}

/* After a reload the module sits elsewhere and may export other names. */
static void refresh(void)
{
    if (con.relay.active) {
        con.refresh_due = true;
        return;
    }
    if (con.url) {
        char *json = NULL, msg[512];
        struct hotd_key key; /* signed, so the device shows the addresses to decode */
        bool signing = hotd_load_key(con.build, &key, msg, sizeof msg) == 0;
        if (hotd_get_status(con.url, signing ? &key : NULL, &json, msg, sizeof msg) != 0 ||
            hotd_decoder_set_status(con.dec, json, msg, sizeof msg) != 0) {
            char line[600];
            snprintf(line, sizeof line, "hotd console: status: %s", msg);
            show(line);
        }
        free(json);
    } else {
        send_cmd("status", true);
    }
    send_cmd("symbols", true);
}

static void free_names(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void add_symbol(const char *line)
{
    size_t len = strcspn(line, " ");
    char **v = realloc(con.next_syms, (con.nnext + 1) * sizeof *v);
    if (!v || !len)
        return;
    con.next_syms = v;
    if ((v[con.nnext] = strndup(line, len)))
        con.nnext++;
}

static void on_device_line(char *line)
{
    size_t len = strlen(line);
    if (len && line[len - 1] == '\r')
        line[--len] = '\0';
    if (!len)
        return;
    char note[400];
    if (con.relay.active && hotd_relay_line(&con.relay, line, note, sizeof note)) {
        if (note[0])
            show(note);
        con.refresh_due |= !strncmp(line, "ok reloaded", 11) || !strncmp(line, "ok unloaded", 11);
        return;
    }
    bool pending = con.qlen > 0, internal = pending && con.q[con.qhead].internal;
    const char *cmd = pending ? con.q[con.qhead].cmd : "";
    bool done = !strncmp(line, "ok", 2) || !strncmp(line, "error", 5);
    if (pending && !strncmp(line, "  ", 2)) {
        if (!strcmp(cmd, "symbols"))
            add_symbol(line + 2);
        if (!internal)
            show_decoded(line);
        return;
    }
    if (pending && done) {
        if (!strcmp(cmd, "status") && !strncmp(line, "ok ", 3)) {
            char msg[256];
            if (hotd_decoder_set_status(con.dec, line + 3, msg, sizeof msg) != 0 && internal) {
                char text[300];
                snprintf(text, sizeof text, "hotd console: the device's status: %s", msg);
                show(text);
            }
        }
        if (!strcmp(cmd, "symbols") && !strncmp(line, "ok", 2)) {
            free_names(con.syms, con.nsyms);
            con.syms = con.next_syms, con.nsyms = con.nnext;
            console_complete_names(con.syms, con.nsyms);
        } else {
            free_names(con.next_syms, con.nnext);
        }
        con.next_syms = NULL, con.nnext = 0;
        con.qhead = (con.qhead + 1) % QMAX;
        con.qlen--;
        con.since = time(NULL);
        char out[512];
        if (!strcmp(cmd, "nonce") && internal && con.sign.pending)
            console_sign_release(&con.sign, line, out, sizeof out) ? show(out)
                                                                    : send_cmd(out, false);
        if (!strcmp(cmd, "help") && !internal) /* the console's own command */
            show("  push [module] [options]  (hotd console) build it, push it through here");
        /* A status is JSON: decoding would put text inside its strings. */
        if (!strcmp(cmd, "status") && !internal)
            show(line);
        else if (!internal || strncmp(line, "ok", 2))
            show_decoded(line);
        if (!strncmp(line, "ok reloaded", 11) || !strncmp(line, "ok unloaded", 11))
            refresh();
        return;
    }
    show_decoded(line);
    /* A reload asked over HTTP shows up only in the device's log. */
    if (strstr(line, "hotreload: module '") && strstr(line, " running"))
        refresh();
}

/* Returns -1 when the line closed. */
static int read_device(void)
{
    char buf[4096];
    ssize_t n = read(con.fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (n <= 0)
        return -1;
    hotd_relay_to_client(&con.relay, buf, (size_t)n);
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] == '\n' || con.inlen == sizeof con.in - 1) {
            con.in[con.inlen] = '\0';
            con.inlen = 0;
            on_device_line(con.in);
            if (buf[i] != '\n')
                con.in[con.inlen++] = buf[i];
        } else {
            con.in[con.inlen++] = buf[i];
        }
    }
    return 0;
}

/* `push ARGS`: hotd push as a child, through this console like any other. */
/* A command the user typed; one that changes what runs waits for the
 * nonce to go out signed (console_sign.c). */
static void send_typed(const char *s)
{
    if (!con.relay.active && console_sign_hold(&con.sign, s))
        send_cmd("nonce", true);
    else
        send_cmd(s, false);
}

static void start_push(const char *args)
{
    char msg[256], text[300];
    if (con.push.pid > 0) {
        show("hotd console: a push from this console is going on: wait for it");
    } else if (hotd_push_child_start(&con.push, con.spec, con.build, args, con.interactive, msg,
                                     sizeof msg) != 0) {
        snprintf(text, sizeof text, "hotd console: %s", msg);
        show(text);
    }
}

static void on_user_line(char *line)
{
    if (!line) { /* Ctrl-D */
        quit = true;
        if (con.interactive)
            rl_callback_handler_remove();
        return;
    }
    char *s = line + strspn(line, " \t");
    if (*s && con.interactive)
        add_history(s);
    if (!strcmp(s, "quit") || !strcmp(s, "exit"))
        quit = true;
    else if (!strncmp(s, "push", 4) && (!s[4] || s[4] == ' ' || s[4] == '\t'))
        start_push(s + 4);
    else if (*s)
        send_typed(s);
    free(line);
}

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* Non-interactive: send the next line from stdin when nothing waits. */
static char *stdin_buf;
static size_t stdin_len;
static bool stdin_eof;

/* Something is under way that the next line of a script must wait for. */
static bool busy(void)
{
    return con.qlen || con.relay.client_fd >= 0 || con.push.pid > 0;
}

static void pump_stdin(void)
{
    while (!busy() && !quit) {
        char *nl = stdin_buf ? memchr(stdin_buf, '\n', stdin_len) : NULL;
        if (!nl)
            return;
        char *l = strndup(stdin_buf, (size_t)(nl - stdin_buf));
        stdin_len -= (size_t)(nl + 1 - stdin_buf);
        memmove(stdin_buf, nl + 1, stdin_len);
        on_user_line(l);
    }
}

static void read_stdin(void)
{
    if (con.interactive) {
        rl_callback_read_char();
        return;
    }
    char buf[4096];
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n <= 0) { /* the end; a last line without its newline gets one */
        stdin_eof = true;
        n = stdin_len && stdin_buf[stdin_len - 1] != '\n' ? (buf[0] = '\n', 1) : 0;
    }
    char *grown = n > 0 ? realloc(stdin_buf, stdin_len + (size_t)n) : stdin_buf;
    if (n > 0 && grown) {
        stdin_buf = grown;
        memcpy(stdin_buf + stdin_len, buf, (size_t)n);
        stdin_len += (size_t)n;
    }
}

/* After a push held the line: what waited for it. */
static void relay_step(struct pollfd *p, size_t n)
{
    int rc = hotd_relay_step(&con.relay, p, n, con.fd, con.qlen == 0);
    if (rc == HOTD_RELAY_ENDED_IN_UPLOAD) { /* the device would ignore commands for 10 s */
        show("hotd console: a push ended in the middle of its upload: aborting it");
        send_cmd("abort", true);
    }
    if (con.relay.active)
        return;
    if (con.refresh_due) {
        con.refresh_due = false;
        refresh();
    }
    for (size_t i = 0; i < con.nheld; i++) {
        send_typed(con.held[i]);
        free(con.held[i]);
    }
    con.nheld = 0;
}

static int loop(double timeout)
{
    while (!quit && !interrupted) {
        if (!con.interactive) {
            pump_stdin();
            if (stdin_eof && !stdin_len && !busy())
                break;
        }
        struct pollfd p[5] = {{.fd = con.fd, .events = POLLIN},
                              {.fd = STDIN_FILENO, .events = stdin_eof ? 0 : POLLIN},
                              {.fd = con.push.pid > 0 ? con.push.fd : -1, .events = POLLIN}};
        size_t nrelay = hotd_relay_pollfds(&con.relay, p + 3);
        int r = poll(p, 3 + nrelay, 100);
        if (r < 0 && errno != EINTR)
            return 1;
        if (r > 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR)) && read_device() < 0) {
            show("hotd console: the device closed the line");
            return 1;
        }
        if (r > 0 && (p[1].revents & (POLLIN | POLLHUP)))
            read_stdin();
        if (r > 0 && (p[2].revents & (POLLIN | POLLHUP)))
            hotd_push_child_read(&con.push, show);
        relay_step(p + 3, r > 0 ? nrelay : 0);
        /* A reply that never comes must not hang a script. */
        if (con.qlen && difftime(time(NULL), con.since) > timeout) {
            char text[128];
            snprintf(text, sizeof text, "hotd console: no answer to '%s' after %.0f s",
                     con.q[con.qhead].cmd, timeout);
            show(text);
            if (!con.interactive)
                return 1;
            con.qhead = (con.qhead + 1) % QMAX, con.qlen--;
            con.since = time(NULL);
        }
    }
    return 0;
}

int cmd_console(int argc, char **argv)
{
    const char *serial = NULL, *firmware = NULL, *build = NULL;
    unsigned long long bias = 0, secs = 10;
    struct hotd_args a = {.cmd = &command};
    for (int o, bad = 0; (o = hotd_next_option(&a, argc, argv)) != HOTD_ARGS_END;) {
        switch (o) {
        case SERIAL: serial = a.value; break;
        case BUILD: build = a.value; break;
        case FIRMWARE: firmware = a.value; break;
        case FIRMWARE_BIAS: bad = hotd_option_number(&a, 0, ~0ull, &bias); break;
        case URL: con.url = a.value; break;
        case TIMEOUT: bad = hotd_option_number(&a, 0, ~0ull, &secs); break;
        default: return hotd_args_exit(o);
        }
        if (bad)
            return hotd_args_exit(bad);
    }
    if (!serial)
        return hotd_usage_error(&command, "--serial is required");
    char msg[512];
    con.spec = serial;
    con.build = hotd_build_dir(build);
    console_sign_init(&con.sign, con.build);
    con.dec = hotd_decoder_new(con.build, firmware, bias, msg, sizeof msg);
    if (!con.dec || hotd_relay_open(&con.relay, serial, msg, sizeof msg) != 0 ||
        (con.fd = hotd_serial_open(serial, HOTD_SERIAL_BAUD, msg, sizeof msg)) < 0) {
        fprintf(stderr, "hotd console: %s\n", msg);
        hotd_relay_close(&con.relay);
        hotd_decoder_free(con.dec);
        return 1;
    }
    fcntl(con.fd, F_SETFD, FD_CLOEXEC); /* a push this console runs holds no copy of it */
    con.interactive = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    signal(SIGINT, on_sigint);
    signal(SIGPIPE, SIG_IGN);
    char history[4096] = "";
    if (con.interactive) {
        const char *home = hotd_env("HOME");
        if (home)
            snprintf(history, sizeof history, "%s/.hotd_history", home);
        read_history(history);
        rl_catch_signals = 0;
        rl_attempted_completion_function = console_complete;
        rl_callback_handler_install("hotd> ", on_user_line);
    }
    snprintf(msg, sizeof msg, "hotd console: on %s; pushes go through this console "
             "(push here, or hotd push/watch --serial %s)", serial, serial);
    show(msg);
    refresh();
    int rc = loop((double)secs);
    if (con.interactive) {
        rl_callback_handler_remove();
        fputc('\n', stdout);
        if (*history)
            write_history(history);
    }
    close(con.fd);
    hotd_relay_close(&con.relay);
    hotd_decoder_free(con.dec);
    free_names(con.syms, con.nsyms);
    free_names(con.next_syms, con.nnext);
    free(stdin_buf);
    return rc;
}
