/* The torture module compiled into the firmware under ref_ names: what
 * every call through a stub must return. */
#define TNAME(n) ref_##n
#include "torture.c"
