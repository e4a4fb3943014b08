/* The reloadable library's interface: the firmware calls these through
 * stubs; their bodies live in the module and can change at run time. */
#ifndef GREET_H
#define GREET_H

const char *greeting(void);
int arithmetic(int a, int b);
unsigned counter_next(void);

#endif
