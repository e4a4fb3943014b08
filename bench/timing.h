/* Shared by the C benchmarks: a monotonic clock, interleaved A/B sampling
 * and the JSON lines bench/run.py reads. */
#ifndef BENCH_TIMING_H
#define BENCH_TIMING_H

#include <stdbool.h>

double bench_now_ns(void);

struct bench_stats {
    double median, p25, p75, min, max;
    int n;
};

/* Sorts v in place. */
void bench_stats_of(double *v, int n, struct bench_stats *out);
/* Interquartile range as a percentage of the median: the "spread" column. */
double bench_spread(const struct bench_stats *s);

/* Runs `iters` iterations of what is measured. */
typedef void (*bench_fn)(void *ctx, long iters);

/* Time a and b per iteration (ns), sample by sample in turn, so that noise
 * from the machine's other work falls on both alike. The iteration count is
 * calibrated so that one sample of the slower of the two lasts about
 * sample_ms. */
void bench_pair(bench_fn a, void *actx, bench_fn b, void *bctx, double sample_ms, int samples,
                struct bench_stats *sa, struct bench_stats *sb);

/* One result line for bench/run.py. unit: of value and baseline (the same
 * unit); baseline < 0: none. notes may be NULL. */
void bench_result(const char *id, double value, double spread, double baseline,
                  double baseline_spread, const char *unit, const char *notes);

/* --quick among argv? */
bool bench_quick(int argc, char **argv);

#endif
