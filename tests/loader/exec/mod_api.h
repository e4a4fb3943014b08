/* The functions and data of exec/mod_main.c. HR_MOD(name) is `name` in the
 * module and another name where the same source is built into the test as
 * the reference (exec_ref.c). */
#ifndef HR_TEST_MOD_API_H
#define HR_TEST_MOD_API_H

#include <stdint.h>

#ifndef HR_MOD
#define HR_MOD(name) name
#endif

struct hr_pt {
    int x, y;
};

struct hr_big {
    long long a, b, c;
    char tag[12];
};

typedef int (*hr_op_fn)(int, int);

extern int HR_MOD(mod_data_word);
extern long long HR_MOD(mod_data_big);
extern int HR_MOD(mod_bss_arr)[16];
extern const unsigned HR_MOD(mod_rodata_tab)[5];
extern const char HR_MOD(mod_greeting)[];
extern const int *HR_MOD(mod_fw_table_ptr);
extern hr_op_fn HR_MOD(mod_ops)[6];

void HR_MOD(mod_reset)(void);
int HR_MOD(mod_count)(void);
int HR_MOD(mod_local_calls)(int x);
int HR_MOD(mod_fw_calls)(int a, int b);
int HR_MOD(mod_switch)(int x);
int HR_MOD(mod_apply)(int op, int a, int b);
hr_op_fn HR_MOD(mod_get_op)(int i);
int HR_MOD(mod_sum_fw_table)(void);
int HR_MOD(mod_bump_fw_counter)(int n);
int HR_MOD(mod_log)(int a, long long b, const char *s, double d);
uint64_t HR_MOD(mod_mix64)(uint64_t a, uint64_t b);
int64_t HR_MOD(mod_div64)(int64_t a, int64_t b);
struct hr_pt HR_MOD(mod_pt_add)(struct hr_pt a, struct hr_pt b);
struct hr_big HR_MOD(mod_big_make)(long long seed, struct hr_big in);
int HR_MOD(mod_strings)(char *dst, int n);
int HR_MOD(mod_bss_fill)(int seed);
const char *HR_MOD(mod_greeting_ptr)(void);
const char *HR_MOD(mod_fw_name)(void);
long long HR_MOD(mod_fw_mul)(long long a, long long b);

#endif
