/* Local, static, recursive, cross-section and firmware calls. */
extern int fw_putc(int c);
extern void fw_delay(unsigned ms);
extern unsigned fw_millis(void);
extern int fw_add3(int a, int b, int c);

static int sq(int x) { return x * x; }
static __attribute__((noinline)) int twice(int x) { return fw_add3(x, x, 0); }

int calls_fact(int n) { return n <= 1 ? 1 : n * calls_fact(n - 1); }

__attribute__((section(".text.ramfunc"), noinline)) int calls_ramfunc(int a)
{
    fw_putc('r');
    return sq(a) + twice(a);
}

static __attribute__((noinline)) int even(int n);
static __attribute__((noinline)) int odd(int n) { return n == 0 ? 0 : even(n - 1); }
static __attribute__((noinline)) int even(int n) { return n == 0 ? 1 : odd(n - 1); }

int calls_main(int n)
{
    unsigned t0 = fw_millis();
    int acc = 0;
    for (int i = 0; i < n; i++) {
        acc += calls_ramfunc(i) + calls_fact(i & 7) + even(i);
        fw_delay(1);
    }
    fw_putc('\n');
    return acc + (int)(fw_millis() - t0);
}

/* A tail call into the firmware. */
int calls_tail(int x) { return fw_add3(x, 1, 2); }
