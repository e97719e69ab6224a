#!/usr/bin/env bash
# The containers and the .debs, proven as a user would use them (CI step of .ci/run; runnable by
# hand as root): builds the image from packaging/docker/Dockerfile, runs docker-compose.yml with
# three producers over pub/sub and over streams, and installs the .debs in a bare Debian 12
# container. Prints the image size and the time of every stage.
#
# No registry is needed and nothing is pulled (`build`, then `up --no-build`): debian:12 (also
# tagged debian:12-slim) is `debootstrap --variant=minbase bookworm` from this machine's apt
# sources, which are copied in; the Redis image docker-compose.yml names is a stand-in built from
# Debian's redis-server (packaging/docker/redis-standin.Dockerfile). Images that exist and are not
# ours are used as they are. The rootfs is kept in LLMSTREAMER_CI_CACHE (default
# /var/cache/llmstreamer-ci) and made again after 30 days or when the apt sources change.
#
# A dockerd already answering is used as it is; otherwise one is started (niced) and, on every
# exit path, stopped again, with what a stopped dockerd leaves behind removed: its iptables rules
# and chains, the docker0 bridge, the FORWARD policy and ip_forward it changed. The stacks'
# containers, networks and volumes are always removed. Images stay as build cache; superseded
# ones are pruned.
#
# BUILD_DIR (default build/): the CMake build tree the .debs are packed from (configured like
# scripts/test.sh when it is not). Uses Debian's /usr/bin/docker and /usr/bin/docker-compose:
# another docker client, without the compose plugin, may come first on PATH.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build}
cache=${LLMSTREAMER_CI_CACHE:-/var/cache/llmstreamer-ci}
docker=/usr/bin/docker
compose_bin=/usr/bin/docker-compose
py=/usr/bin/python3
project=llmstreamer-ci
image=llmstreamer:local
debs_container=llmstreamer-ci-debs
rootfs_max_age_days=30

if ((EUID != 0)); then
    echo "ci-containers: run as root (it starts dockerd and runs debootstrap)" >&2
    exit 1
fi

# Always this machine's daemon, with a client configuration of our own (no credential helpers).
export DOCKER_HOST=unix:///var/run/docker.sock
unset DOCKER_CONTEXT
tmp=$(mktemp -d /tmp/llmstreamer-ci-containers.XXXXXX)
export DOCKER_CONFIG=$tmp/docker-config
mkdir -p "$DOCKER_CONFIG"
: >"$tmp/empty.env"

fail() {
    echo "ci-containers: FAIL: $*" >&2
    exit 1
}
note() { echo "ci-containers: $*"; }

# ---------------------------------------------------------------------------------------------
# Stage times, printed at the end whatever the outcome.
t_start=$(date +%s.%N)
elapsed_since() { awk -v t0="$1" -v t1="$(date +%s.%N)" 'BEGIN { printf "%.1f", t1 - t0 }'; }
stage_names=()
stage_times=()
stage_current=
stage_t0=
stage() {
    stage_end
    stage_current=$1
    stage_t0=$(date +%s.%N)
    echo
    echo "=== $1"
}
stage_end() {
    [[ -n $stage_current ]] || return 0
    stage_names+=("$stage_current")
    stage_times+=("$(elapsed_since "$stage_t0")")
    stage_current=
}
summary() {
    local i
    echo
    echo "=== ci-containers: stage times"
    for i in "${!stage_names[@]}"; do
        printf '  %-44s %7.1f s\n' "${stage_names[$i]}" "${stage_times[$i]}"
    done
    [[ -n ${image_size:-} ]] && printf '  %-44s %7s\n' "image $image" "$image_size"
    printf '  %-44s %7.1f s\n' total "$(elapsed_since "$t_start")"
}

# ---------------------------------------------------------------------------------------------
# Cleanup on every exit path.
bg_pids=()
started_dockerd=
dockerd_pid=
containerd_pid=
volumes_before=
volumes_captured=
rootfs_dir=
cleanup() {
    local rc=$?
    set +e
    stage_end
    local pid
    for pid in "${bg_pids[@]}"; do kill "$pid" 2>/dev/null; done
    if "$docker" info >/dev/null 2>&1; then
        if ((rc != 0)) && [[ -n $("$docker" ps -aq --filter "label=com.docker.compose.project=$project") ]]; then
            echo "--- the stack at the failure:"
            compose ps
            compose logs --no-color --tail=40
        fi
        profiles=scale-out compose down -v --remove-orphans --timeout 10 >/dev/null 2>&1
        "$docker" rm -f "$debs_container" >/dev/null 2>&1
        # Anonymous volumes of containers removed without -v (e.g. an interrupted down).
        local v
        if [[ -n $volumes_captured ]]; then
            for v in $("$docker" volume ls -q); do
                grep -qx "$v" <<<"$volumes_before" || "$docker" volume rm -f "$v" >/dev/null 2>&1
            done
        fi
        # Superseded images of ours (everything built here inherits the rootfs label).
        "$docker" image prune -f --filter label=io.llmstreamer.ci.rootfs >/dev/null 2>&1
    fi
    [[ -n $started_dockerd ]] && stop_dockerd
    if [[ -n $rootfs_dir ]]; then
        umount_below "$rootfs_dir"
        rm -rf "$rootfs_dir" "$cache/debian-12.tar.new"
    fi
    if ((rc != 0)); then
        echo "ci-containers: failed (exit $rc); logs kept in $tmp" >&2
    else
        rm -rf "$tmp"
    fi
    summary
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# dockerd: started only when none answers; then stopped, and its leftovers removed.
forward_policy_before=
ip_forward_before=
had_docker0=
had_run_dir=
start_dockerd() {
    if "$docker" info >/dev/null 2>&1; then
        note "using the running dockerd ($("$docker" version -f '{{.Server.Version}}'))"
        return 0
    fi
    forward_policy_before=$(iptables -S FORWARD | awk '$1 == "-P" { print $3 }')
    ip_forward_before=$(cat /proc/sys/net/ipv4/ip_forward)
    [[ -e /sys/class/net/docker0 ]] && had_docker0=yes
    [[ -e /var/run/docker ]] && had_run_dir=yes
    started_dockerd=yes
    # Its own session, so a Ctrl-C reaches this script, which then cleans up while the daemon
    # still answers; niced, since its containers (the image build) inherit it.
    setsid nice -n 10 /usr/sbin/dockerd --host "$DOCKER_HOST" >"$tmp/dockerd.log" 2>&1 &
    dockerd_pid=$!
    local deadline=$((SECONDS + 120))
    until "$docker" info >/dev/null 2>&1; do
        kill -0 "$dockerd_pid" 2>/dev/null || fail "dockerd exited: $(tail -n 20 "$tmp/dockerd.log")"
        ((SECONDS < deadline)) || fail "dockerd did not answer in 120 s: $(tail -n 20 "$tmp/dockerd.log")"
        sleep 0.5
    done
    containerd_pid=$(cat /var/run/docker/containerd/containerd.pid 2>/dev/null || true)
    note "started dockerd $("$docker" version -f '{{.Server.Version}}') (pid $dockerd_pid)"
}
stop_dockerd() {
    local pid
    for pid in $dockerd_pid $containerd_pid; do
        kill -TERM "$pid" 2>/dev/null || continue
        for _ in $(seq 60); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.5
        done
        kill -KILL "$pid" 2>/dev/null
    done
    # What Docker put into iptables: rules of the built-in chains that lead to its chains or
    # concern its bridges, then its chains.
    local table rule chain args
    for table in nat filter; do
        while read -r rule; do
            read -ra args <<<"${rule/#-A/-D}"
            iptables -t "$table" "${args[@]}"
        done < <(iptables-save -t "$table" |
            grep -E '^-A (PREROUTING|INPUT|OUTPUT|POSTROUTING|FORWARD) .*(-j DOCKER|docker0|br-[0-9a-f]{12})')
        for chain in $(iptables-save -t "$table" | sed -n 's/^:\(DOCKER[A-Z0-9-]*\) .*/\1/p'); do
            iptables -t "$table" -F "$chain"
        done
        for chain in $(iptables-save -t "$table" | sed -n 's/^:\(DOCKER[A-Z0-9-]*\) .*/\1/p'); do
            iptables -t "$table" -X "$chain"
        done
    done
    [[ -n $forward_policy_before ]] && iptables -P FORWARD "$forward_policy_before"
    [[ -n $ip_forward_before ]] && echo "$ip_forward_before" >/proc/sys/net/ipv4/ip_forward
    [[ -z $had_docker0 && -e /sys/class/net/docker0 ]] && ip link delete docker0
    # Its runtime state directory, once nothing is mounted below it any more.
    if [[ -z $had_run_dir && -d /var/run/docker ]] && ! grep -q ' /run/docker/' /proc/mounts; then
        rm -rf /var/run/docker
    fi
    local left
    left=$(iptables-save | grep -ciE 'docker' || true)
    ((left == 0)) || echo "ci-containers: warning: $left iptables lines still name docker" >&2
    note "stopped dockerd; its iptables rules, chains and bridge removed"
}

# ---------------------------------------------------------------------------------------------
# Base images without a registry.
apt_sources() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [[ -f $f ]] && echo "$f"
    done
    return 0
}
# The apt settings the containers need to reach the same mirrors as this machine: proxies, and
# the Release-date checks a machine may have switched off for a snapshot mirror.
apt_settings() {
    local key value
    for key in Acquire::http::Proxy Acquire::https::Proxy Acquire::Check-Valid-Until Acquire::Check-Date; do
        value=$(apt-config dump "$key" | sed -n "s/^$key \"\(.*\)\";\$/\1/p" | head -n1)
        [[ -n $value ]] && printf '%s "%s";\n' "$key" "$value"
    done
    return 0
}
make_rootfs() {
    local suite mirror dir
    suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
    [[ $suite == bookworm ]] || fail "this machine runs $suite, not bookworm: its apt sources cannot make debian:12"
    mirror=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 'Identifier: Packages' |
        awk -v s="$suite" '$2 == s && !m { m = $1 } END { print m }')
    [[ -n $mirror ]] || fail "no '$suite' repository in this machine's apt sources (run apt-get update)"
    mkdir -p "$cache"
    dir=$(mktemp -d "$cache/rootfs.XXXXXX")
    rootfs_dir=$dir # removed by cleanup if this is interrupted
    note "debootstrap --variant=minbase $suite from $mirror"
    nice -n 10 debootstrap --variant=minbase "$suite" "$dir" "$mirror" >"$tmp/debootstrap.log" 2>&1 ||
        fail "debootstrap: $(tail -n 30 "$tmp/debootstrap.log")"
    # This machine's sources (and the keyrings they name) replace debootstrap's one line.
    rm -f "$dir/etc/apt/sources.list"
    local f key
    while read -r f; do
        install -D -m 0644 "$f" "$dir$f"
        for key in $(grep -ohiE '(signed-by[=:] *)[^] ,]+' "$f" | sed -E 's/^signed-by[=:] *//I'); do
            [[ -f $key && ! -e $dir$key ]] && install -D -m 0644 "$key" "$dir$key"
        done
    done < <(apt_sources)
    [[ -d /etc/apt/trusted.gpg.d ]] && cp -a /etc/apt/trusted.gpg.d/. "$dir/etc/apt/trusted.gpg.d/"
    apt_settings >"$dir/etc/apt/apt.conf.d/99host-settings"
    # As in the official images: no service starts when a package is installed in a container,
    # and apt keeps no package files in the layers.
    printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
    chmod 0755 "$dir/usr/sbin/policy-rc.d"
    printf '%s\n' 'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };' \
        'APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };' \
        'Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";' >"$dir/etc/apt/apt.conf.d/docker-clean"
    rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/cache/apt/archives/*.deb \
        "$dir"/var/log/* "$dir"/tmp/*
    umount_below "$dir"
    tar --numeric-owner -C "$dir" -cf "$cache/debian-12.tar.new" .
    rm -rf "$dir"
    rootfs_dir=
    mv "$cache/debian-12.tar.new" "$cache/debian-12.tar"
    sources_stamp >"$cache/debian-12.sources"
}
umount_below() {
    local m
    for m in $(awk -v d="$1/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r); do
        umount -l "$m"
    done
}
sources_stamp() {
    local f
    echo "rootfs layout 2" # raised when make_rootfs changes what it puts in
    while read -r f; do
        echo "== $f"
        cat "$f"
    done < <(apt_sources)
    apt_settings
}
# Images made here carry a label of ours (inherited by everything built on them); others are
# used as they are.
image_exists() { "$docker" image inspect "$1" >/dev/null 2>&1; }
image_label() { "$docker" image inspect -f "{{index .Config.Labels \"$2\"}}" "$1" 2>/dev/null; }

base_images() {
    local tar=$cache/debian-12.tar sum
    if image_exists debian:12 && [[ -z $(image_label debian:12 io.llmstreamer.ci.rootfs) ]]; then
        note "debian:12 exists and is not ours: used as it is"
    else
        if [[ ! -s $tar ]] || [[ -n $(find "$tar" -mtime +"$rootfs_max_age_days") ]] ||
            ! cmp -s <(sources_stamp) "$cache/debian-12.sources"; then
            make_rootfs
        else
            note "rootfs cached: $tar ($(date -r "$tar" +%F))"
        fi
        sum=$(sha256sum "$tar" | cut -c1-16)
        if [[ $(image_label debian:12 io.llmstreamer.ci.rootfs) != "$sum" ]]; then
            "$docker" import --change 'CMD ["bash"]' \
                --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
                --change "LABEL io.llmstreamer.ci.rootfs=$sum" "$tar" debian:12 >/dev/null
            note "imported $tar as debian:12"
        fi
    fi
    if ! image_exists debian:12-slim || [[ -n $(image_label debian:12-slim io.llmstreamer.ci.rootfs) ]]; then
        "$docker" tag debian:12 debian:12-slim
    fi

    redis_image=$(compose config | "$py" -c 'import sys, yaml; print(yaml.safe_load(sys.stdin)["services"]["redis"]["image"])')
    if image_exists "$redis_image" && [[ -z $(image_label "$redis_image" io.llmstreamer.ci.standin) ]]; then
        note "$redis_image exists and is not ours: used as it is"
    else
        "$docker" build -q -t "$redis_image" - <"$root/packaging/docker/redis-standin.Dockerfile" \
            >"$tmp/redis-standin.log" 2>&1 || fail "the Redis stand-in: $(tail -n 30 "$tmp/redis-standin.log")"
        note "$redis_image: the stand-in from Debian's redis-server"
    fi
}

# ---------------------------------------------------------------------------------------------
# The compose stack.
compose() {
    # docker-compose builds with the `docker` it finds first on PATH: Debian's.
    env -u REDIS_URL -u LLMSTREAMER_CHANNELS -u LLMSTREAMER_STREAM_KEY -u PRODUCER_RATE \
        -u COMPOSE_FILE -u COMPOSE_PROJECT_NAME PATH="/usr/bin:$PATH" \
        LLMSTREAMER_PUBLISH=127.0.0.1 LLMSTREAMER_PUBLISH_PORT="${port:-8000}" \
        LLMSTREAMER_TRANSPORT="${transport:-pubsub}" LLMSTREAMER_LB_PORT="${lb_port:-8080}" \
        COMPOSE_PROFILES="${profiles:-}" \
        "$compose_bin" --env-file "$tmp/empty.env" --project-name "$project" \
        --project-directory "$root" --file "$root/docker-compose.yml" "$@"
}

# wait_for <seconds> <what> <command...>: polls the command; a hang catcher, not a timing check.
wait_for() {
    local seconds=$1 what=$2
    local deadline=$((SECONDS + seconds))
    shift 2
    until "$@"; do
        ((SECONDS < deadline)) || fail "nothing after ${seconds} s: $what"
        sleep 0.2
    done
}

# sse <file>: the events of a captured stream, one per line: <event> <id> <detail>, where detail
# is a gap's reason or a record's payload "service". An event not yet ended is left out.
sse() {
    "$py" - "$1" <<'EOF'
import json, os, sys
out = []
event, ident, data = "message", "", []
for raw in open(sys.argv[1], "rb").read().decode("utf-8", "replace").splitlines():
    if raw == "":
        if data:
            detail = ""
            try:
                body = json.loads("\n".join(data))
                if event == "gap":
                    detail = body.get("reason", "")
                elif event == "message" and isinstance(body.get("payload"), dict):
                    detail = str(body["payload"].get("service", ""))
            except ValueError:
                pass
            out.append(f"{event} {ident or '-'} {detail or '-'}\n")
        event, data = "message", []
        continue
    if raw.startswith(":"):
        continue
    field, _, value = raw.partition(":")
    value = value[1:] if value.startswith(" ") else value
    if field == "event":
        event = value
    elif field == "id":
        ident = value
    elif field == "data":
        data.append(value)
try:
    sys.stdout.writelines(out)
    sys.stdout.flush()
except BrokenPipeError:  # a reader that stopped at what it looked for (grep -q)
    os._exit(0)
EOF
}

# listen <file> [curl options...]: captures /events in the background.
listen() {
    local file=$1
    shift
    : >"$file"
    curl -sN "$@" "http://127.0.0.1:${listen_port:-$port}/events" >"$file" 2>/dev/null &
    bg_pids+=($!)
    listen_pid=$!
}
messages() { sse "$1" | awk '$1 == "message"' | wc -l; }
has_messages() { (($(messages "$1") >= $2)); }
# has_services <file> <awk filter> <hostname...>: records of every producer container.
has_services() {
    local file=$1 filter=$2 h services
    shift 2
    services=$(sse "$file" | awk "$filter")
    for h in "$@"; do
        grep -q "^$h-" <<<"$services" || return 1
    done
}
# after_gap <reasons (an ERE)>: an awk filter printing the services of records after such a gap.
after_gap() { echo "\$1 == \"gap\" && \$3 ~ /^($1)\$/ { g = 1 } g && \$1 == \"message\" { print \$3 }"; }

# state <container>: "<status> <health> <restarts>"
state() {
    "$docker" inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}} {{.RestartCount}}' "$1"
}
# all_healthy: Redis and the gateway healthy by their healthchecks, three producers (which have
# none) running, and none restarted by Docker.
all_healthy() {
    local servers producers id
    servers=$(compose ps -q redis; compose ps -q gateway)
    producers=$(compose ps -q producer)
    (($(wc -w <<<"$servers") == 2 && $(wc -w <<<"$producers") == 3)) || return 1
    for id in $servers; do
        [[ $(state "$id") == "running healthy 0" ]] || return 1
    done
    for id in $producers; do
        [[ $(state "$id") == "running none 0" ]] || return 1
    done
}
http_ok() { curl -sf -o /dev/null --max-time 5 "http://127.0.0.1:$port$1"; }
redis_cli() { compose exec -T redis redis-cli "$@"; }
# stream_ids <after (exclusive)> <up to> <count>: entry ids of the stream, oldest first.
stream_ids() {
    redis_cli EVAL "local r = redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], ARGV[2], 'COUNT', ARGV[3])
        local ids = {} for i, e in ipairs(r) do ids[i] = e[1] end return ids" \
        1 llmstreamer:stream "$1" "$2" "$3" | tr -d '\r'
}

run_stack() {
    transport=$1
    local s=$tmp/$transport
    mkdir -p "$s"

    compose up -d --no-build --scale producer=3 >"$s/up.log" 2>&1 || fail "up: $(cat "$s/up.log")"
    wait_for 180 "every service healthy (redis, gateway; three producers running)" all_healthy
    local producers hosts=() id
    producers=$(compose ps -q producer)
    (($(wc -w <<<"$producers") == 3)) || fail "expected 3 producer containers: $producers"
    for id in $producers; do hosts+=("$("$docker" inspect -f '{{.Config.Hostname}}' "$id")"); done
    note "$transport: healthy: redis, gateway, producers ${hosts[*]}"

    curl -sf --max-time 10 "http://127.0.0.1:$port/" | grep -q '<title>LLM Streamer</title>' ||
        fail "the dashboard is not served on 127.0.0.1:$port"
    wait_for 60 "/readyz on 127.0.0.1:$port" http_ok /readyz
    curl -sf --max-time 5 "http://127.0.0.1:$port/api/channels" | grep -q "\"transport\":\"$transport\"" ||
        fail "/api/channels does not say transport $transport"
    note "$transport: dashboard and /readyz answer on 127.0.0.1:$port"

    listen "$s/a.sse"
    wait_for 90 "records of the three producers ${hosts[*]} on /events" \
        has_services "$s/a.sse" '$1 == "message" { print $3 }' "${hosts[@]}"
    note "$transport: /events carries records of all three producers"

    if [[ $transport == streams ]]; then
        gateway_restart "$s"
    fi

    # Redis restarted (empty: the stack keeps no data): the gap, then every producer again.
    # With streams the gateway tells that the stream came back without its entries (it knows
    # how many the stream had taken up to its position, also after starting at a given id).
    local reason=redis-disconnected
    [[ $transport == streams ]] && reason=redis-restarted-empty
    listen "$s/b.sse"
    wait_for 60 "records on /events before the Redis restart" has_messages "$s/b.sse" 1
    compose restart redis >"$s/restart.log" 2>&1 || fail "restart redis: $(cat "$s/restart.log")"
    wait_for 120 "a '$reason' gap, then records of all three producers" \
        has_services "$s/b.sse" "$(after_gap "$reason")" "${hosts[@]}"
    wait_for 60 "/readyz after the Redis restart" http_ok /readyz
    reason=$(sse "$s/b.sse" | awk -v r="^($reason)\$" '$1 == "gap" && $3 ~ r && !g { g = $3 } END { print g }')
    note "$transport: Redis restart: gap '$reason', then all three producers again"

    kill "${bg_pids[@]}" 2>/dev/null || true
    compose down -v --timeout 10 >"$s/down.log" 2>&1 || fail "down -v: $(cat "$s/down.log")"
    [[ -z $("$docker" ps -aq --filter "label=com.docker.compose.project=$project") ]] ||
        fail "down -v left containers"
    [[ -z $("$docker" network ls -q --filter "label=com.docker.compose.project=$project") ]] ||
        fail "down -v left networks"
    local v
    for v in $("$docker" volume ls -q); do
        grep -qx "$v" <<<"$volumes_before" || fail "down -v left volume $v"
    done
    note "$transport: down -v left no container, network or volume"
}

# With streams, a stopped gateway loses nothing: a client that resumes with its last id gets
# exactly the entries added meanwhile, in order, once each, and no gap.
gateway_restart() {
    local s=$1 last newest got want
    compose stop gateway >"$s/stop.log" 2>&1 || fail "stop gateway: $(cat "$s/stop.log")"
    wait "$listen_pid" 2>/dev/null || true
    grep -q '^event: shutdown' "$s/a.sse" || fail "no 'event: shutdown' when the gateway stopped"
    last=$(sse "$s/a.sse" | awk '$1 == "message" { id = $2 } END { print id }')
    [[ $last == s* ]] || fail "last id '$last' is not a stream id"
    entries_after() { (($(stream_ids "${last#s}" + 60 | wc -l) >= 60)); }
    wait_for 60 "60 entries added while the gateway is down" entries_after
    compose start gateway >"$s/start.log" 2>&1 || fail "start gateway: $(cat "$s/start.log")"
    wait_for 120 "the restarted gateway healthy" all_healthy
    wait_for 60 "/readyz after the gateway restart" http_ok /readyz
    newest=$(redis_cli XREVRANGE llmstreamer:stream + - COUNT 1 | head -n1 | tr -d '\r')
    [[ $newest =~ ^[0-9]+-[0-9]+$ ]] || fail "newest entry id '$newest'"
    listen "$s/c.sse" -H "Last-Event-ID: $last"
    has_newest() { sse "$s/c.sse" | awk -v id="s$newest" '$1 == "message" && $2 == id { f = 1 } END { exit !f }'; }
    wait_for 90 "the resumed stream reaching s$newest" has_newest
    got=$(sse "$s/c.sse" | awk -v id="s$newest" '$1 == "message" && !done { print $2 } $2 == id { done = 1 }')
    want=$(stream_ids "${last#s}" "$newest" 1000000 | sed 's/^/s/')
    [[ $got == "$want" ]] || fail "resumed after $last: got $(wc -l <<<"$got") ids, the stream holds $(wc -l <<<"$want"):
$(diff <(echo "$want") <(echo "$got") | head -n 20)"
    ! sse "$s/c.sse" | grep -q '^gap ' || fail "a gap after the gateway restart: $(sse "$s/c.sse" | grep '^gap ')"
    note "streams: gateway restarted; resumed after $last with all $(wc -l <<<"$want") entries added meanwhile, no gap"
    kill "$listen_pid" 2>/dev/null || true
}

# The scale-out profile: nginx in front of three gateways on one stream. A client that follows
# the stream through nginx as EventSource does (scripts/sse-follow.py: reconnecting with its
# Last-Event-ID) gets every entry once, in order, and no gap when the gateway serving it is killed.
run_scaleout() {
    transport=streams profiles=scale-out
    local s=$tmp/scale-out gateways g ip serving= got want first last before follow_pid
    mkdir -p "$s"
    compose build lb >"$s/build.log" 2>&1 || fail "build lb: $(tail -n 30 "$s/build.log")"
    compose up -d --no-build --scale producer=3 --scale gateways=3 >"$s/up.log" 2>&1 ||
        fail "up (scale-out): $(cat "$s/up.log")"
    gateways=$(compose ps -q gateways)
    (($(wc -w <<<"$gateways") == 3)) || fail "expected 3 gateway containers: $gateways"
    lb_ok() { curl -sf -o /dev/null --max-time 5 "http://127.0.0.1:$lb_port/readyz"; }
    wait_for 120 "/readyz through nginx on 127.0.0.1:$lb_port" lb_ok
    curl -sf --max-time 10 "http://127.0.0.1:$lb_port/" | grep -q '<title>LLM Streamer</title>' ||
        fail "the dashboard is not served through nginx"
    : >"$s/follow.sse"
    "$py" "$root/scripts/sse-follow.py" "http://127.0.0.1:$lb_port/events" "$s/follow.sse" &
    follow_pid=$!
    bg_pids+=("$follow_pid")
    wait_for 60 "records through nginx" has_messages "$s/follow.sse" 20
    # The one gateway with a client: the follower's (each gateway answers on its own address).
    for g in $gateways; do
        ip=$("$docker" inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$g")
        if curl -sf --max-time 5 "http://$ip:8000/metrics" | grep -q '^llmstreamer_clients 1$'; then
            serving=$g
        fi
    done
    [[ -n $serving ]] || fail "no gateway says it serves the follower"
    first=$(sse "$s/follow.sse" | awk '$1 == "message" { print $2; exit }')
    "$docker" kill "$serving" >/dev/null || fail "docker kill $serving"
    before=$(messages "$s/follow.sse")
    more_after_kill() { (($(messages "$s/follow.sse") >= before + 100)); }
    wait_for 90 "records through nginx from another gateway" more_after_kill
    kill "$follow_pid" 2>/dev/null || true
    wait "$follow_pid" 2>/dev/null || true
    last=$(sse "$s/follow.sse" | awk '$1 == "message" { id = $2 } END { print id }')
    got=$(sse "$s/follow.sse" | awk '$1 == "message" { print $2 }')
    want=$( (echo "${first#s}"; stream_ids "${first#s}" "${last#s}" 1000000) | sed 's/^/s/')
    [[ $got == "$want" ]] || fail "through nginx, a gateway killed: got $(wc -l <<<"$got") ids, the stream holds $(wc -l <<<"$want"):
$(diff <(echo "$want") <(echo "$got") | head -n 20)"
    ! sse "$s/follow.sse" | grep -q '^gap ' || fail "a gap through nginx: $(sse "$s/follow.sse" | grep '^gap ')"
    note "scale-out: nginx + 3 gateways, the follower's gateway killed: all $(wc -l <<<"$want") entries once, in order, no gap"
    compose down -v --timeout 10 >"$s/down.log" 2>&1 || fail "down -v (scale-out): $(cat "$s/down.log")"
    [[ -z $("$docker" ps -aq --filter "label=com.docker.compose.project=$project") ]] ||
        fail "down -v (scale-out) left containers"
    profiles=
}

# ---------------------------------------------------------------------------------------------
# The .debs of this version, packed from BUILD_DIR.
debs_pack() {
    local arch p
    # The three programs and cpack, as `--target package` does, without building the tests.
    export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
    if [[ ! -f $build/CMakeCache.txt ]]; then
        nice -n 10 cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLLMSTREAMER_WERROR=ON \
            >"$tmp/configure.log" 2>&1 || fail "cmake configure: $(tail -n 30 "$tmp/configure.log")"
    fi
    nice -n 10 cmake --build "$build" -j"${JOBS:-2}" \
        --target llmstreamer-gateway llmstreamer-producer llmstreamer-desktop >"$tmp/package.log" 2>&1 ||
        fail "building the programs: $(tail -n 30 "$tmp/package.log")"
    (cd "$build" && nice -n 10 cpack -G DEB) >>"$tmp/package.log" 2>&1 ||
        fail "cpack -G DEB: $(tail -n 30 "$tmp/package.log")"
    arch=$(dpkg --print-architecture)
    mkdir -p "$debs"
    for p in gateway producer desktop; do
        cp "$build/packages/llmstreamer-${p}_${version}_$arch.deb" "$debs/" ||
            fail "no llmstreamer-$p $version .deb in $build/packages"
    done
    note "packed $(cd "$debs" && echo *.deb)"
}

# The .debs on a bare debian:12-slim: apt resolves their Depends (and Recommends) from Debian.
debs_check() {
    cat >"$tmp/debs-check.sh" <<'EOF'
set -euo pipefail
version=$1
export DEBIAN_FRONTEND=noninteractive
fail() { echo "FAIL: $*" >&2; exit 1; }
dpkg-query -W -f '${Package}\n' | sort >/tmp/before
apt-get update -q >/tmp/apt.log 2>&1 || fail "apt-get update: $(cat /tmp/apt.log)"
cd /debs
apt-get install -y -q ./*.deb >/tmp/apt.log 2>&1 || fail "apt-get install: $(cat /tmp/apt.log)"
echo "installed: $(dpkg-query -W -f '${Package} ${Version}, ' 'llmstreamer-*')and $(($(dpkg-query -W -f '${Package}\n' | wc -l) - $(wc -l </tmp/before) - 3)) dependencies"
for p in gateway producer desktop; do
    out=$(QT_QPA_PLATFORM=offscreen "llmstreamer-$p" --version 2>/tmp/err) ||
        fail "llmstreamer-$p --version: $(cat /tmp/err)"
    [[ $out == "llmstreamer-$p $version" ]] || fail "llmstreamer-$p --version said '$out'"
    echo "$out"
done
command -v redis-server >/dev/null || fail "redis-server (the gateway's Recommends) was not installed"

# wait_for <what> <command...>: a hang catcher (60 s).
wait_for() {
    local what=$1 deadline=$((SECONDS + 60))
    shift
    until "$@"; do
        ((SECONDS < deadline)) || fail "nothing after 60 s: $what; gateway: $(cat /tmp/gw.log 2>/dev/null)"
        sleep 0.2
    done
}
redis-server --port 6390 --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --logfile /tmp/redis.log
wait_for "redis-server" redis-cli -p 6390 ping >/dev/null
llmstreamer-gateway --port 8001 --redis-url redis://127.0.0.1:6390 >/tmp/gw.log 2>&1 &
gw=$!
# Plain bash for HTTP: the container has no curl, and nothing is added that could hide a gap.
ready() {
    { exec 3<>/dev/tcp/127.0.0.1/8001; } 2>/dev/null || return 1
    printf 'GET /readyz HTTP/1.0\r\n\r\n' >&3
    head -n1 <&3 | grep -q ' 200 '
}
wait_for "the installed gateway ready" ready
exec 4<>/dev/tcp/127.0.0.1/8001
printf 'GET /events?channels=logs:packaging HTTP/1.1\r\nHost: localhost\r\n\r\n' >&4
: >/tmp/stream
cat <&4 >>/tmp/stream &
wait_for "the stream open" grep -q ': connected' /tmp/stream
msg="hello from the installed packages $$"
printf '%s\n' "$msg" | llmstreamer-producer --redis-url redis://127.0.0.1:6390 pipe \
    --channel logs:packaging >/tmp/producer.log 2>&1 || fail "the producer: $(cat /tmp/producer.log)"
wait_for "the line on /events" grep -qF "\"payload\":\"$msg\"" /tmp/stream
grep -qF '"channel":"logs:packaging"' /tmp/stream || fail "wrong channel: $(cat /tmp/stream)"
kill -TERM "$gw"
wait "$gw" || fail "the gateway did not exit 0 on SIGTERM: $(cat /tmp/gw.log)"
redis-cli -p 6390 shutdown nosave >/dev/null 2>&1 || true
echo "the installed gateway streamed a line from the installed producer"

apt-get remove -y -q llmstreamer-gateway llmstreamer-producer llmstreamer-desktop >/tmp/apt.log 2>&1 ||
    fail "apt-get remove: $(cat /tmp/apt.log)"
for p in gateway producer desktop; do
    [[ ! -e /usr/bin/llmstreamer-$p ]] || fail "/usr/bin/llmstreamer-$p left after remove"
done
[[ -f /etc/default/llmstreamer-gateway ]] || fail "remove deleted the conffile (only purge may)"
apt-get purge -y -q llmstreamer-gateway >/tmp/apt.log 2>&1 || fail "apt-get purge: $(cat /tmp/apt.log)"
apt-get autoremove --purge -y -q >/tmp/apt.log 2>&1 || fail "apt-get autoremove: $(cat /tmp/apt.log)"
[[ ! -e /etc/default/llmstreamer-gateway ]] || fail "conffile left after purge"
left=$(find / -xdev \( -path /debs -o -path /proc -o -path /sys -o -path /tmp \) -prune -o \
    -name '*llmstreamer*' -print)
[[ -z $left ]] || fail "left after purge: $left"
dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n' | awk '$1 != "ii"' | grep . &&
    fail "packages not fully removed"
dpkg-query -W -f '${Package}\n' | sort | diff /tmp/before - ||
    fail "the packages installed now differ from before"
echo "removed and purged: no file left, the same packages as before"
EOF
    "$docker" run --rm --name "$debs_container" -v "$debs:/debs:ro" -v "$tmp/debs-check.sh:/check.sh:ro" \
        debian:12-slim bash /check.sh "$version" || fail "the .debs on bare debian:12-slim"
}

# ---------------------------------------------------------------------------------------------
stage "packages (scripts/install-deps.sh --containers)"
"$root/scripts/install-deps.sh" --containers
for tool in "$docker" "$compose_bin" /usr/sbin/dockerd debootstrap iptables curl "$py"; do
    command -v "$tool" >/dev/null || fail "$tool is missing"
done
"$compose_bin" version --short | grep -q '^1\.' || fail "expected Debian's docker-compose 1.x"

stage "dockerd"
start_dockerd
volumes_before=$("$docker" volume ls -q)
volumes_captured=yes
port=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

stage "base images (debian:12, Redis stand-in)"
base_images

stage "image build (docker-compose build)"
version=$(sed -n 's/^ *VERSION \([0-9][0-9.]*\)$/\1/p' "$root/CMakeLists.txt" | head -n1)
revision=$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)
compose build --build-arg VERSION="$version" --build-arg REVISION="$revision" >"$tmp/build.log" 2>&1 ||
    fail "docker-compose build: $(tail -n 40 "$tmp/build.log")"
# The build stage tagged too, so pruning the superseded images keeps its dependency layer.
"$docker" build -q --target build -t llmstreamer:build-cache -f "$root/packaging/docker/Dockerfile" "$root" \
    >/dev/null || fail "docker build --target build"
image_size=$("$docker" image inspect -f '{{.Size}}' "$image" | awk '{ printf "%.0f MB", $1 / 1e6 }')
[[ $("$docker" image inspect -f '{{.Config.StopSignal}} {{.Config.User}}' "$image") == "SIGTERM 10001:10001" ]] ||
    fail "$image: STOPSIGNAL or USER not as in the Dockerfile"
[[ $(image_label "$image" org.opencontainers.image.version) == "$version" &&
    $(image_label "$image" org.opencontainers.image.revision) == "$revision" ]] ||
    fail "$image: OCI labels version/revision are not $version/$revision"
note "$image: $image_size, version $version, revision ${revision:0:12}"

stage "stack, pub/sub (3 producers)"
run_stack pubsub

stage "stack, streams (3 producers)"
run_stack streams

stage "stack, scale-out (nginx + 3 gateways, streams)"
lb_port=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
run_scaleout

stage ".debs: programs built, cpack -G DEB"
debs=$tmp/debs
debs_pack

stage ".debs on bare debian:12-slim"
debs_check

stage_end
note "all checks passed"
