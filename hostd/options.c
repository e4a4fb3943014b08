/* What hotd's commands share about their arguments: the one rule for
 * defaults taken from the environment. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>

#include "hotd.h"

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
