# Included by ctest in a sanitizer build (TEST_INCLUDE_FILES, set by the top-level
# CMakeLists.txt when LLMSTREAMER_SANITIZE is set): the runtime options every test gets, and so
# does every program a test starts (the gateway under node, the CLI script, ...), since they
# inherit ctest's environment. Options already in the environment come last, so they win.
function(llmstreamer_sanitizer_env name defaults)
    if(NOT "$ENV{${name}}" STREQUAL "")
        string(APPEND defaults ":$ENV{${name}}")
    endif()
    set(ENV{${name}} "${defaults}")
endfunction()

# halt_on_error: the first report fails the test (ASan stops anyway; explicit for clarity).
# detect_stack_use_after_return: also catches references to locals of returned frames, which a
# lambda capturing by reference in a queued connection would be.
llmstreamer_sanitizer_env(ASAN_OPTIONS
    "detect_leaks=1:halt_on_error=1:print_stacktrace=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1")
# Leak reports name third-party allocations that live until exit; see lsan.supp.
llmstreamer_sanitizer_env(LSAN_OPTIONS
    "suppressions=${CMAKE_CURRENT_LIST_DIR}/lsan.supp:print_suppressions=0")
llmstreamer_sanitizer_env(UBSAN_OPTIONS "halt_on_error=1:print_stacktrace=1")
