/* A small JSON reader for the device's answers (docs/http.md): objects,
 * arrays, strings, numbers, true/false/null, parsed into a tree. */
#ifndef HOTD_JSON_H
#define HOTD_JSON_H

#include <stdbool.h>
#include <stddef.h>

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUM, JSON_STR, JSON_ARR, JSON_OBJ };

struct json {
    enum json_type type;
    char *key;             /* the member's name inside an object, else NULL */
    char *str;             /* JSON_STR: decoded, NUL-terminated */
    double num;            /* JSON_NUM */
    bool boolean;          /* JSON_BOOL */
    struct json *child;    /* JSON_ARR, JSON_OBJ: the first element or member */
    struct json *next;     /* the next sibling */
};

/* Parse `text`; NULL with a message on error. Free with json_free. */
struct json *json_parse(const char *text, char *msg, size_t msgsize);
void json_free(struct json *j);

/* The member `key` of an object; NULL when absent or `obj` is no object. */
const struct json *json_get(const struct json *obj, const char *key);
/* Typed lookups with a default when absent or of another type. */
const char *json_get_str(const struct json *obj, const char *key, const char *dflt);
double json_get_num(const struct json *obj, const char *key, double dflt);
bool json_get_bool(const struct json *obj, const char *key, bool dflt);

#endif
