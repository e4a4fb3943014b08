#!/usr/bin/python3
"""Relocate Xtensa objects with the loader (hotd relocate) and with GNU ld at
the same addresses, and compare every placed section byte for byte.

Directives in a source's comments:
  hr-cflags: FLAGS            compiler flags (default: -mlongcalls -O2)
  hr-args: ARGS               hotd relocate arguments for every case
  hr-case: NAME ARGS [!error TEXT] [!noref]
                              one more run with extra ARGS: --sym, or
                              compiler flags (-D -O -f -m -g), which build
                              the case's own object;
                              !error: the loader must refuse with a message
                              containing TEXT, and so must ld;
                              !noref: ld cannot be the oracle (the lx106 ISA
                              lacks the opcode), check hr-bytes instead
  hr-noref                    !noref for every case of the file
  hr-bytes: CASE SECTION OFFSET HEX   bytes the ISA encoding gives, by hand
The 'base' case (hr-args only) runs always; the other cases reuse its layout.
Imports without an --sym get addresses next to the module.
Exit 77 when the toolchain is missing (ctest counts it as skipped)."""
import argparse, os, re, shutil, subprocess, sys

DEFAULTS = ['--text', '0x40100000', '--data', '0x3ffe8000']


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def parse(src):
    d = {'cflags': [], 'args': [], 'case': [], 'bytes': []}
    noref = False
    for line in open(src, encoding='utf-8'):
        m = re.search(r'\bhr-(cflags|args|case|bytes):\s*(.*?)\s*(\*/)?\s*$', line)
        if m:
            d[m.group(1)].append(m.group(2))
        noref = noref or 'hr-noref' in line
    cases = [('base', [], None, noref)]
    for c in d['case']:
        body, _, err = c.partition('!error')
        body = body.replace('!noref', '').split()
        err = err.replace('!noref', '').strip() or None
        cases.append((body[0], body[1:], err, noref or '!noref' in c))
    return d, cases


def cflags(d):
    return ' '.join(d['cflags'] or ['-mlongcalls -O2']).split()


def sym_pairs(args):
    return dict(args[i + 1].split('=', 1) for i in range(len(args) - 1) if args[i] == '--sym')


def ld_link(tools, wdir, obj, layout, syms, tag):
    script = ['SECTIONS {']
    script += ['  %s %s : { %s(%s) }' % (s, a, obj, s) for s, a in layout]
    script += ['}'] + ['%s = %s;' % kv for kv in syms.items()]
    lds = os.path.join(wdir, tag + '.ld')
    open(lds, 'w').write('\n'.join(script) + '\n')
    elf = tag + '.elf'
    r = run([tools['ld'], '--no-relax', '-e', '0', '-T', lds, obj, '-o', elf], cwd=wdir)
    return r, os.path.join(wdir, elf)


def check_case(src, tools, hotd, wdir, obj, undef, d, case, base_layout):
    name, extra, err, noref = case
    defs = [a for a in extra if re.match(r'-[DOfmg]', a)]
    if defs:
        obj = name + '.o'
        r = run([tools['gcc'], '-c', *cflags(d), *defs, os.path.abspath(src), '-o', obj], cwd=wdir)
        if r.returncode:
            return 'compile failed: ' + r.stderr.strip(), None
        undef = [u for u in run([tools['nm'], '-u', obj], cwd=wdir).stdout.split() if u != 'U']
    args = DEFAULTS + ' '.join(d['args']).split() + [a for a in extra if a not in defs]
    syms = sym_pairs(args)
    for i, u in enumerate(sorted(set(undef) - set(syms))):
        syms[u] = '%#x' % (0x40104000 + 0x40 * i)
    out = os.path.join(wdir, name)
    shutil.rmtree(out, ignore_errors=True)
    plain = [a for i, a in enumerate(args) if a != '--sym' and (i == 0 or args[i - 1] != '--sym')]
    h = run([hotd, 'relocate', os.path.join(wdir, obj), '-q', '--out', out] + plain +
            sum((['--sym', '%s=%s' % kv] for kv in syms.items()), []))
    if err:
        if h.returncode != 1 or err not in h.stderr:
            return 'expected the loader to refuse with "%s", got rc %d: %s' % (
                err, h.returncode, h.stderr.strip()), None
        if noref:
            return None, None
        r, _ = ld_link(tools, wdir, obj, base_layout, syms, name)
        if r.returncode == 0:
            return 'the loader refused but ld linked it', None
        return None, None
    if h.returncode:
        return 'loader failed: ' + h.stderr.strip(), None
    layout = [tuple(l.split()[:2]) for l in open(os.path.join(out, 'layout.txt'))]
    bad = []
    for b in d['bytes']:
        cname, sec, off, hexs = b.split()
        if cname != name:
            continue
        got = open(os.path.join(out, sec + '.bin'), 'rb').read()[int(off, 0):][:len(hexs) // 2]
        if got.hex() != hexs.lower():
            bad.append('%s+%s is %s, the ISA encoding says %s' % (sec, off, got.hex(), hexs))
    if noref:
        return '; '.join(bad) or None, layout
    r, elf = ld_link(tools, wdir, obj, layout, syms, name)
    if r.returncode:
        return 'ld failed: ' + r.stderr.strip(), layout
    for sec, _ in layout:
        mine = os.path.join(out, sec + '.bin')
        if not os.path.exists(mine):
            continue
        theirs = os.path.join(wdir, name + sec + '.ld.bin')
        run([tools['objcopy'], '-O', 'binary', '--only-section=' + sec, elf, theirs])
        a = open(mine, 'rb').read()
        b = open(theirs, 'rb').read() if os.path.exists(theirs) else b''
        if a != b:
            diffs = [i for i in range(max(len(a), len(b))) if a[i:i + 1] != b[i:i + 1]]
            k = diffs[0]
            bad.append('%s differs in %d byte(s), first at +%#x (loader %s, ld %s)' % (
                sec, len(diffs), k, a[k:k + 4].hex(), b[k:k + 4].hex()))
    return '; '.join(bad) or None, layout


def check(src, tools, hotd, work):
    d, cases = parse(src)
    name = os.path.splitext(os.path.basename(src))[0]
    wdir = os.path.join(work, name)
    shutil.rmtree(wdir, ignore_errors=True)
    os.makedirs(wdir)
    obj = name + '.o'
    r = run([tools['gcc'], '-c', *cflags(d), os.path.abspath(src), '-o', obj], cwd=wdir)
    if r.returncode:
        return ['compile failed: ' + r.stderr.strip()], 1
    undef = [u for u in run([tools['nm'], '-u', obj], cwd=wdir).stdout.split() if u != 'U']
    fails, base_layout = [], None
    for case in cases:
        msg, layout = check_case(src, tools, hotd, wdir, obj, undef, d, case, base_layout)
        if case[0] == 'base':
            base_layout = layout
        if msg:
            fails.append('%s: %s' % (case[0], msg))
    return fails, len(cases)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--hotd', required=True)
    ap.add_argument('--prefix', default='xtensa-lx106-elf-')
    ap.add_argument('--work', required=True)
    ap.add_argument('sources', nargs='+')
    o = ap.parse_args()
    tools = {t: shutil.which(o.prefix + t) for t in ('gcc', 'ld', 'objcopy', 'nm')}
    if not all(tools.values()):
        print('skipped: no %s toolchain' % o.prefix.rstrip('-'))
        return 77
    os.makedirs(o.work, exist_ok=True)
    failed = 0
    for src in o.sources:
        fails, n = check(src, tools, o.hotd, o.work)
        print('%-24s %s' % (os.path.basename(src), 'ok (%d cases)' % n if not fails else 'FAIL'))
        for f in fails:
            print('    ' + f)
        failed += bool(fails)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
