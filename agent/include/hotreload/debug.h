/* The debug descriptor: what a debugger reads to follow reloads, in the
 * manner of the dynamic linker's r_debug. The runtime calls
 * hotreload_debug_notify() (a breakpoint target) with `action` set:
 *   ADD     a module was placed and relocated and has not run yet;
 *   DELETE  a module is about to be freed: its memory is still intact, so a
 *           debugger can lift its breakpoints without writing stale bytes;
 *   CONSISTENT  the list is stable again.
 * The layout is versioned; the gdb helper reads it by field name. */
#ifndef HOTRELOAD_DEBUG_H
#define HOTRELOAD_DEBUG_H

#include <stdint.h>

#define HOTRELOAD_DEBUG_VERSION 1
#define HOTRELOAD_DEBUG_MAX_OBJECTS 8   /* old and new copy of up to four modules */

enum hotreload_debug_action {
    HOTRELOAD_DEBUG_CONSISTENT = 0,
    HOTRELOAD_DEBUG_ADD = 1,
    HOTRELOAD_DEBUG_DELETE = 2,
};

struct hotreload_debug_section {
    const char *name;
    uint64_t addr;     /* where the module's code sees it (execution address for code) */
    uint64_t size;
};

/* One placed module. An entry with sections == 0 is free. */
struct hotreload_debug_object {
    const char *module;        /* module name */
    uint32_t generation;       /* the generation this copy is/was loaded as */
    uint32_t build_id_len;
    uint8_t build_id[32];      /* the module's GNU build-id (matches NAME.debug.o) */
    uint32_t nsections;
    const struct hotreload_debug_section *sections;
};

struct hotreload_debug {
    uint32_t version;          /* HOTRELOAD_DEBUG_VERSION */
    uint32_t action;           /* enum hotreload_debug_action */
    uint32_t changes;          /* grows at every notification */
    int32_t subject;           /* index in objects[] the action is about, -1 for none */
    struct hotreload_debug_object objects[HOTRELOAD_DEBUG_MAX_OBJECTS];
};

extern struct hotreload_debug hotreload_debug;

/* Never inlined, never optimised away: the debugger's breakpoint. */
void hotreload_debug_notify(void);

#endif
