/* The fake runtime of console_test (console_fake.c): what the console
 * asked of it. */
#ifndef CONSOLE_FAKE_H
#define CONSOLE_FAKE_H

#include <stdint.h>

#include "check.h"

/* Uploads begun and not ended, committed, aborted; the last one committed. */
extern int uploads_open, commits, aborts;
extern uint8_t committed[4096];
extern uint32_t committed_len;
/* The replay counter's last accepted value. */
extern uint64_t counter_last;

#endif
