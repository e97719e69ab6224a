#!/usr/bin/env bash
# The installers and the container stack, checked as shipped (ctest -L packaging; registered by
# tests/packaging.cmake). Usage: packaging_test.sh <check>; the environment names the packages:
#   PKG_DIR       where `cmake --build <build> --target package` writes them
#   VERSION       the project's version
#   SOURCE_DIR    the source tree (docker-compose.yml, packaging/docker/Dockerfile)
#   BUILD_DIR     the build tree
#   HAVE_DESKTOP  ON when the llmstreamer-desktop target exists (and so its package)
#   REDIS_SERVER  redis-server for the real-installation check
# A missing tool fails the check: a check that cannot run has not passed.
set -uo pipefail

check=${1:?usage: packaging_test.sh <check>}
app_id=io.github.llmstreamer.Desktop
programs=(gateway producer)
[[ ${HAVE_DESKTOP:-OFF} == ON ]] && programs+=(desktop)

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
need() {
    local tool
    for tool in "$@"; do
        [[ $tool == python3 ]] && tool=$py
        command -v "$tool" >/dev/null ||
            fail "$tool is missing (scripts/install-deps.sh installs it)"
    done
}

# Debian's python3 (with python3-yaml), whatever else PATH offers.
py=/usr/bin/python3

tmp=$(mktemp -d)
cleanup_hooks=()
cleanup() {
    local hook
    for hook in "${cleanup_hooks[@]}"; do eval "$hook"; done
    rm -rf "$tmp"
}
trap cleanup EXIT

deb() { echo "$PKG_DIR/llmstreamer-$1_${VERSION}_$(dpkg --print-architecture).deb"; }
tarball() { echo "$PKG_DIR/llmstreamer-$VERSION-Linux.tar.gz"; }

# unpack <program>: sets root to a directory holding the package's files.
unpack() {
    root=$tmp/root-$1
    if [[ ! -d $root ]]; then
        dpkg-deb -x "$(deb "$1")" "$root" || fail "dpkg-deb -x $(deb "$1")"
    fi
}

# Package names of a Depends-style field, without versions, alternatives kept as separate names.
field_names() { tr ',|' '\n\n' <<<"$1" | sed -e 's/(.*)//' -e 's/[[:space:]]//g' -e '/^$/d' | sort -u; }

# start_gateway <log> <command...>: starts a gateway on a free port; sets gw_pid and gw_port.
start_gateway() {
    local log=$1
    shift
    LLMSTREAMER_PORT=0 "$@" >"$log" 2>&1 &
    gw_pid=$!
    cleanup_hooks+=("kill $gw_pid 2>/dev/null")
    gw_port=
    for _ in $(seq 1200); do
        gw_port=$(grep -so 'listening on http://127.0.0.1:[0-9]*' "$log" | grep -o '[0-9]*$')
        [[ -n $gw_port ]] && return 0
        kill -0 "$gw_pid" 2>/dev/null || break
        sleep 0.05
    done
    fail "$* did not start: $(cat "$log")"
}

# wait_for <seconds> <command...>: polls until the command succeeds; exit status 2 ends it early.
wait_for() {
    local deadline=$((SECONDS + $1)) rc
    shift
    while true; do
        "$@"
        rc=$?
        ((rc == 0)) && return 0
        ((rc == 2 || SECONDS >= deadline)) && return 1
        sleep 0.1
    done
}

# redis_ready <pid> <log>: true once it accepts connections; stops the waiting when it died.
redis_ready() {
    grep -qs 'Ready to accept connections' "$2" && return 0
    kill -0 "$1" 2>/dev/null || return 2
    return 1
}

expected_files() {
    case $1 in
    gateway)
        printf '%s\n' /etc/default/llmstreamer-gateway /usr/bin/llmstreamer-gateway \
            /usr/lib/systemd/system/llmstreamer-gateway.service \
            /usr/share/doc/llmstreamer-gateway/copyright \
            /usr/share/doc/llmstreamer-gateway/examples/nginx/llmstreamer.conf
        ;;
    producer)
        printf '%s\n' /usr/bin/llmstreamer-producer /usr/share/doc/llmstreamer-producer/copyright
        ;;
    desktop)
        printf '%s\n' /usr/bin/llmstreamer-desktop /usr/share/doc/llmstreamer-desktop/copyright \
            "/usr/share/applications/$app_id.desktop" "/usr/share/metainfo/$app_id.metainfo.xml" \
            "/usr/share/icons/hicolor/scalable/apps/$app_id.svg"
        for size in 16 32 48 64 128 256; do
            echo "/usr/share/icons/hicolor/${size}x$size/apps/$app_id.png"
        done
        ;;
    esac
}

# ---------------------------------------------------------------------------------------------
# build: `--target package` makes exactly the expected packages (the fixture of all checks).
check_build() {
    need cmake dpkg-deb dpkg-shlibdeps
    rm -f "$PKG_DIR"/*.deb "$PKG_DIR"/*.tar.gz
    cmake --build "$BUILD_DIR" --target package || fail "cmake --build --target package"
    local want=() have=() p
    for p in "${programs[@]}"; do want+=("$(basename "$(deb "$p")")"); done
    want+=("$(basename "$(tarball)")")
    mapfile -t have < <(cd "$PKG_DIR" && ls -1 -- *.deb *.tar.gz 2>/dev/null | sort)
    mapfile -t want < <(printf '%s\n' "${want[@]}" | sort)
    [[ "${have[*]}" == "${want[*]}" ]] || fail "packages: got '${have[*]}', expected '${want[*]}'"
    echo "built: ${have[*]}"
}

# control: the fields of each .deb, and Depends as dpkg-shlibdeps computed them.
check_control() {
    need dpkg-deb
    local p f arch maintainer_re='^[^<>]+ <[^@<>]+@[^<>]+>$'
    arch=$(dpkg --print-architecture)
    for p in "${programs[@]}"; do
        f=$(deb "$p")
        [[ -f $f ]] || fail "$f is missing"
        [[ $(dpkg-deb -f "$f" Package) == "llmstreamer-$p" ]] || fail "$f: Package"
        [[ $(dpkg-deb -f "$f" Version) == "$VERSION" ]] || fail "$f: Version is not $VERSION"
        [[ $(dpkg-deb -f "$f" Architecture) == "$arch" ]] || fail "$f: Architecture"
        [[ $(dpkg-deb -f "$f" Maintainer) =~ $maintainer_re ]] ||
            fail "$f: Maintainer is not 'Name <email>'"
        [[ -n $(dpkg-deb -f "$f" Homepage) ]] || fail "$f: no Homepage"
        [[ -n $(dpkg-deb -f "$f" Section) ]] || fail "$f: no Section"
        # A synopsis plus an extended description, every line within 80 columns.
        local desc
        desc=$(dpkg-deb -f "$f" Description)
        (($(wc -l <<<"$desc") >= 3)) || fail "$f: no extended description"
        [[ $(head -n1 <<<"$desc") != *"built using CMake"* ]] || fail "$f: CPack's default synopsis"
        awk 'length > 80 { exit 1 }' <<<"$desc" || fail "$f: description line over 80 columns"
        local depends
        depends=$(field_names "$(dpkg-deb -f "$f" Depends)")
        grep -qx libc6 <<<"$depends" || fail "$f: Depends lacks libc6 (no shlibdeps?): $depends"
        grep -qx libqt6core6 <<<"$depends" || fail "$f: Depends lacks libqt6core6"
        case $p in
        gateway)
            grep -qx libqt6httpserver6 <<<"$depends" || fail "$f: Depends lacks Qt HttpServer"
            grep -qx 'libhiredis[0-9.]*' <<<"$depends" || fail "$f: Depends lacks hiredis"
            ! grep -qE 'libqt6(gui|widgets)' <<<"$depends" || fail "$f: gateway depends on Qt Gui"
            [[ $(field_names "$(dpkg-deb -f "$f" Recommends)") == redis-server ]] ||
                fail "$f: Recommends is not redis-server"
            ;;
        producer)
            grep -qx 'libhiredis[0-9.]*' <<<"$depends" || fail "$f: Depends lacks hiredis"
            # otlp: the protobuf lite runtime only, never the full libprotobuf.
            grep -qx 'libprotobuf-lite[0-9]*' <<<"$depends" || fail "$f: Depends lacks protobuf-lite"
            ! grep -qx 'libprotobuf[0-9]*' <<<"$depends" || fail "$f: depends on the full libprotobuf"
            ! grep -qE 'libqt6(gui|widgets)' <<<"$depends" || fail "$f: producer depends on Qt Gui"
            ;;
        desktop)
            grep -qx libqt6charts6 <<<"$depends" || fail "$f: Depends lacks Qt Charts"
            grep -qx libqt6widgets6 <<<"$depends" || fail "$f: Depends lacks Qt Widgets"
            [[ $(field_names "$(dpkg-deb -f "$f" Recommends)") == qt6-wayland ]] ||
                fail "$f: Recommends is not qt6-wayland"
            ;;
        esac
        echo "$(basename "$f"): Depends $(tr '\n' ' ' <<<"$depends")"
    done
}

# files: exactly the expected files, owned by root, sane modes, stripped binaries without RPATH,
# conffiles for everything in /etc.
check_files() {
    need dpkg-deb readelf file
    local p f listing got want root
    for p in "${programs[@]}"; do
        f=$(deb "$p")
        listing=$(dpkg-deb -c "$f") || fail "dpkg-deb -c $f"
        got=$(awk '$1 !~ /^d/ { sub(/^\./, "", $6); print $6 }' <<<"$listing" | sort)
        want=$(expected_files "$p" | sort)
        [[ $got == "$want" ]] || fail "$f: files differ from the expected list:
$(diff <(echo "$want") <(echo "$got"))"
        awk '$2 != "root/root" { exit 1 }' <<<"$listing" || fail "$f: a file not owned by root"
        awk '$1 ~ /^-/ && $6 ~ /^\.\/usr\/bin\// && $1 != "-rwxr-xr-x" { exit 1 }
             $1 ~ /^-/ && $6 !~ /^\.\/usr\/bin\// && $1 != "-rw-r--r--" { exit 1 }
             $1 ~ /^d/ && $1 != "drwxr-xr-x" { exit 1 }' <<<"$listing" ||
            fail "$f: unexpected permissions:
$listing"
        ! grep -q '/usr/local' <<<"$listing" || fail "$f: files under /usr/local"
        unpack "$p"
        local bin=$root/usr/bin/llmstreamer-$p
        file -b "$bin" | grep -q ', stripped' || fail "$bin is not stripped"
        ! readelf -d "$bin" | grep -qE 'RPATH|RUNPATH' || fail "$bin has an RPATH/RUNPATH"
        # Control area: conffiles exactly the files in /etc.
        dpkg-deb -e "$f" "$tmp/control-$p" || fail "dpkg-deb -e $f"
        local etc conf=
        etc=$(grep '^/etc/' <<<"$got")
        [[ -f $tmp/control-$p/conffiles ]] && conf=$(sort "$tmp/control-$p/conffiles")
        [[ $conf == "$etc" ]] || fail "$f: conffiles '$conf' are not the files in /etc '$etc'"
        [[ -s $tmp/control-$p/md5sums ]] || fail "$f: no md5sums"
        echo "$(basename "$f"): $(wc -l <<<"$got") files as expected"
    done
}

# maintainer-scripts: the gateway's postinst/prerm/postrm never enable or start the service,
# restart it on upgrade only when running, stop it on removal; the others have no scripts.
# The systemd tools are logging stubs; "systemd running" is a private /run (a mount namespace).
check_maintainer_scripts() {
    need dpkg-deb unshare mount sh
    local p f s
    for p in "${programs[@]}"; do
        f=$(deb "$p")
        dpkg-deb -e "$f" "$tmp/control-$p" || fail "dpkg-deb -e $f"
        for s in preinst postinst prerm postrm; do
            if [[ $p == gateway && $s != preinst ]]; then
                [[ -f $tmp/control-$p/$s ]] || fail "$f: no $s"
                [[ $(stat -c %a "$tmp/control-$p/$s") == 755 ]] || fail "$f: $s is not mode 755"
                [[ $(head -n1 "$tmp/control-$p/$s") == '#!/bin/sh' ]] || fail "$f: $s is not /bin/sh"
                sh -n "$tmp/control-$p/$s" || fail "$f: $s has a syntax error"
            else
                [[ ! -e $tmp/control-$p/$s ]] || fail "$f: unexpected maintainer script $s"
            fi
        done
    done

    local scripts=$tmp/control-gateway stubs=$tmp/stubs log=$tmp/calls
    mkdir -p "$stubs"
    for s in systemctl deb-systemd-helper deb-systemd-invoke; do
        printf '#!/bin/sh\necho "%s $*" >>"%s"\n' "$s" "$log" >"$stubs/$s"
        chmod +x "$stubs/$s"
    done
    local ns=(unshare --mount)
    ((EUID == 0)) || ns=(unshare --map-root-user --mount)
    # expect <systemd running: yes|no> <script> <args...> -- <expected calls...>
    expect() {
        local systemd=$1 script=$2 args=() want calls
        shift 2
        while [[ $1 != -- ]]; do args+=("$1"); shift; done
        shift
        : >"$log"
        local setup=':'
        [[ $systemd == yes ]] && setup='mount -t tmpfs none /run && mkdir -p /run/systemd/system'
        env -u DPKG_ROOT PATH="$stubs:$PATH" "${ns[@]}" sh -c "$setup && exec sh \"\$@\"" sh \
            "$scripts/$script" "${args[@]}" >"$tmp/out" 2>&1 ||
            fail "$script ${args[*]} (systemd running: $systemd) failed: $(cat "$tmp/out")"
        calls=$(cat "$log")
        want=$(printf '%s\n' "$@")
        [[ $calls == "$want" ]] || fail "$script ${args[*]} (systemd running: $systemd) called
'$calls'
instead of
'$want'"
    }
    local u=llmstreamer-gateway.service
    expect no postinst configure '' -- "deb-systemd-helper update-state $u"
    grep -q 'systemctl enable --now llmstreamer-gateway' "$tmp/out" ||
        fail "postinst does not tell how to enable the service: $(cat "$tmp/out")"
    expect yes postinst configure '' -- "deb-systemd-helper update-state $u" \
        "systemctl --system daemon-reload"
    expect yes postinst configure 0.0.1 -- "deb-systemd-helper update-state $u" \
        "systemctl --system daemon-reload" "deb-systemd-invoke try-restart $u"
    expect no postinst configure 0.0.1 -- "deb-systemd-helper update-state $u"
    expect yes prerm remove -- "deb-systemd-invoke stop $u"
    expect yes prerm upgrade "$VERSION" --
    expect yes postrm remove -- "systemctl --system daemon-reload"
    expect no postrm remove --
    expect yes postrm purge -- "deb-systemd-helper purge $u"
    expect yes postrm upgrade "$VERSION" --
    echo "maintainer scripts: enable/start never, try-restart on upgrade, stop on removal"
}

# version: every program runs from its unpacked package and reports the project's version.
check_version() {
    need dpkg-deb
    local p root out
    for p in "${programs[@]}"; do
        unpack "$p"
        out=$(QT_QPA_PLATFORM=offscreen "$root/usr/bin/llmstreamer-$p" --version 2>"$tmp/err") ||
            fail "llmstreamer-$p --version failed: $out $(cat "$tmp/err")"
        [[ $out == "llmstreamer-$p $VERSION" ]] || fail "llmstreamer-$p --version said '$out'"
        echo "$out"
    done
}

# desktop: the menu entry, the AppStream metainfo and the icons, one application id throughout.
check_desktop() {
    need dpkg-deb desktop-file-validate appstreamcli file
    local root out
    unpack desktop
    local entry=$root/usr/share/applications/$app_id.desktop
    local metainfo=$root/usr/share/metainfo/$app_id.metainfo.xml
    out=$(desktop-file-validate "$entry" 2>&1) || fail "desktop-file-validate: $out"
    ! grep -qiE 'error|warning' <<<"$out" || fail "desktop-file-validate: $out"
    out=$(appstreamcli validate --no-net "$metainfo" 2>&1) || fail "appstreamcli validate: $out"
    # The whole tree: the metainfo's launchable .desktop file and its icon must be found.
    out=$(appstreamcli validate-tree --no-net "$root" 2>&1) || fail "appstreamcli validate-tree: $out"
    grep -q "$app_id.metainfo.xml" <<<"$out" || fail "appstreamcli validate-tree found no metainfo: $out"

    grep -qx "Icon=$app_id" "$entry" || fail "$entry: Icon is not $app_id"
    local exec
    exec=$(sed -n 's/^Exec=\([^ ]*\).*/\1/p' "$entry")
    [[ -x $root/usr/bin/$exec ]] || fail "$entry: Exec=$exec is not in the package"
    grep -q "<id>$app_id</id>" "$metainfo" || fail "$metainfo: id is not $app_id"
    grep -q "<launchable type=\"desktop-id\">$app_id.desktop</launchable>" "$metainfo" ||
        fail "$metainfo: launchable is not $app_id.desktop"
    local release
    release=$(grep -o '<release version="[^"]*"' "$metainfo" | head -n1 | cut -d'"' -f2)
    [[ $release == "$VERSION" ]] ||
        fail "$metainfo: newest <release> is '$release', not $VERSION (add the release)"
    local size png
    for size in 16 32 48 64 128 256; do
        png=$root/usr/share/icons/hicolor/${size}x$size/apps/$app_id.png
        file -b "$png" | grep -q "^PNG image data, $size x $size," || fail "$png is not ${size}x$size"
    done
    file -b "$root/usr/share/icons/hicolor/scalable/apps/$app_id.svg" | grep -q SVG ||
        fail "the scalable icon is not an SVG"
    echo "desktop entry, metainfo and icons valid under $app_id"
}

# desktop-app-id: the window tells the desktop which entry it belongs to (Wayland app_id, the
# icon in the task switcher): QGuiApplication::setDesktopFileName("<app id>") in the binary.
check_desktop_app_id() {
    need dpkg-deb python3
    local root
    unpack desktop
    "$py" - "$root/usr/bin/llmstreamer-desktop" "$app_id" <<'EOF' ||
import sys
data = open(sys.argv[1], "rb").read()
wanted = sys.argv[2]
sys.exit(0 if wanted.encode("utf-16-le") in data or wanted.encode() in data else 1)
EOF
        fail "llmstreamer-desktop never names its desktop entry $app_id: it should call \
QGuiApplication::setDesktopFileName(\"$app_id\")"
    echo "llmstreamer-desktop names its desktop entry $app_id"
}

# systemd: the shipped unit passes `systemd-analyze verify` in a root holding the package
# (ExecStart is found there) and the system's units, has the hardening it promises, and the
# environment file's settings are all real, valid gateway settings.
check_systemd() {
    need dpkg-deb systemd-analyze
    local root=$tmp/sysroot unit=/usr/lib/systemd/system/llmstreamer-gateway.service out
    dpkg-deb -x "$(deb gateway)" "$root" || fail "dpkg-deb -x"
    local units
    for units in /usr/lib/systemd/system /lib/systemd/system; do
        [[ -f $units/sysinit.target ]] && break
    done
    [[ -f $units/sysinit.target ]] || fail "no systemd units on this machine (apt-get install systemd)"
    cp -an "$units/." "$root/usr/lib/systemd/system/"
    # ExecReload runs the system's shell (essential, so never a dependency of the package).
    install -D "$(readlink -f /bin/sh)" "$root/bin/sh"
    # Any output is a finding (unknown keys are only warnings, with exit code 0).
    out=$(systemd-analyze verify --man=no --generators=no --root="$root" "$unit" 2>&1)
    local rc=$?
    [[ $rc == 0 && -z $out ]] || fail "systemd-analyze verify (exit $rc): $out"
    out=$(systemd-analyze security --offline=true --threshold=20 "$root$unit" 2>&1) ||
        fail "systemd-analyze security: exposure above 2.0: $(tail -n1 <<<"$out")"
    echo "$(tail -n1 <<<"$out")"

    local u=$root$unit
    local directive
    for directive in DynamicUser=yes ProtectSystem=strict NoNewPrivileges=yes Restart=on-failure \
        EnvironmentFile=-/etc/default/llmstreamer-gateway WantedBy=multi-user.target; do
        grep -qx "$directive" "$u" || fail "unit lacks $directive"
    done
    local nofile
    nofile=$(sed -n 's/^LimitNOFILE=//p' "$u")
    [[ $nofile =~ ^[0-9]+$ ]] && ((nofile >= 16384)) || fail "LimitNOFILE=$nofile is too low"
    grep -q '^ExecStart=/usr/bin/llmstreamer-gateway' "$u" || fail "ExecStart is not /usr/bin"

    # Every variable the environment file names is one the gateway reads, and vice versa.
    local env=$root/etc/default/llmstreamer-gateway help names
    help=$("$root/usr/bin/llmstreamer-gateway" --help)
    mapfile -t names < <(grep -o '\[\(LLMSTREAMER_[A-Z_]*\|REDIS_URL\)' <<<"$help" | tr -d '[' | sort -u)
    ((${#names[@]} >= 5)) || fail "gateway --help names no environment variables"
    local name
    for name in "${names[@]}"; do
        grep -q "\b$name=" "$env" || fail "$env does not document $name"
    done
    for name in $(grep -o '^#\?[A-Z_]*=' "$env" | tr -d '#=' | sort -u); do
        [[ $name == LLMSTREAMER_GATEWAY_OPTS || $name == QT_LOGGING_RULES ]] && continue
        printf '%s\n' "${names[@]}" | grep -qx "$name" || fail "$env sets $name, which the gateway ignores"
    done
    # Its values, all enabled, start the gateway (on a free port, against no Redis).
    local settings=()
    mapfile -t settings < <(sed -n 's/^#\([A-Z_]*=.*\)$/\1/p' "$env" |
        grep -v -e '^LLMSTREAMER_PORT=' -e '^LLMSTREAMER_BIND=' -e '^REDIS_URL=')
    start_gateway "$tmp/gw.log" env "${settings[@]}" REDIS_URL=redis://127.0.0.1:1 \
        "$root/usr/bin/llmstreamer-gateway"
    kill -TERM "$gw_pid"
    wait "$gw_pid" || fail "the gateway with the environment file's values did not stop cleanly"
    echo "unit verified; environment file matches the gateway's settings"
}

# tarball: the .tar.gz holds every package's files, and its programs run.
check_tarball() {
    need tar dpkg-deb
    local t got want p top
    t=$(tarball)
    top=llmstreamer-$VERSION-Linux
    got=$(tar -tzf "$t" | grep -v '/$' | sed "s|^$top||" | sort) || fail "tar -tzf $t"
    want=$(for p in "${programs[@]}"; do expected_files "$p"; done | sort)
    [[ $got == "$want" ]] || fail "$t: files differ:
$(diff <(echo "$want") <(echo "$got"))"
    tar -xzf "$t" -C "$tmp" || fail "tar -xzf $t"
    for p in "${programs[@]}"; do
        [[ $(QT_QPA_PLATFORM=offscreen "$tmp/$top/usr/bin/llmstreamer-$p" --version 2>/dev/null) == "llmstreamer-$p $VERSION" ]] ||
            fail "$t: llmstreamer-$p --version"
    done
    echo "$(basename "$t"): $(wc -l <<<"$got") files, all programs run"
}

# compose: docker-compose.yml is valid for Debian's docker-compose and describes the stack.
check_compose() {
    need docker-compose python3
    local file=$SOURCE_DIR/docker-compose.yml out
    out=$(cd "$SOURCE_DIR" && env -u REDIS_URL -u LLMSTREAMER_PUBLISH docker-compose -f "$file" config -q 2>&1) ||
        fail "docker-compose config -q: $out"
    [[ -z $out ]] || fail "docker-compose config -q warns: $out"
    (cd "$SOURCE_DIR" && env -u REDIS_URL -u LLMSTREAMER_PUBLISH docker-compose -f "$file" config) \
        >"$tmp/default.yml" || fail "docker-compose config"
    (cd "$SOURCE_DIR" && REDIS_URL=redis://elsewhere:6380/2 docker-compose -f "$file" config) \
        >"$tmp/redis-url.yml" || fail "docker-compose config with REDIS_URL"
    "$py" - "$tmp/default.yml" "$tmp/redis-url.yml" "$SOURCE_DIR" <<'EOF' || fail "docker-compose.yml"
import os, sys, yaml

def fail(msg):
    sys.exit("docker-compose.yml: " + msg)

stack = yaml.safe_load(open(sys.argv[1]))
services = stack["services"]
if set(services) != {"redis", "gateway", "producer", "gateways", "lb"}:
    fail(f"services are {sorted(services)}")
# The scale-out profile: scalable gateways (no fixed name, no host port) behind nginx, built
# from packaging/docker/nginx.Dockerfile and published on 8080; neither starts without it.
gateways, lb = services["gateways"], services["lb"]
for name, svc in (("gateways", gateways), ("lb", lb)):
    if svc.get("profiles") != ["scale-out"]:
        fail(f"{name} is not in the scale-out profile only: {svc.get('profiles')}")
if "container_name" in gateways or "ports" in gateways:
    fail("gateways has a container_name or ports: it cannot be scaled")
if gateways.get("environment", {}).get("LLMSTREAMER_TRANSPORT") is None:
    fail("gateways do not take LLMSTREAMER_TRANSPORT")
build = lb.get("build", {})
if os.path.realpath(os.path.join(build.get("context", ""), build.get("dockerfile", ""))) != \
        os.path.realpath(os.path.join(sys.argv[3], "packaging/docker/nginx.Dockerfile")):
    fail("lb is not built from packaging/docker/nginx.Dockerfile")
if not any(str(p).split("/")[0].endswith(":8080:8080") for p in lb.get("ports", [])):
    fail(f"lb does not publish port 8080: {lb.get('ports')}")
redis, gateway, producer = services["redis"], services["gateway"], services["producer"]
if "redis-cli" not in " ".join(redis.get("healthcheck", {}).get("test", [])):
    fail("redis has no redis-cli healthcheck")
for name, svc in (("gateway", gateway), ("producer", producer)):
    if svc.get("depends_on", {}).get("redis", {}).get("condition") != "service_healthy":
        fail(f"{name} does not wait for a healthy redis")
    build = svc.get("build", {})
    dockerfile = os.path.join(build.get("context", ""), build.get("dockerfile", ""))
    if os.path.realpath(dockerfile) != os.path.realpath(os.path.join(sys.argv[3], "packaging/docker/Dockerfile")):
        fail(f"{name} is not built from packaging/docker/Dockerfile")
    if svc["environment"].get("REDIS_URL") != "redis://redis:6379":
        fail(f"{name}: REDIS_URL defaults to {svc['environment'].get('REDIS_URL')}")
command = gateway.get("command", [])
if command[:1] != ["llmstreamer-gateway"] or "--bind" not in command or \
        command[command.index("--bind") + 1] != "0.0.0.0":
    fail(f"gateway command {command} does not bind 0.0.0.0")
ports = gateway.get("ports", [])
if not any(str(p).split("/")[0].endswith(":8000:8000") or str(p) == "8000:8000" for p in ports):
    fail(f"gateway does not publish port 8000: {ports}")
if producer.get("command", [])[:2] != ["llmstreamer-producer", "simulate"]:
    fail("producer does not simulate")
# --scale producer=3 needs no fixed name and no host port.
if "container_name" in producer or "ports" in producer:
    fail("producer has a container_name or ports: it cannot be scaled")
override = yaml.safe_load(open(sys.argv[2]))["services"]
for name in ("gateway", "producer"):
    if override[name]["environment"]["REDIS_URL"] != "redis://elsewhere:6380/2":
        fail(f"{name} does not take REDIS_URL from the environment")
EOF
    echo "docker-compose.yml: valid; redis (healthcheck), gateway (:8000), scalable producer," \
        "scale-out profile (nginx :8080, scalable gateways)"
}

# dockerfile: multi-stage Debian 12 build, runtime libraries exactly the .debs' Depends, a
# non-root user, and a HEALTHCHECK that really answers against a running gateway.
check_dockerfile() {
    need dpkg-deb python3 curl
    local df=$SOURCE_DIR/packaging/docker/Dockerfile
    [[ -f $df ]] || fail "$df is missing"
    # Instructions with their continuation lines joined, comments dropped.
    "$py" - "$df" >"$tmp/instructions" <<'EOF' || fail "cannot read $df"
import sys
lines, cur = [], ""
for raw in open(sys.argv[1]):
    line = raw.rstrip("\n")
    if not cur and line.lstrip().startswith("#"):
        continue
    if line.endswith("\\"):
        cur += line[:-1] + " "
        continue
    cur += line
    if cur.strip():
        lines.append(" ".join(cur.split()))
    cur = ""
print("\n".join(lines))
EOF
    local froms
    froms=$(grep '^FROM ' "$tmp/instructions")
    [[ $(sed -n 1p <<<"$froms") == "FROM debian:12 AS build" ]] || fail "first stage is not 'FROM debian:12 AS build'"
    [[ $(sed -n 2p <<<"$froms") == "FROM debian:12-slim" ]] || fail "runtime stage is not 'FROM debian:12-slim'"
    (($(wc -l <<<"$froms") == 2)) || fail "expected two stages"
    grep -q '^RUN /src/scripts/install-deps.sh --build-only' "$tmp/instructions" ||
        fail "the build stage does not use scripts/install-deps.sh --build-only"
    local runtime
    runtime=$(sed -n '/^FROM debian:12-slim/,$p' "$tmp/instructions")
    local user
    user=$(grep '^USER ' <<<"$runtime" | tail -n1 | cut -d' ' -f2)
    [[ -n $user && ${user%%:*} != root && ${user%%:*} != 0 ]] || fail "the image runs as root"
    grep -q '^HEALTHCHECK ' <<<"$runtime" || fail "no HEALTHCHECK"
    grep -q '^CMD \["llmstreamer-gateway", "--bind", "0.0.0.0"\]' <<<"$runtime" ||
        fail "the default command is not the gateway on 0.0.0.0"
    grep -qx 'EXPOSE 8000' <<<"$runtime" || fail "no EXPOSE 8000"

    # Runtime packages = union of the gateway's and the producer's Depends.
    local installed want
    installed=$(grep -o 'apt-get install [^&]*' <<<"$runtime" | tr ' ' '\n' |
        grep -v -e '^apt-get$' -e '^install$' -e '^-' -e '^$' | sort -u)
    want=$( (field_names "$(dpkg-deb -f "$(deb gateway)" Depends)"
        field_names "$(dpkg-deb -f "$(deb producer)" Depends)") | sort -u)
    [[ $installed == "$want" ]] || fail "runtime packages differ from the .debs' Depends:
$(diff <(echo "$want") <(echo "$installed"))"

    local ignore=$SOURCE_DIR/.dockerignore
    grep -qx '/build\*' "$ignore" && grep -qx '.git' "$ignore" ||
        fail ".dockerignore does not keep build trees and .git out of the context"

    # The HEALTHCHECK command, run as the container would (its shell, its port variable).
    local hc root
    hc=$(grep '^HEALTHCHECK ' <<<"$runtime" | sed 's/.* CMD //')
    unpack gateway
    start_gateway "$tmp/gw.log" "$root/usr/bin/llmstreamer-gateway" --redis-url redis://127.0.0.1:1
    # healthcheck <port>: runs the exec-form command with the container's port variable.
    healthcheck() {
        "$py" - "$hc" "$1" <<'EOF'
import json, os, subprocess, sys
argv = json.loads(sys.argv[1])
sys.exit(subprocess.run(argv, env=dict(os.environ, LLMSTREAMER_PORT=sys.argv[2]), timeout=3).returncode)
EOF
    }
    healthcheck "$gw_port" || fail "HEALTHCHECK fails against a healthy gateway: $hc"
    kill -TERM "$gw_pid"
    wait "$gw_pid"
    ! healthcheck "$gw_port" 2>/dev/null || fail "HEALTHCHECK passes with no gateway"
    echo "Dockerfile: runtime packages = Depends ($(tr '\n' ' ' <<<"$installed")), user $user, working HEALTHCHECK"
}

# install (CI=true only): apt-get installs the .debs for real; the installed gateway streams a
# message published by the installed producer through a test redis-server; removal and purge
# leave nothing behind.
check_install() {
    if [[ ${CI:-} != true ]]; then
        echo "not in CI (CI=true): the packages are not installed on this machine"
        exit 77
    fi
    need apt-get dpkg curl "${REDIS_SERVER:-redis-server}" desktop-file-validate
    local sudo=()
    ((EUID == 0)) || sudo=(sudo -n)
    local pkgs=() debs=() p
    for p in "${programs[@]}"; do
        pkgs+=("llmstreamer-$p")
        debs+=("$(deb "$p")")
    done
    for p in "${pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'installed' &&
            fail "$p is already installed here: remove it first (the check would remove it)"
    done
    local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=300)
    cleanup_hooks+=("${sudo[*]} dpkg --purge ${pkgs[*]} >/dev/null 2>&1")
    "${apt[@]}" install "${debs[@]}" >"$tmp/apt.log" 2>&1 || fail "apt-get install: $(cat "$tmp/apt.log")"
    for p in "${programs[@]}"; do
        [[ $(dpkg-query -W -f='${Version}' "llmstreamer-$p") == "$VERSION" ]] || fail "llmstreamer-$p not installed"
        [[ $(QT_QPA_PLATFORM=offscreen "llmstreamer-$p" --version 2>/dev/null) == "llmstreamer-$p $VERSION" ]] ||
            fail "installed llmstreamer-$p --version"
    done
    grep -q 'systemctl enable --now llmstreamer-gateway' "$tmp/apt.log" || fail "no enable hint on install"
    [[ -f /usr/lib/systemd/system/llmstreamer-gateway.service ]] || fail "unit not installed"
    ! compgen -G '/etc/systemd/system/*.wants/llmstreamer-gateway.service' >/dev/null ||
        fail "the installation enabled the service"
    [[ -f /etc/default/llmstreamer-gateway ]] || fail "/etc/default/llmstreamer-gateway not installed"
    if [[ ${HAVE_DESKTOP:-OFF} == ON ]]; then
        desktop-file-validate "/usr/share/applications/$app_id.desktop" || fail "installed .desktop"
        [[ -f /usr/share/icons/hicolor/48x48/apps/$app_id.png ]] || fail "icons not installed"
    fi

    # A test redis-server on a free port.
    local rport rpid=
    for _ in 1 2 3 4 5; do
        rport=$((20000 + RANDOM % 30000))
        "${REDIS_SERVER:-redis-server}" --port "$rport" --bind 127.0.0.1 --save '' --appendonly no \
            >"$tmp/redis.log" 2>&1 &
        rpid=$!
        if wait_for 60 redis_ready "$rpid" "$tmp/redis.log"; then break; fi
        kill "$rpid" 2>/dev/null
        wait "$rpid" 2>/dev/null
        rpid=
    done
    [[ -n $rpid ]] || fail "redis-server did not start: $(cat "$tmp/redis.log")"
    cleanup_hooks+=("kill $rpid 2>/dev/null")

    start_gateway "$tmp/gw.log" /usr/bin/llmstreamer-gateway --redis-url "redis://127.0.0.1:$rport"
    local base=http://127.0.0.1:$gw_port
    wait_for 60 curl -sf -o /dev/null "$base/readyz" || fail "installed gateway never ready: $(cat "$tmp/gw.log")"
    : >"$tmp/stream"
    curl -sN "$base/events?channels=logs:packaging" >"$tmp/stream" &
    local curl_pid=$!
    cleanup_hooks+=("kill $curl_pid 2>/dev/null")
    wait_for 60 grep -q ': connected' "$tmp/stream" || fail "stream did not open"
    local msg="hello from the installed packages $$"
    printf '%s\n' "$msg" | llmstreamer-producer --redis-url "redis://127.0.0.1:$rport" pipe \
        --channel logs:packaging >"$tmp/producer.log" 2>&1 || fail "installed producer: $(cat "$tmp/producer.log")"
    wait_for 60 grep -qF "\"channel\":\"logs:packaging\",\"ts\":" "$tmp/stream" ||
        fail "message not streamed: $(cat "$tmp/stream")"
    grep -qF "\"payload\":\"$msg\"" "$tmp/stream" || fail "wrong payload: $(cat "$tmp/stream")"
    kill -TERM "$gw_pid"
    wait "$gw_pid" || fail "installed gateway did not exit 0 on SIGTERM"
    wait "$curl_pid"
    kill "$rpid"
    wait "$rpid" 2>/dev/null

    "${apt[@]}" remove "${pkgs[@]}" >"$tmp/apt.log" 2>&1 || fail "apt-get remove: $(cat "$tmp/apt.log")"
    for p in "${programs[@]}"; do
        [[ ! -e /usr/bin/llmstreamer-$p ]] || fail "llmstreamer-$p left after remove"
    done
    [[ ! -e /usr/lib/systemd/system/llmstreamer-gateway.service ]] || fail "unit left after remove"
    [[ -f /etc/default/llmstreamer-gateway ]] || fail "remove deleted the conffile (only purge may)"
    # Only the gateway's conffile keeps a package known to dpkg after the removal.
    "${sudo[@]}" dpkg --purge "${pkgs[@]}" >"$tmp/apt.log" 2>&1 || fail "dpkg --purge: $(cat "$tmp/apt.log")"
    [[ ! -e /etc/default/llmstreamer-gateway ]] || fail "conffile left after purge"
    for p in "${pkgs[@]}"; do
        ! dpkg-query -W "$p" >/dev/null 2>&1 || fail "$p is still known to dpkg after purge"
    done
    echo "installed ${pkgs[*]}, streamed one message, removed and purged them"
}

case $check in
build | control | files | maintainer-scripts | version | desktop | desktop-app-id | systemd | tarball | compose | dockerfile | install)
    "check_${check//-/_}"
    ;;
*) fail "unknown check $check" ;;
esac
