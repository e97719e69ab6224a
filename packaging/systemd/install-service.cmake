# Runs inside cmake_install.cmake, when CMAKE_INSTALL_PREFIX is the real prefix (CPack's .deb and
# .tar.gz set it to /usr and install below DESTDIR, which file(INSTALL) prepends by itself). Like
# GNUInstallDirs, the prefix /usr keeps its configuration in /etc, any other prefix in <prefix>/etc.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
    set(LLMSTREAMER_SYSCONFDIR "/etc")
else()
    set(LLMSTREAMER_SYSCONFDIR "${CMAKE_INSTALL_PREFIX}/etc")
endif()
if(IS_ABSOLUTE "${LLMSTREAMER_INSTALL_BINDIR}")
    set(LLMSTREAMER_BINDIR "${LLMSTREAMER_INSTALL_BINDIR}")
else()
    set(LLMSTREAMER_BINDIR "${CMAKE_INSTALL_PREFIX}/${LLMSTREAMER_INSTALL_BINDIR}")
endif()

configure_file("${LLMSTREAMER_SERVICE_SOURCE_DIR}/llmstreamer-gateway.service.in"
    "${LLMSTREAMER_SERVICE_BINARY_DIR}/llmstreamer-gateway.service" @ONLY)
# systemd reads units from <prefix>/lib/systemd/system for /usr and /usr/local alike.
file(INSTALL "${LLMSTREAMER_SERVICE_BINARY_DIR}/llmstreamer-gateway.service"
    DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/systemd/system"
    FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
file(INSTALL "${LLMSTREAMER_SERVICE_SOURCE_DIR}/llmstreamer-gateway.default"
    DESTINATION "${LLMSTREAMER_SYSCONFDIR}/default"
    RENAME llmstreamer-gateway
    FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
