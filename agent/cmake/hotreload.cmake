# Build integration: one call makes a library reloadable, one more binds a
# firmware to its modules.
#
#   hotreload_add_module(NAME greet SOURCES greet.c [INCLUDE_DIRS ...]
#                        [COMPILE_DEFINITIONS ...] [COMPILE_OPTIONS ...] [LINK_LIBRARIES ...]
#                        [KEEP f ...])   KEEP: functions to stub though the firmware
#                                        does not call them (found by name at run time)
#   hotreload_link_firmware(my_firmware MODULES greet [PORT posix|rv32-virt])
#
# For a module NAME the build makes, in ${CMAKE_CURRENT_BINARY_DIR}/modules/:
#   NAME.o            the module as one relocatable object (ld -r), with a build-id
#   NAME_stubs.S/.o   frameless stubs for the functions the firmware calls or
#                     KEEPs, made as the firmware links (hotd link)
#   NAME_symtab.c/.o  the table the stubs jump through (hotd link)
#   NAME_imports.ld   the firmware symbols the module imports (kept in the firmware)
#   NAME.debug.o      the module bound to the firmware: + .hotreload.fwid, full DWARF
#   NAME.img          the same, debug info stripped: what is uploaded
#   NAME.abi.d/ID.abi the module's interface when firmware ID was linked
# Generated files are rewritten only when their contents change, so editing a
# module's code relinks nothing but the module.

set(HOTRELOAD_ROOT ${CMAKE_CURRENT_LIST_DIR}/../.. CACHE INTERNAL "")

# The hotd subcommand name of the target architecture.
function(_hotreload_arch out)
  set(p ${CMAKE_SYSTEM_PROCESSOR})
  if(p MATCHES "^(x86_64|AMD64|amd64)$")
    set(a x86_64)
  elseif(p MATCHES "^riscv32")
    set(a rv32)
  elseif(p MATCHES "^riscv64")
    set(a rv64)
  elseif(p MATCHES "^xtensa")
    set(a xtensa)
  elseif(p MATCHES "^arm")
    set(a arm)
  else()
    message(FATAL_ERROR "hotreload: no stubs for processor '${p}'")
  endif()
  set(${out} ${a} PARENT_SCOPE)
endfunction()

# hotd runs at build time: (command, dependency). A native build has it as
# a target; a cross build (firmware for a device) cannot build host tools
# and uses one built before, HOTRELOAD_HOTD.
function(_hotreload_hotd out_cmd out_dep)
  if(TARGET hotd)
    set(${out_cmd} hotd PARENT_SCOPE)
    set(${out_dep} hotd PARENT_SCOPE)
    return()
  endif()
  find_program(HOTRELOAD_HOTD hotd)
  if(NOT HOTRELOAD_HOTD)
    message(FATAL_ERROR "hotreload: this build needs hotd and cannot build it (a cross build "
            "makes no host tools): build it first (cmake -S <hotreload> -B build && cmake "
            "--build build --target hotd) and pass -DHOTRELOAD_HOTD=<build>/hostd/hotd")
  endif()
  set(${out_cmd} ${HOTRELOAD_HOTD} PARENT_SCOPE)
  set(${out_dep} ${HOTRELOAD_HOTD} PARENT_SCOPE)
endfunction()

# How requests are signed (docs/http.md): ecdsa (HR2, the default: the
# firmware holds only a public key) or hmac (HR1, the explicit option: the
# firmware holds the shared key).
set(HOTRELOAD_AUTH ecdsa CACHE STRING "request signatures: ecdsa (HR2) or hmac (HR1)")
set_property(CACHE HOTRELOAD_AUTH PROPERTY STRINGS ecdsa hmac)

# The key that signs uploads, made once per build directory: `mode` ecdsa
# or hmac (HOTRELOAD_AUTH). out_c: the C file the firmware compiles, which
# defines hotreload_build_auth() (hotreload.h).
function(_hotreload_key out_c mode)
  if(mode STREQUAL "ecdsa")
    _hotreload_key_ecdsa(c)
  elseif(mode STREQUAL "hmac")
    _hotreload_key_hmac(c)
  else()
    message(FATAL_ERROR "hotreload: HOTRELOAD_AUTH is '${mode}': say ecdsa (the default) "
            "or hmac")
  endif()
  set(${out_c} ${c} PARENT_SCOPE)
endfunction()

# ECDSA: hotd makes BUILD/hotreload-sign.pem (0600 from its first byte) at
# build time and writes its public key as C; the private key never reaches
# a source file. The PEM is no output of the rule, so a clean keeps it (a
# lost key would lock every flashed device out). HOTRELOAD_SIGN_KEY (cache
# or environment) keeps the key outside the build folder instead -- one key
# for a team or CI, or one that outlives `idf.py fullclean` -- made there
# when missing, and BUILD/hotreload-sign.pem links to it (hotd reads that).
set(HOTRELOAD_SIGN_KEY "" CACHE FILEPATH
    "the private key that signs uploads (PEM); empty: BUILD/hotreload-sign.pem")
if(DEFINED ENV{HOTRELOAD_SIGN_KEY}) # the environment wins when set (idf.py passes it on)
  set(HOTRELOAD_SIGN_KEY "$ENV{HOTRELOAD_SIGN_KEY}" CACHE FILEPATH
      "the private key that signs uploads (PEM); empty: BUILD/hotreload-sign.pem" FORCE)
endif()
function(_hotreload_key_ecdsa out_c)
  set(pem ${CMAKE_BINARY_DIR}/hotreload-sign.pem)
  set(c ${CMAKE_BINARY_DIR}/hotreload/key/hotreload_key.c)
  file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/hotreload/key)
  _hotreload_hotd(hotd hotd_dep)
  set(make_key COMMAND ${hotd} key new ${pem} --if-missing)
  set(key)
  if(HOTRELOAD_SIGN_KEY)
    get_filename_component(key ${HOTRELOAD_SIGN_KEY} ABSOLUTE)
    if(EXISTS ${pem} AND NOT IS_SYMLINK ${pem})
      # Never replaced: it may be the only key flashed devices accept.
      message(FATAL_ERROR "hotreload: HOTRELOAD_SIGN_KEY is ${key}, but ${pem} is a key of its "
              "own (an earlier build's): move it out of the build folder (or to ${key}, to "
              "keep signing for the devices flashed with it), then build again")
    endif()
    set(make_key COMMAND ${hotd} key new ${key} --if-missing
                 COMMAND ${CMAKE_COMMAND} -E create_symlink ${key} ${pem})
  endif()
  # Which key, as a file the rule depends on: another key path remakes the C.
  set(which ${CMAKE_BINARY_DIR}/hotreload/key/which.txt)
  file(CONFIGURE OUTPUT ${which} CONTENT "${key}")
  add_custom_command(OUTPUT ${c}
    ${make_key}
    COMMAND ${hotd} key public ${pem} -o ${c}
    DEPENDS ${hotd_dep} ${which}
    COMMENT "hotreload: the signing key (hotreload-sign.pem) and its public half for the firmware"
    VERBATIM)
  set(${out_c} ${c} PARENT_SCOPE)
endfunction()

# HMAC: the key shared by the firmware (compiled in) and hotd (reads the file).
function(_hotreload_key_hmac out_c)
  set(key_file ${CMAKE_BINARY_DIR}/hotreload.key)
  if(EXISTS ${CMAKE_BINARY_DIR}/hotreload-sign.pem)
    # hotd signs with the PEM whenever there is one (client.h).
    message(WARNING "hotreload: this build signs with HMAC, but ${CMAKE_BINARY_DIR}/"
            "hotreload-sign.pem (an earlier ECDSA build's) is there and hotd would sign HR2 "
            "with it, which this firmware refuses: move it out of the build folder")
  endif()
  if(NOT EXISTS ${key_file})
    # Readable by its owner only from its first byte (umask), never chmod'ed after.
    execute_process(COMMAND sh -c "umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \\n' \
                    > '${key_file}' && echo >> '${key_file}'" RESULT_VARIABLE rc)
    file(READ ${key_file} hex)
    string(STRIP "${hex}" hex)
    string(LENGTH "${hex}" len)
    if(NOT rc EQUAL 0 OR NOT len EQUAL 64)
      file(REMOVE ${key_file})
      message(FATAL_ERROR "hotreload: cannot write ${key_file} from /dev/urandom")
    endif()
  endif()
  file(READ ${key_file} hex)
  string(STRIP "${hex}" hex)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  # The key's C copy sits in a folder only its owner can enter.
  set(dir ${CMAKE_BINARY_DIR}/hotreload/key)
  set(c ${dir}/hotreload_key.c)
  file(MAKE_DIRECTORY ${dir})
  file(CHMOD ${dir} DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)
  file(CONFIGURE OUTPUT ${c} CONTENT
"/* Generated from ${key_file}: the key hotd signs uploads with. */
#include <stddef.h>
#include <stdint.h>
#include \"hotreload.h\"
const uint8_t hotreload_auth_key[32] = {${bytes}};
const size_t hotreload_auth_key_len = sizeof hotreload_auth_key;

void hotreload_build_auth(hotreload_server_config_t *config)
{
    config->auth_key = hotreload_auth_key;
    config->auth_key_len = hotreload_auth_key_len;
    config->auth_pubkey = NULL;
}
")
  file(CHMOD ${c} PERMISSIONS OWNER_READ OWNER_WRITE)
  set(${out_c} ${c} PARENT_SCOPE)
endfunction()

function(hotreload_add_module)
  set(lists SOURCES INCLUDE_DIRS COMPILE_DEFINITIONS COMPILE_OPTIONS LINK_LIBRARIES KEEP)
  cmake_parse_arguments(M "" "NAME" "${lists}" ${ARGN})
  if(NOT M_NAME OR NOT M_SOURCES)
    message(FATAL_ERROR "hotreload_add_module: NAME and SOURCES are required")
  endif()
  set(name ${M_NAME})
  # Where hotd looks (BUILD/modules) when the module is declared at the top.
  if(HOTRELOAD_MODULES_DIR)
    set(gen ${HOTRELOAD_MODULES_DIR})
  else()
    set(gen ${CMAKE_CURRENT_BINARY_DIR}/modules)
  endif()
  file(MAKE_DIRECTORY ${gen})
  _hotreload_arch(arch)
  _hotreload_hotd(hotd hotd_dep)

  # The module's code is an ordinary object library: the usual commands
  # (target_include_directories, target_link_libraries, ...) apply to it.
  add_library(${name} OBJECT ${M_SOURCES})
  target_include_directories(${name} PRIVATE ${M_INCLUDE_DIRS} ${HOTRELOAD_ROOT}/agent/include)
  target_compile_definitions(${name} PRIVATE ${M_COMPILE_DEFINITIONS})
  # Always with DWARF: the unstripped module serves gdb and hotd's interface check.
  target_compile_options(${name} PRIVATE -g -fno-common ${M_COMPILE_OPTIONS})
  if(M_LINK_LIBRARIES)
    target_link_libraries(${name} PRIVATE ${M_LINK_LIBRARIES})
  endif()
  if(arch STREQUAL "x86_64")
    # Calls to the C library go through the loader's veneers and GOT.
    set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  elseif(arch MATCHES "^rv")
    # The loader does not delete code: no linker relaxation.
    target_compile_options(${name} PRIVATE -mno-relax)
  elseif(arch STREQUAL "xtensa")
    target_compile_options(${name} PRIVATE -mlongcalls)
  elseif(arch STREQUAL "arm")
    # No unwinding tables: nothing on the device unwinds through a module.
    target_compile_options(${name} PRIVATE -fno-unwind-tables -fno-asynchronous-unwind-tables)
  endif()

  separate_arguments(cflags NATIVE_COMMAND "${CMAKE_C_FLAGS}")
  add_custom_command(OUTPUT ${gen}/${name}.o
    COMMAND ${CMAKE_C_COMPILER} ${cflags} -nostdlib -r -Wl,--build-id=sha1
            $<TARGET_OBJECTS:${name}> -o ${gen}/${name}.o
    DEPENDS ${name} $<TARGET_OBJECTS:${name}>
    COMMAND_EXPAND_LISTS VERBATIM
    COMMENT "Linking reloadable module ${name}.o")
  # hotd rewrites a generated file only when its contents change (so the
  # firmware is not relinked for nothing); the stamp (hotd's --stamp: a
  # `cmake -E touch` took 15 ms, an edit's largest step after the compiler)
  # tells make it ran. The
  # stubs themselves are made when the firmware links (hotd link), for the
  # functions it calls and those KEEP lists: a new function the firmware
  # does not call changes nothing in the firmware.
  list(JOIN M_KEEP "\n" keep)
  file(GENERATE OUTPUT ${gen}/${name}.keep CONTENT "${keep}\n")
  add_custom_command(
    OUTPUT ${gen}/${name}_stubs.stamp
    BYPRODUCTS ${gen}/${name}_imports.ld ${gen}/${name}_functions.txt
    COMMAND ${hotd} stubs ${gen}/${name}.o --name ${name} --arch ${arch} --out-dir ${gen}
            --at-link --stamp ${gen}/${name}_stubs.stamp
    DEPENDS ${gen}/${name}.o ${hotd_dep}
    VERBATIM
    COMMENT "Generating stubs for module ${name}")
  add_custom_target(${name}_stubs DEPENDS ${gen}/${name}_stubs.stamp)

  # NAME.watch: the directories `hotd watch` watches for this module, one
  # absolute path a line, so hotd need not parse CMake. Directories inside the
  # build tree are left out: the build writes there, and watching them would
  # rebuild forever. Generator expressions cannot be resolved here: skipped.
  set(watch_dirs "")
  foreach(s ${M_SOURCES})
    if(NOT s MATCHES "\\$<")
      get_filename_component(abs ${s} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
      get_filename_component(d ${abs} DIRECTORY)
      list(APPEND watch_dirs ${d})
    endif()
  endforeach()
  foreach(i ${M_INCLUDE_DIRS})
    if(NOT i MATCHES "\\$<")
      get_filename_component(d ${i} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
      list(APPEND watch_dirs ${d})
    endif()
  endforeach()
  set(watch_text "")
  foreach(d ${watch_dirs})
    string(FIND "${d}/" "${CMAKE_BINARY_DIR}/" at)
    if(NOT at EQUAL 0 AND NOT "${d}\n" IN_LIST watch_text)
      list(APPEND watch_text "${d}\n")
    endif()
  endforeach()
  list(JOIN watch_text "" watch_text)
  file(GENERATE OUTPUT ${gen}/${name}.watch CONTENT "${watch_text}")

  set_property(GLOBAL APPEND PROPERTY HOTRELOAD_MODULES ${name})
  set_property(TARGET ${name} PROPERTY HOTRELOAD_GEN ${gen})
endfunction()

function(hotreload_link_firmware fw)
  cmake_parse_arguments(F "" "PORT" "MODULES" ${ARGN})
  if(NOT F_PORT)
    set(F_PORT posix)
  endif()
  enable_language(ASM)
  # HR2 needs a port that links a verifier (HOTRELOAD_ECDSA on its library).
  get_target_property(ecdsa hotreload_${F_PORT} HOTRELOAD_ECDSA)
  if(HOTRELOAD_AUTH STREQUAL "ecdsa" AND NOT ecdsa)
    message(FATAL_ERROR "hotreload: port ${F_PORT} is built without an ECDSA verifier, so it "
            "cannot check HR2 signatures: configure with -DHOTRELOAD_AUTH=hmac, or build the "
            "port with one (rv32-virt, mps2-an385: -DHOTRELOAD_BOARD_ECDSA=ON)")
  endif()
  _hotreload_key(key_c ${HOTRELOAD_AUTH})
  target_sources(${fw} PRIVATE ${key_c})
  target_link_libraries(${fw} PRIVATE hotreload_${F_PORT})
  target_link_options(${fw} PRIVATE -Wl,--build-id=sha1)
  get_target_property(absolute hotreload_${F_PORT} HOTRELOAD_BIND_ABSOLUTE)
  if(absolute)
    # No symbol lookup on the device: imports become the firmware's addresses.
    set(bind_opts --absolute)
  else()
    # Modules import firmware symbols by name on the simulated device (dlsym).
    set(bind_opts "")
    set_target_properties(${fw} PROPERTIES ENABLE_EXPORTS ON)
  endif()
  _hotreload_firmware_watch(${fw})
  foreach(name ${F_MODULES})
    get_target_property(gen ${name} HOTRELOAD_GEN)
    target_include_directories(${fw} PRIVATE ${HOTRELOAD_ROOT}/agent/include)
    target_link_options(${fw} PRIVATE ${gen}/${name}_imports.ld)
    set_property(TARGET ${fw} APPEND PROPERTY LINK_DEPENDS ${gen}/${name}_imports.ld)
    _hotreload_link_stubs(${fw} ${name})
    _hotreload_bind_module(${fw} ${name} "${bind_opts}")
  endforeach()
endfunction()

# The stubs of module `name` in firmware `fw`: objects `hotd link` makes as
# the firmware links (it is the firmware's linker launcher, for every module
# the firmware links). The link reruns when the module's functions change
# (one the firmware calls may have appeared) or its KEEP list does.
function(_hotreload_link_stubs fw name)
  get_target_property(gen ${name} HOTRELOAD_GEN)
  target_link_options(${fw} PRIVATE ${gen}/${name}_stubs.o ${gen}/${name}_symtab.o)
  set_property(TARGET ${fw} APPEND PROPERTY LINK_DEPENDS ${gen}/${name}_functions.txt
               ${gen}/${name}.keep)
  add_dependencies(${fw} ${name}_stubs)
  set_property(TARGET ${fw} APPEND PROPERTY HOTRELOAD_LINK_MODULES --module ${gen}/${name}.o)
  get_target_property(modules ${fw} HOTRELOAD_LINK_MODULES)
  _hotreload_arch(arch)
  _hotreload_hotd_path(hotd_path)
  set(launcher ${hotd_path} link ${modules} --arch ${arch}
               --include ${HOTRELOAD_ROOT}/agent/include --)
  set_target_properties(${fw} PROPERTIES C_LINKER_LAUNCHER "${launcher}"
                        CXX_LINKER_LAUNCHER "${launcher}")
endfunction()

# hotd's path, for places that take no generator expression (a linker
# launcher, before CMake 3.27).
function(_hotreload_hotd_path out)
  _hotreload_hotd(hotd hotd_dep)
  if(TARGET hotd)
    get_target_property(imported hotd IMPORTED)
    if(imported)
      get_target_property(hotd hotd IMPORTED_LOCATION)
    else()
      get_target_property(dir hotd BINARY_DIR)
      set(hotd ${dir}/hotd)
    endif()
  endif()
  set(${out} ${hotd} PARENT_SCOPE)
endfunction()

# BUILD/hotreload/firmware.watch: the folders of the firmware's own sources,
# one a line, for `hotd watch` (an edit there needs a new firmware, not a
# push). Folders inside the build tree and generated sources are left out.
# A project with several firmwares lists the folders of all of them: the
# file is written once, when the top directory's configure ends.
function(_hotreload_firmware_watch fw)
  get_target_property(srcs ${fw} SOURCES)
  get_target_property(src_dir ${fw} SOURCE_DIR)
  get_property(dirs GLOBAL PROPERTY HOTRELOAD_FIRMWARE_DIRS)
  foreach(s ${srcs})
    if(s MATCHES "\\$<")
      continue()
    endif()
    get_filename_component(abs ${s} ABSOLUTE BASE_DIR ${src_dir})
    get_filename_component(d ${abs} DIRECTORY)
    string(FIND "${d}/" "${CMAKE_BINARY_DIR}/" at)
    if(NOT at EQUAL 0 AND NOT "${d}\n" IN_LIST dirs)
      list(APPEND dirs "${d}\n")
    endif()
  endforeach()
  set_property(GLOBAL PROPERTY HOTRELOAD_FIRMWARE_DIRS "${dirs}")
  get_property(deferred GLOBAL PROPERTY HOTRELOAD_FIRMWARE_WATCH_DEFERRED)
  if(NOT deferred)
    set_property(GLOBAL PROPERTY HOTRELOAD_FIRMWARE_WATCH_DEFERRED ON)
    cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR} CALL _hotreload_write_firmware_watch)
  endif()
endfunction()

function(_hotreload_write_firmware_watch)
  get_property(dirs GLOBAL PROPERTY HOTRELOAD_FIRMWARE_DIRS)
  list(JOIN dirs "" text)
  file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/hotreload/firmware.watch CONTENT "${text}")
endfunction()

# Bind module `name` to firmware target `fw` (hotd bind): NAME.debug.o and
# NAME.img, built by NAME_image; and record the module's interface for
# that firmware's build-id after each link of `fw`.
function(_hotreload_bind_module fw name bind_opts)
  _hotreload_hotd(hotd hotd_dep)
  get_target_property(gen ${name} HOTRELOAD_GEN)
  file(MAKE_DIRECTORY ${gen}/${name}.abi.d)
  # Bind the module to this firmware: its build-id goes in .hotreload.fwid
  # (hotd bind); the upload image is the same without debug info.
  add_custom_command(OUTPUT ${gen}/${name}.debug.o ${gen}/${name}.img
    COMMAND ${hotd} bind ${gen}/${name}.o --firmware $<TARGET_FILE:${fw}>
            -o ${gen}/${name}.debug.o ${bind_opts}
    COMMAND ${CMAKE_OBJCOPY} --strip-debug ${gen}/${name}.debug.o ${gen}/${name}.img
    DEPENDS ${gen}/${name}.o $<TARGET_FILE:${fw}> ${hotd_dep}
    VERBATIM
    COMMENT "Binding module ${name} to ${fw}")
  add_custom_target(${name}_image ALL DEPENDS ${gen}/${name}.img)
  # The interface this firmware was built against, kept per firmware
  # build-id: hotd refuses to push a module whose interface differs from
  # the one the device's firmware expects.
  add_custom_command(TARGET ${fw} POST_BUILD
    COMMAND ${hotd} abi record ${gen}/${name}.o --firmware $<TARGET_FILE:${fw}>
            --dir ${gen}/${name}.abi.d --functions ${gen}/${name}_exports.txt
    VERBATIM)
  add_dependencies(${name}_image ${fw})
endfunction()
