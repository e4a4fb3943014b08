/* Reading a module image whole, for the benchmark programs. */
#ifndef BENCH_FILE_H
#define BENCH_FILE_H

#include <stddef.h>

/* The file's bytes (malloc'd) and their count; exits with status 2, naming
 * the file, when it cannot be read or is empty. */
void *read_file(const char *path, size_t *size);

#endif
