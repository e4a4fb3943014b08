/* Function-pointer tables, callbacks to and from the firmware. */
extern int fw_register(int (*cb)(int), int id);
extern int fw_call_with(int (*fn)(void *), void *arg);
extern int fw_get(void);

static int op_inc(int x) { return x + 1; }
static int op_dec(int x) { return x - 1; }
static int op_dbl(int x) { return x * 2; }
int op_neg(int x) { return -x; }

typedef int (*op_fn)(int);
static const op_fn ops_ro[] = {op_inc, op_dec, op_dbl, op_neg};
op_fn ops_rw[] = {op_dbl, op_inc, 0, op_neg};
int (*const fw_ops[])(void) = {fw_get, fw_get};

struct handler {
    const char *name;
    int (*fn)(int);
    int arg;
};
static const struct handler handlers[] = {
    {"inc", op_inc, 1}, {"dec", op_dec, 2}, {"dbl", op_dbl, 3}, {"neg", op_neg, 4},
};

static int visit(void *p) { return *(int *)p + 1; }

int fnptr_apply(unsigned i, int x)
{
    int r = ops_ro[i & 3](x);
    if (ops_rw[i & 3])
        r += ops_rw[i & 3](x);
    r += handlers[i & 3].fn(handlers[i & 3].arg) + handlers[i & 3].name[0];
    r += fw_ops[i & 1]();
    r += fw_call_with(visit, &r);
    return r + fw_register(op_neg, 7);
}

void fnptr_swap(void)
{
    ops_rw[2] = ops_ro[2];
}
