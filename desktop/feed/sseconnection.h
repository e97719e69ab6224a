#pragma once

#include "sseparser.h"

#include <QByteArray>
#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QStringList>
#include <QTimer>
#include <QUrl>

#include <memory>

class QNetworkAccessManager;
class QNetworkReply;

// The client end of the gateway's /events feed: one GET with Accept: text/event-stream, the
// body fed to SseParser as it arrives, and the EventSource reconnection rules — wait the
// server's retry: time (doubling while attempts keep failing), resume with Last-Event-ID, treat
// a connection that sends nothing at all (not even a heartbeat) for watchdogInterval() as dead.
// HTTP 4xx answers (bad channel selection, missing or refused token) stop it, since asking again
// would get the same answer; the reason is said in plain words with the gateway's own text.
class SseConnection final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SseConnection)

public:
    enum class State {
        Idle,         // not started, or stopped
        Connecting,   // request sent, no answer yet
        Live,         // receiving the event stream
        Reconnecting, // waiting before the next attempt (nextAttemptInMs())
        Failed,       // stopped for a reason only a change of settings can fix
    };
    Q_ENUM(State)

    static constexpr int defaultRetryMs = 3000; // until the server sends retry:
    static constexpr int maxRetryMs = 30000;
    static constexpr int defaultWatchdogMs = 45000;
    static constexpr qint64 readBufferBytes = 8 * 1024 * 1024;

    explicit SseConnection(QObject *parent = nullptr);
    ~SseConnection() override;

    // The gateway's base URL (see GatewayUrl::parse); a different one forgets the last event id.
    void setGatewayUrl(const QUrl &base);
    QUrl gatewayUrl() const { return m_base; }
    void setToken(const QString &token) { m_token = token; }
    // Channel names or globs for ?channels=; empty: every channel.
    void setChannels(const QStringList &channels) { m_channels = channels; }
    QStringList channels() const { return m_channels; }
    void setWatchdogInterval(int ms) { m_watchdogMs = ms; }
    int watchdogInterval() const { return m_watchdogMs; }

    // Connects now (also out of Failed or Reconnecting), resuming from the last event id.
    void start();
    void stop();
    // Stops with a reason found elsewhere (e.g. an unusable URL in the settings).
    void fail(const QString &reason);

    State state() const { return m_state; }
    QString reason() const { return m_reason; }
    QUrl eventsUrl() const;
    QByteArray lastEventId() const { return m_parser ? m_parser->lastEventId() : QByteArray(); }
    // The delay the next reconnection will wait, and how long until a scheduled one.
    int nextRetryDelayMs() const;
    qint64 nextAttemptInMs() const;
    int httpStatus() const { return m_httpStatus; }
    quint64 bytesReceived() const { return m_bytesReceived; }

Q_SIGNALS:
    void eventReceived(const SseEvent &event);
    void stateChanged(SseConnection::State state, const QString &reason);

private:
    void connectNow();
    void discardReply();
    void handleMetaData();
    void handleReadyRead();
    void handleFinished();
    void handleWatchdog();
    void abortWith(const QString &reason);
    void scheduleReconnect(const QString &reason, int delayMs);
    void setState(State state, const QString &reason);
    void dispatch(const SseEvent &event);
    void appendErrorBody(const QByteArray &bytes);
    // Empty when the status should be retried.
    QString describeHttpError(int status, bool *permanent) const;
    void resetParser();

    QNetworkAccessManager *m_network;
    QPointer<QNetworkReply> m_reply;
    std::unique_ptr<SseParser> m_parser;
    QUrl m_base;
    QString m_token;
    QStringList m_channels;
    State m_state = State::Idle;
    QString m_reason;

    QTimer m_retryTimer;
    QDeadlineTimer m_nextAttempt;
    QTimer m_watchdog;
    QElapsedTimer m_sinceBytes;
    int m_watchdogMs = defaultWatchdogMs;
    int m_failures = 0; // attempts in a row that never went live

    // Per attempt.
    bool m_streaming = false;
    int m_httpStatus = 0;
    QByteArray m_errorBody;
    QString m_abortReason; // why we ended the attempt ourselves
    QString m_closeReason; // what the server said before closing (shutdown, dropped)
    int m_retryAfterMs = -1;
    quint64 m_bytesReceived = 0;
};
