/* A state machine: a switch inside a loop, a table of structs with code pointers. */
#include <stdint.h>
extern int fw_getc(void);
extern void fw_emit(int tok, int64_t val);

enum { S_IDLE, S_NUM, S_HEX, S_NEG, S_STR, S_ESC, S_END };

static int64_t value;
static int state;

static int classify(int c)
{
    switch (c) {
    case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9': return 1;
    case '-': return 2;
    case '"': return 3;
    case '\\': return 4;
    case 'x': return 5;
    case -1: return 6;
    default: return 0;
    }
}

int sm_run(void)
{
    int c, tokens = 0;
    state = S_IDLE;
    while (state != S_END) {
        c = fw_getc();
        int k = classify(c);
        switch (state) {
        case S_IDLE: state = k == 1 ? S_NUM : k == 2 ? S_NEG : k == 3 ? S_STR : k == 6 ? S_END : S_IDLE;
            value = k == 1 ? c - '0' : 0; break;
        case S_NUM: if (k == 1) value = value * 10 + (c - '0');
            else if (k == 5) state = S_HEX;
            else { fw_emit(1, value); tokens++; state = k == 6 ? S_END : S_IDLE; } break;
        case S_HEX: if (k == 1) value = value * 16 + (c - '0');
            else { fw_emit(2, value); tokens++; state = S_IDLE; } break;
        case S_NEG: value = -(int64_t)(c - '0'); state = S_NUM; break;
        case S_STR: if (k == 4) state = S_ESC; else if (k == 3) { fw_emit(3, 0); tokens++; state = S_IDLE; } break;
        case S_ESC: state = S_STR; break;
        default: state = S_END;
        }
    }
    return tokens;
}
