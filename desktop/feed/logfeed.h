#pragma once

#include "logrecord.h"
#include "logrecorddecoder.h"
#include "sseconnection.h"

#include <QElapsedTimer>
#include <QJsonObject>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QTimer>
#include <QUrl>

class ChannelFetcher;
class HistoryFetcher;
class HistorySearch;

// The monitor's data side, without a window: the gateway's /events stream decoded into log
// lines, the gateway's stats, the channels it has seen or allows (from the stats and from
// GET /api/channels), the counts the status bar shows, whether delivery has been complete, and
// the gateway's history (GET /api/history) for scrolling back and searching, asked with the
// stream's gateway, token and channels. A window connects the signals to its model, chart and
// status bar; a test drives it with a QCoreApplication.
class LogFeed final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LogFeed)

public:
    explicit LogFeed(QObject *parent = nullptr);
    ~LogFeed() override;

    // Connects to the gateway at `base` (see GatewayUrl::parse) for `channels`, names or globs
    // (empty: every channel), resuming from the last event. Another gateway than the last one
    // starts with no known channels.
    void start(const QUrl &base, const QString &token, const QStringList &channels);
    void stop();
    // Stops for want of a usable gateway URL, with the reason in plain words; the channels of the
    // last gateway are forgotten.
    void fail(const QString &reason);

    SseConnection *connection() const { return m_connection; }
    SseConnection::State state() const { return m_connection->state(); }

    // Message lines since the feed was made; marker lines (gaps, notices) are not counted.
    quint64 received() const { return m_received; }
    // Message lines in the last second, taken once a second.
    double rate() const { return m_rate; }
    int gaps() const { return m_gaps; }
    // The last gap's line, as the log shows it; empty before the first.
    QString lastGap() const { return m_lastGap; }
    // Milliseconds since the last gap arrived, or -1 before the first.
    qint64 msSinceLastGap() const;

    // Delivery, for the badge: every event since completeSinceMs() (ms since the epoch) arrived
    // — since the stream first went live with this gateway and channels, or since the last gap
    // (then gapAtMs() is that time, gapReason() the gateway's word for it, e.g. "trimmed", and
    // gapText() what it said); -1 before going live.
    qint64 completeSinceMs() const { return m_completeSinceMs; }
    qint64 gapAtMs() const { return m_gapAtMs; }
    QString gapReason() const { return m_gapReason; }
    QString gapText() const { return m_gapText; }

    // The last message line received (a default record before the first): where a cleared log
    // scrolls back from.
    const LogRecord &lastMessage() const { return m_lastMessage; }

    // Older lines, for scrolling back; one request at a time.
    HistoryFetcher *olderLines() const { return m_olderLines; }
    // The history search; one at a time.
    HistorySearch *historySearch() const { return m_search; }

    // Channel names the gateway has mentioned, sorted, without its "(other)" bucket.
    QStringList knownChannels() const { return m_knownChannels; }
    // The gateway's allowlist (globs), as /api/channels says.
    QStringList allowlist() const { return m_allowlist; }

Q_SIGNALS:
    // A line for the log, message or marker, in the order of the stream.
    void recordReceived(const LogRecord &record);
    void statsReceived(const QJsonObject &stats);
    void stateChanged(SseConnection::State state, const QString &reason);
    // Once a second when the rate is taken, and at once when a gap arrives.
    void countersUpdated();
    // knownChannels() or allowlist() changed.
    void channelsChanged();
    // completeSinceMs(), gapAtMs() or gapText() changed.
    void deliveryChanged();

private:
    void handleEvent(const SseEvent &event);
    void handleStats(const QByteArray &data);
    void handleStateChanged(SseConnection::State state, const QString &reason);
    void handleChannelsFetched(const QStringList &channels, const QStringList &allowlist);
    bool addKnownChannels(const QStringList &channels);
    void forgetChannels();
    void resetDelivery();
    void noteGap(const LogRecord &gap);
    void sampleRate();

    SseConnection *m_connection;
    ChannelFetcher *m_channelFetcher;
    HistoryFetcher *m_olderLines;
    HistorySearch *m_search;
    LogRecordDecoder m_decoder;
    QString m_token;
    QTimer m_rateTimer;
    quint64 m_received = 0;
    quint64 m_receivedAtSample = 0;
    double m_rate = 0;
    int m_gaps = 0;
    QString m_lastGap;
    QElapsedTimer m_sinceLastGap;
    LogRecord m_lastMessage;
    qint64 m_completeSinceMs = -1;
    qint64 m_gapAtMs = -1;
    QString m_gapReason;
    QString m_gapText;
    QStringList m_knownChannels;
    QStringList m_allowlist;
};
