#pragma once

#include "redisfeed.h"
#include "redisurl.h"
#include "streampage.h"
#include "vocabulary.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QLatin1StringView>
#include <QList>
#include <QObject>
#include <QString>
#include <QTimer>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

class RedisConnection;
struct redisAsyncContext;
struct redisReply;

// Reads one Redis Stream for the gateway, as RedisSubscriber does a subscription: on its own
// connection, XREAD BLOCK from the last id received, so a reconnect loses nothing; tells real
// loss (Redis came back without the stream, trimming overtook the reader) from an outage.
// Entries go to a plain callback (the hot path), state changes are signals. Also reads pages of
// the stream for resuming clients (fetchRange), on a second connection that never blocks.
// Slots and handlers may stop() the reader, but must not delete it (use deleteLater()).
class StreamReader final : public QObject, public RedisFeed
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(StreamReader)

public:
    using EntryHandler =
        std::function<void(QByteArrayView id, QByteArrayView channel, QByteArrayView data)>;
    using PageHandler = std::function<void(const StreamPage &page)>;

    // Reasons of entriesMissing(). Redis came back without the entries we had not read yet: the
    // stream is gone, behind the last id received, or a new one (a restart without persistence,
    // or the key deleted).
    static constexpr QLatin1StringView restartedEmptyReason = Vocabulary::streamLostGap;
    // Trimming (MAXLEN, MINID) removed entries before this reader got them.
    static constexpr QLatin1StringView trimmedReason = Vocabulary::streamTrimmedGap;

    StreamReader(const RedisUrl &url, const QByteArray &key, QObject *parent = nullptr);
    ~StreamReader() override;

    void setEntryHandler(EntryHandler handler) { m_onEntry = std::move(handler); }
    // Entries per XREAD (COUNT) at most: bounds the memory of one reply. Default 256; fewer
    // while entries are large (about 2 MiB per reply).
    void setBatchSize(int entries);
    // The COUNT of the next XREAD.
    int readCount() const
    {
        return m_readCount > 0 ? std::min(m_readCount, m_batchSize) : m_batchSize;
    }
    // How long one XREAD waits for entries (BLOCK). A reply that takes this long plus
    // max(this, 2 s) is taken for a dead connection, which is then replaced. Default 5 s.
    void setBlockTimeout(std::chrono::milliseconds timeout);

    // Starts reading after `afterId` ("<ms>-<seq>"); empty: where the last read left off, or on
    // the first start, the entries added after the first read (`$`). False, with lastError(), if
    // afterId is not an entry id or the reader is already started.
    bool start(const QByteArray &afterId = {});
    // Stops reading; start() reads on from lastId().
    void stop();

    bool isReady() const override { return m_ready; }
    const QByteArray &key() const { return m_key; }
    // The id of the last entry received (or where start() was told to start); empty before
    // the first read of a reader started without one.
    QByteArray lastId() const { return m_lastId; }
    // Entries without `channel` or `data`: skipped, not handed out.
    quint64 skippedEntries() const { return m_skipped; }
    QString lastError() const override { return m_lastError; }
    quint64 reconnects() const override;
    RedisConnection *connection() const { return m_connection; }

    // Reads up to `count` entries after `afterIdExclusive` (empty: from the first one) and hands
    // them to `handler` from the event loop, never from inside this call. Independent of
    // start()/stop(); handlers are not called once the reader is being destroyed.
    void fetchRange(const QByteArray &afterIdExclusive, int count, PageHandler handler);
    // The same from `fromIdInclusive` on: whether the page starts with that very entry tells
    // a resuming reader whether the stream still holds its position.
    void fetchFrom(const QByteArray &fromIdInclusive, int count, PageHandler handler);
    // The newest `count` entries (XREVRANGE), handed out in id order like fetchRange()'s.
    void fetchNewest(int count, PageHandler handler);
    // The newest `count` entries before `beforeIdExclusive` (empty: the newest of all), in id
    // order; reachedEnd when the stream holds nothing older.
    void fetchBefore(const QByteArray &beforeIdExclusive, int count, PageHandler handler);
    // Whether entries after `position` (an entry id, which need not exist) were trimmed or
    // deleted, in page.removedAfter (XINFO STREAM).
    void fetchRemovedAfter(const QByteArray &position, PageHandler handler);
    // Trims the stream to about `maxEntries` entries and drops those older than `minAgeMs` ms
    // ago (XTRIM MAXLEN ~, MINID ~; 0: no such limit). Refusals are logged, once each.
    void trim(qint64 maxEntries, qint64 maxAgeMs);

    // Reads a reply the way the reader reads Redis's: an XREAD reply's entries, or an XRANGE
    // reply's (complete ones to `handler`), and an XINFO STREAM reply. The door of the fuzz
    // target (fuzz/fuzz_streamreply.cpp) to the code that walks what Redis sent.
    struct ReplySummary
    {
        int entries = 0;   // entry-shaped elements
        int complete = 0;  // of those, with both `channel` and `data`
        bool info = false; // read as an XINFO STREAM reply
    };
    static ReplySummary inspectReply(const redisReply *reply, const EntryHandler &handler);

Q_SIGNALS:
    // Reading is under way on a new connection; an entriesMissing() it found came before it.
    void ready();
    // Reading stopped working (connection lost or not made, Redis refused the read, or no reply
    // in time); reconnecting or retrying is under way. Entries are not lost by it.
    void lost(const QString &reason);
    // After the entries of one XREAD reply were handed out (see Hub::flushClients).
    void batchEnded();
    // Entries after `lastId` are gone for good; reading goes on with `firstAvailableId` (empty:
    // with the next entry added). Announced once per loss, before the entries after it.
    void entriesMissing(const QByteArray &lastId, const QByteArray &firstAvailableId,
                        const QString &reason);

private:
    struct RangeRequest
    {
        QByteArrayList command;   // e.g. XRANGE key (id + COUNT n
        int count = 0;            // entries asked for; 0: XTRIM; -1: XINFO STREAM
        bool newestFirst = false; // XREVRANGE: the page is put back in id order
        PageHandler handler;
        QByteArray position; // XINFO STREAM: the position fetchRemovedAfter asks about
    };
    void queueRead(const QByteArray &start, const QByteArray &end, int count, bool newestFirst,
                   PageHandler handler);
    void queueRange(RangeRequest request);
    struct PendingRange;
    struct StreamInfo;

    static void onCheckReply(redisAsyncContext *ac, void *reply, void *privdata);
    static void onHoldsReply(redisAsyncContext *ac, void *reply, void *privdata);
    static void onReadReply(redisAsyncContext *ac, void *reply, void *privdata);
    static void onRangeReply(redisAsyncContext *ac, void *reply, void *privdata);
    void handleReady();
    void handleLost(const QString &reason);
    // Reads after `after` (empty: after the last id received, or `$` before any).
    void sendRead(bool withCheck, QByteArrayView after = {});
    void handleCheckReply(const redisReply *reply);
    // Compares the stream as XINFO describes it with our position: announces real loss and
    // sets where counting goes on from.
    // `holdsLast`: whether the entry at the last id received is still in the stream (XRANGE),
    // when that was asked.
    void checkPosition(const StreamInfo &info, std::optional<bool> holdsLast = {});
    void handleHoldsReply(const redisReply *reply);
    static bool removedAfter(const StreamInfo &info, const QByteArray &position);
    void handleReadReply(const redisReply *reply);
    void deliverEntries(const redisReply *entries);
    void failRound(const QString &reason);
    void markReady();

    void sendRange(RangeRequest request);
    void handleRangeReady();
    void failRangeRequests(const QString &reason);
    void deliverPage(PageHandler handler, StreamPage page);

    RedisConnection *m_connection;
    QByteArray m_key;
    EntryHandler m_onEntry;
    QByteArray m_lastId;
    // Entries ever added to the stream up to m_lastId (XINFO's entries-added then), when known:
    // tells trimming that took only what we read from trimming that overtook us, and a new
    // stream from ours.
    std::optional<quint64> m_addedUpToLast;
    int m_batchSize = 256;
    int m_readCount = 0; // COUNT for the next XREAD, from the size of recent entries; 0: batch
    int m_sentCount = 0; // COUNT of the XREAD in flight
    std::chrono::milliseconds m_blockTimeout{5000};
    QTimer m_watchdog;
    QTimer m_retryTimer;
    QString m_roundError; // the XINFO of the round in flight failed; so does its XREAD
    QString m_lastError;
    quint64 m_skipped = 0;
    quint64 m_session = 0; // changes with stop(): replies of an earlier session are dropped
    bool m_running = false;
    bool m_ready = false;
    bool m_checkUnavailable = false; // XINFO refused (ACL): read on without loss detection
    // The check's XINFO answer, waiting for the XRANGE of the last id received sent after it.
    std::unique_ptr<StreamInfo> m_checkInfo;
    bool m_holdsPending = false;
    bool m_verifyLast = false; // a new connection: its first check also asks for the last entry

    RedisConnection *m_rangeConnection = nullptr; // made on the first fetchRange()
    QString m_lastTrimError;
    std::vector<RangeRequest> m_rangeQueue; // waiting for the range connection
    QTimer m_rangeWatchdog;
    int m_rangesInFlight = 0;
    QString m_rangeAbort; // why the range connection was cut with requests in flight
    bool m_destroying = false;
};
