/* Building one module through the project's own build, as `hotd watch`
 * does on every save and `hotd push` before it pushes (hostd/build.c). */
#ifndef HOTD_BUILD_H
#define HOTD_BUILD_H

#include <signal.h>
#include <stdbool.h>

struct hotd_build {
    const char *build;        /* the build directory */
    const char *name;         /* the module: target NAME_image (NULL: everything) */
    int stop_fd;              /* readable: stop the build (-1: none) */
    const sigset_t *mask;     /* the signal mask the build runs with (NULL: this one) */
    bool verbose;             /* print the whole output, else the diagnostics */
    bool color;               /* errors red, warnings yellow */
    double ms;                /* out: how long it took */
};

/* cmake --build DIR --target NAME_image (ninja directly for a Ninja build),
 * its output shown as `verbose` says. 0 built, 1 failed, -1 stopped. */
int hotd_build_module(struct hotd_build *b);
/* Whether `build` is a CMake build directory (that can build NAME_image). */
bool hotd_can_build(const char *build);

#endif
