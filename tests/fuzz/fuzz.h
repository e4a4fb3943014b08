/* Shared by the fuzz targets: libFuzzer's entry points, which replay.c also
 * calls, and a check that stops the run on a broken invariant, so that a
 * target finds wrong answers as well as memory errors. */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Every target defines it (libFuzzer calls it once, before any input). */
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* abort() so that libFuzzer keeps the input as a crash and replay fails. */
#define FUZZ_CHECK(cond, ...)                                                                  \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "fuzz check failed (%s:%d): ", __FILE__, __LINE__);               \
            fprintf(stderr, __VA_ARGS__);                                                      \
            fputc('\n', stderr);                                                               \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

#endif
