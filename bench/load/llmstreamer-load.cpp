// llmstreamer-load: the load tool of the benchmark suite (bench/run.sh). No Qt event loop: plain
// epoll and blocking hiredis. Two subcommands, each printing one JSON object on stdout.
//
//   llmstreamer-load publish --redis HOST:PORT|unix:PATH --channel C [--rate R] [--count N]
//                            [--size BYTES] [--pipeline P] [--window W --progress FILE]
//                            [--stream KEY [--maxlen N]]   (XADD instead of PUBLISH)
//   llmstreamer-load publish --http-pub http://127.0.0.1:PORT/path ...   (Nchan's publisher)
//   llmstreamer-load subscribe --url http://127.0.0.1:PORT/path [--clients N] [--expect N]
//                              [--timeout S] [--idle S] [--ready-file F] [--slow]
//                              [--progress FILE] [--churn-every S [--churn-count K]]
//                              [--reconnect]
//   llmstreamer-load floor --port P --redis HOST:PORT --channel C [--threads N]
//                          (a minimal fan-out, below; N threads share the writes)
//
// Max rate (--rate 0) is open loop unless --window is given: Redis pub/sub has no back-pressure,
// so a publisher faster than the system under test only measures how soon Redis cuts the
// subscriber (client-output-buffer-limit pubsub, 32 MB). With --window W the publisher keeps at
// most W messages published but not yet delivered to every subscriber: the subscriber writes the
// lowest sequence number all its clients have reached into the shared --progress FILE (mmap), and
// the publisher waits while it is W behind. What is measured is then the highest rate the system
// sustains without loss, the same way for every peer (Nchan's publisher endpoint included).
//
// With --stream KEY the publisher adds each message to a Redis stream (XADD KEY [MAXLEN ~ N] *
// channel C data PAYLOAD), as `llmstreamer-producer --transport streams` does, for a gateway
// started with --transport streams. --reconnect makes a subscriber behave as EventSource does
// when the server closes its stream (e.g. the gateway dropped it as too slow): it reconnects at
// once with the last id it saw in Last-Event-ID.
//
// Payloads are "#S<seq>:T<ns>#" (seq from 1, ns = CLOCK_REALTIME at send; same machine) padded
// with 'x' to --size (at least 44 bytes through Redis). The subscriber finds the marker anywhere
// in an event's data, so the same parser serves the gateway (marker inside the JSON envelope's
// "payload" string), Nchan and the Python original (marker is the whole data line).
#include "sseparser.h"

#include <hiredis/hiredis.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <climits>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

int64_t nowNs(clockid_t clock = CLOCK_REALTIME)
{
    timespec ts;
    clock_gettime(clock, &ts);
    return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}
int64_t monoNs()
{
    return nowNs(CLOCK_MONOTONIC);
}

double cpuSeconds()
{
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

[[noreturn]] void die(const char *fmt, const char *arg = "")
{
    std::fprintf(stderr, "llmstreamer-load: ");
    std::fprintf(stderr, fmt, arg);
    std::fprintf(stderr, "\n");
    std::exit(1);
}

struct Args
{
    std::vector<std::string> v;
    const char *get(const char *name, const char *def = nullptr) const
    {
        for (size_t i = 0; i + 1 < v.size(); ++i)
            if (v[i] == name)
                return v[i + 1].c_str();
        return def;
    }
    bool has(const char *name) const { return std::find(v.begin(), v.end(), name) != v.end(); }
    long long num(const char *name, long long def) const
    {
        const char *s = get(name);
        return s ? std::atoll(s) : def;
    }
    double real(const char *name, double def) const
    {
        const char *s = get(name);
        return s ? std::atof(s) : def;
    }
};

// http://HOST:PORT/path (numeric IPv4 host; loopback only in practice).
struct Url
{
    sockaddr_in addr{};
    std::string host, path;
};

Url parseUrl(const std::string &url)
{
    Url u;
    const std::string prefix = "http://";
    if (url.rfind(prefix, 0) != 0)
        die("only http:// URLs: %s", url.c_str());
    std::string rest = url.substr(prefix.size());
    const size_t slash = rest.find('/');
    std::string hostport = rest.substr(0, slash);
    u.path = slash == std::string::npos ? "/" : rest.substr(slash);
    const size_t colon = hostport.rfind(':');
    std::string host = hostport.substr(0, colon);
    int port = colon == std::string::npos ? 80 : std::atoi(hostport.c_str() + colon + 1);
    if (host == "localhost")
        host = "127.0.0.1";
    u.host = hostport;
    u.addr.sin_family = AF_INET;
    u.addr.sin_port = htons(uint16_t(port));
    if (inet_pton(AF_INET, host.c_str(), &u.addr.sin_addr) != 1)
        die("bad host in %s", url.c_str());
    return u;
}

void raiseFdLimit(long want)
{
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rlim_t(want) > rl.rlim_cur) {
        rl.rlim_cur = std::min<rlim_t>(rl.rlim_max, rlim_t(want));
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rlim_t(want) > rl.rlim_cur)
        std::fprintf(stderr, "llmstreamer-load: fd limit %lu < %ld wanted\n",
                     (unsigned long)rl.rlim_cur, want);
}

// Writes the marker "#S<seq>:T<ns>#" (stamped now) into `head`; returns its length.
size_t formatMarker(char (&head)[64], uint64_t seq)
{
    return size_t(std::snprintf(head, sizeof head, "#S%" PRIu64 ":T%" PRId64 "#", seq, nowNs()));
}

std::string makePayload(uint64_t seq, size_t size)
{
    char head[64];
    std::string p(head, formatMarker(head, seq));
    if (p.size() < size)
        p.append(size - p.size(), 'x');
    return p;
}

// A marker is at most 44 bytes ("#S" + 20 digits + ":T" + 19 digits + "#"): reused payload
// buffers are at least this long, so every marker fits whole.
constexpr size_t maxMarker = 44;

// Rewrites the marker at the start of a reused payload buffer (the rest stays 'x').
void stampPayload(std::string &p, uint64_t seq)
{
    char head[64];
    const size_t n = formatMarker(head, seq);
    std::memset(p.data(), 'x', maxMarker);
    std::memcpy(p.data(), head, n);
}

// The --progress file: one 64-bit counter shared between subscriber and publisher processes.
std::atomic<uint64_t> *mapProgress(const char *path, bool create)
{
    const int fd = ::open(path, O_RDWR | (create ? O_CREAT | O_TRUNC : 0), 0600);
    if (fd < 0)
        die("progress file %s: cannot open", path);
    if (create && ::ftruncate(fd, 4096) < 0)
        die("progress file %s: cannot size", path);
    void *p = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED)
        die("progress file %s: cannot map", path);
    static_assert(std::atomic<uint64_t>::is_always_lock_free);
    return static_cast<std::atomic<uint64_t> *>(p);
}

// Log-linear latency histogram in microseconds: 1 us steps to 10 ms, 100 us steps to 100 s.
struct Histogram
{
    std::vector<uint64_t> fine = std::vector<uint64_t>(10'000);
    std::vector<uint64_t> coarse = std::vector<uint64_t>(1'000'000);
    uint64_t count = 0;
    int64_t maxUs = 0;
    void add(int64_t us)
    {
        if (us < 0)
            us = 0;
        ++count;
        maxUs = std::max(maxUs, us);
        if (us < 10'000)
            ++fine[size_t(us)];
        else
            ++coarse[std::min<size_t>(size_t(us / 100), coarse.size() - 1)];
    }
    double quantileMs(double q) const
    {
        if (!count)
            return -1;
        const uint64_t rank = std::max<uint64_t>(1, uint64_t(q * double(count) + 0.5));
        uint64_t seen = 0;
        for (size_t i = 0; i < fine.size(); ++i)
            if ((seen += fine[i]) >= rank)
                return double(i) / 1000.0;
        for (size_t i = 0; i < coarse.size(); ++i)
            if ((seen += coarse[i]) >= rank)
                return double(i) * 0.1;
        return double(maxUs) / 1000.0;
    }
};

// ---------------------------------------------------------------------------------------------
// publish

// Blocking write of everything, for the HTTP publisher.
void writeAll(int fd, const char *p, size_t n)
{
    while (n) {
        const ssize_t w = ::write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            die("write: %s", std::strerror(errno));
        }
        p += w;
        n -= size_t(w);
    }
}

// Blocking writev of everything (partial writes resumed where they stopped).
void writevAll(int fd, std::vector<iovec> &iov)
{
    size_t first = 0;
    while (first < iov.size()) {
        const int count = int(std::min<size_t>(iov.size() - first, IOV_MAX));
        const ssize_t w = ::writev(fd, iov.data() + first, count);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            die("writev: %s", std::strerror(errno));
        }
        size_t left = size_t(w);
        while (first < iov.size() && left >= iov[first].iov_len)
            left -= iov[first++].iov_len;
        if (left) {
            iov[first].iov_base = static_cast<char *>(iov[first].iov_base) + left;
            iov[first].iov_len -= left;
        }
    }
}

// Reads pipelined HTTP responses (Content-Length framed) and counts them.
struct HttpResponses
{
    std::string buf;
    uint64_t ok = 0, failed = 0;
    size_t parse()
    {
        size_t done = 0, pos = 0;
        for (;;) {
            const size_t end = buf.find("\r\n\r\n", pos);
            if (end == std::string::npos)
                break;
            size_t len = 0;
            const size_t cl = buf.find("ontent-Length:", pos);
            if (cl != std::string::npos && cl < end)
                len = size_t(std::atoll(buf.c_str() + cl + 14));
            if (buf.size() < end + 4 + len)
                break;
            const int status = std::atoi(buf.c_str() + pos + 9);
            (status >= 200 && status < 300 ? ok : failed)++;
            pos = end + 4 + len;
            ++done;
        }
        buf.erase(0, pos);
        return done;
    }
};

int cmdPublish(const Args &a)
{
    const std::string channel = a.get("--channel", "logs:bench");
    const double rate = a.real("--rate", 0); // 0: as fast as replies come back
    const uint64_t count = uint64_t(a.num("--count", 100000));
    const size_t size = size_t(a.num("--size", 100));
    const int pipeline = int(std::max(1LL, a.num("--pipeline", rate > 0 ? 16 : 64)));
    const char *redisAddr = a.get("--redis");
    const char *httpPub = a.get("--http-pub");
    if (!redisAddr && !httpPub)
        die("publish needs --redis or --http-pub");
    const std::string streamKey = a.get("--stream", "");
    const long long maxLen = a.num("--maxlen", 0); // 0: XADD without MAXLEN
    if (!streamKey.empty() && !redisAddr)
        die("--stream needs --redis");
    const uint64_t window = uint64_t(a.num("--window", 0));
    std::atomic<uint64_t> *progress = nullptr;
    if (window) {
        const char *path = a.get("--progress");
        if (!path)
            die("--window needs --progress FILE (the subscriber's)");
        progress = mapProgress(path, false);
    }
    uint64_t windowWaits = 0, lastProgress = 0;
    int64_t lastProgressAt = monoNs();
    bool windowStalled = false;

    redisContext *rc = nullptr;
    int httpFd = -1;
    Url pubUrl;
    HttpResponses responses;
    if (redisAddr) {
        std::string s = redisAddr;
        if (s.rfind("unix:", 0) == 0) {
            rc = redisConnectUnix(s.c_str() + 5);
        } else {
            const size_t colon = s.rfind(':');
            rc = redisConnect(s.substr(0, colon).c_str(), std::atoi(s.c_str() + colon + 1));
        }
        if (!rc || rc->err)
            die("redis: %s", rc ? rc->errstr : "out of memory");
    } else {
        pubUrl = parseUrl(httpPub);
        httpFd = ::socket(AF_INET, SOCK_STREAM, 0);
        if (::connect(httpFd, reinterpret_cast<sockaddr *>(&pubUrl.addr), sizeof pubUrl.addr) < 0)
            die("connect %s", std::strerror(errno));
        int one = 1;
        setsockopt(httpFd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }

    // One payload buffer per pipeline slot, padded once; see stampPayload().
    std::vector<std::string> slots(size_t(pipeline), std::string(std::max(size, maxMarker), 'x'));
    // Everything of the command before the payload, the same for every message.
    auto bulk = [](const std::string &s) {
        return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n";
    };
    std::string commandHead;
    if (streamKey.empty()) {
        commandHead = "*3\r\n" + bulk("PUBLISH") + bulk(channel);
    } else {
        commandHead = (maxLen > 0 ? "*10\r\n" : "*7\r\n") + bulk("XADD") + bulk(streamKey);
        if (maxLen > 0)
            commandHead += bulk("MAXLEN") + bulk("~") + bulk(std::to_string(maxLen));
        commandHead += bulk("*") + bulk("channel") + bulk(channel) + bulk("data");
    }
    commandHead += "$" + std::to_string(slots[0].size()) + "\r\n";
    std::vector<iovec> iov;

    const double cpu0 = cpuSeconds();
    const int64_t t0 = monoNs();
    uint64_t sent = 0, acked = 0, errors = 0, receivers = 0;
    std::string httpBatch;
    while (sent < count) {
        uint64_t batch = std::min<uint64_t>(uint64_t(pipeline), count - sent);
        if (rate > 0) {
            // Paced: send what is due by now (in bursts of at most `pipeline`), sleep otherwise.
            const double elapsed = double(monoNs() - t0) / 1e9;
            const uint64_t due = std::min<uint64_t>(count, uint64_t(elapsed * rate) + 1);
            if (due <= sent) {
                const double next = double(sent) / rate; // seconds at which `sent+1` is due
                const int64_t waitNs = int64_t((next - elapsed) * 1e9);
                if (waitNs > 0) {
                    timespec ts{time_t(waitNs / 1'000'000'000), long(waitNs % 1'000'000'000)};
                    nanosleep(&ts, nullptr);
                }
                continue;
            }
            batch = std::min<uint64_t>(batch, due - sent);
        }
        if (progress) {
            // End-to-end flow control: wait (sleeping, not spinning: the machine is shared
            // with the system under test) until the subscribers are less than `window` behind.
            const uint64_t delivered = progress->load(std::memory_order_acquire);
            if (delivered != lastProgress) {
                lastProgress = delivered;
                lastProgressAt = monoNs();
            }
            if (sent >= delivered + window) {
                if (monoNs() - lastProgressAt > 2'000'000'000) {
                    // Nothing delivered for 2 s: the system under test lost what is in flight.
                    // Go on open loop; the subscriber counts the loss.
                    windowStalled = true;
                    progress = nullptr;
                    continue;
                }
                ++windowWaits;
                timespec ts{0, 50'000};
                nanosleep(&ts, nullptr);
                continue;
            }
            batch = std::min<uint64_t>(batch, delivered + window - sent);
        }
        if (rc) {
            // The batch goes out as RESP with one writev(): only the marker of each payload is
            // rewritten, so the publisher costs one copy into the kernel per message, not a
            // fresh payload plus hiredis's formatted copy (64 KiB each in scenario e).
            const size_t n = size_t(batch);
            for (size_t i = 0; i < n; ++i)
                stampPayload(slots[i], ++sent);
            iov.clear();
            for (size_t i = 0; i < n; ++i) {
                iov.push_back({const_cast<char *>(commandHead.data()), commandHead.size()});
                iov.push_back({slots[i].data(), slots[i].size()});
                iov.push_back({const_cast<char *>("\r\n"), 2});
            }
            writevAll(rc->fd, iov);
            for (uint64_t i = 0; i < batch; ++i) {
                void *r = nullptr;
                if (redisGetReply(rc, &r) != REDIS_OK)
                    die("redis: %s", rc->errstr);
                auto *reply = static_cast<redisReply *>(r);
                if (reply->type == REDIS_REPLY_INTEGER) { // PUBLISH: how many received it
                    ++acked;
                    receivers += uint64_t(reply->integer);
                } else if (reply->type == REDIS_REPLY_STRING && !streamKey.empty()) {
                    ++acked; // XADD: the new entry's id
                } else {
                    ++errors;
                }
                freeReplyObject(reply);
            }
        } else {
            httpBatch.clear();
            for (uint64_t i = 0; i < batch; ++i) {
                const std::string p = makePayload(++sent, size);
                httpBatch +=
                    "POST " + pubUrl.path + " HTTP/1.1\r\nHost: " + pubUrl.host +
                    "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(p.size()) +
                    "\r\n\r\n";
                httpBatch += p;
            }
            writeAll(httpFd, httpBatch.data(), httpBatch.size());
            uint64_t got = 0;
            char buf[65536];
            while (got < batch) {
                const ssize_t r = ::read(httpFd, buf, sizeof buf);
                if (r <= 0)
                    die("publisher connection closed");
                responses.buf.append(buf, size_t(r));
                got += responses.parse();
            }
            acked = responses.ok;
            errors = responses.failed;
        }
    }
    const double secs = double(monoNs() - t0) / 1e9;
    std::printf("{\"tool\":\"publish\",\"sent\":%" PRIu64 ",\"acked\":%" PRIu64
                ",\"errors\":%" PRIu64 ",\"receivers_total\":%" PRIu64
                ",\"seconds\":%.3f,\"rate\":%.1f,\"size\":%zu,\"cpu_s\":%.3f,"
                "\"window\":%" PRIu64 ",\"window_waits\":%" PRIu64 ",\"window_stalled\":%s}\n",
                sent, acked, errors, receivers, secs, double(sent) / secs, size,
                cpuSeconds() - cpu0, window, windowWaits, windowStalled ? "true" : "false");
    if (rc)
        redisFree(rc);
    if (httpFd >= 0)
        ::close(httpFd);
    return errors ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// subscribe

int64_t g_nowNs = 0; // CLOCK_REALTIME at the last read, shared by every event of that read
// Soak mode (--churn-every): a `redis-disconnected` gap excuses what is missing after it (the
// soak restarts its publisher, numbering from 1). Elsewhere the publisher numbers on, so such a
// gap is loss like any other.
bool g_excuseRedisGaps = false;
Histogram g_latency;
uint64_t g_deliveries = 0;
int64_t g_firstDeliveryMono = 0, g_lastDeliveryMono = 0;

enum class State { Connecting, Head, Body, Closed };

struct Conn
{
    int fd = -1;
    State state = State::Connecting;
    int64_t connectStart = 0;
    int64_t connectUs = -1;
    std::string head;
    bool chunked = false;
    // Chunked decoding: bytes left in the current chunk; -1 reading the size line; -2 the CRLF
    // after a chunk.
    int64_t chunkLeft = -1;
    std::string sizeLine;
    std::unique_ptr<SseParser> parser;
    uint64_t expected = 0; // next sequence number expected; 0 until the first one
    uint64_t received = 0, lost = 0, reordered = 0, other = 0, gaps = 0;
    uint64_t lastSeq = 0;
    bool droppedEvent = false, eof = false, failed = false;
    bool parked = false; // --slow: out of the epoll set until the hold is over
    uint64_t bytes = 0;
    // Soak mode: the id to resume from after a reconnect, and whether a `gap` event came since
    // the last message (the gateway announced a loss: the next sequence number starts afresh).
    std::string lastEventId;
    bool afterGap = false;
    uint64_t reconnects = 0, otherGaps = 0, eofs = 0;
};

uint64_t parseDigits(const char *&p, const char *end)
{
    uint64_t v = 0;
    while (p < end && *p >= '0' && *p <= '9')
        v = v * 10 + uint64_t(*p++ - '0');
    return v;
}

void onEvent(Conn &c, const SseEvent &ev)
{
    if (ev.type == "dropped") {
        c.droppedEvent = true;
        return;
    }
    if (!ev.lastEventId.isEmpty())
        c.lastEventId.assign(ev.lastEventId.constData(), size_t(ev.lastEventId.size()));
    if (ev.type == "gap") {
        ++c.gaps;
        // In the soak only an outage of Redis is a loss nobody could prevent (g_excuseRedisGaps);
        // any other gap (history-exceeded, unknown-id, ...) means this client lost events the
        // gateway had: counted, and the soak fails on it.
        if (!ev.data.contains("\"redis-disconnected\""))
            ++c.otherGaps;
        else if (g_excuseRedisGaps)
            c.afterGap = true;
        return;
    }
    if (ev.type != "message") {
        ++c.other;
        return;
    }
    const char *d = ev.data.constData();
    const char *end = d + ev.data.size();
    const char *m = static_cast<const char *>(memmem(d, size_t(end - d), "#S", 2));
    if (!m) {
        ++c.other;
        return;
    }
    const char *p = m + 2;
    const uint64_t seq = parseDigits(p, end);
    int64_t ts = 0;
    if (p + 2 < end && p[0] == ':' && p[1] == 'T') {
        p += 2;
        ts = int64_t(parseDigits(p, end));
    }
    const int64_t mono = monoNs();
    if (!g_firstDeliveryMono)
        g_firstDeliveryMono = mono;
    g_lastDeliveryMono = mono;
    ++g_deliveries;
    ++c.received;
    if (c.expected == 0)
        c.expected = 1; // the publisher starts at 1: anything before the first arrival is lost
    if (c.afterGap) {
        // An announced loss (Redis was away; the soak restarts its publisher, from 1).
        c.afterGap = false;
        c.expected = seq;
        c.lastSeq = 0;
    }
    if (seq > c.expected)
        c.lost += seq - c.expected;
    else if (seq < c.expected)
        ++c.reordered;
    c.expected = std::max(c.expected, seq + 1);
    c.lastSeq = std::max(c.lastSeq, seq);
    if (ts)
        g_latency.add((g_nowNs - ts) / 1000);
}

// Feeds body bytes through the chunked decoder (if any) into the SSE parser.
void feedBody(Conn &c, const char *p, size_t n)
{
    c.bytes += n;
    if (!c.chunked) {
        c.parser->feed(QByteArrayView(p, qsizetype(n)));
        return;
    }
    const char *end = p + n;
    while (p < end) {
        if (c.chunkLeft == -1) {
            const char *lf = static_cast<const char *>(std::memchr(p, '\n', size_t(end - p)));
            if (!lf) {
                c.sizeLine.append(p, size_t(end - p));
                return;
            }
            c.sizeLine.append(p, size_t(lf - p));
            p = lf + 1;
            c.chunkLeft = std::strtoll(c.sizeLine.c_str(), nullptr, 16);
            c.sizeLine.clear();
            if (c.chunkLeft == 0) {
                c.eof = true;
                return;
            }
        } else if (c.chunkLeft == -2) {
            const char *lf = static_cast<const char *>(std::memchr(p, '\n', size_t(end - p)));
            if (!lf)
                return;
            p = lf + 1;
            c.chunkLeft = -1;
        } else {
            const size_t take = std::min<size_t>(size_t(c.chunkLeft), size_t(end - p));
            c.parser->feed(QByteArrayView(p, qsizetype(take)));
            p += take;
            c.chunkLeft -= int64_t(take);
            if (c.chunkLeft == 0)
                c.chunkLeft = -2;
        }
    }
}

int cmdSubscribe(const Args &a)
{
    const Url url = parseUrl(a.get("--url", "http://127.0.0.1:8000/events"));
    const int clients = int(a.num("--clients", 1));
    const uint64_t expect = uint64_t(a.num("--expect", 0)); // last sequence number to wait for
    const double timeout = a.real("--timeout", 60);         // hard deadline, seconds
    const double idle = a.real("--idle", 3); // stop this long after the last delivery
    const bool slow = a.has("--slow");       // never read until --hold seconds have passed
    const double hold = a.real("--hold", 10);
    const int maxConnecting = int(a.num("--connect-burst", 256));
    const char *readyFile = a.get("--ready-file");
    // Soak mode: every --churn-every seconds the next --churn-count connections are closed and
    // reopened with Last-Event-ID; nothing may go missing across that.
    const double churnEvery = a.real("--churn-every", 0);
    const int churnCount = int(a.num("--churn-count", 10));
    g_excuseRedisGaps = churnEvery > 0;
    // A stream the server closes comes back at once, resuming with Last-Event-ID (EventSource).
    const bool reconnect = a.has("--reconnect");
    std::atomic<uint64_t> *progress = nullptr;
    if (const char *path = a.get("--progress")) {
        progress = mapProgress(path, true);
        progress->store(0);
    }
    raiseFdLimit(clients + 64);

    const std::string request = "GET " + url.path + " HTTP/1.1\r\nHost: " + url.host +
                                "\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n";
    const int ep = epoll_create1(0);
    std::vector<Conn> conns(static_cast<size_t>(clients));
    int opened = 0, connecting = 0, established = 0, refused = 0;
    const double cpu0 = cpuSeconds();
    const int64_t start = monoNs();
    int64_t readyAt = 0;

    auto openOne = [&](int i) {
        Conn &c = conns[size_t(i)];
        c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (c.fd < 0)
            die("socket: %s", std::strerror(errno));
        if (slow) {
            int small = 4096;
            setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
        }
        c.parser = std::make_unique<SseParser>([&c](const SseEvent &ev) { onEvent(c, ev); });
        c.connectStart = monoNs();
        const int r =
            ::connect(c.fd, reinterpret_cast<const sockaddr *>(&url.addr), sizeof url.addr);
        if (r < 0 && errno != EINPROGRESS)
            die("connect: %s", std::strerror(errno));
        epoll_event ev{};
        ev.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP;
        ev.data.u32 = uint32_t(i);
        epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
        ++connecting;
    };
    auto closeConn = [&](Conn &c) {
        if (c.state == State::Closed)
            return;
        if (c.state == State::Connecting || c.state == State::Head)
            --connecting;
        else if (c.state == State::Body)
            --established;
        epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
        ::close(c.fd);
        c.state = State::Closed;
    };

    // Opens connection i again, resuming after the last id it saw.
    auto reopen = [&](int i) {
        Conn &c = conns[size_t(i)];
        c.state = State::Connecting;
        c.head.clear();
        c.chunked = false;
        c.chunkLeft = -1;
        c.sizeLine.clear();
        c.failed = false;
        c.eof = false;
        ++c.reconnects;
        openOne(i);
    };

    std::vector<char> buf(1 << 20);
    std::vector<epoll_event> events(1024);
    double nextChurn = churnEvery;
    int churnNext = 0;
    bool slowDrained = false;
    for (;;) {
        while (opened < clients && connecting < maxConnecting)
            openOne(opened++);
        if (reconnect) {
            for (int i = 0; i < opened; ++i) {
                Conn &c = conns[size_t(i)];
                if (c.state == State::Closed && c.eof && !c.failed)
                    reopen(i);
            }
        }
        const int64_t now = monoNs();
        const double elapsed = double(now - start) / 1e9;
        if (!readyAt && established + refused == clients) {
            readyAt = now;
            if (readyFile) {
                FILE *f = std::fopen(readyFile, "w");
                if (f) {
                    std::fprintf(f, "%d\n", established);
                    std::fclose(f);
                }
            }
        }
        if (elapsed > timeout)
            break;
        if (slow) {
            if (readyAt && elapsed > hold && slowDrained)
                break;
        } else if (g_lastDeliveryMono && double(now - g_lastDeliveryMono) / 1e9 > idle) {
            break;
        }
        if (expect && established == clients) {
            bool all = true;
            for (const Conn &c : conns)
                if (c.state != State::Closed && c.lastSeq < expect) {
                    all = false;
                    break;
                }
            if (all && g_deliveries)
                break;
        }
        if (readyAt && established == 0 && connecting == 0 && !slow)
            break;
        if (churnEvery > 0 && readyAt && elapsed >= nextChurn) {
            nextChurn += churnEvery;
            for (int k = 0; k < churnCount && clients > 0; ++k) {
                const int i = churnNext;
                churnNext = (churnNext + 1) % clients;
                Conn &c = conns[size_t(i)];
                if (c.state == State::Body) {
                    closeConn(c);
                } else if (c.state != State::Closed) {
                    continue; // still connecting
                }
                // A connection the gateway closed (or that failed) comes back too.
                reopen(i);
            }
        }
        const bool draining = slow && readyAt && elapsed > hold;
        if (draining) {
            for (size_t i = 0; i < conns.size(); ++i) {
                Conn &c = conns[i];
                if (!c.parked)
                    continue;
                c.parked = false;
                epoll_event ev{};
                ev.events = EPOLLIN | EPOLLRDHUP;
                ev.data.u32 = uint32_t(i);
                epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
            }
        }
        const int n = epoll_wait(ep, events.data(), int(events.size()), 50);
        g_nowNs = nowNs();
        for (int k = 0; k < n; ++k) {
            Conn &c = conns[events[size_t(k)].data.u32];
            if (c.state == State::Closed)
                continue;
            if (c.state == State::Connecting) {
                int err = 0;
                socklen_t len = sizeof err;
                getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
                if (err) {
                    ++refused;
                    c.failed = true;
                    closeConn(c);
                    continue;
                }
                if (!(events[size_t(k)].events & EPOLLOUT))
                    continue;
                std::string req = request;
                if (!c.lastEventId.empty())
                    req += "Last-Event-ID: " + c.lastEventId + "\r\n";
                req += "\r\n";
                writeAll(c.fd, req.data(), req.size()); // tiny; the socket is writable
                c.state = State::Head;
                epoll_event ev{};
                ev.events = EPOLLIN | EPOLLRDHUP;
                ev.data.u32 = events[size_t(k)].data.u32;
                epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
                continue;
            }
            if (slow && c.state == State::Body && !draining)
                continue; // level-triggered: we come back here until the hold is over
            for (;;) {
                const ssize_t r = ::read(c.fd, buf.data(), buf.size());
                if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
                    c.eof = true;
                    ++c.eofs;
                    closeConn(c);
                    break;
                }
                if (r < 0)
                    break;
                const char *p = buf.data();
                size_t len = size_t(r);
                if (c.state == State::Head) {
                    c.head.append(p, len);
                    const size_t end = c.head.find("\r\n\r\n");
                    if (end == std::string::npos)
                        continue;
                    const int status = std::atoi(c.head.c_str() + 9);
                    if (status != 200) {
                        ++refused;
                        c.failed = true;
                        closeConn(c); // counts it out of `connecting`
                        break;
                    }
                    --connecting;
                    ++established;
                    c.connectUs = (monoNs() - c.connectStart) / 1000;
                    std::string lower = c.head.substr(0, end);
                    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
                    c.chunked = lower.find("transfer-encoding: chunked") != std::string::npos;
                    c.state = State::Body;
                    const std::string rest = c.head.substr(end + 4);
                    c.head.clear();
                    c.head.shrink_to_fit();
                    if (!rest.empty())
                        feedBody(c, rest.data(), rest.size());
                    if (slow && !draining) {
                        // Parked until the hold is over: left in the epoll set, its unread
                        // bytes would wake epoll_wait() at once, again and again (level-
                        // triggered), and this process would spin a core the system under
                        // test and the other subscribers need.
                        epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
                        c.parked = true;
                        break;
                    }
                    continue;
                }
                feedBody(c, p, len);
                if (size_t(r) < buf.size())
                    break;
            }
        }
        if (progress && n > 0) {
            uint64_t low = UINT64_MAX;
            for (const Conn &c : conns)
                if (c.state == State::Body)
                    low = std::min(low, c.lastSeq);
            if (low != UINT64_MAX)
                progress->store(low, std::memory_order_release);
        }
        if (draining) {
            bool anyOpen = false;
            for (const Conn &c : conns)
                anyOpen |= c.state != State::Closed;
            // Drain for a few seconds: a dropped slow client ends in EOF.
            slowDrained = !anyOpen || elapsed > hold + 8;
        }
    }
    const double secs = double(monoNs() - start) / 1e9;

    uint64_t received = 0, lost = 0, reordered = 0, other = 0, gaps = 0, complete = 0, bytes = 0;
    uint64_t dropped = 0, eofs = 0, minReceived = UINT64_MAX, reconnects = 0, otherGaps = 0,
             eofTotal = 0;
    std::vector<int64_t> connect;
    for (Conn &c : conns) {
        // Whatever never arrived up to the expected last one is lost too.
        if (expect && !c.failed && c.expected <= expect)
            c.lost += expect + 1 - std::max<uint64_t>(c.expected, 1);
        received += c.received;
        lost += c.lost;
        reordered += c.reordered;
        other += c.other;
        gaps += c.gaps;
        bytes += c.bytes;
        dropped += c.droppedEvent;
        reconnects += c.reconnects;
        otherGaps += c.otherGaps;
        eofTotal += c.eofs;
        eofs += c.eof;
        if (!c.failed)
            minReceived = std::min(minReceived, c.received);
        if (expect && c.lastSeq >= expect && c.lost == 0)
            ++complete;
        if (c.connectUs >= 0)
            connect.push_back(c.connectUs);
        if (c.state != State::Closed)
            ::close(c.fd);
    }
    std::sort(connect.begin(), connect.end());
    auto pct = [&](double q) {
        return connect.empty() ? -1.0
                               : double(connect[std::min(connect.size() - 1,
                                                         size_t(q * double(connect.size())))]) /
                                     1000.0;
    };
    const double span = g_lastDeliveryMono > g_firstDeliveryMono
                            ? double(g_lastDeliveryMono - g_firstDeliveryMono) / 1e9
                            : 0;
    std::printf(
        "{\"tool\":\"subscribe\",\"clients\":%d,\"established\":%d,\"refused\":%d,"
        "\"deliveries\":%" PRIu64 ",\"lost\":%" PRIu64 ",\"reordered\":%" PRIu64
        ",\"other_events\":%" PRIu64 ",\"gap_events\":%" PRIu64 ",\"complete_clients\":%" PRIu64
        ",\"min_received\":%" PRIu64 ",\"dropped_events\":%" PRIu64 ",\"eof\":%" PRIu64
        ",\"bytes\":%" PRIu64 ",\"delivery_span_s\":%.3f,\"deliveries_per_s\":%.1f,"
        "\"bytes_per_s\":%.1f,\"latency_ms\":{\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f,\"n\":%" PRIu64
        "},\"connect_ms\":{\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f},\"seconds\":%.3f,"
        "\"cpu_s\":%.3f,\"reconnects\":%" PRIu64 ",\"gaps_not_redis\":%" PRIu64
        ",\"eof_total\":%" PRIu64 "}\n",
        clients, established, refused, received, lost, reordered, other, gaps, complete,
        minReceived == UINT64_MAX ? 0 : minReceived, dropped, eofs, bytes, span,
        span > 0 ? double(received) / span : 0, span > 0 ? double(bytes) / span : 0,
        g_latency.quantileMs(0.5), g_latency.quantileMs(0.99), double(g_latency.maxUs) / 1000.0,
        g_latency.count, pct(0.5), pct(0.99), connect.empty() ? -1.0 : connect.back() / 1000.0,
        secs, cpuSeconds() - cpu0, reconnects, otherGaps, eofTotal);
    return 0;
}

// ---------------------------------------------------------------------------------------------
// floor

// The least an SSE fan-out can cost on this machine: the kernel's share. One hiredis
// subscription, and every message written as "data: <payload>\n\n" to every stream with one
// write(). No event ids, no JSON envelope, no history, no per-client buffering (a stream whose
// socket is full is closed), no limits, no access control: not a product, a reference point for
// the table. GET /healthz answers 200; any other GET becomes a stream.
int cmdFloor(const Args &a)
{
    const int port = int(a.num("--port", 8099));
    const std::string channel = a.get("--channel", "logs:bench");
    std::string redisAddr = a.get("--redis", "127.0.0.1:6379");
    raiseFdLimit(a.num("--max-fds", 20000));
    signal(SIGPIPE, SIG_IGN);

    const size_t colon = redisAddr.rfind(':');
    redisContext *rc =
        redisConnect(redisAddr.substr(0, colon).c_str(), std::atoi(redisAddr.c_str() + colon + 1));
    if (!rc || rc->err)
        die("redis: %s", rc ? rc->errstr : "out of memory");
    auto *confirm =
        static_cast<redisReply *>(redisCommand(rc, "SUBSCRIBE %b", channel.data(), channel.size()));
    if (!confirm)
        die("redis: %s", rc->errstr);
    freeReplyObject(confirm);
    fcntl(rc->fd, F_SETFL, fcntl(rc->fd, F_GETFL) | O_NONBLOCK);
    rc->flags &= ~REDIS_BLOCK; // hiredis 0.14 takes EAGAIN for an error on a blocking context

    const int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(uint16_t(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(lfd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) < 0 ||
        ::listen(lfd, 4096) < 0)
        die("listen: %s", std::strerror(errno));

    const int ep = epoll_create1(0);
    auto watch = [ep](int fd) {
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP;
        ev.data.fd = fd;
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    };
    watch(lfd);
    watch(rc->fd);
    std::vector<std::string> heads; // by fd: request bytes until the blank line
    std::vector<char> live;         // by fd: 1 once the response head is out, 2 closing
    std::vector<int> streams, closing;
    // Closed after the batch of events in hand: an fd number freed now could be reused by
    // accept4() below while a stale event for it is still in the batch.
    auto drop = [&](int fd) {
        epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
        if (size_t(fd) < live.size() && live[size_t(fd)] == 1)
            streams.erase(std::find(streams.begin(), streams.end(), fd));
        if (size_t(fd) < live.size())
            live[size_t(fd)] = 2;
        closing.push_back(fd);
    };
    // Whole frames or nothing: waits up to 200 ms for a full socket (head-of-line blocking, as
    // simple as fan-out gets), then gives the stream up.
    auto send = [](int fd, const char *p, size_t n) {
        int waited = 0;
        while (n) {
            const ssize_t w = ::write(fd, p, n);
            if (w > 0) {
                p += w;
                n -= size_t(w);
                continue;
            }
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0 && errno == EAGAIN && waited < 200) {
                pollfd pfd{fd, POLLOUT, 0};
                ::poll(&pfd, 1, 10);
                waited += 10;
                continue;
            }
            return false;
        }
        return true;
    };
    static const char sseHead[] = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                                  "Cache-Control: no-cache\r\nConnection: keep-alive\r\n\r\n";
    static const char okHead[] =
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n";
    std::string frame;
    // Helper threads of --threads N (N-1 of them), each writing its slice of the streams.
    struct Job
    {
        size_t begin = 0, end = 0;
        std::vector<int> failed;
    };
    const int threads = int(std::clamp<long long>(a.num("--threads", 1), 1, 16));
    std::vector<Job> jobs(size_t(threads - 1));
    std::mutex jobMutex;
    std::condition_variable jobReady, jobDone;
    uint64_t jobGeneration = 0;
    size_t pendingJobs = 0;
    std::vector<std::thread> helpers;
    for (int h = 0; h + 1 < threads; ++h) {
        helpers.emplace_back([&, h] {
            uint64_t seen = 0;
            for (;;) {
                std::unique_lock lock(jobMutex);
                jobReady.wait(lock, [&] { return jobGeneration != seen; });
                seen = jobGeneration;
                Job &j = jobs[size_t(h)];
                lock.unlock();
                for (size_t i = j.begin; i < j.end; ++i)
                    if (!send(streams[i], frame.data(), frame.size()))
                        j.failed.push_back(streams[i]);
                lock.lock();
                if (--pendingJobs == 0)
                    jobDone.notify_one();
            }
        });
    }
    auto fanOut = [&] {
        void *r = nullptr;
        while (redisReaderGetReply(rc->reader, &r) == REDIS_OK && r) {
            auto *reply = static_cast<redisReply *>(r);
            if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 3 &&
                reply->element[0]->type == REDIS_REPLY_STRING &&
                std::strcmp(reply->element[0]->str, "message") == 0 &&
                reply->element[2]->type == REDIS_REPLY_STRING) {
                const redisReply *payload = reply->element[2];
                frame.assign("data: ", 6);
                frame.append(payload->str, payload->len);
                frame.append("\n\n", 2);
                // With --threads N the streams are cut into N slices written at once, this
                // thread taking the first; the message is done when every slice is.
                const size_t per = (streams.size() + helpers.size()) / (helpers.size() + 1);
                if (!helpers.empty()) {
                    {
                        std::lock_guard lock(jobMutex);
                        for (size_t h = 0; h < helpers.size(); ++h) {
                            Job &j = jobs[h];
                            j.begin = std::min(streams.size(), per * (h + 1));
                            j.end = std::min(streams.size(), per * (h + 2));
                            j.failed.clear();
                        }
                        ++jobGeneration;
                        pendingJobs = helpers.size();
                    }
                    jobReady.notify_all();
                }
                std::vector<int> failed;
                for (size_t i = 0; i < std::min(per, streams.size()); ++i)
                    if (!send(streams[i], frame.data(), frame.size()))
                        failed.push_back(streams[i]);
                if (!helpers.empty()) {
                    std::unique_lock lock(jobMutex);
                    jobDone.wait(lock, [&] { return pendingJobs == 0; });
                    for (const Job &j : jobs)
                        failed.insert(failed.end(), j.failed.begin(), j.failed.end());
                }
                for (int c : failed)
                    drop(c);
            }
            freeReplyObject(reply);
            r = nullptr;
        }
    };
    fanOut(); // whatever came in with the SUBSCRIBE confirmation
    char buf[65536];
    std::vector<epoll_event> events(1024);
    for (;;) {
        const int n = epoll_wait(ep, events.data(), int(events.size()), -1);
        for (int k = 0; k < n; ++k) {
            const int fd = events[size_t(k)].data.fd;
            if (fd == lfd) {
                for (int c; (c = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK)) >= 0;) {
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    if (size_t(c) >= heads.size()) {
                        heads.resize(size_t(c) + 1);
                        live.resize(size_t(c) + 1);
                    }
                    heads[size_t(c)].clear();
                    live[size_t(c)] = 0;
                    watch(c);
                }
                continue;
            }
            if (fd == rc->fd) {
                if (redisBufferRead(rc) != REDIS_OK)
                    die("redis: %s", rc->errstr);
                fanOut();
                continue;
            }
            if (size_t(fd) >= live.size() || live[size_t(fd)] == 2)
                continue; // dropped earlier in this batch
            const ssize_t got = ::read(fd, buf, sizeof buf);
            if (got < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            if (got <= 0) {
                drop(fd);
                continue;
            }
            if (live[size_t(fd)] == 1)
                continue; // a stream's client has nothing more to say
            std::string &head = heads[size_t(fd)];
            head.append(buf, size_t(got));
            if (head.find("\r\n\r\n") == std::string::npos)
                continue;
            const bool health = head.rfind("GET /healthz", 0) == 0;
            std::string().swap(head);
            if (health) {
                send(fd, okHead, sizeof okHead - 1);
                drop(fd);
            } else if (send(fd, sseHead, sizeof sseHead - 1)) {
                live[size_t(fd)] = 1;
                streams.push_back(fd);
            } else {
                drop(fd);
            }
        }
        for (int fd : closing)
            ::close(fd);
        closing.clear();
    }
}

} // namespace

int main(int argc, char **argv)
{
    if (argc < 2) {
        std::fprintf(stderr,
                     "usage: llmstreamer-load publish|subscribe|floor [options]  (see source)\n");
        return 2;
    }
    Args a;
    for (int i = 2; i < argc; ++i)
        a.v.emplace_back(argv[i]);
    const std::string cmd = argv[1];
    if (cmd == "publish")
        return cmdPublish(a);
    if (cmd == "subscribe")
        return cmdSubscribe(a);
    if (cmd == "floor")
        return cmdFloor(a);
    std::fprintf(stderr, "llmstreamer-load: unknown command %s\n", cmd.c_str());
    return 2;
}
