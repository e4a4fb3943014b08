/* A strict JSON validator (RFC 8259), enough to check every HTTP answer. */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "fake.h"

struct js {
    const char *p, *end;
    int depth;
};

static void ws(struct js *j)
{
    while (j->p < j->end && strchr(" \t\r\n", *j->p) && *j->p)
        j->p++;
}

static bool lit(struct js *j, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n))
        return false;
    j->p += n;
    return true;
}

static bool string(struct js *j)
{
    if (!lit(j, "\""))
        return false;
    while (j->p < j->end) {
        unsigned char c = (unsigned char)*j->p++;
        if (c == '"')
            return true;
        if (c < 0x20 || c >= 0x80) /* the agent escapes everything outside ASCII */
            return false;
        if (c == '\\') {
            if (j->p >= j->end)
                return false;
            c = (unsigned char)*j->p++;
            if (c == 'u') {
                for (int i = 0; i < 4; i++, j->p++)
                    if (j->p >= j->end || !strchr("0123456789abcdefABCDEF", *j->p) || !*j->p)
                        return false;
            } else if (!strchr("\"\\/bfnrt", c) || !c) {
                return false;
            }
        }
    }
    return false;
}

static bool number(struct js *j)
{
    const char *s = j->p;
    if (j->p < j->end && *j->p == '-')
        j->p++;
    while (j->p < j->end && ((*j->p >= '0' && *j->p <= '9') || strchr(".eE+-", *j->p)) && *j->p)
        j->p++;
    return j->p > s;
}

static bool value(struct js *j);

static bool members(struct js *j, char close, bool keyed)
{
    if (++j->depth > 64)
        return false;
    ws(j);
    if (j->p < j->end && *j->p == close) {
        j->p++;
        j->depth--;
        return true;
    }
    for (;;) {
        ws(j);
        if (keyed) {
            if (!string(j))
                return false;
            ws(j);
            if (!lit(j, ":"))
                return false;
        }
        if (!value(j))
            return false;
        ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == close) {
            j->p++;
            j->depth--;
            return true;
        }
        return false;
    }
}

static bool value(struct js *j)
{
    ws(j);
    if (j->p >= j->end)
        return false;
    switch (*j->p) {
    case '{': j->p++; return members(j, '}', true);
    case '[': j->p++; return members(j, ']', false);
    case '"': return string(j);
    case 't': return lit(j, "true");
    case 'f': return lit(j, "false");
    case 'n': return lit(j, "null");
    default: return number(j);
    }
}

bool json_valid(const char *s, size_t len)
{
    struct js j = {s, s + len, 0};
    if (!value(&j))
        return false;
    ws(&j);
    return j.p == j.end;
}
