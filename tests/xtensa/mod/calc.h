/* The calc module's interface, shared by the module and the firmware.
 *
 * The firmware calls every calc_ function through the call0 stubs `hotd
 * stubs` generated from version 1; version 2 exports the same functions
 * with other results, so a reload shows up in every check. Each function
 * stresses something a stub or a relocation could get wrong. */
#ifndef CALC_H
#define CALC_H
#include <stdint.h>

/* Four words: returned in a2..a5. */
struct calc_quad {
    int32_t a, b, c, d;
};

/* Over four words: returned through a hidden pointer the caller passes. */
struct calc_big {
    int32_t v[7];
};

typedef int32_t (*calc_op)(int32_t a, int32_t b);

/* Provided by the firmware (the module's imports). */
int32_t fw_scale(int32_t x);
int32_t fw_apply(calc_op op, int32_t a, int32_t b);
int64_t fw_wide(int32_t a, int64_t b, int32_t c, int64_t d, int32_t e, int64_t f);
void fw_note(const char *what, int32_t value);

/* The module's functions. */
int32_t calc_version(void);
int32_t calc_sum10(int32_t a0, int32_t a1, int32_t a2, int32_t a3, int32_t a4, int32_t a5,
                   int32_t a6, int32_t a7, int32_t a8, int32_t a9);
int64_t calc_mix(int8_t a, int64_t b, int32_t c, int64_t d, int16_t e, int64_t f);
uint64_t calc_muldiv(uint64_t a, uint32_t b, uint32_t c);
int32_t calc_vsum(int32_t n, ...);
struct calc_quad calc_quad(int32_t x);
struct calc_big calc_big(int32_t seed);
int32_t calc_callback(int32_t x);
calc_op calc_get_op(int32_t which);
int32_t calc_count(int32_t step);
int32_t calc_table(uint32_t i);
int32_t calc_switch(int32_t x, int32_t y);
const char *calc_name(void);
int32_t calc_near(int32_t x);
int32_t calc_branch(int32_t a, int32_t b);
/* The return address the module sees: its caller's, if stubs are frameless. */
void *calc_caller(void);
#endif
