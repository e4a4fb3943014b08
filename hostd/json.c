/* A small recursive-descent JSON reader. The device escapes every byte
 * outside printable ASCII as \u00XX, so code points below 0x100 decode back
 * to that byte; others decode to UTF-8. Control characters in strings are
 * replaced (clean_controls). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

struct parser {
    const char *p;
    const char *start;
    char *msg;
    size_t msgsize;
    int depth;
    bool failed;
};

static struct json *fail(struct parser *ps, const char *what)
{
    if (!ps->failed)
        snprintf(ps->msg, ps->msgsize, "invalid JSON at offset %zu: %s",
                 (size_t)(ps->p - ps->start), what);
    ps->failed = true;
    return NULL;
}

static void skip_ws(struct parser *ps)
{
    while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
        ps->p++;
}

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                            : 16u;
        if (d == 16)
            return -1;
        v = v * 16 + d;
    }
    *out = v;
    return 0;
}

/* A string at ps->p (on its opening quote), decoded into a malloc'd buffer:
 * never longer than the source text. */
/* The length of the valid UTF-8 sequence at s, or 0 when it is not one. */
static size_t utf8_len(const unsigned char *s)
{
    size_t n = s[0] >= 0xc2 && s[0] <= 0xdf ? 2 : s[0] >= 0xe0 && s[0] <= 0xef ? 3
             : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    return n;
}

/* Every string comes from a device, which may be hostile, and ends up on
 * a terminal: control characters (C0, DEL, C1 as UTF-8 U+0080-U+009F) and
 * bytes that are no UTF-8 (a lone 0x9b is CSI to some terminals) become
 * '?', so no answer can move the cursor, ring or retitle. */
static void clean_controls(char *str)
{
    for (unsigned char *c = (unsigned char *)str; *c;) {
        size_t n = *c < 0x80 ? 1 : utf8_len(c);
        bool c1 = n == 2 && c[0] == 0xc2 && c[1] <= 0x9f;
        if (n == 0 || c1 || *c < 0x20 || *c == 0x7f) {
            for (size_t i = 0; i < (n ? n : 1); i++)
                c[i] = '?';
            n = n ? n : 1;
        }
        c += n;
    }
}

static char *parse_string(struct parser *ps)
{
    const char *q = ++ps->p;
    while (*q && *q != '"')
        q += q[0] == '\\' && q[1] ? 2 : 1;
    char *out = malloc((size_t)(q - ps->p) + 1), *o = out;
    if (!out)
        return (char *)fail(ps, "out of memory");
    for (;;) {
        unsigned char c = (unsigned char)*ps->p;
        if (c == '"')
            break;
        if (c < 0x20) {
            free(out);
            return (char *)fail(ps, c ? "control character in a string" : "unterminated string");
        }
        ps->p++;
        if (c != '\\') {
            *o++ = (char)c;
            continue;
        }
        char e = *ps->p;
        if (!e) { /* a backslash ends the text: stay on its NUL */
            free(out);
            return (char *)fail(ps, "unterminated string");
        }
        ps->p++;
        const char *simple = strchr("\"\\/bfnrt", e);
        unsigned cp;
        if (e && simple) {
            *o++ = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
        } else if (e == 'u' && hex4(ps->p, &cp) == 0) {
            ps->p += 4;
            if (cp < 0x100) {
                *o++ = (char)cp;
            } else if (cp < 0x800) {
                *o++ = (char)(0xc0 | cp >> 6);
                *o++ = (char)(0x80 | (cp & 0x3f));
            } else { /* surrogates are kept as they come: only names and messages */
                *o++ = (char)(0xe0 | cp >> 12);
                *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
                *o++ = (char)(0x80 | (cp & 0x3f));
            }
        } else {
            free(out);
            return (char *)fail(ps, "bad escape in a string");
        }
    }
    ps->p++;
    *o = '\0';
    clean_controls(out);
    return out;
}

static struct json *parse_value(struct parser *ps);

static struct json *parse_container(struct parser *ps, struct json *j, char close)
{
    struct json **tail = &j->child;
    ps->p++;
    skip_ws(ps);
    if (*ps->p == close) {
        ps->p++;
        return j;
    }
    for (;;) {
        char *key = NULL;
        skip_ws(ps);
        if (close == '}') {
            if (*ps->p != '"' || !(key = parse_string(ps)))
                return fail(ps, "expected a member name");
            skip_ws(ps);
            /* Never step past the terminating NUL, not even to fail. */
            if (*ps->p != ':') {
                free(key);
                return fail(ps, "expected ':'");
            }
            ps->p++;
        }
        struct json *v = parse_value(ps);
        if (!v) {
            free(key);
            return NULL;
        }
        v->key = key;
        *tail = v;
        tail = &v->next;
        skip_ws(ps);
        if (*ps->p == ',') {
            ps->p++;
            continue;
        }
        if (*ps->p != close)
            return fail(ps, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
        ps->p++;
        return j;
    }
}

static struct json *parse_value(struct parser *ps)
{
    skip_ws(ps);
    if (++ps->depth > 64)
        return fail(ps, "nested too deeply");
    struct json *j = calloc(1, sizeof *j), *r = j;
    if (!j)
        return fail(ps, "out of memory");
    char c = *ps->p;
    if (c == '{' || c == '[') {
        j->type = c == '{' ? JSON_OBJ : JSON_ARR;
        r = parse_container(ps, j, c == '{' ? '}' : ']');
    } else if (c == '"') {
        j->type = JSON_STR;
        r = (j->str = parse_string(ps)) ? j : NULL;
    } else if (!strncmp(ps->p, "true", 4) || !strncmp(ps->p, "false", 5)) {
        j->type = JSON_BOOL;
        j->boolean = c == 't';
        ps->p += c == 't' ? 4 : 5;
    } else if (!strncmp(ps->p, "null", 4)) {
        ps->p += 4;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        char *end;
        j->type = JSON_NUM;
        j->num = strtod(ps->p, &end);
        ps->p = end;
    } else {
        r = fail(ps, "expected a value");
    }
    ps->depth--;
    if (!r)
        json_free(j);
    return r;
}

struct json *json_parse(const char *text, char *msg, size_t msgsize)
{
    struct parser ps = {text, text, msg, msgsize, 0, false};
    struct json *j = parse_value(&ps);
    skip_ws(&ps);
    if (j && *ps.p) {
        json_free(j);
        return fail(&ps, "trailing characters");
    }
    return j;
}

void json_free(struct json *j)
{
    while (j) {
        struct json *next = j->next;
        json_free(j->child);
        free(j->key);
        free(j->str);
        free(j);
        j = next;
    }
}

const struct json *json_get(const struct json *obj, const char *key)
{
    if (!obj || obj->type != JSON_OBJ)
        return NULL;
    for (const struct json *m = obj->child; m; m = m->next)
        if (m->key && !strcmp(m->key, key))
            return m;
    return NULL;
}

const char *json_get_str(const struct json *obj, const char *key, const char *dflt)
{
    const struct json *m = json_get(obj, key);
    return m && m->type == JSON_STR ? m->str : dflt;
}

double json_get_num(const struct json *obj, const char *key, double dflt)
{
    const struct json *m = json_get(obj, key);
    return m && m->type == JSON_NUM ? m->num : dflt;
}

bool json_get_bool(const struct json *obj, const char *key, bool dflt)
{
    const struct json *m = json_get(obj, key);
    return m && m->type == JSON_BOOL ? m->boolean : dflt;
}
