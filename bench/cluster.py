#!/usr/bin/python3
"""The streams transport spread over partitions, on one Redis and on a Redis Cluster.

Side by side, in one run (standard library only):
  one      one redis-server, the stream in one key (--stream-partitions 1)
  one-p3   the same redis-server, three partitions (--stream-partitions 3)
  cluster  a local cluster of three masters (redis-cli --cluster create), three partitions,
           each partition on its own master where the hash slots allow

In each, three llmstreamer-load publishers XADD --count messages each, as fast as Redis takes
them (pipelined), one to each partition key (all three to the one key in `one`), each on the
node that serves the key; one SSE client of the gateway counts the deliveries. Reported: the
deliveries per second at the client, that every message arrived (deliveries = 3 x count), the
gateway's CPU seconds per million deliveries and its peak RSS, and the CPU seconds the Redis
processes spent (summed over the nodes) per million messages. Each configuration runs --reps
times, alternating, and the medians are printed as a markdown table.

  python3 bench/cluster.py --build-dir build-bench [--count 200000] [--reps 3] [--size 100]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from driver import cpu_seconds, free_port, proc_tree, status_kib, wait_http  # noqa: E402

CHANNEL_PREFIX = "bench:"
KEY = "llmstreamer:stream"


def crc16(data):
    """CRC16/XMODEM, the Redis Cluster key hash."""
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def key_slot(key):
    start = key.find("{")
    if start >= 0:
        end = key.find("}", start + 1)
        if end > start + 1:
            key = key[start + 1:end]
    return crc16(key.encode()) & 0x3FFF


def partition_key(p, partitions):
    return KEY if partitions == 1 else f"{KEY}:{{{p}}}"


def channel_for(p, partitions):
    """A channel name that --stream-partitions `partitions` puts in partition p."""
    n = 0
    while True:
        name = f"{CHANNEL_PREFIX}{n}"
        if zlib.crc32(name.encode()) % partitions == p:
            return name
        n += 1


def redis_cli(port, *args):
    return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True,
                          check=True).stdout


def redis_cpu(ports):
    total = 0.0
    for port in ports:
        for line in redis_cli(port, "INFO", "cpu").splitlines():
            if line.startswith(("used_cpu_sys:", "used_cpu_user:")):
                total += float(line.split(":")[1])
    return total


def start_redis(tmp, port, cluster=False):
    d = os.path.join(tmp, f"redis-{port}")
    os.makedirs(d)
    args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", d, "--daemonize", "no"]
    if cluster:
        args += ["--cluster-enabled", "yes", "--cluster-node-timeout", "5000"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            if redis_cli(port, "PING").strip() == "PONG":
                return proc
        except subprocess.CalledProcessError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"redis-server on {port} did not start")


def slot_owner(ports, slot):
    """The port of the master serving `slot`, from CLUSTER NODES of the first node
    ("<id> <ip>:<port>@<cport> <flags> <master> <ping> <pong> <epoch> <link> <slot ranges>...")."""
    for line in redis_cli(ports[0], "CLUSTER", "NODES").splitlines():
        fields = line.split()
        if len(fields) < 9 or "master" not in fields[2].split(","):
            continue
        for r in fields[8:]:
            if r.startswith("["):
                continue  # a slot being migrated
            start, _, end = r.partition("-")
            if int(start) <= slot <= int(end or start):
                return int(fields[1].split("@")[0].rsplit(":", 1)[1])
    raise RuntimeError(f"no master serves slot {slot}")


def run_one(args, tmp, config, ports, partitions):
    gw_port = free_port()
    url = ",".join(f"127.0.0.1:{p}" for p in ports)
    log = open(os.path.join(tmp, f"gateway-{config}.log"), "ab")
    env = dict(os.environ, QT_LOGGING_RULES="llmstreamer.*.info=false")
    gw = subprocess.Popen([args.gateway, "--bind", "127.0.0.1", "--port", str(gw_port),
                           "--redis-url", f"redis://{url}", "--channels", CHANNEL_PREFIX + "*",
                           "--transport", "streams", "--stream-partitions", str(partitions),
                           "--stream-max-entries", "0", "--history-bytes", "64M"],
                          env=env, stdout=log, stderr=log)
    try:
        if not wait_http(f"http://127.0.0.1:{gw_port}/readyz", 30):
            raise RuntimeError(f"gateway of {config} not ready (see {tmp})")
        total = 3 * args.count
        sub = subprocess.Popen([args.load, "subscribe", "--url",
                                f"http://127.0.0.1:{gw_port}/events", "--clients", "1",
                                "--expect", str(total), "--timeout", "300", "--idle", "20"],
                               stdout=subprocess.PIPE, text=True)
        time.sleep(0.5)
        pids = proc_tree(gw.pid)
        gw_cpu0, redis_cpu0 = cpu_seconds(pids), redis_cpu(ports)
        pubs = []
        for p in range(3):
            part = p % partitions
            key = partition_key(part, partitions)
            port = ports[0] if len(ports) == 1 else slot_owner(ports, key_slot(key))
            pubs.append(subprocess.Popen(
                [args.load, "publish", "--redis", f"127.0.0.1:{port}", "--channel",
                 channel_for(part, partitions), "--stream", key, "--count", str(args.count),
                 "--size", str(args.size), "--rate", "0", "--pipeline", "64"],
                stdout=subprocess.PIPE, text=True))
        for pub in pubs:
            pub.communicate(timeout=600)
        out, _ = sub.communicate(timeout=600)
        gw_cpu = cpu_seconds(pids) - gw_cpu0
        rcpu = redis_cpu(ports) - redis_cpu0
        rss = status_kib(pids, "VmHWM") / 1024
        r = json.loads(out.strip().splitlines()[-1])
        return {"msg_s": r["deliveries_per_s"], "delivered": r["deliveries"], "expected": total,
                "p99_ms": r["latency_ms"]["p99"], "gw_cpu_per_m": gw_cpu / total * 1e6,
                "redis_cpu_per_m": rcpu / total * 1e6, "rss_mb": rss}
    finally:
        gw.terminate()
        gw.wait(timeout=30)
        for port in ports:
            redis_cli(port, "FLUSHALL")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", default="build-bench")
    ap.add_argument("--count", type=int, default=200_000, help="messages per publisher")
    ap.add_argument("--size", type=int, default=100)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    build = os.path.abspath(args.build_dir)
    args.gateway = os.path.join(build, "gateway/llmstreamer-gateway")
    args.load = os.path.join(build, "bench/llmstreamer-load")
    for exe in (args.gateway, args.load):
        if not os.access(exe, os.X_OK):
            sys.exit(f"cluster.py: {exe} is missing; build {build} first")
    tmp = tempfile.mkdtemp(prefix="llmstreamer-cluster-bench-")
    procs = []
    try:
        single = free_port()
        procs.append(start_redis(tmp, single))
        nodes = [free_port() for _ in range(3)]
        procs += [start_redis(tmp, p, cluster=True) for p in nodes]
        subprocess.run(["redis-cli", "--cluster", "create",
                        *[f"127.0.0.1:{p}" for p in nodes], "--cluster-yes"],
                       check=True, capture_output=True)
        for _ in range(200):
            if all("cluster_state:ok" in redis_cli(p, "CLUSTER", "INFO") for p in nodes):
                break
            time.sleep(0.1)
        owners = {p: slot_owner(nodes, key_slot(partition_key(p, 3))) for p in range(3)}
        configs = [("one", [single], 1), ("one-p3", [single], 3), ("cluster", nodes, 3)]
        results = {name: [] for name, _, _ in configs}
        for rep in range(args.reps):
            for name, ports, partitions in configs:
                r = run_one(args, tmp, name, ports, partitions)
                results[name].append(r)
                print(f"rep {rep + 1} {name}: {json.dumps(r)}", file=sys.stderr)
        load = os.getloadavg()[0]
        print(f"\n3 publishers x {args.count:,} messages of {args.size} B, 1 SSE client, "
              f"medians of {args.reps}; partition masters on the cluster: "
              f"{', '.join(f'{{{p}}} -> :{port}' for p, port in owners.items())}; "
              f"load average {load:.1f}\n")
        print("| configuration | msg/s at the client | delivered / sent | p99 ms | "
              "gateway CPU-s / M | gateway peak RSS MB | Redis CPU-s / M (all nodes) |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for name, _, _ in configs:
            rs = results[name]

            def med(k):
                return statistics.median(r[k] for r in rs)
            delivered = min(r["delivered"] for r in rs)
            print(f"| {name} | {med('msg_s'):,.0f} | {delivered:,} / {rs[0]['expected']:,} | "
                  f"{med('p99_ms'):.1f} | {med('gw_cpu_per_m'):.2f} | {med('rss_mb'):.0f} | "
                  f"{med('redis_cpu_per_m'):.2f} |")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
