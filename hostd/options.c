/* What hotd's commands share about their arguments: one option parser,
 * getopt_long driven by each command's table, the help made from that
 * table, and the one rule for defaults taken from the environment. */
#define _GNU_SOURCE /* getopt_long */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OPTS 24 /* relocate's table, the largest, has 10 */
#define HELP_VAL 'h'
#define INDEX_VAL 256 /* an option without a short alias: INDEX_VAL + its index */

/* getopt_long's view of the command's table (a command runs once a process). */
static struct option longopts[MAX_OPTS + 2];
static char shortopts[2 + 2 * MAX_OPTS + 2];
static size_t nopts;

static const struct hotd_opt help_opt = {"help", HELP_VAL, NULL, "this text"};

static void make_getopt_tables(const struct hotd_cmd *cmd)
{
    /* "-": operands come back in order, so options may follow them whatever
     * POSIXLY_CORRECT says; ":": a missing value is told apart, and said by us. */
    size_t s = 0;
    shortopts[s++] = '-';
    shortopts[s++] = ':';
    for (nopts = 0; cmd->opts[nopts].name && nopts < MAX_OPTS; nopts++) {
        const struct hotd_opt *o = &cmd->opts[nopts];
        longopts[nopts] = (struct option){o->name, o->arg ? required_argument : no_argument,
                                          NULL, o->alias ? o->alias : INDEX_VAL + (int)nopts};
        if (o->alias) {
            shortopts[s++] = o->alias;
            if (o->arg)
                shortopts[s++] = ':';
        }
    }
    longopts[nopts] = (struct option){help_opt.name, no_argument, NULL, HELP_VAL};
    longopts[nopts + 1] = (struct option){0};
    shortopts[s++] = HELP_VAL;
    shortopts[s] = '\0';
}

/* The table index of getopt's value, or -1 (HELP_VAL: nopts). */
static int index_of(int val)
{
    if (val == HELP_VAL)
        return (int)nopts;
    for (size_t i = 0; i < nopts; i++)
        if (longopts[i].val == val)
            return (int)i;
    return -1;
}

/* "--name ARG" (or "--name") as help and errors show an option. */
static void spell(const struct hotd_opt *o, char *out, size_t size)
{
    snprintf(out, size, "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
}

/* "  -x, --name ARG  help", the help's further lines under its first. */
static void print_opt(FILE *f, const struct hotd_opt *o, int width)
{
    char left[64];
    spell(o, left, sizeof left);
    if (o->alias)
        fprintf(f, "  -%c, %-*s  ", o->alias, width, left);
    else
        fprintf(f, "      %-*s  ", width, left);
    for (const char *p = o->help; *p;) {
        int n = (int)strcspn(p, "\n");
        fprintf(f, "%.*s\n", n, p);
        p += n;
        if (*p == '\n' && *++p)
            fprintf(f, "%*s", 6 + width + 2, "");
    }
}

static void print_help(const struct hotd_cmd *cmd, FILE *f)
{
    int width = 0;
    for (size_t i = 0; i <= nopts; i++) {
        char left[64];
        spell(i < nopts ? &cmd->opts[i] : &help_opt, left, sizeof left);
        width = (int)strlen(left) > width ? (int)strlen(left) : width;
    }
    fprintf(f, "%s\n", cmd->usage);
    for (size_t i = 0; i < nopts; i++)
        print_opt(f, &cmd->opts[i], width);
    print_opt(f, &help_opt, width);
    if (cmd->notes)
        fprintf(f, "\n%s", cmd->notes);
}

int hotd_usage_error(const struct hotd_cmd *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "hotd %s: ", cmd->name);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\ntry 'hotd %s --help'\n", cmd->name);
    va_end(ap);
    return 2;
}

/* Say what was wrong with the option getopt_long refused (`c`: '?' or ':'). */
static void refused(const struct hotd_cmd *cmd, int c, const char *given)
{
    int i = index_of(optopt);
    const struct hotd_opt *o = i < 0 ? NULL : i == (int)nopts ? &help_opt : &cmd->opts[i];
    size_t len = strcspn(given + 2, "="), matches = 0;
    if (c == ':' && o) {
        hotd_usage_error(cmd, "option '%s' needs a value (%s)", given, o->arg);
    } else if (o) { /* "--flag=value" */
        hotd_usage_error(cmd, "option '--%s' takes no value", o->name);
    } else if (optopt) { /* an unknown short option, perhaps inside "-qz" */
        hotd_usage_error(cmd, "unknown option '-%c'", optopt);
    } else { /* getopt_long takes any unambiguous prefix of a long name */
        for (size_t k = 0; k < nopts; k++)
            matches += !strncmp(cmd->opts[k].name, given + 2, len);
        hotd_usage_error(cmd, "%s option '%s'", matches > 1 ? "ambiguous" : "unknown", given);
    }
}

/* Keep an operand: 0, or HOTD_ARGS_BAD when the command takes no more. */
static int add_operand(struct hotd_args *a, const char *operand)
{
    if (a->noperands == a->cmd->max_operands || a->noperands == HOTD_MAX_OPERANDS) {
        hotd_usage_error(a->cmd, "unexpected argument '%s'", operand);
        return HOTD_ARGS_BAD;
    }
    a->operands[a->noperands++] = operand;
    return 0;
}

int hotd_next_option(struct hotd_args *a, int argc, char **argv)
{
    if (!a->started) {
        a->started = true;
        make_getopt_tables(a->cmd);
        optind = 0; /* glibc: start over, whatever parsed before */
        opterr = 0;
    }
    int c;
    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) == 1)
        if (add_operand(a, optarg) != 0)
            return HOTD_ARGS_BAD;
    if (c == -1) { /* what follows "--" is operands only */
        while (optind < argc)
            if (add_operand(a, argv[optind++]) != 0)
                return HOTD_ARGS_BAD;
        return HOTD_ARGS_END;
    }
    if (c == '?' || c == ':') {
        refused(a->cmd, c, argv[optind - 1]);
        return HOTD_ARGS_BAD;
    }
    if (c == HELP_VAL) {
        print_help(a->cmd, stdout);
        return HOTD_ARGS_HELP;
    }
    a->current = index_of(c);
    a->value = optarg;
    return a->current;
}

int hotd_args_exit(int next)
{
    return next == HOTD_ARGS_HELP ? 0 : 2;
}

int hotd_parse_u64(const char *s, unsigned long long *out)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-')
        return -1;
    *out = strtoull(s, &end, 0);
    return errno || *end ? -1 : 0;
}

int hotd_option_number(struct hotd_args *a, unsigned long long min, unsigned long long max,
                       unsigned long long *out)
{
    const char *name = a->cmd->opts[a->current].name;
    if (hotd_parse_u64(a->value, out) == 0 && *out >= min && *out <= max)
        return 0;
    if (min == 0 && max == ~0ull)
        hotd_usage_error(a->cmd, "option '--%s' wants a number (decimal or 0x-hex), not '%s'",
                         name, a->value);
    else
        hotd_usage_error(a->cmd, "option '--%s' wants a number from %llu to %llu, not '%s'",
                         name, min, max, a->value);
    return HOTD_ARGS_BAD;
}

int hotd_option_url(struct hotd_args *a, const char **urls, size_t *n)
{
    if (*n == HOTD_MAX_URLS) {
        hotd_usage_error(a->cmd, "too many --url (at most %d)", HOTD_MAX_URLS);
        return HOTD_ARGS_BAD;
    }
    urls[(*n)++] = a->value;
    return 0;
}

/* Empty counts as unset: `HOTRELOAD_URL= hotd ...`, or a script passing
 * "$DIR" that was never set, means "no value", never the empty string. */
const char *hotd_env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

const char *hotd_build_dir(const char *given)
{
    const char *env = hotd_env("HOTRELOAD_BUILD");
    return given && *given ? given : env ? env : "build";
}

const char *hotd_default_url(void)
{
    const char *env = hotd_env("HOTRELOAD_URL");
    return env ? env : "http://127.0.0.1:8080";
}
