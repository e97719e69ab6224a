# Read by cpack once per generator (CPACK_PROJECT_CONFIG_FILE).
if(CPACK_GENERATOR MATCHES "^(DEB|TGZ)$" AND CPACK_SYSTEM_NAME STREQUAL "Linux")
    # Install as into /usr, below DESTDIR: packaging/systemd/install-service.cmake then writes the
    # real paths into the unit and puts the environment file into /etc/default. The .tar.gz holds
    # the same tree as the .debs together (usr/..., etc/...).
    set(CPACK_SET_DESTDIR ON)
    set(CPACK_INSTALL_PREFIX /usr)
    set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
endif()
if(CPACK_GENERATOR STREQUAL "DEB")
    # Otherwise CPack prepends the project's one-line summary to every package's own description.
    unset(CPACK_PACKAGE_DESCRIPTION_SUMMARY)
endif()
