/* The stub torture module's interface, shared by the module and the firmware.
 *
 * Every function is called by the firmware through a generated stub; each
 * one stresses a part of the calling convention a stub must not disturb.
 * TNAME() lets the firmware compile the same source a second time under
 * other names (ref_...), as the reference the module's results must match. */
#ifndef TORTURE_TYPES_H
#define TORTURE_TYPES_H
#include <stdint.h>

/* Returned in memory on x86-64 (over 16 bytes), through a hidden pointer. */
struct t_big {
    int64_t a;
    int32_t b;
    double c;
    int64_t d;
};

/* Returned in registers (rax:rdx on x86-64, a0:a1 on RISC-V). */
struct t_small {
    int32_t x;
    int32_t y;
};

typedef long (*t_op_fn)(long, long);

/* Provided by the firmware. */
int fw_callback(int x);
int fw_check_return(void *return_address);
#endif

#ifndef TNAME
#define TNAME(n) n
#endif

long TNAME(t_sum10)(long a0, long a1, long a2, long a3, long a4, long a5, long a6, long a7,
                    long a8, long a9);
double TNAME(t_mixed)(int i0, double d0, int i1, double d1, int i2, double d2, int i3,
                      double d3, int i4, double d4, int i5, double d5, int i6, double d6,
                      int i7, double d7, float f8, double d9);
int TNAME(t_sum_fmt)(const char *fmt, ...);
struct t_big TNAME(t_big_make)(int64_t seed, int32_t b, double c);
struct t_small TNAME(t_small_make)(int32_t x, int32_t y);
uint64_t TNAME(t_u64)(uint32_t hi, uint32_t lo, unsigned shift);
int TNAME(t_callback)(int x);
t_op_fn TNAME(t_get_op)(int which);
int TNAME(t_where)(void);
