/* Statically linked structures: nodes pointing at each other and at code. */
#include <stddef.h>
extern void fw_visit(const char *name, int v);
extern void *fw_alloc(size_t n);

struct node {
    const char *name;
    int value;
    struct node *next;
    void (*on_visit)(struct node *);
};

static void bump(struct node *n) { n->value++; }
static void report(struct node *n) { fw_visit(n->name, n->value); }

static struct node n3 = {"third", 3, NULL, report};
static struct node n2 = {"second", 2, &n3, bump};
struct node list_head = {"first", 1, &n2, report};
struct node *list_tail = &n3;

int list_walk(void)
{
    int total = 0;
    for (struct node *n = &list_head; n; n = n->next) {
        n->on_visit(n);
        total += n->value;
    }
    return total;
}

struct node *list_push(const char *name, int v)
{
    struct node *n = fw_alloc(sizeof *n);
    if (!n)
        return NULL;
    n->name = name;
    n->value = v;
    n->next = NULL;
    n->on_visit = bump;
    list_tail->next = n;
    list_tail = n;
    return n;
}
