/* hotd link: the firmware's linker launcher. The build runs the firmware's
 * link command through it; it reads what the command links (objects and
 * archives), gives each module a stub only for the functions those inputs
 * call -- or the ones listed in NAME.keep -- assembles the stubs and
 * their table, and runs the link. A function the firmware does not call
 * thus changes nothing in the firmware: adding one to a module needs no
 * new firmware and no reflash. (igrr/hotreload and `hotd stubs` without
 * --at-link stub every exported function instead.) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hotd.h"
#include "options.h"
#include "stubs.h"

enum { MODULE, ARCH, INCLUDE };
static const struct hotd_opt options[] = {
    [MODULE] = {"module", 0, "DIR/NAME.o", "a module the firmware calls (repeatable); the\n"
                                           "stubs go beside it, into DIR"},
    [ARCH] = {"arch", 0, "ARCH", "as for hotd stubs"},
    [INCLUDE] = {"include", 0, "DIR", "where hotreload.h is (for NAME_symtab.c)"},
    {0},
};

static const struct hotd_cmd command = {
    .name = "link",
    .opts = options,
    .usage =
    "usage: hotd link --module DIR/NAME.o... --arch ARCH --include DIR -- LINK COMMAND\n"
    "\n"
    "The firmware's linker launcher (CMake's <LANG>_LINKER_LAUNCHER). For each\n"
    "module: the functions the link's objects and archives call, and those listed\n"
    "one a line in DIR/NAME.keep, get a stub; writes DIR/NAME_stubs.S,\n"
    "NAME_symtab.c and NAME_exports.txt (only when they change), compiles them to\n"
    "NAME_stubs.o and NAME_symtab.o with the link's compiler and machine flags,\n"
    "then runs LINK COMMAND, which names those two objects.\n",
};

#define MAX_MODULES 32

struct strs {
    char **v;
    size_t n;
};

static void strs_free(struct strs *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

/* The stubs' own objects are outputs here, not callers. */
static bool ours(const char *arg)
{
    return has_suffix(arg, "_stubs.o") || has_suffix(arg, "_symtab.o");
}

static int input_undefined(const char *a, struct strs *undef);

/* A response file (@FILE): its arguments, separated by white space. */
static int response_undefined(const char *path, struct strs *undef)
{
    char *text;
    size_t len;
    if (hotd_read_file(path, &text, &len, NULL, 0) != 0)
        return 0; /* the linker will say what is wrong with it */
    int rc = 0;
    for (char *save = NULL, *w = strtok_r(text, " \t\r\n", &save); w && rc == 0;
         w = strtok_r(NULL, " \t\r\n", &save))
        if (w[0] != '@') /* no nesting: a loop would never end */
            rc = input_undefined(w, undef);
    free(text);
    return rc;
}

/* What one link argument leaves undefined, if it is an object or an
 * archive (libraries given as -lNAME are the system's, which do not call a
 * module). */
static int input_undefined(const char *a, struct strs *undef)
{
    char msg[512];
    struct stat st;
    if (a[0] == '@')
        return response_undefined(a + 1, undef);
    if (a[0] == '-' || ours(a) ||
        !(has_suffix(a, ".o") || has_suffix(a, ".obj") || has_suffix(a, ".a")))
        return 0;
    if (stat(a, &st) != 0 || !S_ISREG(st.st_mode))
        return 0; /* the linker will say what is wrong with it */
    if (undefined_symbols(a, &undef->v, &undef->n, msg, sizeof msg) != 0) {
        fprintf(stderr, "hotd link: %s\n", msg);
        return -1;
    }
    return 0;
}

/* What the link's inputs leave undefined. */
static int link_undefined(char **cmd, int n, struct strs *undef)
{
    for (int i = 1; i < n; i++)
        if (input_undefined(cmd[i], undef) != 0)
            return -1;
    return 0;
}

/* NAME.keep beside the module: functions to stub though the firmware
 * does not call them (hotreload_add_module(... KEEP f g)). */
static int read_keep(const char *dir, const char *name, struct strs *keep)
{
    char path[4400], *text;
    size_t len;
    snprintf(path, sizeof path, "%s/%s.keep", dir, name);
    if (access(path, F_OK) != 0)
        return 0;
    if (hotd_read_file(path, &text, &len, NULL, 0) != 0) {
        fprintf(stderr, "hotd link: %s: cannot read: %s\n", path, strerror(errno));
        return -1;
    }
    for (char *save = NULL, *w = strtok_r(text, " \t\r\n", &save); w;
         w = strtok_r(NULL, " \t\r\n", &save)) {
        char **nv = realloc(keep->v, (keep->n + 1) * sizeof *nv);
        if (nv)
            keep->v = nv;
        if (!nv || !(nv[keep->n] = strdup(w))) {
            fprintf(stderr, "hotd link: out of memory\n");
            free(text);
            return -1;
        }
        keep->n++;
    }
    free(text);
    return 0;
}

static bool listed(const struct strs *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->v[i], name))
            return true;
    return false;
}

/* Run argv; 0 when it exits 0, else said. */
static int run(char **argv)
{
    pid_t pid = fork();
    if (pid == 0) {
        execvp(argv[0], argv);
        fprintf(stderr, "hotd link: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid) {
        fprintf(stderr, "hotd link: cannot run %s: %s\n", argv[0], strerror(errno));
        return -1;
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* Compile dir/NAME<src> to dir/NAME<obj> with the link's driver and the
 * flags that choose the machine and code model (-m..., -f..., --specs),
 * unless the object is newer than its source. */
static int compile(char **cmd, int n, const char *include, const char *dir, const char *name,
                   const char *src, const char *obj)
{
    char in[4096], out[4096], inc[4200];
    snprintf(in, sizeof in, "%s/%s%s", dir, name, src);
    snprintf(out, sizeof out, "%s/%s%s", dir, name, obj);
    snprintf(inc, sizeof inc, "-I%s", include);
    struct stat si, so;
    if (stat(in, &si) == 0 && stat(out, &so) == 0 &&
        (so.st_mtim.tv_sec > si.st_mtim.tv_sec ||
         (so.st_mtim.tv_sec == si.st_mtim.tv_sec && so.st_mtim.tv_nsec > si.st_mtim.tv_nsec)))
        return 0;
    char **argv = calloc((size_t)n + 8, sizeof *argv);
    if (!argv)
        return -1;
    int k = 0;
    argv[k++] = cmd[0];
    for (int i = 1; i < n; i++)
        if (!strncmp(cmd[i], "-m", 2) || (!strncmp(cmd[i], "-f", 2) && !strchr(cmd[i], '=')) ||
            !strncmp(cmd[i], "--specs=", 8) || !strcmp(cmd[i], "-g"))
            argv[k++] = cmd[i];
    argv[k++] = inc;
    argv[k++] = "-c";
    argv[k++] = in;
    argv[k++] = "-o";
    argv[k++] = out;
    int rc = run(argv);
    free(argv);
    if (rc != 0)
        fprintf(stderr, "hotd link: compiling %s failed\n", in);
    return rc;
}

/* One module's stubs, for the functions the link calls or keeps. */
static int module_stubs(const char *path, enum arch arch, const char *include,
                        const struct strs *undef, char **cmd, int n)
{
    char dir[4096], name[256];
    const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    snprintf(name, sizeof name, "%.*s", (int)strcspn(base, "."), base);
    struct modsyms all, called = {0};
    struct strs keep = {0};
    if (stubs_read_module("link", path, arch, &all) != 0)
        return -1;
    int rc = read_keep(dir, name, &keep);
    /* What the module says of its target (ABI, CPU) decides the stubs' form. */
    called.machine = all.machine;
    called.elfclass = all.elfclass;
    called.xtensa_abi = all.xtensa_abi;
    called.arm_cpu_arch = all.arm_cpu_arch;
    called.exports = calloc(all.nexports + 1, sizeof *called.exports);
    for (size_t i = 0; rc == 0 && i < all.nexports; i++)
        if (listed(undef, all.exports[i]) || listed(&keep, all.exports[i]))
            called.exports[called.nexports++] = all.exports[i];
    for (size_t i = 0; rc == 0 && i < keep.n; i++)
        if (!listed(&(struct strs){all.exports, all.nexports}, keep.v[i])) {
            fprintf(stderr, "hotd link: %s/%s.keep lists '%s', which module '%s' does not "
                    "export (a non-static function is needed)\n", dir, name, keep.v[i], name);
            rc = -1;
        }
    int written = 0;
    if (rc == 0)
        rc = stubs_write("link", arch, name, dir, &all, &called,
                         STUBS_ASM | STUBS_SYMTAB | STUBS_EXPORTS, &written);
    if (rc == 0)
        rc = compile(cmd, n, include, dir, name, "_stubs.S", "_stubs.o");
    if (rc == 0)
        rc = compile(cmd, n, include, dir, name, "_symtab.c", "_symtab.o");
    free(called.exports);
    strs_free(&keep);
    modsyms_free(&all);
    return rc;
}

int cmd_link(int argc, char **argv)
{
    int sep = 1;
    while (sep < argc && strcmp(argv[sep], "--") != 0)
        sep++;
    const char *modules[MAX_MODULES], *arch_name = NULL, *include = NULL;
    size_t nmod = 0;
    struct hotd_args a = {.cmd = &command};
    for (int o; (o = hotd_next_option(&a, sep, argv)) != HOTD_ARGS_END;) {
        switch (o) {
        case MODULE:
            if (nmod == MAX_MODULES)
                return hotd_usage_error(&command, "more than %d modules", MAX_MODULES);
            modules[nmod++] = a.value;
            break;
        case ARCH: arch_name = a.value; break;
        case INCLUDE: include = a.value; break;
        default: return hotd_args_exit(o);
        }
    }
    if (sep + 1 >= argc || !nmod || !arch_name || !include || a.noperands)
        return hotd_usage_error(&command, "--module, --arch, --include, then -- and the link "
                                          "command are required");
    char **cmd = argv + sep + 1;
    int n = argc - sep - 1;
    int arch = stubs_arch("link", arch_name);
    struct strs undef = {0};
    int rc = arch < 0 || link_undefined(cmd, n, &undef) != 0 ? 1 : 0;
    for (size_t i = 0; rc == 0 && i < nmod; i++)
        rc = module_stubs(modules[i], (enum arch)arch, include, &undef, cmd, n) ? 1 : 0;
    strs_free(&undef);
    if (rc != 0)
        return rc;
    fflush(NULL);
    execvp(cmd[0], cmd);
    fprintf(stderr, "hotd link: cannot run %s: %s\n", cmd[0], strerror(errno));
    return 127;
}
