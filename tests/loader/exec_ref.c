/* The module source built into the test itself, with every name prefixed by
 * ref_: the expected results for loader_exec_x86_64. */
#define HR_MOD(name) ref_##name
#include "mod_main.c"
