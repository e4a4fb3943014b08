/* Checks counted and reported through semihosting. */
#ifndef FW_CHECK_H
#define FW_CHECK_H
#include "sim.h"

extern int checks_passed, checks_failed;

#define CHECK(cond, ...)                                                                       \
    do {                                                                                       \
        if (cond) {                                                                            \
            checks_passed++;                                                                   \
        } else {                                                                               \
            checks_failed++;                                                                   \
            say("FAIL %s, line %d: ", __func__, __LINE__);                                     \
            say(__VA_ARGS__);                                                                  \
            say("\n");                                                                         \
        }                                                                                      \
    } while (0)

/* Every calc_ function, through the stubs, against the results version
 * `v` (1 or 2) must give. */
void check_calc(int v);
/* A module just loaded: its data and bss hold their initial values. */
void check_fresh(int v);
/* Calls while no module is loaded reach the symbol table's handlers. */
void check_unloaded(void);

#endif
