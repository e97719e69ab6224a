# Included from tests/CMakeLists.txt: the installers and the docker-compose stack, checked as
# shipped (tests/packaging/packaging_test.sh; label `packaging`). `packaging_build` runs
# `--target package` once, alone (RUN_SERIAL: it rebuilds and reinstalls the staging trees), as the
# fixture of every other check. `packaging_install` installs the .debs for real and runs only in
# CI (CI=true); elsewhere it reports itself skipped, never passed.
if(TARGET llmstreamer-desktop)
    set(packaging_have_desktop ON)
else()
    set(packaging_have_desktop OFF)
    message(WARNING "llmstreamer-desktop is not defined: no desktop package, no desktop checks")
endif()

set(packaging_script ${CMAKE_CURRENT_SOURCE_DIR}/packaging/packaging_test.sh)
set(packaging_environment
    "PKG_DIR=${CMAKE_BINARY_DIR}/packages"
    "VERSION=${PROJECT_VERSION}"
    "SOURCE_DIR=${PROJECT_SOURCE_DIR}"
    "BUILD_DIR=${CMAKE_BINARY_DIR}"
    "HAVE_DESKTOP=${packaging_have_desktop}"
    "REDIS_SERVER=${REDIS_SERVER_EXECUTABLE}")

# llmstreamer_packaging_test(<check> [TIMEOUT <s>] [PROPERTIES <extra properties...>])
function(llmstreamer_packaging_test check)
    cmake_parse_arguments(ARG "" "TIMEOUT" "PROPERTIES" ${ARGN})
    if(NOT ARG_TIMEOUT)
        set(ARG_TIMEOUT 60)
    endif()
    string(REPLACE "-" "_" name "packaging_${check}")
    add_test(NAME ${name} COMMAND bash ${packaging_script} ${check})
    set_tests_properties(${name} PROPERTIES
        LABELS packaging
        TIMEOUT ${ARG_TIMEOUT}
        ENVIRONMENT "${packaging_environment}"
        ${ARG_PROPERTIES})
    if(NOT check STREQUAL "build")
        set_tests_properties(${name} PROPERTIES FIXTURES_REQUIRED llmstreamer_packages)
    endif()
endfunction()

llmstreamer_packaging_test(build TIMEOUT 600
    PROPERTIES FIXTURES_SETUP llmstreamer_packages RUN_SERIAL TRUE)
llmstreamer_packaging_test(control)
llmstreamer_packaging_test(files)
llmstreamer_packaging_test(maintainer-scripts)
llmstreamer_packaging_test(version)
llmstreamer_packaging_test(systemd)
llmstreamer_packaging_test(tarball)
llmstreamer_packaging_test(compose)
llmstreamer_packaging_test(dockerfile)
if(packaging_have_desktop)
    llmstreamer_packaging_test(desktop)
    llmstreamer_packaging_test(desktop-app-id)
endif()
# Installs, runs and purges the packages on this machine: alone, and only where CI=true.
llmstreamer_packaging_test(install TIMEOUT 300
    PROPERTIES RUN_SERIAL TRUE SKIP_RETURN_CODE 77)
