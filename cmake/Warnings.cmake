# Project-wide compiler flags: strict warnings (errors by default) and optional sanitizers.
add_library(smime_warnings INTERFACE)
target_compile_options(smime_warnings INTERFACE -Wall -Wextra -Wpedantic -Wconversion
                       -Wsign-conversion -Wshadow -Wnon-virtual-dtor)
if(SMIME_WERROR)
  target_compile_options(smime_warnings INTERFACE -Werror)
endif()

if(SMIME_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
endif()

# smime_module(name SOURCES...) declares a module library with the project's flags.
function(smime_module name)
  add_library(${name} STATIC ${ARGN})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE smime_warnings)
endfunction()
