/* CHECK(cond) for the agent's unit tests: a failed condition is printed with
 * its place and counted in `failures`, which each test defines once. */
#ifndef AGENT_TEST_CHECK_H
#define AGENT_TEST_CHECK_H

#include <stdio.h>

extern int failures;
#define CHECK(cond)                                                                            \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);          \
            failures++;                                                                        \
        }                                                                                      \
    } while (0)

#endif
