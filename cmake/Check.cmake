# `cmake --build <dir> --target check`: clang-format (dry run, errors on diff) and
# clang-tidy over the project's own sources.
find_program(CLANG_FORMAT clang-format)
find_program(CLANG_TIDY clang-tidy)
file(GLOB_RECURSE SMIME_CHECK_SOURCES CONFIGURE_DEPENDS
     ${PROJECT_SOURCE_DIR}/policy/*.cpp ${PROJECT_SOURCE_DIR}/policy/*.h
     ${PROJECT_SOURCE_DIR}/smime/*.cpp ${PROJECT_SOURCE_DIR}/smime/*.h
     ${PROJECT_SOURCE_DIR}/keystore/*.cpp ${PROJECT_SOURCE_DIR}/keystore/*.h
     ${PROJECT_SOURCE_DIR}/audit/*.cpp ${PROJECT_SOURCE_DIR}/audit/*.h
     ${PROJECT_SOURCE_DIR}/milter/*.cpp ${PROJECT_SOURCE_DIR}/milter/*.h
     ${PROJECT_SOURCE_DIR}/cli/*.cpp ${PROJECT_SOURCE_DIR}/cli/*.h)
set(SMIME_TIDY_SOURCES ${SMIME_CHECK_SOURCES})
list(FILTER SMIME_TIDY_SOURCES INCLUDE REGEX "\\.cpp$")
if(CLANG_FORMAT AND CLANG_TIDY)
  add_custom_target(check
    COMMAND ${CLANG_FORMAT} --dry-run --Werror ${SMIME_CHECK_SOURCES}
    COMMAND ${CLANG_TIDY} -p ${CMAKE_BINARY_DIR} --quiet ${SMIME_TIDY_SOURCES}
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    COMMENT "clang-format and clang-tidy"
    VERBATIM)
else()
  add_custom_target(check COMMAND ${CMAKE_COMMAND} -E echo
    "check needs clang-format and clang-tidy: apt-get install -y clang-format clang-tidy" && false)
endif()
