/* Structs passed and returned by value. */
#include <stdint.h>
struct pt { int x, y; };
struct big { int64_t a[6]; char tag[12]; };
struct mixed { char c; double d; short s; };

extern struct pt fw_origin(void);
extern struct big fw_make_big(int seed);
extern void fw_take_big(struct big b);
extern int fw_take_pt(struct pt p, int k);

struct pt st_add(struct pt a, struct pt b) { return (struct pt){a.x + b.x, a.y + b.y}; }

static struct big make(int s)
{
    struct big b = {{s, s + 1, s + 2, s + 3, s + 4, s + 5}, "tagged"};
    return b;
}

struct big g_proto = {{9, 8, 7}, "proto"};
static struct big s_last;

int64_t st_run(int s)
{
    struct pt p = st_add(fw_origin(), (struct pt){s, -s});
    struct big b = s & 1 ? make(s) : fw_make_big(s);
    s_last = b;
    fw_take_big(g_proto);
    fw_take_big(s_last);
    return b.a[5] + fw_take_pt(p, s) + g_proto.tag[0];
}

struct mixed st_mixed(struct mixed m)
{
    m.c++;
    m.s = (short)(m.s * 2);
    return m;
}
