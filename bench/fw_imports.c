/* What the generated modules import from the firmware (gen_module.py).
 * Programs linking this export their symbols: the posix port resolves a
 * module's imports with dlsym, and the shared objects bind to them too. */
int bench_fw_scale(int x);
int bench_fw_scale(int x)
{
    return 2 * x;
}

int bench_fw_bias = 5;
