# Included from tests/CMakeLists.txt: end-to-end tests of the dashboard in real headless Chromium
# (Debian's chromium, driven by playwright-core from tests/package.json, which
# scripts/install-deps.sh installs with `npm ci`; nothing is downloaded at run time). The tests
# start their own redis-server and the gateway and producer binaries built here.
find_program(NODE_EXECUTABLE node)

# Unit tests of the dashboard's pure modules under node's test runner (no browser). The glob test
# reads tests/fixtures/channelglob.json, the table tst_channelglob holds the gateway to; the
# records test reads tests/fixtures/records.json, which tst_logrecorddecoder holds the desktop
# client to, and checks records.js's vocabulary against common/vocabulary.h.
if(NODE_EXECUTABLE)
    add_test(NAME dashboard_js
        COMMAND ${NODE_EXECUTABLE} --test --test-reporter=spec
                js/glob.test.mjs js/regexfilter.test.mjs js/records.test.mjs js/format.test.mjs
                js/history.test.mjs
        WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
    set_tests_properties(dashboard_js PROPERTIES LABELS unit TIMEOUT 60)

    # ESLint's recommended rules over the dashboard, its tests and its benchmark (eslint from
    # tests/package-lock.json, which scripts/install-deps.sh installs with `npm ci`).
    add_test(NAME dashboard_lint
        COMMAND ${NODE_EXECUTABLE} tests/node_modules/eslint/bin/eslint.js
                --config tests/eslint.config.mjs --max-warnings 0
                resources/dashboard tests/e2e tests/js tests/eslint.config.mjs bench/dashboard
        WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
    set_tests_properties(dashboard_lint PROPERTIES LABELS unit TIMEOUT 120)
endif()

find_program(REDIS_CLI_EXECUTABLE redis-cli)
find_program(CHROMIUM_EXECUTABLE chromium)
if(NOT NODE_EXECUTABLE OR NOT REDIS_CLI_EXECUTABLE OR NOT CHROMIUM_EXECUTABLE)
    # CI (.ci/run) must never lose this test to a missing package.
    if(LLMSTREAMER_REQUIRE_E2E)
        message(FATAL_ERROR "dashboard_e2e needs node, redis-cli and chromium "
                            "(scripts/install-deps.sh installs them)")
    endif()
    message(WARNING "dashboard_e2e is not registered: it needs node, redis-cli and chromium "
                    "(scripts/install-deps.sh installs them)")
    return()
endif()

set(dashboard_e2e_dir ${CMAKE_CURRENT_SOURCE_DIR}/e2e)
set(dashboard_e2e_files dashboard.test.mjs filters.test.mjs restart.test.mjs auth.test.mjs
    history.test.mjs https.test.mjs)
# The burst floods the page (its latency figures are bench/dashboard/burst.mjs's). A sanitizer
# build's gateway and producer take 2-3 times the CPU, which Chromium then lacks on 2 cores. The
# other files still run that gateway through every feature.
if(NOT LLMSTREAMER_SANITIZE)
    list(APPEND dashboard_e2e_files burst.test.mjs)
endif()
# Several gateways behind nginx (tests/CMakeLists.txt finds it, or stops the configuration
# where the e2e tests are required).
if(NGINX_EXECUTABLE)
    list(APPEND dashboard_e2e_files loadbalancer.test.mjs)
endif()
list(TRANSFORM dashboard_e2e_files PREPEND ${dashboard_e2e_dir}/)
add_test(NAME dashboard_e2e
    COMMAND ${NODE_EXECUTABLE} --test --test-concurrency=1 --test-reporter=spec
            ${dashboard_e2e_files}
    WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
# RUN_SERIAL: the burst floods Chromium; sharing the two cores with other tests would only slow it.
set_tests_properties(dashboard_e2e PROPERTIES
    LABELS e2e
    TIMEOUT 240
    RUN_SERIAL TRUE
    ENVIRONMENT "LLMSTREAMER_GATEWAY=$<TARGET_FILE:llmstreamer-gateway>;LLMSTREAMER_PRODUCER=$<TARGET_FILE:llmstreamer-producer>;REDIS_SERVER=${REDIS_SERVER_EXECUTABLE};REDIS_CLI=${REDIS_CLI_EXECUTABLE};CHROMIUM=${CHROMIUM_EXECUTABLE};NGINX=${NGINX_EXECUTABLE}")

# llmstreamer-producer otlp fed by the OpenTelemetry JavaScript SDK's exporters (from
# tests/package-lock.json), read back through Redis, the gateway and an SSE client; no browser.
add_test(NAME otlp_e2e
    COMMAND ${NODE_EXECUTABLE} --test --test-concurrency=1 --test-reporter=spec
            ${dashboard_e2e_dir}/otlp.test.mjs
    WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
set_tests_properties(otlp_e2e PROPERTIES
    LABELS e2e
    TIMEOUT 180
    ENVIRONMENT "LLMSTREAMER_GATEWAY=$<TARGET_FILE:llmstreamer-gateway>;LLMSTREAMER_PRODUCER=$<TARGET_FILE:llmstreamer-producer>;REDIS_SERVER=${REDIS_SERVER_EXECUTABLE};REDIS_CLI=${REDIS_CLI_EXECUTABLE}")
