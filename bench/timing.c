#define _POSIX_C_SOURCE 200809L
#include "timing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Linear interpolation between closest ranks. */
static double quantile(const double *v, int n, double q)
{
    double at = q * (n - 1);
    int lo = (int)at;
    if (lo >= n - 1)
        return v[n - 1];
    return v[lo] + (at - lo) * (v[lo + 1] - v[lo]);
}

void bench_stats_of(double *v, int n, struct bench_stats *out)
{
    memset(out, 0, sizeof *out);
    if (n <= 0)
        return;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    out->n = n;
    out->min = v[0];
    out->max = v[n - 1];
    out->median = quantile(v, n, 0.5);
    out->p25 = quantile(v, n, 0.25);
    out->p75 = quantile(v, n, 0.75);
}

double bench_spread(const struct bench_stats *s)
{
    return s->median > 0 ? 100.0 * (s->p75 - s->p25) / s->median : 0;
}

static double sample(bench_fn fn, void *ctx, long iters)
{
    double t0 = bench_now_ns();
    fn(ctx, iters);
    return (bench_now_ns() - t0) / (double)iters;
}

void bench_pair(bench_fn a, void *actx, bench_fn b, void *bctx, double sample_ms, int samples,
                struct bench_stats *sa, struct bench_stats *sb)
{
    /* Warm up (caches, page tables, lazy binding), then calibrate. */
    a(actx, 1);
    b(bctx, 1);
    long iters = 1;
    for (;;) {
        double ta = sample(a, actx, iters) * (double)iters;
        double tb = sample(b, bctx, iters) * (double)iters;
        double t = ta > tb ? ta : tb;
        if (t >= sample_ms * 1e6 || iters > (1L << 40))
            break;
        double scale = t > 0 ? sample_ms * 1e6 / t : 100;
        iters = (long)((double)iters * (scale > 100 ? 100 : scale < 2 ? 2 : scale * 1.1));
    }
    double *va = calloc((size_t)samples, sizeof *va), *vb = calloc((size_t)samples, sizeof *vb);
    if (!va || !vb)
        exit(2);
    for (int i = 0; i < samples; i++) {
        va[i] = sample(a, actx, iters);
        vb[i] = sample(b, bctx, iters);
    }
    bench_stats_of(va, samples, sa);
    bench_stats_of(vb, samples, sb);
    free(va);
    free(vb);
}

/* JSON string contents: notes are ours, but keep quotes and backslashes safe. */
static void put_json_string(const char *s)
{
    putchar('"');
    for (; s && *s; s++) {
        if (*s == '"' || *s == '\\')
            putchar('\\');
        putchar(*s == '\n' ? ' ' : *s);
    }
    putchar('"');
}

void bench_result(const char *id, double value, double spread, double baseline,
                  double baseline_spread, const char *unit, const char *notes)
{
    printf("{\"id\": ");
    put_json_string(id);
    printf(", \"value\": %.6g, \"spread\": %.3g", value, spread);
    if (baseline >= 0)
        printf(", \"baseline\": %.6g, \"baseline_spread\": %.3g", baseline, baseline_spread);
    printf(", \"unit\": ");
    put_json_string(unit);
    printf(", \"notes\": ");
    put_json_string(notes ? notes : "");
    printf("}\n");
    fflush(stdout);
}

bool bench_quick(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--quick"))
            return true;
    return false;
}
