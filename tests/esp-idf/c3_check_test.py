#!/usr/bin/python3
"""The hotreload component against ESP32-C3's real headers, without a chip:
ESP-IDF's own configure of examples/esp-idf for IDF_TARGET=esp32c3 writes the
sdkconfig.h a firmware would be built with, then every C file the component
compiles for that target is compiled (-fsyntax-only, warnings as errors)
against it and the esp32c3 headers by the test tree's c3-compile-check.sh.

Shown: the configure gets as far as sdkconfig.h (esp32c3, memory protection
off as sdkconfig.defaults asks); the file list is the component's own
(components/hotreload/sources.cmake, evaluated with that configure's
CONFIG_* values), with the RISC-V relocator and executable RAM; each file
passes; the check can fail: a probe with wrong calls is refused with both
errors (and passes with the calls written right), and with memory protection
on exec_mem.c stops at its #error that names CONFIG_ESP_SYSTEM_MEMPROT.
"""
import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import idfapp  # noqa: E402
from idfapp import hrtest  # noqa: E402
from hrtest import check  # noqa: E402

NAME = "esp_idf_c3_check"
HERE = os.path.dirname(os.path.abspath(__file__))
# ESP-IDF compiles every component with these warnings (tools/cmake/build.cmake);
# here all of them are errors, not only -Wall's.
WARNINGS = ["-Werror", "-Wextra", "-Wno-unused-parameter", "-Wno-sign-compare",
            "-Wno-enum-conversion"]


def skip(why):
    print("SKIP: " + why, flush=True)
    sys.exit(idfapp.SKIP)


def check_script_or_skip(source):
    """The test tree's c3-compile-check.sh, or exit 77 when it or what it
    runs (Debian's riscv64-unknown-elf-gcc and picolibc) is missing."""
    tools = os.path.join(idfapp.shared_tree(source), "tools")
    script = os.path.join(tools, "c3-compile-check.sh")
    if not os.path.isfile(script):
        skip(f"no {script}: the esp32c3 check needs the test tree beside the checkout")
    if not shutil.which("riscv64-unknown-elf-gcc"):
        skip("no riscv64-unknown-elf-gcc (apt-get install gcc-riscv64-unknown-elf)")
    # gcc answers the bare name when it does not find the file.
    specs = subprocess.run(["riscv64-unknown-elf-gcc", "-print-file-name=picolibc.specs"],
                           stdout=subprocess.PIPE, text=True).stdout.strip()
    if not os.path.isabs(specs):
        skip("no picolibc for riscv64-unknown-elf "
             "(apt-get install picolibc-riscv64-unknown-elf)")
    return script


def configure_env(source, idf, env, tmp):
    """The environment of the esp32c3 configure; True with it when the
    riscv32-esp-elf shim stands in for Espressif's toolchain: for the trimmed
    tree, or when that toolchain is not on PATH. A user's full ESP-IDF with
    its toolchain configures as it is."""
    # kconfgen leaves a tempfile behind at each configure: in tmp, removed.
    env = dict(env, TMPDIR=tmp)
    # The trimmed tree's mbedtls stand-in is for the linux target only.
    env.pop("HOTRELOAD_IDF_EXTRA_COMPONENT_DIRS", None)
    trimmed = os.path.join(idfapp.shared_tree(source), "esp-idf")
    if (os.path.realpath(idf) != os.path.realpath(trimmed)
            and shutil.which("riscv32-esp-elf-gcc", path=env.get("PATH"))):
        return env, False
    make = os.path.join(idfapp.shared_tree(source), "tools", "make-riscv32-esp-shim.sh")
    if not os.path.isfile(make):
        skip("no riscv32-esp-elf-gcc on PATH and no make-riscv32-esp-shim.sh beside it")
    shim = subprocess.run([make, os.path.join(tmp, "shim")], stdout=subprocess.PIPE,
                          text=True, check=True).stdout.strip()
    env["PATH"] = shim + os.pathsep + env.get("PATH", "")
    return env, True


def configure(app, env, source, hotd, shimmed):
    """ESP-IDF's configure for esp32c3; the config dir, or None."""
    # The shim cannot link: CMake's compiler checks would fail (README).
    extra = ["-DCMAKE_C_COMPILER_WORKS=1", "-DCMAKE_CXX_COMPILER_WORKS=1"] if shimmed else []
    rc, out = idfapp.configure(app, env, source, hotd=hotd, extra=extra, target="esp32c3",
                               build="build-c3")
    # The trimmed tree has no submodules: its configure stops at mbedtls's,
    # after writing the config. Any other stop is a failure (CMake wraps
    # messages: compare with the whitespace folded).
    flat = " ".join(out.split())
    check(rc == 0 or "mbedtls/mbedtls/include' is not a directory" in flat,
          f"configure stopped, and not at the missing mbedtls submodule:\n{out[-3000:]}")
    cfg = os.path.join(app, "build-c3", "config")
    header = os.path.join(cfg, "sdkconfig.h")
    if not check(os.path.isfile(header), f"configure wrote no {header}:\n{out[-3000:]}"):
        return None
    text = open(header).read()
    check(re.search(r"^#define CONFIG_IDF_TARGET_ESP32C3 1$", text, re.M),
          "sdkconfig.h is not esp32c3's")
    check("CONFIG_ESP_SYSTEM_MEMPROT" not in text,
          "sdkconfig.h has memory protection on: sdkconfig.defaults not applied")
    check(re.search(r"^#define CONFIG_HEAP_HAS_EXEC_HEAP 1$", text, re.M),
          "sdkconfig.h has no executable heap (MALLOC_CAP_EXEC hidden)")
    return cfg


def component_lists(source, cfg, env):
    """What the component compiles with this config: sources.cmake evaluated
    by CMake with the configure's sdkconfig.cmake ({name: [items]})."""
    rc, out = idfapp.run(
        ["cmake", "-DSDKCONFIG_CMAKE=" + os.path.join(cfg, "sdkconfig.cmake"),
         "-DSOURCES=" + os.path.join(source, "components", "hotreload", "sources.cmake"),
         "-P", os.path.join(HERE, "component_sources.cmake")], env)
    check(rc == 0, "component_sources.cmake: " + out)
    lists = {}
    for line in out.splitlines():
        k, sep, v = line.partition("=")
        if sep and k.startswith("hotreload_"):
            lists[k] = v.split(";") if v else []
    return lists


def compile_flags(source, lists):
    """The component's definitions and include dirs, as gcc arguments."""
    agent = os.path.join(source, "agent")
    flags = list(WARNINGS)
    # ESP-IDF defines ESP_PLATFORM for every component.
    flags += ["-D" + d for d in lists.get("hotreload_definitions", []) + ["ESP_PLATFORM"]]
    for d in lists.get("hotreload_include_dirs", []) + \
            lists.get("hotreload_priv_include_dirs", []):
        # -iquote too: the script puts ESP-IDF's -I dirs before these, while
        # ESP-IDF's build searches a component's own dirs first.
        flags += ["-iquote", os.path.join(agent, d), "-I" + os.path.join(agent, d)]
    return flags


def c3_check(script, env, cfg, path, flags):
    """(returncode, output) of c3-compile-check.sh on one file."""
    return idfapp.run([script, cfg, path, *flags], env, timeout=120)


def check_sources(script, env, cfg, source, lists, flags):
    """Every file the component compiles for esp32c3 passes, two at a time."""
    srcs = lists.get("hotreload_srcs", [])
    check(len(srcs) > 10, f"component_sources.cmake listed too little: {srcs}")
    # The chip's branch of sources.cmake, not the linux target's.
    for want in ("core/reloc_riscv.c", "port/esp-idf/exec_mem.c"):
        check(want in srcs, f"{want} not among the component's esp32c3 sources")
    check("port/posix/host.c" not in srcs, "the linux target's host.c in an esp32c3 build")
    agent = os.path.join(source, "agent")
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        runs = {f: pool.submit(c3_check, script, env, cfg, os.path.join(agent, f), flags)
                for f in srcs}
        for f, fut in runs.items():
            rc, out = fut.result()
            check(rc == 0 and not out.strip(), f"{f} does not compile for esp32c3:\n{out}")
    return len(srcs)


def check_probe(script, env, cfg, flags):
    """The check refuses wrong calls: the probe fails with both errors, and
    passes once the calls are right."""
    probe = os.path.join(HERE, "probe_wrong_call.c")
    rc, out = c3_check(script, env, cfg, probe, flags + ["-DHR_PROBE_RIGHT"])
    check(rc == 0, "probe with the calls written right fails: the check's set-up is broken:\n"
          + out)
    rc, out = c3_check(script, env, cfg, probe, flags)
    check(rc != 0, "probe with wrong calls passed the check")
    check(re.search(r"argument 1 of 'esp_partition_read' from incompatible pointer type", out),
          "no error for esp_partition_read given a label:\n" + out)
    check("too few arguments to function 'heap_caps_malloc'" in out,
          "no error for heap_caps_malloc without caps:\n" + out)


def memprot_config(cfg, dst):
    """cfg's sdkconfig.h as ESP-IDF's configure writes it with memory
    protection left on (its default): the same defines, plus MEMPROT and its
    PMS mode and lock, minus the executable heap (heap/Kconfig: default n if
    ESP_SYSTEM_MEMPROT). Checked against a second real configure: these are
    all the lines that change apart from deprecated aliases of the same
    options. A copy and no second configure: it would take as long again."""
    os.makedirs(dst)
    text = open(os.path.join(cfg, "sdkconfig.h")).read()
    heap = "#define CONFIG_HEAP_HAS_EXEC_HEAP 1\n"
    check(heap in text, "no executable heap to turn off in sdkconfig.h")
    text = text.replace(heap, "") + ("#define CONFIG_ESP_SYSTEM_MEMPROT 1\n"
                                     "#define CONFIG_ESP_SYSTEM_MEMPROT_PMS 1\n"
                                     "#define CONFIG_ESP_SYSTEM_MEMPROT_PMS_LOCK 1\n")
    open(os.path.join(dst, "sdkconfig.h"), "w").write(text)
    return dst


def check_memprot(script, env, cfg, source, flags, tmp):
    """With memory protection on, exec_mem.c stops at its #error, which says
    which option to turn off."""
    on = memprot_config(cfg, os.path.join(tmp, "config-memprot"))
    rc, out = c3_check(script, env, on, os.path.join(source, "agent", "port", "esp-idf",
                                                      "exec_mem.c"), flags)
    check(rc != 0, "exec_mem.c compiled with memory protection on")
    check(re.search(r"#error \"hotreload: memory protection forbids running code from RAM"
                    r".*CONFIG_ESP_SYSTEM_MEMPROT=n", out),
          "exec_mem.c's #error naming CONFIG_ESP_SYSTEM_MEMPROT not seen:\n" + out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True)
    ap.add_argument("--hotd", required=True)
    a = ap.parse_args()
    source = os.path.abspath(a.source)
    idf, env = idfapp.find_idf(source)
    script = check_script_or_skip(source)
    with tempfile.TemporaryDirectory() as tmp:
        cenv, shimmed = configure_env(source, idf, env, tmp)
        app = idfapp.copy_example(source, tmp)
        t0 = time.time()
        cfg = configure(app, cenv, source, a.hotd, shimmed)
        t1 = time.time()
        print(f"configured for esp32c3 in {t1 - t0:.1f} s"
              + (" (riscv32-esp-elf shim)" if shimmed else ""), flush=True)
        if cfg is None:
            return hrtest.summary(NAME)
        lists = component_lists(source, cfg, env)
        flags = compile_flags(source, lists)
        n = check_sources(script, env, cfg, source, lists, flags)
        t2 = time.time()
        print(f"{n} files checked in {t2 - t1:.1f} s", flush=True)
        check_probe(script, env, cfg, flags)
        check_memprot(script, env, cfg, source, flags, tmp)
        print(f"probe and memory protection checked in {time.time() - t2:.1f} s", flush=True)
    return hrtest.summary(NAME)


if __name__ == "__main__":
    sys.exit(main())
