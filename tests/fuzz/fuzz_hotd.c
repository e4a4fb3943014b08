/* Fuzz target: hotd reading what a device answers over HTTP, apart from the
 * network: the JSON parser (hostd/json.c), the answer to a push and the
 * signature made from a GET /status (client.c), the status table
 * (status.c), the gdb command written after a reload (gdbcmd.c) and the
 * placement the console decodes addresses with (decode.c).
 *
 * Input: the body a device sent, as text.
 *
 * Beyond "no crash": a parsed document written out again parses to the
 * same tree; a failure says where; messages and advice for the terminal
 * are printable; a signature made is one the device's parser accepts, with
 * a counter of at least the time given; the gdb command is one line of
 * printable text (gdb runs each line of the file it sources). */
#define _DEFAULT_SOURCE /* readlink, PATH_MAX */
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../hostd/client.h"
#include "../../hostd/decode.h"
#include "../../hostd/hotd.h"
#include "../../hostd/json.h"
#include "auth.h"
#include "fuzz.h"

#define NOW_MS 1700000000000ull

static char build[PATH_MAX];
static struct hotd_decoder *dec;
static int devnull = -1;

struct text {
    char *s;
    size_t len, cap;
};

static void put(struct text *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->s = realloc(t->s, t->cap);
        FUZZ_CHECK(t->s, "out of memory");
    }
    memcpy(t->s + t->len, s, n);
    t->len += n;
    t->s[t->len] = '\0';
}

static void put_str(struct text *t, const char *s)
{
    char esc[8];
    put(t, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\' || *p < 0x20 || *p >= 0x7f)
            put(t, esc, (size_t)snprintf(esc, sizeof esc, "\\u%04x", *p));
        else
            put(t, (const char *)p, 1);
    }
    put(t, "\"", 1);
}

static void write_json(struct text *t, const struct json *j)
{
    char num[40];
    switch (j->type) {
    case JSON_NULL: put(t, "null", 4); break;
    case JSON_BOOL: j->boolean ? put(t, "true", 4) : put(t, "false", 5); break;
    case JSON_STR: put_str(t, j->str); break;
    case JSON_NUM:
        /* Written so that json.c reads the same double back. */
        if (isnan(j->num))
            put(t, "-nan", 4);
        else if (isinf(j->num))
            put(t, j->num > 0 ? "1e999" : "-1e999", j->num > 0 ? 5 : 6);
        else
            put(t, num, (size_t)snprintf(num, sizeof num, "%.17g", j->num));
        break;
    case JSON_ARR:
    case JSON_OBJ:
        put(t, j->type == JSON_ARR ? "[" : "{", 1);
        for (const struct json *c = j->child; c; c = c->next) {
            if (c != j->child)
                put(t, ",", 1);
            if (j->type == JSON_OBJ) {
                put_str(t, c->key);
                put(t, ":", 1);
            }
            write_json(t, c);
        }
        put(t, j->type == JSON_ARR ? "]" : "}", 1);
        break;
    }
}

static bool same(const struct json *a, const struct json *b)
{
    for (; a && b; a = a->next, b = b->next) {
        if (a->type != b->type || !a->key != !b->key || (a->key && strcmp(a->key, b->key)))
            return false;
        if (a->type == JSON_BOOL && a->boolean != b->boolean)
            return false;
        if (a->type == JSON_NUM && !(a->num == b->num || (isnan(a->num) && isnan(b->num))))
            return false;
        if (a->type == JSON_STR && strcmp(a->str, b->str))
            return false;
        if (!same(a->child, b->child))
            return false;
    }
    return !a && !b;
}

static void check_printable(const char *s, size_t size, const char *what)
{
    FUZZ_CHECK(memchr(s, 0, size), "%s not terminated", what);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        FUZZ_CHECK(*p >= 0x20 && *p != 0x7f, "%s holds byte %#x: %s", what, *p, s);
}

/* What hotd prints for the terminal goes to /dev/null while it runs here. */
static void quiet(bool on)
{
    static int saved[2] = {-1, -1};
    fflush(stdout);
    fflush(stderr);
    for (int fd = 1; fd <= 2; fd++) {
        if (on) {
            saved[fd - 1] = dup(fd);
            dup2(devnull, fd);
        } else {
            dup2(saved[fd - 1], fd);
            close(saved[fd - 1]);
        }
    }
}

static void check_parse(const char *text)
{
    char msg[256] = "";
    struct json *j = json_parse(text, msg, sizeof msg);
    if (!j) {
        FUZZ_CHECK(!strncmp(msg, "invalid JSON at offset ", 23), "failure says '%s'", msg);
        return;
    }
    struct text t = {NULL, 0, 0};
    write_json(&t, j);
    struct json *again = json_parse(t.s, msg, sizeof msg);
    FUZZ_CHECK(again && same(j, again), "written out as %s, it reads back %s", t.s,
               again ? "differently" : msg);
    json_free(again);
    if (j->type == JSON_OBJ) {
        quiet(true);
        hotd_status_show("fuzz", text);
        quiet(false);
    }
    free(t.s);
    json_free(j);
}

static void check_push(const char *text)
{
    static const int statuses[] = {200, 401, 403, 409, 413, 422, 500, 504};
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        static struct hotd_push_result r;
        memset(&r, 0, sizeof r);
        r.http_status = statuses[i];
        hotd_read_answer(&r, text, "main", 1234);
        FUZZ_CHECK(!r.ok || statuses[i] == 200, "ok with HTTP %d", statuses[i]);
        check_printable(r.message, sizeof r.message, "message");
        check_printable(r.advice, sizeof r.advice, "advice");
    }
    struct hotd_key key = {.bytes = "a key of thirty-two bytes, fuzz!", .len = 32};
    uint8_t sha[32] = {1, 2, 3};
    char auth[HR_AUTH_VALUE_MAX], msg[600];
    if (hotd_sign_push(text, NOW_MS, &key, "/upload-and-reload?module=main", sha, auth, msg,
                       sizeof msg) == 0) {
        struct hr_auth a;
        FUZZ_CHECK(hr_auth_parse(auth, strlen(auth), &a, msg, sizeof msg) == HR_AUTH_OK,
                   "signature '%s' does not parse: %s", auth, msg);
        FUZZ_CHECK(a.counter >= NOW_MS && a.counter <= NOW_MS + HOTD_COUNTER_AHEAD_MAX_MS,
                   "counter %llu outside [the time, a day ahead]", (unsigned long long)a.counter);
    } else {
        check_printable(msg, sizeof msg, "signing refusal");
    }
}

static void check_gdb(const char *text)
{
    char out[2048], msg[256];
    quiet(true);
    int rc = hotd_gdb_command(build, "main", text, out, sizeof out);
    quiet(false);
    if (rc == 0) {
        FUZZ_CHECK(!strncmp(out, "add-symbol-file ", 16), "gdb command '%s'", out);
        check_printable(out, sizeof out, "gdb command");
    }
    if (hotd_decoder_set_status(dec, text, msg, sizeof msg) == 0) {
        char *line = hotd_decode_line(dec, text);
        FUZZ_CHECK(line, "decode_line failed");
        free(line);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    char exe[PATH_MAX], path[PATH_MAX + 64], msg[256];
    /* A build directory beside the executable, made once and kept: nothing
     * to clean up, even after a crash. The gdb command names the module
     * file, so it must exist; empty, it has no debug information and the
     * decoder says name+section. */
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    FUZZ_CHECK(n > 0, "cannot find the executable");
    exe[n] = '\0';
    snprintf(build, sizeof build, "%.*s/fuzz_hotd.build", (int)(strrchr(exe, '/') - exe), exe);
    snprintf(path, sizeof path, "%s/modules", build);
    mkdir(build, 0700);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/modules/main.debug.o", build);
    FILE *f = fopen(path, "a");
    FUZZ_CHECK(f && fclose(f) == 0, "cannot create %s", path);
    dec = hotd_decoder_new(build, NULL, 0, msg, sizeof msg);
    FUZZ_CHECK(dec, "decoder: %s", msg);
    devnull = open("/dev/null", O_WRONLY);
    FUZZ_CHECK(devnull >= 0, "cannot open /dev/null");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    FUZZ_CHECK(text, "out of memory");
    memcpy(text, data, size);
    text[size] = '\0';
    check_parse(text);
    check_push(text);
    check_gdb(text);
    free(text);
    return 0;
}
