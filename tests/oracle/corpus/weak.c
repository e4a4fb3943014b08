/* Weak imports: one the firmware has, one it does not (address 0). */
extern int fw_optional_hook(int x) __attribute__((weak));
extern int fw_optional_data __attribute__((weak));
extern int fw_present_hook(int x) __attribute__((weak));
extern int fw_add3(int a, int b, int c);

int weak_call(int x)
{
    int r = 0;
    if (fw_optional_hook)
        r += fw_optional_hook(x);
    if (&fw_optional_data)
        r += fw_optional_data;
    if (fw_present_hook)
        r += fw_present_hook(x);
    return fw_add3(r, x, 1);
}

int (*const hook_ptr)(int) = fw_optional_hook;
int (*const present_ptr)(int) = fw_present_hook;
