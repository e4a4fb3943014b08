/* hotd abi: the module's interface as the firmware sees it, from DWARF.
 * `dump` writes one line per exported function -- its parameter and return
 * types, with the layout of the structs they use -- and `diff` compares two
 * such descriptions: a module whose interface differs from the one the
 * firmware was built against must not be pushed (the firmware's callers
 * would pass the wrong things). */
#define _GNU_SOURCE
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "client.h"
#include "elfsyms.h"
#include "hotd.h"
#include "options.h"

enum { OUT, FIRMWARE, RECORD_DIR, FUNCTIONS };
static const struct hotd_opt options[] = {
    [OUT] = {"out", 'o', "FILE", "dump: write the description to FILE"},
    [FIRMWARE] = {"firmware", 0, "FW.elf", "record: the firmware the module was built for"},
    [RECORD_DIR] = {"dir", 0, "DIR", "record: where the records go"},
    [FUNCTIONS] = {"functions", 0, "FILE", "record: only these functions (one a line: the\n"
                                           "ones with a stub, NAME_exports.txt)"},
    {0},
};

static const struct hotd_cmd command = {
    .name = "abi",
    .max_operands = 3,
    .opts = options,
    .usage =
    "usage: hotd abi dump MODULE.o [-o FILE]\n"
    "       hotd abi record MODULE.o --firmware FW.elf --dir DIR [--functions FILE]\n"
    "       hotd abi check MODULE.o RECORD.abi\n"
    "\n"
    "dump:   one line per exported function of MODULE.o (built with -g): its\n"
    "        parameter and return types, with the layouts of the structs they use.\n"
    "record: the same into DIR/<firmware build-id>.abi: the interface FW.elf was\n"
    "        built against (the build does this each time the firmware links).\n"
    "check:  name every function whose interface differs from RECORD.abi; exit 1\n"
    "        if any does (the firmware must then be rebuilt and reflashed).\n",
};

struct text {
    char *s;
    size_t len, cap;
};

static void put(struct text *t, const char *s)
{
    size_t n = strlen(s);
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->s = realloc(t->s, t->cap);
        if (!t->s) {
            perror("hotd abi");
            exit(2);
        }
    }
    memcpy(t->s + t->len, s, n + 1);
    t->len += n;
}

static void putf(struct text *t, const char *fmt, unsigned long long v)
{
    char buf[64];
    snprintf(buf, sizeof buf, fmt, v);
    put(t, buf);
}

static void describe(struct text *t, Dwarf_Die *type, int depth);
static void describe_ref(struct text *t, Dwarf_Die *die, int depth);

/* "int:4, char*:8, ...": the parameters of a function or function type. */
static void describe_params(struct text *t, Dwarf_Die *fn, int depth)
{
    Dwarf_Die p;
    const char *sep = "";
    if (dwarf_child(fn, &p) != 0)
        return;
    do {
        if (dwarf_tag(&p) == DW_TAG_formal_parameter) {
            put(t, sep);
            describe_ref(t, &p, depth);
            sep = ", ";
        } else if (dwarf_tag(&p) == DW_TAG_unspecified_parameters) {
            put(t, sep);
            put(t, "...");
        }
    } while (dwarf_siblingof(&p, &p) == 0);
}

static void describe_ref(struct text *t, Dwarf_Die *die, int depth)
{
    Dwarf_Attribute a;
    Dwarf_Die ref;
    if (!dwarf_attr_integrate(die, DW_AT_type, &a) || !dwarf_formref_die(&a, &ref))
        put(t, "void");
    else
        describe(t, &ref, depth);
}

static void describe_members(struct text *t, Dwarf_Die *type, int depth)
{
    Dwarf_Die m;
    put(t, "{");
    if (dwarf_child(type, &m) == 0) {
        do {
            if (dwarf_tag(&m) != DW_TAG_member)
                continue;
            Dwarf_Word off = 0;
            Dwarf_Attribute a;
            if (dwarf_attr(&m, DW_AT_data_member_location, &a))
                dwarf_formudata(&a, &off);
            put(t, dwarf_diename(&m) ? dwarf_diename(&m) : "?");
            putf(t, "@%llu:", off);
            describe_ref(t, &m, depth + 1);
            put(t, ";");
        } while (dwarf_siblingof(&m, &m) == 0);
    }
    put(t, "}");
}

/* A canonical text for a type: typedef names are looked through, sizes and
 * layouts spelled out, recursion bounded (pointers to structs name them). */
static void describe(struct text *t, Dwarf_Die *type, int depth)
{
    const char *name = dwarf_diename(type);
    Dwarf_Word size = 0;
    Dwarf_Attribute a;
    if (dwarf_attr(type, DW_AT_byte_size, &a))
        dwarf_formudata(&a, &size);
    switch (dwarf_tag(type)) {
    case DW_TAG_typedef:
        describe_ref(t, type, depth);
        return;
    case DW_TAG_const_type:
        put(t, "const ");
        describe_ref(t, type, depth);
        return;
    case DW_TAG_volatile_type:
        put(t, "volatile ");
        describe_ref(t, type, depth);
        return;
    case DW_TAG_restrict_type:
    case DW_TAG_atomic_type:
        describe_ref(t, type, depth);
        return;
    case DW_TAG_base_type:
        put(t, name ? name : "?");
        putf(t, ":%llu", size);
        return;
    case DW_TAG_pointer_type:
        put(t, "*");
        describe_ref(t, type, depth + 1);
        return;
    case DW_TAG_structure_type:
    case DW_TAG_union_type:
        put(t, dwarf_tag(type) == DW_TAG_union_type ? "union " : "struct ");
        put(t, name ? name : "<anon>");
        putf(t, ":%llu", size);
        if (depth < 3)
            describe_members(t, type, depth);
        return;
    case DW_TAG_enumeration_type:
        put(t, "enum ");
        put(t, name ? name : "<anon>");
        putf(t, ":%llu", size);
        return;
    case DW_TAG_array_type: {
        describe_ref(t, type, depth);
        Dwarf_Die sub;
        if (dwarf_child(type, &sub) == 0 && dwarf_tag(&sub) == DW_TAG_subrange_type) {
            Dwarf_Word n = 0;
            if (dwarf_attr(&sub, DW_AT_count, &a) || dwarf_attr(&sub, DW_AT_upper_bound, &a)) {
                dwarf_formudata(&a, &n);
                if (dwarf_hasattr(&sub, DW_AT_upper_bound))
                    n++;
            }
            putf(t, "[%llu]", n);
        }
        return;
    }
    case DW_TAG_subroutine_type: {
        put(t, "fn(");
        describe_params(t, type, depth + 1);
        put(t, ")->");
        describe_ref(t, type, depth + 1);
        return;
    }
    default:
        put(t, name ? name : "?");
        return;
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lines "name: (params)->ret" for every defined external function that is
 * also an export of the module's symbol table. */
static int dump(const char *path, struct text *out, char *msg, size_t msgsize)
{
    struct modsyms ms;
    if (modsyms_read(path, &ms, msg, msgsize) != 0)
        return -1;
    static const Dwfl_Callbacks cb = {
        .find_debuginfo = dwfl_standard_find_debuginfo,
        .section_address = dwfl_offline_section_address,
    };
    Dwfl *dwfl = dwfl_begin(&cb);
    Dwfl_Module *mod = dwfl ? dwfl_report_offline(dwfl, "module", path, -1) : NULL;
    Dwarf_Addr bias;
    Dwarf *dw = mod ? dwfl_module_getdwarf(mod, &bias) : NULL;
    if (!dw) {
        snprintf(msg, msgsize, "%s: no DWARF (build the module with -g)", path);
        if (dwfl)
            dwfl_end(dwfl);
        modsyms_free(&ms);
        return -1;
    }
    char **lines = calloc(ms.nexports + 1, sizeof *lines);
    size_t n = 0;
    Dwarf_Die fn;
    for (Dwarf_Die *c = NULL; (c = dwfl_module_nextcu(mod, c, &bias));) {
        if (dwarf_child(c, &fn) != 0)
            continue;
        do {
            const char *name = dwarf_diename(&fn);
            if (dwarf_tag(&fn) != DW_TAG_subprogram || !name || !dwarf_hasattr(&fn, DW_AT_external) ||
                dwarf_hasattr(&fn, DW_AT_declaration) ||
                !bsearch(&name, ms.exports, ms.nexports, sizeof *ms.exports, cmp_str))
                continue;
            struct text t = {0};
            put(&t, name);
            put(&t, ": (");
            describe_params(&t, &fn, 0);
            put(&t, ")->");
            describe_ref(&t, &fn, 0);
            if (n < ms.nexports)
                lines[n++] = t.s;
            else
                free(t.s);
        } while (dwarf_siblingof(&fn, &fn) == 0);
    }
    qsort(lines, n, sizeof *lines, cmp_str);
    for (size_t i = 0; i < n; i++) {
        put(out, lines[i]);
        put(out, "\n");
        free(lines[i]);
    }
    free(lines);
    dwfl_end(dwfl);
    modsyms_free(&ms);
    return 0;
}

/* The signature of `name` in a dump, as a pointer into it (up to '\n'). */
static const char *find_line(const char *dumpstr, const char *name, size_t *len)
{
    size_t n = strlen(name);
    for (const char *p = dumpstr; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (!strncmp(p, name, n) && p[n] == ':') {
            *len = strcspn(p, "\n");
            return p;
        }
    return NULL;
}

int hotd_abi_check(const char *module, const char *record, char *report, size_t size)
{
    char msg[512], *then;
    size_t then_len;
    struct text now = {0};
    hotd_read_file(record, &then, &then_len, NULL, 0);
    put(&now, "");
    if (!then || dump(module, &now, msg, sizeof msg) != 0) {
        snprintf(report, size, "%s", then ? msg : "no interface record for this firmware");
        free(then);
        free(now.s);
        return -1;
    }
    size_t used = 0;
    int changed = 0;
    report[0] = '\0';
    for (const char *p = then; *p; p += strcspn(p, "\n") + (p[strcspn(p, "\n")] ? 1 : 0)) {
        size_t nlen = strcspn(p, ":\n"), len = strcspn(p, "\n"), nowlen;
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(nlen < 255 ? nlen : 255), p);
        const char *q = find_line(now.s, name, &nowlen);
        if (q && nowlen == len && !strncmp(p, q, len))
            continue;
        changed = 1;
        if (used < size)
            used += (size_t)snprintf(report + used, size - used,
                                     q ? "%s changed:\n  firmware built for %.*s\n  module now has "
                                         "%.*s\n"
                                       : "%s is gone from the module (firmware built for %.*s)\n%.*s",
                                     name, (int)len, p, q ? (int)nowlen : 0, q ? q : "");
    }
    free(then);
    free(now.s);
    return changed;
}

static int abi_dump(const char *module, const char *out)
{
    char msg[512];
    struct text t = {0};
    put(&t, "");
    if (dump(module, &t, msg, sizeof msg) != 0) {
        fprintf(stderr, "hotd abi: %s\n", msg);
        free(t.s);
        return 1;
    }
    FILE *f = out ? fopen(out, "w") : stdout;
    int rc = !f || fputs(t.s, f) < 0 || (out && fclose(f) != 0);
    if (rc)
        perror(out ? out : "hotd abi");
    free(t.s);
    return rc;
}

/* Keep the lines of t whose function is listed in `functions` (one name a
 * line): the firmware calls only those, the others may change freely. */
static int keep_listed(struct text *t, const char *functions, char *msg, size_t msgsize)
{
    char *list;
    size_t len;
    if (hotd_read_file(functions, &list, &len, msg, msgsize) != 0)
        return -1;
    size_t w = 0;
    for (size_t r = 0; r < t->len;) {
        size_t line = strcspn(t->s + r, "\n") + 1, name = strcspn(t->s + r, ":");
        bool found = false;
        for (const char *p = list; *p && !found; p += strcspn(p, "\n") + (p[strcspn(p, "\n")] != 0))
            found = strcspn(p, "\n") == name && !strncmp(p, t->s + r, name);
        if (found) {
            memmove(t->s + w, t->s + r, line);
            w += line;
        }
        r += line;
    }
    t->len = w;
    t->s[w] = '\0';
    free(list);
    return 0;
}

static int abi_record(const char *module, const char *firmware, const char *dir,
                      const char *functions)
{
    unsigned char id[64];
    size_t idlen;
    char name[160], msg[512];
    struct text t = {0};
    put(&t, "");
    if (hotd_read_build_id(firmware, id, sizeof id, &idlen, msg, sizeof msg) != 0 ||
        dump(module, &t, msg, sizeof msg) != 0 ||
        (functions && keep_listed(&t, functions, msg, sizeof msg) != 0)) {
        fprintf(stderr, "hotd abi: %s\n", msg);
        free(t.s);
        return 1;
    }
    for (size_t i = 0; i < idlen; i++)
        sprintf(name + 2 * i, "%02x", id[i]);
    strcat(name, ".abi");
    int rc = write_if_changed(dir, name, t.s, t.len, msg, sizeof msg) < 0;
    if (rc)
        fprintf(stderr, "hotd abi: %s\n", msg);
    free(t.s);
    return rc;
}

static int abi_check(const char *module, const char *record)
{
    char report[4096];
    int rc = hotd_abi_check(module, record, report, sizeof report);
    if (rc < 0) {
        fprintf(stderr, "hotd abi: %s\n", report);
        return 2;
    }
    fputs(report, rc ? stderr : stdout);
    if (rc)
        fputs("the firmware calls these with the old interface: rebuild and reflash the "
              "firmware\n", stderr);
    return rc;
}

int cmd_abi(int argc, char **argv)
{
    const char *out = NULL, *firmware = NULL, *dir = NULL, *functions = NULL;
    struct hotd_args a = {.cmd = &command};
    for (int o; (o = hotd_next_option(&a, argc, argv)) != HOTD_ARGS_END;) {
        switch (o) {
        case OUT: out = a.value; break;
        case FIRMWARE: firmware = a.value; break;
        case RECORD_DIR: dir = a.value; break;
        case FUNCTIONS: functions = a.value; break;
        default: return hotd_args_exit(o);
        }
    }
    const char *action = a.noperands ? a.operands[0] : "", *const *arg = a.operands + 1;
    bool none = !out && !firmware && !dir && !functions;
    if (!strcmp(action, "dump") && a.noperands == 2 && !firmware && !dir && !functions)
        return abi_dump(arg[0], out);
    if (!strcmp(action, "record") && a.noperands == 2 && firmware && dir && !out)
        return abi_record(arg[0], firmware, dir, functions);
    if (!strcmp(action, "check") && a.noperands == 3 && none)
        return abi_check(arg[0], arg[1]);
    if (!strcmp(action, "dump") || !strcmp(action, "record") || !strcmp(action, "check"))
        return hotd_usage_error(&command, "wrong arguments for '%s'", action);
    return hotd_usage_error(&command, "%s%s%swhich action? dump, record or check",
                            *action ? "unknown action '" : "", action, *action ? "': " : "");
}
