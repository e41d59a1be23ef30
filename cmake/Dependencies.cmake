# Finds every third-party dependency. A missing one stops configuration with the
# Debian package that provides it (./test.sh installs them all).
include(FindPkgConfig)

function(smime_missing what package)
  message(FATAL_ERROR "${what} not found: install the Debian package '${package}' "
                      "(apt-get install -y ${package}), or run ./test.sh which installs everything.")
endfunction()

find_package(OpenSSL 3)
if(NOT OpenSSL_FOUND)
  smime_missing("OpenSSL 3 (headers and libcrypto)" libssl-dev)
endif()

find_path(MILTER_INCLUDE_DIR libmilter/mfapi.h)
find_library(MILTER_LIBRARY milter)
if(NOT MILTER_INCLUDE_DIR OR NOT MILTER_LIBRARY)
  smime_missing("libmilter" libmilter-dev)
endif()
add_library(libmilter::libmilter UNKNOWN IMPORTED)
set_target_properties(libmilter::libmilter PROPERTIES IMPORTED_LOCATION "${MILTER_LIBRARY}"
                      INTERFACE_INCLUDE_DIRECTORIES "${MILTER_INCLUDE_DIR}")

pkg_check_modules(GMIME IMPORTED_TARGET gmime-3.0)
if(NOT GMIME_FOUND)
  smime_missing("GMime 3 (gmime-3.0.pc)" libgmime-3.0-dev)
endif()

find_package(SQLite3)
if(NOT SQLite3_FOUND)
  smime_missing("SQLite 3" libsqlite3-dev)
endif()

find_package(spdlog CONFIG QUIET)
if(NOT spdlog_FOUND)
  smime_missing("spdlog" libspdlog-dev)
endif()

find_package(tomlplusplus CONFIG QUIET)
if(NOT tomlplusplus_FOUND)
  smime_missing("toml++" libtomlplusplus-dev)
endif()

find_package(CLI11 CONFIG QUIET)
if(NOT CLI11_FOUND)
  smime_missing("CLI11" libcli11-dev)
endif()

find_package(nlohmann_json 3 CONFIG QUIET)
if(NOT nlohmann_json_FOUND)
  smime_missing("nlohmann-json" nlohmann-json3-dev)
endif()

if(SMIME_BUILD_TESTS)
  find_package(GTest CONFIG QUIET)
  if(NOT GTest_FOUND)
    smime_missing("GoogleTest" "libgtest-dev libgmock-dev")
  endif()
endif()
