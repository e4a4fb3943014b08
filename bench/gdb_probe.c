/* The module gdb follows in the re-arm benchmark (gdb_rearm.py): built as
 * ten versions, each with its own build-id, as ten edits would make. */
long bench_probe(long x);
long bench_probe_version = VERSION;

long bench_probe(long x)
{
    return x * 10 + VERSION;
}
