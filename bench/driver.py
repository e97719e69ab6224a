#!/usr/bin/python3
"""Benchmark driver behind bench/run.sh (standard library only; see bench/results/README.md).

For every scenario, system under test (SUT) and repetition: starts the SUT fresh against one
private redis-server, connects the subscriber(s) of llmstreamer-load, waits until every stream is
open (and, for the Python original, until Redis counts every per-client subscription), publishes,
samples the SUT's CPU time (utime+stime of its processes, /proc/PID/stat) and Redis's around the
measurement and its peak RSS (VmHWM), stops it. The gateway runs in each transport of
--transports (pub/sub, streams) where the scenario says so, the runs of both interleaved. Prints
medians as markdown tables and writes the raw results (JSON + CSV) under bench/results/.
"""
import argparse
import csv
import datetime
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TICK = os.sysconf("SC_CLK_TCK")
CHANNEL = "logs:bench"
STREAM_KEY = "llmstreamer:stream"
# XADD … MAXLEN ~ this, as llmstreamer-producer --transport streams does by default.
STREAM_MAXLEN = 1_000_000

# name: clients, payload bytes, rate (0 = max), messages (full, quick), pipeline, extra.
# Max rate is closed loop end to end: `window` messages at most published but not yet delivered
# (llmstreamer-load's --window/--progress). Redis pub/sub has no back-pressure, so an open-loop
# publisher faster than the system under test only measures when Redis cuts the subscriber at
# its 32 MB pub/sub output limit; the window keeps what is in flight below that (and below the
# gateway's 8 MiB per-client cap: 64 x 64 KiB = 4 MiB) and finds the highest lossless rate.
# `streams`: the gateway runs in both transports (--transports); the other peers are pub/sub only.
# h and i are that open loop on purpose (`open_loop`: no window, and the subscriber reconnects with
# Last-Event-ID when the gateway drops it, as EventSource does): what each transport loses when
# the publisher outruns the gateway, and what that costs the gateway's memory. Gateway only.
# `maxlen`: XADD … MAXLEN ~ for streams where the default would keep more than this machine should
# hold (e: 60,000 x 64 KiB); the window keeps the gateway 64 entries behind at most, so trimming
# never overtakes it.
SCENARIOS = {
    "a": dict(title="1 client, 100 B, max rate", clients=1, size=100, rate=0,
              count=(1_000_000, 200_000), pipeline=64, window=20_000, streams=True),
    "b": dict(title="1 client, 1,000 msg/s, latency", clients=1, size=100, rate=1000,
              count=(10_000, 3_000), pipeline=1),
    "c": dict(title="100 clients x 1,000 msg/s", clients=100, size=100, rate=1000,
              count=(10_000, 3_000), pipeline=1, streams=True),
    "d": dict(title="1,000 clients x 100 msg/s", clients=1000, size=100, rate=100,
              count=(1_000, 300), pipeline=1, streams=True),
    "e": dict(title="1 client, 64 KiB, max rate", clients=1, size=65536, rate=0,
              count=(60_000, 10_000), pipeline=8, window=64, streams=True, maxlen=10_000),
    "f": dict(title="10,000 idle-ish clients x 10 msg/s", clients=(10_000, 2_000), size=100,
              rate=10, count=(150, 50), pipeline=1),
    "g": dict(title="slow client (never reads) beside 100 normal, 1,000 msg/s of 2 KiB",
              clients=100, size=2048, rate=1000, count=(15_000, 8_000), pipeline=1, slow=1),
    "h": dict(title="1 client, 100 B, open loop", clients=1, size=100, rate=0,
              count=(1_000_000, 200_000), pipeline=64, open_loop=True, streams=True,
              peers=("gateway",)),
    "i": dict(title="1 client, 64 KiB, open loop", clients=1, size=65536, rate=0,
              count=(20_000, 3_000), pipeline=8, open_loop=True, streams=True,
              peers=("gateway",)),
}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_http(url, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return True
        except Exception:
            time.sleep(0.1)
    return False


def proc_tree(pid):
    """pid and its descendants."""
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(d))
            except OSError:
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_seconds(pids):
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except OSError:
            pass
    return total / TICK


def status_kib(pids, key):
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith(key + ":"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def fd_count(pids):
    n = 0
    for p in pids:
        try:
            n += len(os.listdir(f"/proc/{p}/fd"))
        except OSError:
            pass
    return n


def redis_cli(port, *args):
    out = subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True)
    return out.stdout.strip()


def redis_info(port, section, key):
    for line in redis_cli(port, "INFO", section).splitlines():
        if line.startswith(key + ":"):
            return int(line.split(":", 1)[1])
    return 0


def size_bytes(text):
    """"256M" -> bytes, as the gateway reads --history-bytes (ConfigValue::parseSize)."""
    text = text.strip().lower()
    for suffix, unit in (("kib", 2**10), ("kb", 2**10), ("k", 2**10), ("mib", 2**20),
                         ("mb", 2**20), ("m", 2**20), ("gib", 2**30), ("gb", 2**30),
                         ("g", 2**30), ("b", 1)):
        if text.endswith(suffix):
            return int(text[:-len(suffix)].strip()) * unit
    return int(text)


# The gateway's transports; "-tls": reading Redis over TLS (rediss://).
TRANSPORTS = ("pubsub", "streams", "pubsub-tls", "streams-tls")


def base(transport):
    """pubsub or streams, with or without TLS."""
    return transport.removesuffix("-tls")


def make_tls_files(tmp):
    """A CA and a certificate for 127.0.0.1 signed by it (redis.pem, redis.key); the CA's path."""
    def openssl(*a):
        subprocess.run(["openssl", *a], cwd=tmp, check=True, capture_output=True)
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=bench CA")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
            "redis.key", "-out", "redis.csr", "-subj", "/CN=127.0.0.1")
    with open(os.path.join(tmp, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "redis.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "redis.pem", "-days", "2", "-extfile", "san.ext")
    return os.path.join(tmp, "ca.pem")


def label(name, transport):
    """A system of the tables: a peer, or the gateway in a transport other than pub/sub."""
    return name if transport == "pubsub" else f"{name}/{transport}"


class Sut:
    """One system under test: start(), sub_url, feed args, stop()."""

    def __init__(self, name, args, redis_port, tmp, scenario=None, transport="pubsub"):
        self.name, self.args, self.redis_port, self.tmp = name, args, redis_port, tmp
        self.scenario = scenario
        self.transport = transport
        self.label = label(name, transport)
        self.proc = None

    def start(self):
        self.port = free_port()
        env = dict(os.environ)
        log = open(os.path.join(self.tmp, f"{self.name}.log"), "ab")
        if self.name == "gateway":
            env["QT_LOGGING_RULES"] = "llmstreamer.*.info=false"
            redis_url = f"redis://127.0.0.1:{self.redis_port}"
            if self.transport.endswith("-tls"):
                redis_url = f"rediss://127.0.0.1:{self.args.redis_tls_port}"
            cmd = [self.args.gateway, "--bind", "127.0.0.1", "--port", str(self.port),
                   "--redis-url", redis_url, "--channels", CHANNEL,
                   "--max-clients", "20000", "--max-clients-per-address", "20000",
                   "--history-bytes", self.args.history_bytes, "--transport",
                   base(self.transport)]
            if self.transport.endswith("-tls"):
                cmd += ["--redis-ca", self.args.redis_ca]
            if base(self.transport) == "streams":
                cmd += ["--stream-key", STREAM_KEY]
            self.sub_url = f"http://127.0.0.1:{self.port}/events"
            ready = f"http://127.0.0.1:{self.port}/readyz"
        elif self.name == "python":
            env.update(REDIS_URL=f"redis://127.0.0.1:{self.redis_port}", LOG_CHANNELS=CHANNEL)
            cmd = ["/usr/bin/python3", "-m", "uvicorn", "main:app", "--app-dir",
                   os.path.join(ROOT, "bench/peers/python"), "--host", "127.0.0.1", "--port",
                   str(self.port), "--log-level", "warning", "--no-access-log",
                   "--backlog", "4096"]
            self.sub_url = f"http://127.0.0.1:{self.port}/stream"
            ready = f"http://127.0.0.1:{self.port}/"
        elif self.name == "floor":
            # Not a peer: llmstreamer-load's minimal fan-out (one write() per message and
            # stream, nothing else), the kernel's share of the work on this machine.
            cmd = [self.args.load, "floor", "--port", str(self.port), "--redis",
                   f"127.0.0.1:{self.redis_port}", "--channel", CHANNEL]
            self.sub_url = f"http://127.0.0.1:{self.port}/events"
            ready = f"http://127.0.0.1:{self.port}/healthz"
        elif self.name == "nchan":
            prefix = tempfile.mkdtemp(prefix="nchan-", dir=self.tmp)
            os.chmod(prefix, 0o777)
            for d in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
                os.makedirs(os.path.join(prefix, "tmp", d), mode=0o777, exist_ok=True)
            with open(os.path.join(ROOT, "bench/peers/nchan/nginx.conf.in")) as f:
                conf = f.read()
            # Nchan keeps a message for a subscriber only while it is in the channel's buffer
            # and the buffer only while its shared memory holds it: both are sized so that the
            # messages the scenario may have in flight (its window) fit, or Nchan would report
            # loss the benchmark caused (507 "Out of shared memory" with 64 KiB messages, "missed
            # message" when the window outruns a 10,000-message buffer).
            sc = self.scenario or {}
            buffer = max(10_000, 2 * sc.get("window", 0))
            shm_mb = max(512, int(1.5 * buffer * (sc.get("size", 100) + 1024) / 2**20))
            conf = (conf.replace("@PREFIX@", prefix).replace("@PORT@", str(self.port))
                    .replace("@WORKERS@", os.environ.get("NCHAN_WORKERS", "auto"))
                    .replace("@BUFFER@", str(buffer)).replace("@SHM_MB@", str(shm_mb)))
            with open(os.path.join(prefix, "nginx.conf"), "w") as f:
                f.write(conf)
            cmd = ["nginx", "-p", prefix, "-c", os.path.join(prefix, "nginx.conf"), "-g",
                   "daemon off;"]
            self.sub_url = f"http://127.0.0.1:{self.port}/sub"
            ready = f"http://127.0.0.1:{self.port}/healthz"
        else:
            raise ValueError(self.name)
        self.proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=log, cwd=self.tmp)
        if not wait_http(ready):
            self.stop()
            raise RuntimeError(f"{self.name} did not become ready (see {self.tmp})")
        time.sleep(0.3)

    def feed(self):
        if self.name == "nchan":
            return ["--http-pub", f"http://127.0.0.1:{self.port}/pub"]
        feed = ["--redis", f"127.0.0.1:{self.redis_port}", "--channel", CHANNEL]
        if base(self.transport) == "streams":
            maxlen = (self.scenario or {}).get("maxlen", STREAM_MAXLEN)
            feed += ["--stream", STREAM_KEY, "--maxlen", str(maxlen)]
        return feed

    def pids(self):
        return proc_tree(self.proc.pid)

    def metrics(self):
        if self.name != "gateway":
            return {}
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as r:
                text = r.read().decode()
        except Exception:
            return {}
        out = {}
        for line in text.splitlines():
            if line.startswith("llmstreamer_clients_dropped") or line.startswith(
                    "llmstreamer_redis_reconnects_total"):
                k, v = line.rsplit(" ", 1)
                out[k] = float(v)
        return out

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM if self.name != "nchan" else signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def run_once(args, sut, key, sc, quick, redis_pid):
    pick = lambda v: v[1] if (quick and isinstance(v, tuple)) else (v[0] if isinstance(v, tuple) else v)
    clients, count, size, rate = pick(sc["clients"]), pick(sc["count"]), sc["size"], sc["rate"]
    # Every run starts from an empty stream: a gateway in streams mode starts with the newest
    # entries of the stream in its history, and Redis's memory per entry is measured from here.
    redis_cli(sut.redis_port, "DEL", STREAM_KEY)
    sut.start()
    try:
        ready = os.path.join(sut.tmp, "ready")
        if os.path.exists(ready):
            os.unlink(ready)
        expected_duration = count / rate if rate else 30
        timeout = expected_duration + 30 + clients / 500
        sub_cmd = [args.load, "subscribe", "--url", sut.sub_url, "--clients", str(clients),
                   "--expect", str(count), "--timeout", str(timeout), "--idle",
                   "5" if rate or sc.get("open_loop") else "3", "--ready-file", ready]
        if sc.get("open_loop"):
            sub_cmd.append("--reconnect")
        progress = os.path.join(sut.tmp, "progress")
        window = []
        if sc.get("window"):
            sub_cmd += ["--progress", progress]
            window = ["--window", str(sc["window"]), "--progress", progress]
        sub = subprocess.Popen(sub_cmd, stdout=subprocess.PIPE, text=True)
        slow = None
        if sc.get("slow"):
            slow = subprocess.Popen([args.load, "subscribe", "--url", sut.sub_url, "--clients",
                                     "1", "--slow", "--hold", str(expected_duration + 1),
                                     "--timeout", str(timeout)], stdout=subprocess.PIPE, text=True)
        end = time.time() + 30 + clients / 250
        while not os.path.exists(ready) and time.time() < end and sub.poll() is None:
            time.sleep(0.05)
        want = clients + (1 if slow else 0)
        if sut.name == "python":
            # The original subscribes after the response head is out: wait until Redis has
            # every subscription, so set-up is not counted as loss.
            while time.time() < end:
                n = redis_cli(sut.redis_port, "PUBSUB", "NUMSUB", CHANNEL).split("\n")[-1]
                if n.isdigit() and int(n) >= want:
                    break
                time.sleep(0.1)
        time.sleep(0.5)
        pids = sut.pids()
        mem0 = redis_info(sut.redis_port, "memory", "used_memory")
        cpu0, t0 = cpu_seconds(pids), time.time()
        redis_cpu0 = cpu_seconds([redis_pid])
        fds_peak = fd_count(pids)
        pub = subprocess.run([args.load, "publish", *sut.feed(), "--count", str(count), "--size",
                              str(size), "--rate", str(rate), "--pipeline", str(sc["pipeline"]),
                              *window],
                             capture_output=True, text=True, timeout=timeout + 60)
        fds_peak = max(fds_peak, fd_count(pids))
        out, _ = sub.communicate()
        cpu1, t1 = cpu_seconds(sut.pids()), time.time()
        redis_cpu1 = cpu_seconds([redis_pid])
        slow_out = json.loads(slow.communicate()[0]) if slow else None
        r = {"scenario": key, "sut": sut.name, "transport": sut.transport, "clients": clients,
             "size": size, "rate": rate, "count": count}
        r["pub"] = json.loads(pub.stdout) if pub.stdout.strip() else {"error": pub.stderr}
        r["sub"] = json.loads(out) if out.strip() else {"error": "no output"}
        r["slow"] = slow_out
        r["sut_cpu_s"] = round(cpu1 - cpu0, 3)
        r["wall_s"] = round(t1 - t0, 3)
        r["sut_peak_rss_mb"] = round(status_kib(sut.pids(), "VmHWM") / 1024, 1)
        r["sut_fds"] = fds_peak
        r["history_cap_mb"] = round(size_bytes(args.history_bytes) / 2**20, 1) if sut.name == "gateway" else None
        r["redis_cpu_s"] = round(redis_cpu1 - redis_cpu0, 3)
        if base(sut.transport) == "streams":
            # What the stream holds now (the gateway trims only every 10 s, and to more than a
            # run adds): Redis's memory per entry, with its per-node overhead.
            entries = int(redis_cli(sut.redis_port, "XLEN", STREAM_KEY) or 0)
            delta = redis_info(sut.redis_port, "memory", "used_memory") - mem0
            r["stream_entries"] = entries
            r["redis_mem_delta_mb"] = round(delta / 2**20, 1)
            r["redis_bytes_per_entry"] = round(delta / entries, 1) if entries else None
        r["metrics"] = sut.metrics()
        r["loadavg"] = os.getloadavg()[0]
        return r
    finally:
        sut.stop()


def derive(r):
    s, p = r["sub"], r["pub"]
    d = {}
    dl = s.get("deliveries", 0)
    expected = r["count"] * r["clients"]
    d["deliveries_per_s"] = s.get("deliveries_per_s", 0)
    d["mb_per_s"] = s.get("bytes_per_s", 0) / 1e6
    d["loss_pct"] = 100.0 * s.get("lost", expected) / expected if expected else 0
    d["complete_clients"] = s.get("complete_clients", 0)
    lat = s.get("latency_ms", {})
    d["p50_ms"], d["p99_ms"], d["max_ms"] = lat.get("p50", -1), lat.get("p99", -1), lat.get("max", -1)
    d["connect_p99_ms"] = s.get("connect_ms", {}).get("p99", -1)
    d["sut_cpu_s"] = r["sut_cpu_s"]
    d["cpu_s_per_m"] = r["sut_cpu_s"] / dl * 1e6 if dl else float("nan")
    d["sut_cpu_util"] = r["sut_cpu_s"] / r["wall_s"] if r["wall_s"] else 0
    d["rss_mb"] = r["sut_peak_rss_mb"]
    d["pub_rate"] = p.get("rate", 0)
    span = max(s.get("seconds", 1), 1e-3)
    span = s.get("delivery_span_s", 0) if s.get("delivery_span_s", 0) > 0.5 else span
    d["sub_cpu_util"] = s.get("cpu_s", 0) / span
    pub_secs = max(p.get("seconds", 1), 1e-3)
    d["pub_cpu_util"] = p.get("cpu_s", 0) / pub_secs
    d["slow_dropped"] = None
    if r.get("slow"):
        sl = r["slow"]
        d["slow_dropped"] = bool(sl.get("dropped_events") or sl.get("eof"))
    d["established"] = s.get("established", 0)
    d["reconnects"] = s.get("reconnects", 0)
    d["gap_events"] = s.get("gap_events", 0)
    d["redis_cpu_s"] = r.get("redis_cpu_s", 0)
    # Redis's work follows what is published (one PUBLISH or XADD, one XREAD per batch), not the
    # fan-out: per million messages published.
    d["redis_cpu_s_per_m_msgs"] = r.get("redis_cpu_s", 0) / r["count"] * 1e6 if r["count"] else None
    d["redis_bytes_per_entry"] = r.get("redis_bytes_per_entry")
    m = r.get("metrics", {})
    d["sut_redis_reconnects"] = m.get("llmstreamer_redis_reconnects_total")
    d["clients_dropped_slow"] = m.get('llmstreamer_clients_dropped_total{reason="slow"}')
    cap = r.get("history_cap_mb")
    d["rss_over_cap_mb"] = r["sut_peak_rss_mb"] - cap if cap is not None else None
    return d


def median(values):
    vals = [v for v in values if v is not None and v == v]
    if not vals:
        return None
    if isinstance(vals[0], bool):
        return sum(vals) * 2 >= len(vals)
    return statistics.median(vals)


def fmt(v, digits=1):
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{digits}f}" if digits else f"{v:.0f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--scenarios", default="".join(SCENARIOS))
    ap.add_argument("--peers", default="gateway,nchan,python,floor")
    ap.add_argument("--transports", default="pubsub,streams",
                    help="the gateway's transports, in the scenarios that run both (a, c, d, e, h, i)")
    ap.add_argument("--history-bytes", default="256M",
                    help="the gateway's --history-bytes; peak RSS is checked against it + 64 MB")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build-bench"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench/results"))
    args = ap.parse_args()
    if unknown := sorted(set(args.scenarios) - set(SCENARIOS)):
        ap.error(f"--scenarios: no scenario {', '.join(unknown)} (there are {''.join(SCENARIOS)})")
    suts = args.peers.split(",")
    if unknown := [n for n in suts if n not in ("gateway", "nchan", "python", "floor")]:
        ap.error(f"--peers: unknown {', '.join(unknown)} (gateway, nchan, python, floor)")
    transports = args.transports.split(",")
    if not transports or any(t not in TRANSPORTS for t in transports):
        ap.error(f"--transports: {args.transports!r} is not a list of {', '.join(TRANSPORTS)}")
    try:
        if size_bytes(args.history_bytes) < 0:
            raise ValueError
    except ValueError:
        ap.error(f"--history-bytes: {args.history_bytes!r} is not a size like 256M")
    if args.reps < 1:
        ap.error("--reps: at least 1")
    args.build_dir = os.path.abspath(args.build_dir)
    args.gateway = os.path.join(args.build_dir, "gateway/llmstreamer-gateway")
    args.load = os.path.join(args.build_dir, "bench/llmstreamer-load")
    if "nchan" in suts and not shutil.which("nginx"):
        print("bench: nginx not installed (scripts/install-deps.sh --bench); skipping Nchan")
        suts.remove("nchan")

    def systems(sc):
        """(peer, transport) pairs of a scenario, in table order."""
        out = []
        for name in suts:
            if name not in sc.get("peers", suts):
                continue
            if name != "gateway":
                out.append((name, "pubsub"))
                continue
            out += [(name, t) for t in TRANSPORTS
                    if t in transports and (base(t) == "pubsub" or sc.get("streams"))]
        return out

    tmp = tempfile.mkdtemp(prefix="llmstreamer-bench-")
    redis_port = free_port()
    tls_args = []
    if any(t.endswith("-tls") for t in transports):
        # The gateway reads over TLS (rediss://, a test CA made here); the load tool publishes
        # on the plain port: what TLS costs the gateway, nothing else.
        args.redis_tls_port, args.redis_ca = free_port(), make_tls_files(tmp)
        tls_args = ["--tls-port", str(args.redis_tls_port), "--tls-cert-file",
                    os.path.join(tmp, "redis.pem"), "--tls-key-file",
                    os.path.join(tmp, "redis.key"), "--tls-auth-clients", "no"]
    redis = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(redis_port),
                              "--save", "", "--appendonly", "no", "--maxclients", "20000",
                              *tls_args],
                             stdout=open(os.path.join(tmp, "redis.log"), "w"),
                             stderr=subprocess.STDOUT, cwd=tmp)
    for _ in range(50):
        if redis_cli(redis_port, "PING") == "PONG":
            break
        time.sleep(0.1)

    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    os.makedirs(args.out, exist_ok=True)
    raw_path = os.path.join(args.out, f"bench-{stamp}.json")
    runs = []
    env_info = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {os.cpu_count()} cores, "
                   + subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"],
                                    capture_output=True, text=True).stdout.strip(),
        "kernel": platform.release(),
        "redis": redis_cli(redis_port, "INFO", "server").split("redis_version:")[1].split()[0],
        "nginx": subprocess.run(["sh", "-c", "nginx -v 2>&1; dpkg-query -W -f='${Version}' libnginx-mod-nchan 2>/dev/null"],
                                capture_output=True, text=True).stdout.strip().replace("\n", " nchan "),
        "quick": args.quick, "reps": args.reps, "transports": transports,
        "history_bytes": args.history_bytes,
        "loadavg_start": os.getloadavg(),
    }
    try:
        for key in args.scenarios:
            sc = SCENARIOS[key]
            # Repetitions outermost: the two transports' runs alternate, so a machine whose speed
            # drifts during the run moves both alike and their ratio stays fair.
            for rep in range(args.reps):
                for name, transport in systems(sc):
                    sut = Sut(name, args, redis_port, tmp, sc, transport)
                    t = time.time()
                    try:
                        r = run_once(args, sut, key, sc, args.quick, redis.pid)
                    except Exception as e:  # a peer that falls over is a result too
                        r = {"scenario": key, "sut": name, "transport": transport, "error": str(e),
                             "sub": {}, "pub": {}}
                    r["rep"] = rep
                    runs.append(r)
                    if "error" not in r:
                        d = derive(r)
                        r["derived"] = d
                        print(f"bench: {key} {sut.label:15} rep {rep + 1}: {fmt(d['deliveries_per_s'])} del/s, "
                              f"loss {d['loss_pct']:.2f} %, p99 {d['p99_ms']:.2f} ms, "
                              f"cpu {d['sut_cpu_s']:.2f} s, rss {d['rss_mb']} MB, redis cpu {d['redis_cpu_s']:.2f} s, "
                              + (f"reconnects {d['reconnects']}, " if sc.get("open_loop") else "")
                              + f"load-tool cpu sub {d['sub_cpu_util']:.2f} pub {d['pub_cpu_util']:.2f}, "
                              f"loadavg {r['loadavg']:.2f} ({time.time() - t:.0f} s)", flush=True)
                    else:
                        print(f"bench: {key} {sut.label} rep {rep + 1}: ERROR {r['error']}", flush=True)
                    with open(raw_path, "w") as f:
                        json.dump({"env": env_info, "runs": runs}, f, indent=1)
    finally:
        redis.terminate()
        redis.wait()
    env_info["loadavg_end"] = os.getloadavg()

    # Medians per scenario and system (a peer, or the gateway in one transport).
    med = {}
    for key in args.scenarios:
        for name, transport in systems(SCENARIOS[key]):
            ds = [r["derived"] for r in runs if r["scenario"] == key and r["sut"] == name
                  and r["transport"] == transport and "derived" in r]
            if ds:
                med[(key, label(name, transport))] = {k: median([d[k] for d in ds]) for k in ds[0]}
    compare = transport_rows(med, args.scenarios, size_bytes(args.history_bytes) / 2**20)
    with open(raw_path, "w") as f:
        json.dump({"env": env_info, "runs": runs,
                   "medians": {f"{k}/{n}": v for (k, n), v in med.items()},
                   "transports": compare}, f, indent=1)
    csv_path = raw_path.replace(".json", ".csv")
    cols = ["deliveries_per_s", "mb_per_s", "loss_pct", "complete_clients", "p50_ms", "p99_ms",
            "max_ms", "connect_p99_ms", "sut_cpu_s", "cpu_s_per_m", "sut_cpu_util", "rss_mb",
            "pub_rate", "sub_cpu_util", "pub_cpu_util", "slow_dropped", "established",
            "reconnects", "gap_events", "redis_cpu_s", "redis_cpu_s_per_m_msgs",
            "redis_bytes_per_entry", "rss_over_cap_mb", "sut_redis_reconnects",
            "clients_dropped_slow"]
    with open(csv_path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["scenario", "sut", "transport", "rep", *cols])
        for r in runs:
            if "derived" in r:
                w.writerow([r["scenario"], r["sut"], r["transport"], r["rep"],
                            *[r["derived"][c] for c in cols]])
    if compare:
        with open(raw_path.replace(".json", "-transports.csv"), "w", newline="") as f:
            w = csv.writer(f)
            keys = list(compare[0])
            w.writerow(keys)
            for row in compare:
                w.writerow([row[k] for k in keys])

    lines = []
    lines.append(f"Run {env_info['date']} on {env_info['machine']}, Linux {env_info['kernel']}, "
                 f"Redis {env_info['redis']}, {env_info['nginx']}; "
                 f"{'quick' if args.quick else 'full'} run, median of {args.reps}; gateway "
                 f"transports {', '.join(transports)}, --history-bytes {args.history_bytes}; "
                 f"1-min load average {env_info['loadavg_start'][0]:.2f} at start, "
                 f"{env_info['loadavg_end'][0]:.2f} at end.")
    lines.append("")
    lines.append("| scenario | system | deliveries/s | MB/s | loss % | p50 ms | p99 ms | max ms | "
                 "connect p99 ms | CPU-s / M deliveries | peak RSS MB | Redis CPU-s / M msgs | "
                 "Redis B / entry | load tool CPU (sub/pub) |")
    lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for key in args.scenarios:
        for name, transport in systems(SCENARIOS[key]):
            m = med.get((key, label(name, transport)))
            if not m:
                lines.append(f"| {key} | {label(name, transport)} | failed | | | | | | | | | | | |")
                continue
            sat = " **saturated**" if m["sub_cpu_util"] >= 0.9 else ""
            lines.append(
                f"| {key} | {label(name, transport)} | {fmt(m['deliveries_per_s'], 0)} | {fmt(m['mb_per_s'])} | "
                f"{m['loss_pct']:.2f} | {fmt(m['p50_ms'], 2)} | {fmt(m['p99_ms'], 2)} | "
                f"{fmt(m['max_ms'], 1)} | {fmt(m['connect_p99_ms'], 1)} | {fmt(m['cpu_s_per_m'], 2)} | "
                f"{fmt(m['rss_mb'])} | {fmt(m['redis_cpu_s_per_m_msgs'], 2)} | "
                f"{fmt(m['redis_bytes_per_entry'], 0)} | {m['sub_cpu_util']:.2f}/{m['pub_cpu_util']:.2f}{sat} |")
    if table := verdicts(med, suts):
        lines.append("")
        lines.append(table)
    if compare:
        lines.append("")
        lines.append(transport_table(compare))
    if any(t.endswith("-tls") for t in transports):
        lines += ["", tls_table(med, args.scenarios)]
    text = "\n".join(lines)
    md_path = raw_path.replace(".json", ".md")
    with open(md_path, "w") as f:
        f.write(text + "\n")
    print()
    print(text)
    print(f"\nbench: raw results {raw_path}, {csv_path}, {md_path}"
          + (f", {raw_path.replace('.json', '-transports.csv')}" if compare else ""))


def tls_table(med, scenarios):
    """Each transport read from Redis in clear and over TLS (rediss://), side by side."""
    out = ["| scenario | transport | figure | plain | TLS | TLS / plain |",
           "|---|---|---|---:|---:|---:|"]
    figures = (("deliveries/s", "deliveries_per_s", 0), ("MB/s", "mb_per_s", 1),
               ("loss %", "loss_pct", 2), ("CPU-s / M deliveries", "cpu_s_per_m", 2),
               ("p99 ms", "p99_ms", 2), ("peak RSS MB", "rss_mb", 1))
    for key in scenarios:
        for t in ("pubsub", "streams"):
            plain, tls = med.get((key, label("gateway", t))), med.get((key, f"gateway/{t}-tls"))
            if not plain or not tls:
                continue
            for figure, field, digits in figures:
                p, q = plain.get(field), tls.get(field)
                ratio = f"{q / p:.2f}×" if p and q is not None and field != "loss_pct" else "–"
                out.append(f"| {key} | {t} | {figure} | {fmt(p, digits)} | {fmt(q, digits)} | "
                           f"{ratio} |")
    return "\n".join(out)


def transport_rows(med, scenarios, cap_mb):
    """The gateway's two transports side by side: one row per figure of a scenario that ran both
    (or streams alone), with the ratio streams / pub/sub and the targets of the streams transport:
    a ≥ 300,000 msg/s without loss; c's CPU per delivery and c's and d's p99 within 1.25× of
    pub/sub's; nothing lost open loop (h, i); peak RSS within the history cap + 64 MB in e, h, i."""
    rows = []
    rss_limit = cap_mb + 64

    def row(key, figure, field, target=None, met=None, ratio=True):
        ps, st = med.get((key, "gateway")), med.get((key, "gateway/streams"))
        p, s = ps.get(field) if ps else None, st.get(field) if st else None
        rows.append({"scenario": key, "figure": figure, "pubsub": p, "streams": s,
                     "ratio": s / p if ratio and p and s is not None else None,
                     "target": target, "met": None if met is None else met(p, s)})

    for key in scenarios:
        if not med.get((key, "gateway/streams")):
            continue
        sc = SCENARIOS[key]
        if key == "a":
            row(key, "deliveries/s", "deliveries_per_s", "streams ≥ 300,000",
                lambda p, s: s is not None and s >= 300_000)
        elif sc["size"] >= 65536:
            row(key, "MB/s", "mb_per_s")
        else:
            row(key, "deliveries/s", "deliveries_per_s")
        if key == "a" or sc.get("open_loop"):
            row(key, "loss %", "loss_pct", "streams 0", lambda p, s: s == 0, ratio=False)
        else:
            row(key, "loss %", "loss_pct", ratio=False)
        if key == "c":
            row(key, "CPU-s / M deliveries", "cpu_s_per_m", "≤ 1.25× pub/sub",
                lambda p, s: None if p is None or s is None else s <= 1.25 * p)
        else:
            row(key, "CPU-s / M deliveries", "cpu_s_per_m")
        if key in "cd":
            row(key, "p99 ms", "p99_ms", "≤ 1.25× pub/sub",
                lambda p, s: None if p is None or s is None else s <= 1.25 * p)
        else:
            row(key, "p99 ms", "p99_ms")
        if sc.get("open_loop"):
            row(key, "publisher msg/s", "pub_rate")
            row(key, "Redis cut the gateway (reconnects)", "sut_redis_reconnects", ratio=False)
            row(key, "client dropped as slow (resumed)", "clients_dropped_slow", ratio=False)
        if key == "e" or sc.get("open_loop"):
            row(key, "peak RSS MB", "rss_mb", f"both ≤ history cap + 64 = {rss_limit:,.0f}",
                lambda p, s: all(v <= rss_limit for v in (p, s) if v is not None), ratio=False)
        else:
            row(key, "peak RSS MB", "rss_mb")
        row(key, "Redis CPU-s / M msgs", "redis_cpu_s_per_m_msgs")
        row(key, "Redis B / entry", "redis_bytes_per_entry", ratio=False)
    return rows


def transport_table(rows):
    out = ["| scenario | figure (gateway) | pub/sub | streams | streams / pub/sub | target | met |",
           "|---|---|---:|---:|---:|---|---|"]
    for r in rows:
        digits = {"deliveries/s": 0, "publisher msg/s": 0, "Redis B / entry": 0,
                  "Redis cut the gateway (reconnects)": 0, "client dropped as slow (resumed)": 0,
                  "peak RSS MB": 1, "MB/s": 0}.get(r["figure"], 2)
        out.append(f"| {r['scenario']} | {r['figure']} | {fmt(r['pubsub'], digits)} | "
                   f"{fmt(r['streams'], digits)} | "
                   + (f"{r['ratio']:.2f}×" if r["ratio"] is not None else "–")
                   + f" | {r['target'] or '–'} | "
                   + ("–" if r["met"] is None else ("yes" if r["met"] else "**no**")) + " |")
    return "\n".join(out)


def verdicts(med, suts):
    g = lambda k: med.get((k, "gateway"))
    n = lambda k: med.get((k, "nchan"))
    p = lambda k: med.get((k, "python"))
    fl = lambda k: med.get((k, "floor"))
    rows = ["| scenario | target | gateway | Nchan | Python | ratio | met |", "|---|---|---|---|---|---|---|"]

    def ratio(a, b):
        return f"{a / b:.1f}×" if a and b else "–"

    if g("a"):
        a = g("a")
        rows.append(f"| a | ≥ 300,000 msg/s, 0 loss | {fmt(a['deliveries_per_s'], 0)}/s, {a['loss_pct']:.2f} % | "
                    + (f"{fmt(n('a')['deliveries_per_s'], 0)}/s, {n('a')['loss_pct']:.2f} %" if n("a") else "–") + " | "
                    + (f"{fmt(p('a')['deliveries_per_s'], 0)}/s, {p('a')['loss_pct']:.2f} %" if p("a") else "–") + " | "
                    + (ratio(a['deliveries_per_s'], n('a')['deliveries_per_s']) + " Nchan" if n("a") else "–")
                    + f" | {'yes' if a['deliveries_per_s'] >= 300_000 and a['loss_pct'] == 0 else 'no'} |")
    if g("b"):
        b = g("b")
        rows.append(f"| b | (latency) | p50 {fmt(b['p50_ms'], 2)} / p99 {fmt(b['p99_ms'], 2)} ms | "
                    + (f"p50 {fmt(n('b')['p50_ms'], 2)} / p99 {fmt(n('b')['p99_ms'], 2)} ms" if n("b") else "–") + " | "
                    + (f"p50 {fmt(p('b')['p50_ms'], 2)} / p99 {fmt(p('b')['p99_ms'], 2)} ms" if p("b") else "–") + " | – | – |")
    if g("c"):
        c = g("c")
        nc = n("c")
        ok = nc and c["cpu_s_per_m"] <= nc["cpu_s_per_m"] / 5 and c["p99_ms"] <= nc["p99_ms"]
        rows.append(f"| c | CPU-s/M ≤ ⅕ Nchan, p99 ≤ Nchan | {fmt(c['cpu_s_per_m'], 2)} CPU-s/M, p99 {fmt(c['p99_ms'], 2)} ms | "
                    + (f"{fmt(nc['cpu_s_per_m'], 2)} CPU-s/M, p99 {fmt(nc['p99_ms'], 2)} ms" if nc else "–") + " | "
                    + (f"{fmt(p('c')['cpu_s_per_m'], 2)} CPU-s/M, p99 {fmt(p('c')['p99_ms'], 2)} ms" if p("c") else "–") + " | "
                    + (f"1/{nc['cpu_s_per_m'] / c['cpu_s_per_m']:.1f} of Nchan's CPU" if nc else "–")
                    + (f"; floor {fmt(fl('c')['cpu_s_per_m'], 2)} CPU-s/M, p99 {fmt(fl('c')['p99_ms'], 2)} ms"
                       if fl("c") else "")
                    + f" | {'yes' if ok else ('no' if nc else '?')} |")
    if g("d"):
        d = g("d")
        nd = n("d")
        ok = d["p99_ms"] <= 5 and (not nd or d["rss_mb"] <= nd["rss_mb"])
        rows.append(f"| d | p99 ≤ 5 ms, RSS ≤ Nchan | p99 {fmt(d['p99_ms'], 2)} ms, {fmt(d['rss_mb'])} MB, loss {d['loss_pct']:.2f} % | "
                    + (f"p99 {fmt(nd['p99_ms'], 2)} ms, {fmt(nd['rss_mb'])} MB, loss {nd['loss_pct']:.2f} %" if nd else "–") + " | "
                    + (f"p99 {fmt(p('d')['p99_ms'], 2)} ms, {fmt(p('d')['rss_mb'])} MB, loss {p('d')['loss_pct']:.2f} %" if p("d") else "–")
                    + (f" | floor p99 {fmt(fl('d')['p99_ms'], 2)} ms" if fl("d") else " | –")
                    + f" | {'yes' if ok else 'no'} |")
    if g("e"):
        e = g("e")
        rows.append(f"| e | ≥ 1 GB/s | {fmt(e['mb_per_s'], 0)} MB/s, loss {e['loss_pct']:.2f} % | "
                    + (f"{fmt(n('e')['mb_per_s'], 0)} MB/s, loss {n('e')['loss_pct']:.2f} %" if n("e") else "–") + " | "
                    + (f"{fmt(p('e')['mb_per_s'], 0)} MB/s, loss {p('e')['loss_pct']:.2f} %" if p("e") else "–") + " | "
                    + (ratio(e['mb_per_s'], n('e')['mb_per_s']) + " Nchan" if n("e") else "–")
                    + f" | {'yes' if e['mb_per_s'] >= 1000 and e['loss_pct'] == 0 else 'no'} |")
    if g("f"):
        f_ = g("f")
        desc = lambda m: f"{fmt(m['complete_clients'], 0)}/{fmt(m['established'], 0)} complete, {fmt(m['rss_mb'])} MB, connect p99 {fmt(m['connect_p99_ms'])} ms"
        rows.append(f"| f | every client gets all, RSS ≤ 150 MB | {desc(f_)} | "
                    + (desc(n("f")) if n("f") else "–") + " | " + (desc(p("f")) if p("f") else "–")
                    + f" | – | {'yes' if f_['loss_pct'] == 0 and f_['complete_clients'] == f_['established'] and f_['rss_mb'] <= 150 else 'no'} |")
    if g("g"):
        gg = g("g")
        c = g("c")
        desc = lambda m: f"loss {m['loss_pct']:.2f} %, p99 {fmt(m['p99_ms'], 2)} ms, slow dropped: {fmt(m['slow_dropped'])}, {fmt(m['rss_mb'])} MB"
        ok = gg["loss_pct"] == 0 and gg["slow_dropped"] and c and gg["p99_ms"] <= 2 * max(c["p99_ms"], 0.001)
        rows.append(f"| g | normal: 0 loss, p99 ≤ 2× c; slow dropped; RSS bounded | {desc(gg)} | "
                    + (desc(n("g")) if n("g") else "–") + " | " + (desc(p("g")) if p("g") else "–")
                    + f" | – | {'yes' if ok else 'no'} |")
    return "\n".join(rows) if len(rows) > 2 else ""


if __name__ == "__main__":
    main()
