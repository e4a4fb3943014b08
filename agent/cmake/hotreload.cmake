# Build integration: one call makes a library reloadable, one more binds a
# firmware to its modules.
#
#   hotreload_add_module(NAME greet SOURCES greet.c [INCLUDE_DIRS ...]
#                        [COMPILE_DEFINITIONS ...] [COMPILE_OPTIONS ...] [LINK_LIBRARIES ...])
#   hotreload_link_firmware(my_firmware MODULES greet [PORT posix])
#
# For a module NAME the build makes, in ${CMAKE_CURRENT_BINARY_DIR}/modules/:
#   NAME.o            the module as one relocatable object (ld -r), with a build-id
#   NAME_stubs.S      frameless stubs the firmware calls (hotd stubs)
#   NAME_symtab.c     the table the stubs jump through
#   NAME_imports.ld   the firmware symbols the module imports (kept in the firmware)
#   NAME.debug.o      the module bound to the firmware: + .hotreload.fwid, full DWARF
#   NAME.img          the same, debug info stripped: what is uploaded
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
  else()
    message(FATAL_ERROR "hotreload: no stubs for processor '${p}'")
  endif()
  set(${out} ${a} PARENT_SCOPE)
endfunction()

# The per-project key that signs uploads: made once per build directory and
# shared by the firmware (compiled in) and hotd (reads the file).
function(_hotreload_key out_c)
  set(key_file ${CMAKE_BINARY_DIR}/hotreload.key)
  if(NOT EXISTS ${key_file})
    execute_process(COMMAND od -An -tx1 -N32 /dev/urandom OUTPUT_VARIABLE hex
                    RESULT_VARIABLE rc)
    string(REGEX REPLACE "[ \n]" "" hex "${hex}")
    string(LENGTH "${hex}" len)
    if(NOT rc EQUAL 0 OR NOT len EQUAL 64)
      message(FATAL_ERROR "hotreload: cannot read /dev/urandom for the upload key")
    endif()
    file(WRITE ${key_file} "${hex}\n")
    file(CHMOD ${key_file} PERMISSIONS OWNER_READ OWNER_WRITE)
  endif()
  file(READ ${key_file} hex)
  string(STRIP "${hex}" hex)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  set(c ${CMAKE_BINARY_DIR}/hotreload/hotreload_key.c)
  file(CONFIGURE OUTPUT ${c} CONTENT
"/* Generated from ${key_file}: the key hotd signs uploads with. */
#include <stddef.h>
#include <stdint.h>
const uint8_t hotreload_auth_key[32] = {${bytes}};
const size_t hotreload_auth_key_len = sizeof hotreload_auth_key;
")
  set(${out_c} ${c} PARENT_SCOPE)
endfunction()

function(hotreload_add_module)
  cmake_parse_arguments(M "" "NAME"
                        "SOURCES;INCLUDE_DIRS;COMPILE_DEFINITIONS;COMPILE_OPTIONS;LINK_LIBRARIES"
                        ${ARGN})
  if(NOT M_NAME OR NOT M_SOURCES)
    message(FATAL_ERROR "hotreload_add_module: NAME and SOURCES are required")
  endif()
  set(name ${M_NAME})
  set(gen ${CMAKE_CURRENT_BINARY_DIR}/modules)
  file(MAKE_DIRECTORY ${gen})
  _hotreload_arch(arch)

  # The module's code is an ordinary object library: the usual commands
  # (target_include_directories, target_link_libraries, ...) apply to it.
  add_library(${name} OBJECT ${M_SOURCES})
  target_include_directories(${name} PRIVATE ${M_INCLUDE_DIRS} ${HOTRELOAD_ROOT}/agent/include)
  target_compile_definitions(${name} PRIVATE ${M_COMPILE_DEFINITIONS})
  target_compile_options(${name} PRIVATE -fno-common ${M_COMPILE_OPTIONS})
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
  endif()

  separate_arguments(cflags NATIVE_COMMAND "${CMAKE_C_FLAGS}")
  add_custom_command(OUTPUT ${gen}/${name}.o
    COMMAND ${CMAKE_C_COMPILER} ${cflags} -nostdlib -r -Wl,--build-id=sha1
            $<TARGET_OBJECTS:${name}> -o ${gen}/${name}.o
    DEPENDS ${name} $<TARGET_OBJECTS:${name}>
    COMMAND_EXPAND_LISTS VERBATIM
    COMMENT "Linking reloadable module ${name}.o")
  add_custom_command(
    OUTPUT ${gen}/${name}_stubs.S ${gen}/${name}_symtab.c ${gen}/${name}_imports.ld
    COMMAND hotd stubs ${gen}/${name}.o --name ${name} --arch ${arch} --out-dir ${gen}
    DEPENDS ${gen}/${name}.o hotd
    VERBATIM
    COMMENT "Generating stubs for module ${name}")
  add_custom_target(${name}_stubs DEPENDS ${gen}/${name}_stubs.S)
  set_property(GLOBAL APPEND PROPERTY HOTRELOAD_MODULES ${name})
  set_property(TARGET ${name} PROPERTY HOTRELOAD_GEN ${gen})
endfunction()

function(hotreload_link_firmware fw)
  cmake_parse_arguments(F "" "PORT" "MODULES" ${ARGN})
  if(NOT F_PORT)
    set(F_PORT posix)
  endif()
  enable_language(ASM)
  _hotreload_key(key_c)
  target_sources(${fw} PRIVATE ${key_c})
  target_link_libraries(${fw} PRIVATE hotreload_${F_PORT})
  target_link_options(${fw} PRIVATE -Wl,--build-id=sha1)
  # Modules import firmware symbols by name on the simulated device (dlsym).
  set_target_properties(${fw} PROPERTIES ENABLE_EXPORTS ON)
  foreach(name ${F_MODULES})
    get_target_property(gen ${name} HOTRELOAD_GEN)
    target_sources(${fw} PRIVATE ${gen}/${name}_stubs.S ${gen}/${name}_symtab.c)
    target_include_directories(${fw} PRIVATE ${HOTRELOAD_ROOT}/agent/include)
    target_link_options(${fw} PRIVATE ${gen}/${name}_imports.ld)
    set_property(TARGET ${fw} APPEND PROPERTY LINK_DEPENDS ${gen}/${name}_imports.ld)
    add_dependencies(${fw} ${name}_stubs)

    # Bind the module to this firmware: its build-id goes in .hotreload.fwid.
    add_custom_command(OUTPUT ${gen}/${name}.debug.o ${gen}/${name}.img
      COMMAND hotd build-id $<TARGET_FILE:${fw}> -o ${gen}/${name}.fwid
      COMMAND ${CMAKE_OBJCOPY} --add-section .hotreload.fwid=${gen}/${name}.fwid
              ${gen}/${name}.o ${gen}/${name}.debug.o
      COMMAND ${CMAKE_OBJCOPY} --strip-debug ${gen}/${name}.debug.o ${gen}/${name}.img
      DEPENDS ${gen}/${name}.o $<TARGET_FILE:${fw}> hotd
      VERBATIM
      COMMENT "Binding module ${name} to ${fw}")
    add_custom_target(${name}_image ALL DEPENDS ${gen}/${name}.img)
    add_dependencies(${name}_image ${fw})
  endforeach()
endfunction()
