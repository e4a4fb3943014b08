/* Opening a serial line for hotd: a tty in raw mode, or a TCP socket
 * ("tcp:HOST:PORT", how QEMU and test bridges expose a UART); and the local
 * socket of the `hotd console` that holds a line, which other commands go
 * through (a line serves one client). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "serial.h"

static int open_tcp(const char *hostport, char *msg, size_t msgsize)
{
    char host[256];
    const char *colon = strrchr(hostport, ':');
    if (!colon || colon == hostport || !colon[1] || (size_t)(colon - hostport) >= sizeof host) {
        snprintf(msg, msgsize, "tcp:%s: expected tcp:HOST:PORT", hostport);
        return -1;
    }
    snprintf(host, sizeof host, "%.*s", (int)(colon - hostport), hostport);
    /* "[::1]:5555": the brackets only delimit the address. */
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(host, colon + 1, &hints, &res);
    if (rc != 0) {
        snprintf(msg, msgsize, "tcp:%s: %s", hostport, gai_strerror(rc));
        return -1;
    }
    int fd = -1, err = 0;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            err = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(msg, msgsize, "tcp:%s: %s", hostport, strerror(err ? err : ECONNREFUSED));
        return -1;
    }
    /* Frames go one at a time and wait for their ack: no Nagle delay. */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static int baud_constant(unsigned baud, speed_t *out)
{
    static const struct {
        unsigned baud;
        speed_t speed;
    } rates[] = {
        {9600, B9600},     {19200, B19200},   {38400, B38400},
        {57600, B57600},   {115200, B115200}, {230400, B230400},
#ifdef B460800
        {460800, B460800}, {921600, B921600}, {1000000, B1000000},
        {1500000, B1500000}, {2000000, B2000000},
#endif
    };
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        if (rates[i].baud == baud) {
            *out = rates[i].speed;
            return 0;
        }
    }
    return -1;
}

static int open_tty(const char *path, unsigned baud, char *msg, size_t msgsize)
{
    speed_t speed;
    if (baud_constant(baud, &speed) != 0) {
        snprintf(msg, msgsize, "%s: unsupported baud rate %u", path, baud);
        return -1;
    }
    /* O_NONBLOCK so that a modem line without carrier does not hang open();
     * reads are poll()ed anyway, writes should block: cleared below. */
    int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK);
    struct termios t;
    if (fd < 0 || tcgetattr(fd, &t) != 0) {
        snprintf(msg, msgsize, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    /* Raw: the upload's frames are binary, and no byte may be translated. */
    t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON |
                             IXOFF | INPCK);
    t.c_oflag &= ~(tcflag_t)OPOST;
    t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | CSTOPB);
    t.c_cflag |= CS8 | CREAD | CLOCAL;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    if (cfsetispeed(&t, speed) != 0 || cfsetospeed(&t, speed) != 0 ||
        tcsetattr(fd, TCSANOW, &t) != 0) {
        snprintf(msg, msgsize, "%s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    tcflush(fd, TCIOFLUSH); /* what the device said before we came is not a reply */
    return fd;
}

int hotd_serial_open(const char *spec, unsigned baud, char *msg, size_t msgsize)
{
    if (!strncmp(spec, "tcp:", 4))
        return open_tcp(spec + 4, msg, msgsize);
    return open_tty(spec, baud ? baud : HOTD_SERIAL_BAUD, msg, msgsize);
}

/* Where the console holding `spec` listens: one folder per user, private
 * ($XDG_RUNTIME_DIR/hotd, else /tmp/hotd-UID), one socket per line, named
 * by a hash of the line's name (a tty by its real path, so that
 * /dev/serial/by-id/… and /dev/ttyUSB0 are one line). */
static int socket_path(const char *spec, struct sockaddr_un *a, char *msg, size_t msgsize)
{
    char dir[sizeof a->sun_path], real[PATH_MAX];
    const char *runtime = getenv("XDG_RUNTIME_DIR");
    if (runtime && *runtime)
        snprintf(dir, sizeof dir, "%s/hotd", runtime);
    else
        snprintf(dir, sizeof dir, "/tmp/hotd-%u", (unsigned)getuid());
    struct stat st;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(msg, msgsize, "%s: %s (the console's socket goes there: set XDG_RUNTIME_DIR "
                 "to a folder of yours)", dir, strerror(errno));
        return -1;
    }
    /* Another user's folder would let them stand in for the console. */
    if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid() ||
        (st.st_mode & 077)) {
        snprintf(msg, msgsize, "%s: not a private folder of this user (remove it)", dir);
        return -1;
    }
    const char *name = strncmp(spec, "tcp:", 4) && realpath(spec, real) ? real : spec;
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (const char *c = name; *c; c++)
        h = (h ^ (uint8_t)*c) * 0x100000001b3ull;
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    if (snprintf(a->sun_path, sizeof a->sun_path, "%s/console-%016" PRIx64 ".sock", dir, h) >=
        (int)sizeof a->sun_path) {
        snprintf(msg, msgsize, "%s: too long for a socket path (set XDG_RUNTIME_DIR to a "
                 "shorter one)", dir);
        return -1;
    }
    return 0;
}

int hotd_console_connect(const char *spec)
{
    struct sockaddr_un a;
    char msg[PATH_MAX];
    int fd = socket_path(spec, &a, msg, sizeof msg) == 0
                 ? socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0) : -1;
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd); /* no console holds the line (or one died and left its socket) */
        fd = -1;
    }
    return fd;
}

int hotd_console_listen(const char *spec, char *path, size_t size, char *msg, size_t msgsize)
{
    struct sockaddr_un a;
    if (socket_path(spec, &a, msg, msgsize) != 0)
        return -1;
    int other = hotd_console_connect(spec);
    if (other >= 0) {
        close(other);
        snprintf(msg, msgsize, "another hotd console holds %s (its socket: %s): use that one, "
                 "or end it first", spec, a.sun_path);
        return -1;
    }
    unlink(a.sun_path); /* left by a console that did not end cleanly */
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 4) != 0) {
        snprintf(msg, msgsize, "%s: %s (the console serves its socket there: set "
                 "XDG_RUNTIME_DIR to a folder of yours)", a.sun_path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    snprintf(path, size, "%s", a.sun_path);
    return fd;
}
