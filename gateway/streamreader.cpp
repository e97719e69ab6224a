#include "streamreader.h"

#include "eventid.h"

#include "redisconnection.h"

#include <QDateTime>
#include <QLoggingCategory>

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <utility>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

Q_LOGGING_CATEGORY(lcStream, "llmstreamer.stream")

using namespace std::chrono_literals;

namespace {
constexpr std::chrono::milliseconds minWatchdogMargin = 2000ms;
// After Redis refused a read (-LOADING while it reads its data back, -WRONGTYPE until the key
// is fixed): often enough to be back soon, rarely enough not to flood the log.
constexpr std::chrono::milliseconds retryDelay = 1000ms;
constexpr std::chrono::milliseconds rangeTimeout = 10000ms;
constexpr QByteArrayView channelField("channel");
constexpr QByteArrayView dataField("data");

// "<ms>-<seq>", compared as Redis does.
// What one XREAD reply may hold, about: COUNT shrinks for large entries (see handleReadReply),
// but never below minReadCount.
constexpr qint64 maxReplyBytes = 2 * 1024 * 1024;
constexpr int minReadCount = 8;

// The largest sequence number of the gateway's own ids (StreamId, 18 digits).
constexpr quint64 largestIdSeq = quint64(StreamId::largestSeq);

struct EntryId
{
    quint64 ms = 0;
    quint64 seq = 0;

    // Also takes "<ms>" (sequence 0), as Redis does.
    static std::optional<EntryId> parse(QByteArrayView text);
    QByteArray toByteArray() const
    {
        return QByteArray::number(ms) + '-' + QByteArray::number(seq);
    }
    // The smallest id after this one: no entry can lie between the two.
    EntryId next() const
    {
        return seq == std::numeric_limits<quint64>::max() ? EntryId{ms + 1, 0}
                                                          : EntryId{ms, seq + 1};
    }
    friend auto operator<=>(const EntryId &, const EntryId &) = default;
};

std::optional<quint64> parseNumber(QByteArrayView digits)
{
    if (digits.isEmpty() ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    bool ok = false;
    const quint64 n = digits.toULongLong(&ok);
    return ok ? std::optional(n) : std::nullopt;
}

std::optional<EntryId> EntryId::parse(QByteArrayView text)
{
    const qsizetype dash = text.indexOf('-');
    const auto ms = parseNumber(dash < 0 ? text : text.first(dash));
    const auto seq = dash < 0 ? std::optional<quint64>(0) : parseNumber(text.sliced(dash + 1));
    if (!ms || !seq)
        return std::nullopt;
    return EntryId{*ms, *seq};
}

QByteArrayView view(const redisReply *r)
{
    return QByteArrayView(r->str, qsizetype(r->len));
}

bool isString(const redisReply *r)
{
    return r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS;
}

// An entry of an XREAD or XRANGE reply: [id, [field, value, ...]].
struct EntryView
{
    QByteArrayView id;
    QByteArrayView channel;
    QByteArrayView data;
    bool complete = false; // has both fields
};

std::optional<EntryView> readEntry(const redisReply *entry)
{
    if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2 || !isString(entry->element[0]))
        return std::nullopt;
    EntryView out;
    out.id = view(entry->element[0]);
    const redisReply *fields = entry->element[1];
    if (fields->type != REDIS_REPLY_ARRAY)
        return out;
    bool haveChannel = false;
    bool haveData = false;
    for (size_t i = 0; i + 1 < fields->elements; i += 2) {
        const redisReply *name = fields->element[i];
        const redisReply *value = fields->element[i + 1];
        if (!isString(name) || !isString(value))
            continue;
        if (!haveChannel && view(name) == channelField) {
            out.channel = view(value);
            haveChannel = true;
        } else if (!haveData && view(name) == dataField) {
            out.data = view(value);
            haveData = true;
        }
    }
    out.complete = haveChannel && haveData;
    return out;
}

// The bytes of an entry's field names and values (all of them, whichever they are): what it
// costs to hold, without looking for "channel" and "data".
qint64 fieldBytes(const redisReply *entry)
{
    if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2 ||
        entry->element[1]->type != REDIS_REPLY_ARRAY)
        return 0;
    const redisReply *fields = entry->element[1];
    qint64 bytes = 0;
    for (size_t i = 0; i < fields->elements; ++i)
        bytes += qint64(fields->element[i]->len);
    return bytes;
}

// The entry list of an XREAD reply for one stream, [[key, [entry, ...]]]; null if it has another
// shape.
const redisReply *xreadEntries(const redisReply *reply)
{
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 1)
        return nullptr;
    const redisReply *stream = reply->element[0];
    if (stream->type == REDIS_REPLY_ARRAY && stream->elements == 2 &&
        stream->element[1]->type == REDIS_REPLY_ARRAY)
        return stream->element[1];
    return nullptr;
}

QString errorText(const redisReply *reply)
{
    return QString::fromUtf8(reply->str, qsizetype(reply->len));
}
} // namespace

// What XINFO STREAM says; Redis before 7.0 leaves out entries-added and max-deleted-entry-id.
struct StreamReader::StreamInfo
{
    bool exists = false;
    quint64 length = 0;
    EntryId lastGenerated;
    std::optional<EntryId> firstEntry;
    std::optional<quint64> entriesAdded;
    std::optional<EntryId> maxDeleted;

    static std::optional<StreamInfo> parse(const redisReply *reply);
};

std::optional<StreamReader::StreamInfo> StreamReader::StreamInfo::parse(const redisReply *reply)
{
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements % 2 != 0)
        return std::nullopt;
    StreamInfo info;
    info.exists = true;
    bool haveLength = false;
    bool haveLast = false;
    for (size_t i = 0; i < reply->elements; i += 2) {
        const redisReply *name = reply->element[i];
        const redisReply *value = reply->element[i + 1];
        if (!isString(name))
            continue;
        const QByteArrayView n = view(name);
        if (n == "length" && value->type == REDIS_REPLY_INTEGER) {
            info.length = quint64(value->integer);
            haveLength = true;
        } else if (n == "last-generated-id" && isString(value)) {
            const auto id = EntryId::parse(view(value));
            if (!id)
                return std::nullopt;
            info.lastGenerated = *id;
            haveLast = true;
        } else if (n == "entries-added" && value->type == REDIS_REPLY_INTEGER) {
            info.entriesAdded = quint64(value->integer);
        } else if (n == "max-deleted-entry-id" && isString(value)) {
            info.maxDeleted = EntryId::parse(view(value));
        } else if (n == "first-entry" && value->type == REDIS_REPLY_ARRAY && value->elements >= 1 &&
                   isString(value->element[0])) {
            info.firstEntry = EntryId::parse(view(value->element[0]));
        }
    }
    if (!haveLength || !haveLast || (info.length > 0 && !info.firstEntry))
        return std::nullopt;
    return info;
}

StreamReader::ReplySummary StreamReader::inspectReply(const redisReply *reply,
                                                      const EntryHandler &handler)
{
    ReplySummary summary;
    auto walk = [&](const redisReply *entries) {
        for (size_t i = 0; i < entries->elements; ++i) {
            const auto entry = readEntry(entries->element[i]);
            if (!entry)
                continue;
            ++summary.entries;
            if (entry->complete) {
                ++summary.complete;
                if (handler)
                    handler(entry->id, entry->channel, entry->data);
            }
        }
    };
    if (const redisReply *entries = xreadEntries(reply))
        walk(entries); // XREAD
    else if (reply->type == REDIS_REPLY_ARRAY)
        walk(reply); // XRANGE, XREVRANGE
    summary.info = StreamInfo::parse(reply).has_value();
    return summary;
}

// The hiredis privdata of one XRANGE, freed by its callback, which hiredis also calls (with a
// null reply) when the context goes away.
struct StreamReader::PendingRange
{
    StreamReader *reader;
    int count;
    bool newestFirst;
    QByteArray command; // for messages
    PageHandler handler;
    QByteArray position; // XINFO STREAM of fetchRemovedAfter
};

StreamReader::StreamReader(const RedisUrl &url, const QByteArray &key, QObject *parent)
    : QObject(parent), m_connection(new RedisConnection(url, this)), m_key(key)
{
    // On a Redis Cluster, read from the master that serves the key's slot.
    m_connection->setRouteKey(key);
    connect(m_connection, &RedisConnection::ready, this, &StreamReader::handleReady);
    connect(m_connection, &RedisConnection::connectionLost, this, &StreamReader::handleLost);
    connect(m_connection, &RedisConnection::connectFailed, this, &StreamReader::handleLost);
    // A long reply is progress: only silence trips the watchdog.
    connect(m_connection, &RedisConnection::readDrained, this, [this] {
        if (m_watchdog.isActive())
            m_watchdog.start();
    });
    // hiredis 0.14 has no command timeout: a context whose peer vanished without a reset
    // waits for the XREAD reply until TCP keepalive gives up, minutes later.
    m_watchdog.setSingleShot(true);
    setBlockTimeout(m_blockTimeout);
    connect(&m_watchdog, &QTimer::timeout, this, [this] {
        const QString reason =
            QStringLiteral("no reply from Redis within %1 ms").arg(m_watchdog.interval());
        m_connection->stop();
        handleLost(reason);
        m_connection->start();
    });
    m_retryTimer.setSingleShot(true);
    m_retryTimer.setInterval(retryDelay);
    connect(&m_retryTimer, &QTimer::timeout, this, [this] { sendRead(true); });

    m_rangeWatchdog.setSingleShot(true);
    m_rangeWatchdog.setInterval(rangeTimeout);
    connect(&m_rangeWatchdog, &QTimer::timeout, this, [this] {
        m_rangeAbort = QStringLiteral("no reply from Redis within %1 ms").arg(rangeTimeout.count());
        m_rangeConnection->stop(); // fails the requests in flight
        m_rangeAbort.clear();
    });
}

StreamReader::~StreamReader()
{
    // Pending hiredis callbacks still point at us: end the connections while we are whole.
    m_destroying = true;
    stop();
    if (m_rangeConnection)
        m_rangeConnection->stop();
}

void StreamReader::setBatchSize(int entries)
{
    m_batchSize = std::max(1, entries);
}

void StreamReader::setBlockTimeout(std::chrono::milliseconds timeout)
{
    m_blockTimeout = std::max(timeout, std::chrono::milliseconds(1));
    m_watchdog.setInterval(m_blockTimeout + std::max(m_blockTimeout, minWatchdogMargin));
}

quint64 StreamReader::reconnects() const
{
    return m_connection->reconnects();
}

bool StreamReader::start(const QByteArray &afterId)
{
    if (m_running) {
        m_lastError =
            QStringLiteral("the reader of %1 is already started").arg(QString::fromUtf8(m_key));
        return false;
    }
    if (!afterId.isEmpty()) {
        const auto id = EntryId::parse(afterId);
        if (!id) {
            m_lastError = QStringLiteral("cannot start reading %1 after \"%2\": not a stream "
                                         "entry id (<ms>-<seq>)")
                              .arg(QString::fromUtf8(m_key), QString::fromUtf8(afterId));
            qCWarning(lcStream, "%s", qUtf8Printable(m_lastError));
            return false;
        }
        m_lastId = id->toByteArray();
        // How many entries were added up to an id we were only told is unknown, but for 0-0.
        m_addedUpToLast = *id == EntryId{} ? std::optional<quint64>(0) : std::nullopt;
    }
    m_running = true;
    m_connection->start();
    return true;
}

void StreamReader::stop()
{
    ++m_session;
    m_running = false;
    m_ready = false;
    m_watchdog.stop();
    m_retryTimer.stop();
    m_roundError.clear();
    m_connection->stop(); // pending callbacks run with a null reply and do nothing
}

void StreamReader::handleReady()
{
    m_ready = false;
    m_verifyLast = true;
    sendRead(true);
}

void StreamReader::handleLost(const QString &reason)
{
    m_watchdog.stop();
    m_retryTimer.stop();
    m_roundError.clear();
    const bool was = m_ready;
    m_ready = false;
    m_lastError = reason;
    if (was)
        qCWarning(lcStream, "reading %s stopped: %s; reconnecting", m_key.constData(),
                  qUtf8Printable(reason));
    Q_EMIT lost(reason);
}

// Every read is XREAD from the last id received, so nothing added between two reads, or during
// an outage, is missed. Only the first read of a reader started without an id uses `$`, and the
// XINFO sent with it (Redis runs a client's pipelined commands back to back) turns `$` into the
// id it stood for, so a first read that times out is followed by one that misses nothing.
//
// A check (XINFO STREAM) goes before the XREAD on each new connection and after a full batch
// (when we are behind, the only time trimming can overtake us). It rides on the same context,
// in front of the blocking read, so it needs no second connection; its reply comes first and
// announces a loss before the entries after it. XINFO is O(1), but it carries the first and last
// entries, so it is not sent before every read.
void StreamReader::sendRead(bool withCheck, QByteArrayView after)
{
    redisAsyncContext *ac = m_connection->context();
    if (!ac || !m_running)
        return;
    // What the read goes on after; the check is answered once it is m_lastId too.
    const QByteArray from = !after.isEmpty()     ? after.toByteArray()
                            : m_lastId.isEmpty() ? QByteArrayLiteral("$")
                                                 : m_lastId;
    if (withCheck && !m_checkUnavailable) {
        const char *argv[] = {"XINFO", "STREAM", m_key.constData()};
        const size_t lens[] = {5, 6, size_t(m_key.size())};
        redisAsyncCommandArgv(ac, &StreamReader::onCheckReply, this, 3, argv, lens);
        // On a new connection, whether the entry we read last is still there: a replica
        // promoted before it got the newest entries (Redis replicates asynchronously) has the
        // stream without them, and may have added newer ones since; only this tells. (Not with
        // the checks after full batches: on one connection the stream cannot go back.)
        m_checkInfo.reset();
        m_holdsPending = m_verifyLast && from != "$" && from != "0-0";
        if (m_holdsPending) {
            const char *range[] = {"XRANGE", m_key.constData(), from.constData(), from.constData()};
            const size_t rangeLens[] = {6, size_t(m_key.size()), size_t(from.size()),
                                        size_t(from.size())};
            redisAsyncCommandArgv(ac, &StreamReader::onHoldsReply, this, 4, range, rangeLens);
        }
    }
    m_sentCount = readCount();
    const QByteArray count = QByteArray::number(m_sentCount);
    const QByteArray block = QByteArray::number(qint64(m_blockTimeout.count()));
    const char *argv[] = {"XREAD",           "COUNT",   count.constData(), "BLOCK",
                          block.constData(), "STREAMS", m_key.constData(), from.constData()};
    const size_t lens[] = {5,
                           5,
                           size_t(count.size()),
                           5,
                           size_t(block.size()),
                           7,
                           size_t(m_key.size()),
                           size_t(from.size())};
    redisAsyncCommandArgv(ac, &StreamReader::onReadReply, this, 8, argv, lens);
    m_watchdog.start();
    if (withCheck && m_checkUnavailable)
        markReady(); // no check reply to wait for
}

void StreamReader::onCheckReply(redisAsyncContext *, void *reply, void *privdata)
{
    // A null reply means the context is being freed; the connection reports why.
    if (reply)
        static_cast<StreamReader *>(privdata)->handleCheckReply(static_cast<redisReply *>(reply));
}

void StreamReader::onHoldsReply(redisAsyncContext *, void *reply, void *privdata)
{
    if (reply)
        static_cast<StreamReader *>(privdata)->handleHoldsReply(static_cast<redisReply *>(reply));
}

void StreamReader::handleHoldsReply(const redisReply *reply)
{
    if (!std::exchange(m_holdsPending, false))
        return;
    if (m_roundError.isEmpty())
        m_verifyLast = false; // done for this connection
    const std::unique_ptr<StreamInfo> info = std::move(m_checkInfo);
    if (info) {
        // An error (an ACL without XRANGE) tells nothing: the XINFO check alone.
        std::optional<bool> holds;
        if (reply->type == REDIS_REPLY_ARRAY)
            holds = reply->elements > 0;
        checkPosition(*info, holds);
    }
    if (!m_ready && m_roundError.isEmpty())
        markReady();
}

void StreamReader::onReadReply(redisAsyncContext *, void *reply, void *privdata)
{
    if (reply)
        static_cast<StreamReader *>(privdata)->handleReadReply(static_cast<redisReply *>(reply));
}

void StreamReader::handleCheckReply(const redisReply *reply)
{
    if (reply->type == REDIS_REPLY_ERROR) {
        const QByteArrayView error = view(reply);
        // The key's slot is served elsewhere (Redis Cluster): the connection moves there and
        // reading goes on after the last entry once it is ready, as after any reconnect.
        if (m_connection->followRedirect(error))
            return;
        if (error.startsWith("ERR no such key")) {
            checkPosition(StreamInfo{});
        } else if (error.startsWith("NOPERM")) {
            // An ACL user allowed XREAD but not XINFO still gets the entries, only no loss is
            // announced and a first read that times out is followed by another `$`.
            qCWarning(lcStream,
                      "cannot check %s (%s): reading on without telling lost entries; allow "
                      "XINFO to this Redis user",
                      m_key.constData(), qUtf8Printable(errorText(reply)));
            m_checkUnavailable = true;
        } else {
            m_roundError = errorText(reply); // its XREAD is refused too, or its reply dropped
            return;
        }
    } else if (const auto info = StreamInfo::parse(reply)) {
        if (m_holdsPending) {
            m_checkInfo = std::make_unique<StreamInfo>(*info); // decided with the XRANGE
            return;
        }
        checkPosition(*info);
    } else {
        qCWarning(lcStream, "unexpected XINFO STREAM reply for %s; not checking for lost entries",
                  m_key.constData());
    }
    if (!m_ready)
        markReady();
}

void StreamReader::markReady()
{
    if (!m_running || m_ready)
        return;
    m_ready = true;
    m_lastError.clear();
    qCInfo(lcStream, "reading %s after %s", m_key.constData(),
           m_lastId.isEmpty() ? "$" : m_lastId.constData());
    Q_EMIT ready();
}

// Called with the stream as it was right before the XREAD sent with the check, which reads
// after m_lastId (C). Redis gives no sign of what happened while we were away, so it is told
// from the stream's shape; "A" is m_addedUpToLast, E entries-added, N the length, F the first
// entry and L the last id generated:
//  - the stream is gone, or L < C: it is not the one we read (Redis restarted without
//    persistence, or the key was deleted) -> restartedEmpty, unless C is 0-0;
//  - E < A: fewer entries were ever added than we had read -> a new stream, restartedEmpty;
//  - F <= C, but the entry C is not there (XRANGE C C, in a new connection's first check): the
//    stream lost entries up to C, as when a replica without them was promoted -> restartedEmpty;
//  - F <= C: what follows our position is all there; nothing to say;
//  - F > C (or an empty stream): what we read is gone, and maybe more. All A entries up to C
//    were removed, so E - N - A entries after C were removed too: > 0 is trimmed, < 0 means C
//    was never in this stream (restartedEmpty). Without A or E (started at a given id, Redis
//    < 7), F right after C is taken for no loss and anything else for trimming, which may
//    announce a gap that was not there when trimming took exactly what we had read.
// XDEL of entries we had not read yet is not told apart: it shows as trimming once the first
// entry passes our position.
//
// Reading always goes on after C, the cursor never moves back: every id handed out is above
// the one before, which the gateway's resumable ids rely on. For trimming that is the start of
// what is left. For a stream that came back empty or behind us, `$` would drop what producers
// added since Redis came back, and 0-0 would hand out again, under the same ids, entries we
// delivered (a restore from an older snapshot); after C means what is new since, as ids come
// from the clock. Only a stream refilled with ids at or below C (explicit ids, a clock stepped
// back) is not read until its ids pass C; the warning says so.
void StreamReader::checkPosition(const StreamInfo &info, std::optional<bool> holdsLast)
{
    if (m_lastId.isEmpty()) {
        // The first read, with `$`: that is where we start, nothing can be missing yet.
        m_lastId = info.exists ? info.lastGenerated.toByteArray() : QByteArrayLiteral("0-0");
        m_addedUpToLast = info.exists ? info.entriesAdded : std::optional<quint64>(0);
        return;
    }
    const auto parsedLast = EntryId::parse(m_lastId);
    if (!parsedLast)
        return; // start() and XREAD only ever put ids here
    const EntryId last = *parsedLast;
    const std::optional<quint64> added = m_addedUpToLast;
    const bool firstIsAhead = info.length == 0 || *info.firstEntry > last;
    // Entries added up to the one before the first still there, when that is knowable.
    std::optional<quint64> addedBeforeFirst;
    if (info.entriesAdded && info.length == 0)
        addedBeforeFirst = info.entriesAdded;
    else if (info.entriesAdded && (!info.maxDeleted || *info.maxDeleted < *info.firstEntry))
        addedBeforeFirst = *info.entriesAdded - info.length;

    QLatin1StringView reason;
    if (!info.exists) {
        if (last != EntryId{})
            reason = restartedEmptyReason;
        m_addedUpToLast = 0;
    } else if (info.lastGenerated < last) {
        reason = restartedEmptyReason;
        m_addedUpToLast = info.entriesAdded;
        qCWarning(lcStream,
                  "%s ends at %s, before %s which this gateway read: entries added to it with "
                  "ids up to that are not read",
                  m_key.constData(), info.lastGenerated.toByteArray().constData(),
                  m_lastId.constData());
    } else if (added && info.entriesAdded && *info.entriesAdded < *added) {
        reason = restartedEmptyReason;
        m_addedUpToLast = firstIsAhead ? addedBeforeFirst : std::nullopt;
    } else if (!firstIsAhead && holdsLast == false) {
        // Entries before C are there, newer ones maybe too, but C is not: the stream lost what
        // led up to it (a replica promoted before it got them) or C was deleted (XDEL).
        reason = restartedEmptyReason;
        m_addedUpToLast = std::nullopt;
        qCWarning(lcStream,
                  "%s no longer holds %s, which this gateway read, though it holds older "
                  "entries: the entries before it that were not replicated are lost",
                  m_key.constData(), m_lastId.constData());
    } else if (!firstIsAhead) {
        // Started at a given id (the gateway does, after the history it read): at the stream's
        // end, how many entries it took is known now, and tells a refilled stream from ours.
        if (!added && info.entriesAdded && info.lastGenerated == last)
            m_addedUpToLast = info.entriesAdded;
        return;
    } else {
        if (added && info.entriesAdded) {
            const quint64 removed = *info.entriesAdded - info.length;
            if (removed < *added)
                reason = restartedEmptyReason;
            else if (removed > *added)
                reason = trimmedReason;
        } else if (info.length == 0 ? info.lastGenerated > last : *info.firstEntry != last.next()) {
            reason = trimmedReason;
        }
        m_addedUpToLast = addedBeforeFirst;
    }
    if (reason.isEmpty())
        return;
    const QByteArray first = info.exists && info.length > 0 && *info.firstEntry > last
                                 ? info.firstEntry->toByteArray()
                                 : QByteArray();
    qCWarning(lcStream, "entries of %s after %s are missing (%s); reading on from %s",
              m_key.constData(), m_lastId.constData(), reason.data(),
              first.isEmpty() ? "the next one added" : first.constData());
    Q_EMIT entriesMissing(m_lastId, first, QString(reason));
}

void StreamReader::handleReadReply(const redisReply *reply)
{
    m_watchdog.stop();
    if (!m_roundError.isEmpty()) {
        failRound(std::exchange(m_roundError, QString()));
        return;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        // A blocked XREAD whose slot moved is woken with -MOVED (or -ASK): as above.
        if (!m_connection->followRedirect(view(reply)))
            failRound(errorText(reply));
        return;
    }
    if (reply->type == REDIS_REPLY_NIL) { // BLOCK timed out: nothing new
        sendRead(false);
        return;
    }
    const redisReply *entries = xreadEntries(reply);
    if (!entries) {
        failRound(QStringLiteral("unexpected XREAD reply"));
        return;
    }
    // The batch's size and last id, before it is handed out: the next read goes out first, so
    // Redis gathers the next entries while the hub encodes and writes these (a round trip less
    // per batch in the latency). A handler that stops the reader drops that read with the rest.
    qint64 bytes = 0;
    for (size_t i = 0; i < entries->elements; ++i)
        bytes += fieldBytes(entries->element[i]);
    QByteArrayView last;
    for (size_t i = entries->elements; i-- > 0 && last.isEmpty();)
        if (const auto entry = readEntry(entries->element[i]))
            last = entry->id;
    // Large entries get fewer per read: a reply is held whole (hiredis's buffer and its reply
    // tree) while it is handed out, so COUNT x entry size is memory on top of the history.
    if (entries->elements > 0) {
        const qint64 perEntry = std::max<qint64>(1, bytes / qint64(entries->elements));
        m_readCount = int(std::clamp<qint64>(maxReplyBytes / perEntry, minReadCount, m_batchSize));
    }
    // A full batch: more is waiting, and trimming may be overtaking us; check before reading on.
    const quint64 session = m_session;
    sendRead(entries->elements >= size_t(m_sentCount), last);
    m_connection->flushWrites();
    deliverEntries(entries);
    if (m_session != session)
        return;
    if (entries->elements > 0)
        Q_EMIT batchEnded();
}

void StreamReader::deliverEntries(const redisReply *entries)
{
    const quint64 session = m_session;
    quint64 skipped = 0;
    QByteArrayView firstSkipped;
    for (size_t i = 0; i < entries->elements; ++i) {
        const auto entry = readEntry(entries->element[i]);
        if (!entry)
            continue; // not entry-shaped; Redis never sends that
        // Reused, not reallocated: ids are short and this runs for every entry.
        m_lastId.resize(entry->id.size());
        std::memcpy(m_lastId.data(), entry->id.data(), size_t(entry->id.size()));
        if (m_addedUpToLast)
            ++*m_addedUpToLast;
        if (!entry->complete) {
            if (skipped++ == 0)
                firstSkipped = entry->id;
            continue;
        }
        if (m_onEntry) {
            m_onEntry(entry->id, entry->channel, entry->data);
            if (m_session != session)
                break; // stopped by the handler; the rest is read again on start()
        }
    }
    if (skipped > 0) {
        m_skipped += skipped;
        qCWarning(lcStream,
                  "%s: skipped %llu entries without \"channel\" or \"data\" (the first %s)",
                  m_key.constData(), static_cast<unsigned long long>(skipped),
                  firstSkipped.toByteArray().constData());
    }
}

void StreamReader::failRound(const QString &reason)
{
    const QString message = QStringLiteral("Redis refused to read %1: %2; retrying in %3 ms")
                                .arg(QString::fromUtf8(m_key), reason)
                                .arg(retryDelay.count());
    const bool was = m_ready;
    m_ready = false;
    if (was || m_lastError != message)
        qCWarning(lcStream, "%s", qUtf8Printable(message));
    m_lastError = message;
    Q_EMIT lost(message);
    if (m_running)
        m_retryTimer.start();
}

void StreamReader::queueRead(const QByteArray &start, const QByteArray &end, int count,
                             bool newestFirst, PageHandler handler)
{
    // `start`/`end` are an id, optionally after "(" (exclusive, Redis 6.2), or "-"/"+".
    auto valid = [](const QByteArray &bound) {
        if (bound == "-" || bound == "+")
            return true;
        return EntryId::parse(bound.startsWith('(') ? bound.sliced(1) : bound).has_value();
    };
    const QByteArray &given = newestFirst ? end : start;
    if (count <= 0 || !valid(start) || !valid(end)) {
        StreamPage page;
        page.error = QStringLiteral("cannot read %1 entries of %2 from \"%3\": %4")
                         .arg(count)
                         .arg(QString::fromUtf8(m_key), QString::fromUtf8(given),
                              count <= 0 ? QStringLiteral("the count must be positive")
                                         : QStringLiteral("not a stream entry id"));
        deliverPage(std::move(handler), std::move(page));
        return;
    }
    const QByteArray command = newestFirst ? "XREVRANGE" : "XRANGE";
    queueRange(
        {newestFirst
             ? QByteArrayList{command, m_key, end, start, "COUNT", QByteArray::number(count)}
             : QByteArrayList{command, m_key, start, end, "COUNT", QByteArray::number(count)},
         count,
         newestFirst,
         std::move(handler),
         {}});
}

void StreamReader::fetchRange(const QByteArray &afterIdExclusive, int count, PageHandler handler)
{
    queueRead(afterIdExclusive.isEmpty() ? QByteArrayLiteral("-") : '(' + afterIdExclusive, "+",
              count, false, std::move(handler));
}

void StreamReader::fetchFrom(const QByteArray &fromIdInclusive, int count, PageHandler handler)
{
    queueRead(fromIdInclusive.isEmpty() || fromIdInclusive.startsWith('(')
                  ? QByteArrayLiteral("(") // refused: not an id
                  : fromIdInclusive,
              "+", count, false, std::move(handler));
}

void StreamReader::fetchNewest(int count, PageHandler handler)
{
    queueRead("-", "+", count, true, std::move(handler));
}

void StreamReader::fetchBefore(const QByteArray &beforeIdExclusive, int count, PageHandler handler)
{
    queueRead("-", beforeIdExclusive.isEmpty() ? QByteArrayLiteral("+") : '(' + beforeIdExclusive,
              count, true, std::move(handler));
}

void StreamReader::fetchRemovedAfter(const QByteArray &position, PageHandler handler)
{
    if (!EntryId::parse(position)) {
        StreamPage page;
        page.error =
            QStringLiteral("\"%1\" is not a stream entry id").arg(QString::fromUtf8(position));
        deliverPage(std::move(handler), std::move(page));
        return;
    }
    queueRange({{"XINFO", "STREAM", m_key}, -1, false, std::move(handler), position});
}

bool StreamReader::removedAfter(const StreamInfo &info, const QByteArray &position)
{
    const auto p = EntryId::parse(position);
    if (!p || !info.exists)
        return true; // the stream is gone: whatever followed the position with it
    if (info.maxDeleted && *info.maxDeleted > *p)
        return true; // XDEL (Redis 7.0 counts only deletions here, not trimming)
    if (info.length == 0)
        return info.lastGenerated > *p; // everything after it was removed, if there was any
    const EntryId first = *info.firstEntry;
    if (first <= *p)
        return false; // trimming stopped before the position
    // The first entry is after the position: trimmed past it, unless nothing can lie between
    // the two (the position is the gateway's own "just before this entry", whose sequence
    // number for an entry "<ms>-0" is StreamId's largest, not Redis's).
    const bool adjacent =
        first == p->next() || (first.seq == 0 && p->ms + 1 == first.ms && p->seq == largestIdSeq);
    return !adjacent;
}

void StreamReader::trim(qint64 maxEntries, qint64 maxAgeMs)
{
    if (maxEntries > 0)
        queueRange(
            {{"XTRIM", m_key, "MAXLEN", "~", QByteArray::number(maxEntries)}, 0, false, {}, {}});
    if (maxAgeMs > 0) {
        const qint64 oldest = QDateTime::currentMSecsSinceEpoch() - maxAgeMs;
        queueRange({{"XTRIM", m_key, "MINID", "~", QByteArray::number(std::max<qint64>(oldest, 0))},
                    0,
                    false,
                    {},
                    {}});
    }
}

void StreamReader::queueRange(RangeRequest request)
{
    if (!m_rangeConnection) {
        // Its own connection: on the reader's, it would wait behind the blocked XREAD.
        m_rangeConnection = new RedisConnection(m_connection->url(), this);
        m_rangeConnection->setRouteKey(m_key);
        connect(m_rangeConnection, &RedisConnection::ready, this, &StreamReader::handleRangeReady);
        connect(m_rangeConnection, &RedisConnection::connectFailed, this,
                &StreamReader::failRangeRequests);
        // Requests in flight were failed by their callbacks; none wait while it is ready.
        // Reconnected by the next fetchRange(), not kept up for nobody.
        connect(m_rangeConnection, &RedisConnection::connectionLost, m_rangeConnection,
                &RedisConnection::stop);
        connect(m_rangeConnection, &RedisConnection::readDrained, this, [this] {
            if (m_rangeWatchdog.isActive())
                m_rangeWatchdog.start();
        });
    }
    if (m_rangeConnection->isReady()) {
        sendRange(std::move(request));
        return;
    }
    m_rangeQueue.push_back(std::move(request));
    if (m_rangeConnection->state() == RedisConnection::State::Stopped)
        m_rangeConnection->start();
}

void StreamReader::handleRangeReady()
{
    std::vector<RangeRequest> queue;
    queue.swap(m_rangeQueue);
    for (RangeRequest &request : queue)
        sendRange(std::move(request));
}

void StreamReader::failRangeRequests(const QString &reason)
{
    std::vector<RangeRequest> queue;
    queue.swap(m_rangeQueue);
    for (RangeRequest &request : queue) {
        StreamPage page;
        page.error =
            QStringLiteral("cannot read %1 from Redis at %2: %3")
                .arg(QString::fromUtf8(m_key), m_rangeConnection->url().toDisplayString(), reason);
        deliverPage(std::move(request.handler), std::move(page));
    }
    // Retried by the next fetchRange(), not in the background for nobody.
    m_rangeConnection->stop();
}

void StreamReader::sendRange(RangeRequest request)
{
    std::vector<const char *> argv;
    std::vector<size_t> lens;
    for (const QByteArray &arg : std::as_const(request.command)) {
        argv.push_back(arg.constData());
        lens.push_back(size_t(arg.size()));
    }
    auto pending = std::make_unique<PendingRange>(
        PendingRange{this, request.count, request.newestFirst, request.command.constFirst(),
                     std::move(request.handler), request.position});
    if (redisAsyncCommandArgv(m_rangeConnection->context(), &StreamReader::onRangeReply,
                              pending.get(), int(argv.size()), argv.data(),
                              lens.data()) != REDIS_OK) {
        StreamPage page;
        page.error =
            QStringLiteral("cannot send %1 to Redis").arg(QString::fromLatin1(pending->command));
        deliverPage(std::move(pending->handler), std::move(page));
        return;
    }
    pending.release(); // the callback's now
    ++m_rangesInFlight;
    m_rangeWatchdog.start();
}

void StreamReader::onRangeReply(redisAsyncContext *, void *r, void *privdata)
{
    const std::unique_ptr<PendingRange> pending(static_cast<PendingRange *>(privdata));
    StreamReader *self = pending->reader;
    if (self->m_destroying)
        return;
    if (--self->m_rangesInFlight == 0)
        self->m_rangeWatchdog.stop();
    const auto *reply = static_cast<const redisReply *>(r);
    StreamPage page;
    if (!reply) {
        page.error = self->m_rangeAbort.isEmpty()
                         ? QStringLiteral("the connection to Redis was lost")
                         : self->m_rangeAbort;
    } else if (reply->type == REDIS_REPLY_ERROR && pending->count < 0 &&
               errorText(reply).startsWith(QLatin1String("ERR no such key"))) {
        page.removedAfter = removedAfter(StreamInfo{}, pending->position);
    } else if (reply->type == REDIS_REPLY_ERROR) {
        // Moved (Redis Cluster): the connection is replaced, routed anew; the caller retries.
        self->m_rangeConnection->followRedirect(view(reply));
        page.error = QStringLiteral("Redis refused %1 on %2: %3")
                         .arg(QString::fromLatin1(pending->command), QString::fromUtf8(self->m_key),
                              errorText(reply));
    } else if (pending->count == 0) {
        // XTRIM: nothing to hand out.
    } else if (pending->count < 0) {
        if (const auto info = StreamInfo::parse(reply))
            page.removedAfter = removedAfter(*info, pending->position);
        else
            page.error = QStringLiteral("unexpected XINFO STREAM reply");
    } else if (reply->type != REDIS_REPLY_ARRAY) {
        page.error =
            QStringLiteral("unexpected %1 reply").arg(QString::fromLatin1(pending->command));
    } else {
        page.entries.reserve(qsizetype(reply->elements));
        for (size_t i = 0; i < reply->elements; ++i) {
            const auto entry = readEntry(reply->element[i]);
            if (!entry)
                continue;
            const QByteArray id = entry->id.toByteArray();
            if (page.firstId.isEmpty())
                page.firstId = id;
            page.lastId = id;
            if (entry->complete)
                page.entries.append(
                    StreamEntry{id, entry->channel.toByteArray(), entry->data.toByteArray()});
        }
        page.reachedEnd = reply->elements < size_t(pending->count);
        if (pending->newestFirst) {
            std::reverse(page.entries.begin(), page.entries.end());
            std::swap(page.firstId, page.lastId);
        }
    }
    if (pending->count == 0) {
        if (!page.error.isEmpty() && page.error != self->m_lastTrimError)
            qCWarning(lcStream, "%s", qUtf8Printable(page.error));
        self->m_lastTrimError = page.error;
    }
    self->deliverPage(std::move(pending->handler), std::move(page));
}

void StreamReader::deliverPage(PageHandler handler, StreamPage page)
{
    if (!handler)
        return;
    // From the event loop: a handler that asks for the next page from here would otherwise run
    // inside a hiredis callback, or inside fetchRange() itself.
    QMetaObject::invokeMethod(
        this, [handler = std::move(handler), page = std::move(page)] { handler(page); },
        Qt::QueuedConnection);
}
