/* Dense switches: jump tables. */
extern void fw_log_int(int v);

int switch_dense(int op, int a, int b)
{
    switch (op) {
    case 0: return a + b;
    case 1: return a - b;
    case 2: return a * b;
    case 3: return b ? a / b : 0;
    case 4: return a & b;
    case 5: return a | b;
    case 6: return a ^ b;
    case 7: return a << (b & 31);
    case 8: return a >> (b & 31);
    case 9: return -a;
    default: return 0;
    }
}

static const char *switch_name(unsigned c)
{
    switch (c) {
    case 10: return "ten";
    case 11: return "eleven";
    case 12: return "twelve";
    case 13: return "thirteen";
    case 14: return "fourteen";
    case 15: return "fifteen";
    case 16: return "sixteen";
    case 18: return "eighteen";
    default: return "?";
    }
}

void switch_calls(int k)
{
    switch (k) {
    case 'a': fw_log_int(1); break;
    case 'b': fw_log_int(2); /* fall through */
    case 'c': fw_log_int(3); break;
    case 'd': fw_log_int(k * 7); break;
    case 'e': fw_log_int(switch_dense(k & 7, k, 3)); break;
    case 'f': fw_log_int((int)switch_name((unsigned)k)[0]); break;
    case 'g': fw_log_int(-1); break;
    case 'h': return;
    default: fw_log_int(0);
    }
}

char switch_first(unsigned c) { return switch_name(c)[0]; }
