/* What hotd's commands share about their arguments: one option parser
 * (getopt_long, driven by each command's table, which also makes its
 * --help) and one rule for defaults from the environment. */
#ifndef HOTD_OPTIONS_H
#define HOTD_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

/* One option of a command, declared once: parsed and listed in --help. */
struct hotd_opt {
    const char *name;  /* --name; NULL ends a table */
    char alias;        /* -x, or 0 (-h is --help in every command) */
    const char *arg;   /* what it takes, as the help names it ("DIR"); NULL: a flag */
    const char *help;  /* its help, lines after the first separated by '\n' */
};

struct hotd_cmd {
    const char *name;            /* the subcommand: "push" */
    const char *usage;           /* --help before the options: usage lines, what it does */
    const struct hotd_opt *opts; /* index i is what hotd_next_option returns for it */
    const char *notes;           /* --help after the options, or NULL */
    int max_operands;            /* the arguments that are not options */
};

#define HOTD_MAX_OPERANDS 4

/* The state of one command's parse. Set .cmd; the rest is the parser's. */
struct hotd_args {
    const struct hotd_cmd *cmd;
    const char *value;                          /* the argument of the option returned */
    const char *operands[HOTD_MAX_OPERANDS];   /* in the order given */
    int noperands;
    int current;                                /* the option returned last */
    bool started;
};

/* What hotd_next_option returns besides an option's index. */
enum {
    HOTD_ARGS_END = -1,  /* every argument read */
    HOTD_ARGS_HELP = -2, /* --help: printed on stdout */
    HOTD_ARGS_BAD = -3,  /* a usage error: said on stderr */
};

/* The next option of argv (argv[0] the subcommand): its index in the
 * command's table with its argument in a->value, or one of the above.
 * Operands, anywhere among the options or after "--", are collected in
 * a->operands. Errors name the bad argument and point to --help. */
int hotd_next_option(struct hotd_args *a, int argc, char **argv);

/* The exit status for HOTD_ARGS_HELP (0) or HOTD_ARGS_BAD (2). */
int hotd_args_exit(int next);

/* Say "hotd CMD: MESSAGE" and where help is, on stderr; returns 2, the exit
 * status of a usage error. */
int hotd_usage_error(const struct hotd_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The current option's value as a number (decimal or 0x-hex) within
 * [min, max]: 0, or HOTD_ARGS_BAD with the error said. */
int hotd_option_number(struct hotd_args *a, unsigned long long min, unsigned long long max,
                       unsigned long long *out);

/* Parse an address or size: decimal or 0x-hex. Returns 0 on success. */
int hotd_parse_u64(const char *s, unsigned long long *out);

/* Append the current option's value to urls (--url is repeatable): 0, or
 * HOTD_ARGS_BAD when there are HOTD_MAX_URLS already. */
#define HOTD_MAX_URLS 64
int hotd_option_url(struct hotd_args *a, const char **urls, size_t *n);

/* The one rule for defaults from the environment, in every command: an
 * option given wins; else the variable, when set and not empty (empty
 * counts as unset); else the built-in default. hotd_env: $NAME, or NULL
 * when unset or empty. */
const char *hotd_env(const char *name);
/* `given` (--build) unless NULL or empty, else $HOTRELOAD_BUILD, else ./build. */
const char *hotd_build_dir(const char *given);
/* The device when no --url is given: $HOTRELOAD_URL, else http://127.0.0.1:8080. */
const char *hotd_default_url(void);

#endif
