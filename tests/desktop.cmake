# Tests of the desktop monitor: included from tests/CMakeLists.txt. Tests of the feed
# (desktop/feed) link llmstreamer_feed, not the widgets library, and run without a display; widget
# tests run on the offscreen platform (set by llmstreamer_add_test).
if(TARGET llmstreamer_desktop)
    add_library(llmstreamer_desktoptestsupport STATIC
        support/desktopstubserver.cpp support/desktopstubserver.h
        support/desktoptcprelay.cpp support/desktoptcprelay.h)
    target_include_directories(llmstreamer_desktoptestsupport PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/support)
    target_link_libraries(llmstreamer_desktoptestsupport
        PUBLIC Qt6::Core Qt6::Network Qt6::Test llmstreamer_options)

    llmstreamer_add_test(logrecorddecoder LIBS llmstreamer_feed llmstreamer_producer
        LABELS unit desktop TIMEOUT 60)
    # The records table shared with the dashboard's tests (tests/js/records.test.mjs).
    target_compile_definitions(tst_logrecorddecoder PRIVATE
        LLMSTREAMER_RECORDS_FIXTURE="${CMAKE_CURRENT_SOURCE_DIR}/fixtures/records.json")
    llmstreamer_add_test(logmodel LIBS llmstreamer_desktop LABELS unit desktop TIMEOUT 60)
    llmstreamer_add_test(logfilterproxy LIBS llmstreamer_desktop LABELS unit desktop TIMEOUT 60)
    llmstreamer_add_test(logview LIBS llmstreamer_desktop LABELS unit desktop TIMEOUT 60)
    llmstreamer_add_test(feedstatus LIBS llmstreamer_desktop LABELS unit desktop TIMEOUT 60)
    llmstreamer_add_test(throughputchart LIBS llmstreamer_desktop LABELS unit desktop TIMEOUT 60)
    llmstreamer_add_test(gatewayurl LIBS llmstreamer_feed LABELS unit desktop TIMEOUT 60)
    llmstreamer_add_test(logpage LIBS llmstreamer_feed LABELS unit desktop TIMEOUT 60)
    llmstreamer_add_test(desktopsettings LIBS llmstreamer_desktop LABELS unit desktop TIMEOUT 60)
    llmstreamer_add_test(logexporter LIBS llmstreamer_desktop LABELS unit desktop TIMEOUT 60)
    llmstreamer_add_test(sseconnection LIBS llmstreamer_feed llmstreamer_desktoptestsupport
        LABELS integration desktop TIMEOUT 60)
    llmstreamer_add_test(desktopgateway
        LIBS llmstreamer_feed llmstreamer_gateway llmstreamer_desktoptestsupport
        LABELS integration desktop TIMEOUT 60)
    llmstreamer_add_test(logfeed LIBS llmstreamer_feed llmstreamer_gateway
        LABELS integration desktop TIMEOUT 60)
    llmstreamer_add_test(desktopwindow
        LIBS llmstreamer_desktop llmstreamer_gateway llmstreamer_producer
             llmstreamer_desktoptestsupport
        LABELS integration desktop TIMEOUT 90)

    # The executable's command line (exit codes are checked by the output: 0 or 2).
    add_test(NAME desktop_cli_version COMMAND llmstreamer-desktop --version)
    set_tests_properties(desktop_cli_version PROPERTIES
        PASS_REGULAR_EXPRESSION "llmstreamer-desktop ${PROJECT_VERSION}")
    add_test(NAME desktop_cli_help COMMAND llmstreamer-desktop --help)
    set_tests_properties(desktop_cli_help PROPERTIES
        PASS_REGULAR_EXPRESSION "--url <URL>.*--token <TOKEN>.*--channels <LIST>")
    add_test(NAME desktop_cli_bad_url COMMAND llmstreamer-desktop --url ftp://x)
    set_tests_properties(desktop_cli_bad_url PROPERTIES
        PASS_REGULAR_EXPRESSION "--url: the gateway URL must start with http:// or https://, not ftp://")
    set_tests_properties(desktop_cli_version desktop_cli_help desktop_cli_bad_url PROPERTIES
        TIMEOUT 30 LABELS "unit;desktop" ENVIRONMENT "QT_QPA_PLATFORM=offscreen")

    # Not a test: takes docs/desktop.png (see the file's header).
    add_executable(llmstreamer-desktop-screenshot support/desktopscreenshot.cpp)
    target_link_libraries(llmstreamer-desktop-screenshot PRIVATE
        llmstreamer_desktop llmstreamer_gateway llmstreamer_producer llmstreamer_testsupport)
endif()
