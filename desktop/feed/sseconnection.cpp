#include "sseconnection.h"

#include "feedlogging.h"
#include "gatewayurl.h"
#include "networkerror.h"
#include "vocabulary.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>

#include <algorithm>

namespace {

constexpr qsizetype maxErrorBody = 4096;

} // namespace

SseConnection::SseConnection(QObject *parent)
    : QObject(parent), m_network(new QNetworkAccessManager(this))
{
    NetworkError::watchCertificates(m_network);
    // Redirects are followed only to the same or a safer scheme (the default policy).
    m_retryTimer.setSingleShot(true);
    connect(&m_retryTimer, &QTimer::timeout, this, &SseConnection::connectNow);
    m_watchdog.setSingleShot(true);
    connect(&m_watchdog, &QTimer::timeout, this, &SseConnection::handleWatchdog);
    resetParser();
}

SseConnection::~SseConnection()
{
    discardReply();
}

void SseConnection::discardReply()
{
    if (QNetworkReply *old = m_reply) {
        m_reply = nullptr;
        old->disconnect(this); // no finished(), so no reconnection
        old->abort();
        old->deleteLater();
    }
}

void SseConnection::resetParser()
{
    m_parser = std::make_unique<SseParser>([this](const SseEvent &e) { dispatch(e); });
}

void SseConnection::setGatewayUrl(const QUrl &base)
{
    if (base == m_base)
        return;
    m_base = base;
    resetParser(); // ids of another gateway mean nothing here
}

QUrl SseConnection::eventsUrl() const
{
    return GatewayUrl::events(m_base, m_channels);
}

void SseConnection::start()
{
    m_failures = 0;
    m_retryTimer.stop();
    discardReply(); // restarting (e.g. new channels): end this attempt quietly
    connectNow();
}

void SseConnection::stop()
{
    m_retryTimer.stop();
    m_watchdog.stop();
    discardReply();
    setState(State::Idle, tr("disconnected"));
}

void SseConnection::fail(const QString &reason)
{
    stop();
    setState(State::Failed, reason);
}

void SseConnection::connectNow()
{
    m_retryTimer.stop();
    if (!m_base.isValid() || m_base.host().isEmpty()) {
        setState(State::Failed, tr("no valid gateway URL is set; open Settings to enter one"));
        return;
    }
    m_streaming = false;
    m_httpStatus = 0;
    m_errorBody.clear();
    m_abortReason.clear();
    m_closeReason.clear();
    m_retryAfterMs = -1;
    m_parser->reset();

    QNetworkRequest request(eventsUrl());
    request.setRawHeader("Accept", "text/event-stream");
    request.setRawHeader("Cache-Control", "no-cache");
    if (const QByteArray id = m_parser->lastEventId(); !id.isEmpty())
        request.setRawHeader("Last-Event-ID", id);
    if (!m_token.isEmpty())
        request.setRawHeader("Authorization", "Bearer " + m_token.toUtf8());
    request.setAttribute(QNetworkRequest::CacheLoadControlAttribute,
                         QNetworkRequest::AlwaysNetwork);
    request.setAttribute(QNetworkRequest::CacheSaveControlAttribute, false);
    // A stream never finishes: no transfer timeout (the watchdog covers silence instead).
    request.setTransferTimeout(0);

    qCInfo(lcDesktopFeed, "connecting to %s (Last-Event-ID %s)",
           qUtf8Printable(eventsUrl().toDisplayString()),
           m_parser->lastEventId().isEmpty() ? "none" : m_parser->lastEventId().constData());
    m_reply = m_network->get(request);
    // If this window ever falls behind, Qt stops reading and TCP pushes back: the gateway then
    // drops the stream past its own limit and we resume from its history (or get a gap)
    // instead of buffering without bound here.
    m_reply->setReadBufferSize(readBufferBytes);
    connect(m_reply, &QNetworkReply::metaDataChanged, this, &SseConnection::handleMetaData);
    connect(m_reply, &QNetworkReply::readyRead, this, &SseConnection::handleReadyRead);
    connect(m_reply, &QNetworkReply::finished, this, &SseConnection::handleFinished);
    m_sinceBytes.start();
    m_watchdog.start(m_watchdogMs);
    setState(State::Connecting,
             tr("connecting to %1").arg(eventsUrl().toDisplayString(QUrl::RemoveUserInfo)));
}

void SseConnection::handleMetaData()
{
    if (!m_reply || m_httpStatus != 0)
        return;
    m_httpStatus = m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (m_httpStatus == 0)
        return;
    if (m_httpStatus == 503 || m_httpStatus == 429) {
        bool ok = false;
        const int seconds = m_reply->rawHeader("Retry-After").trimmed().toInt(&ok);
        if (ok && seconds >= 0)
            m_retryAfterMs = std::min(seconds, 3600) * 1000;
    }
    if (m_httpStatus != 200)
        return;
    const QByteArray type = m_reply->header(QNetworkRequest::ContentTypeHeader).toByteArray();
    if (!type.trimmed().toLower().startsWith("text/event-stream")) {
        abortWith(tr("%1 answered, but not with an event stream (Content-Type: %2); is this "
                     "the address of an LLM Streamer gateway?")
                      .arg(eventsUrl().toDisplayString(QUrl::RemoveUserInfo),
                           type.isEmpty() ? tr("none") : QString::fromUtf8(type)));
        return;
    }
    m_streaming = true;
    m_failures = 0;
    setState(State::Live, tr("live"));
}

void SseConnection::handleReadyRead()
{
    if (!m_reply)
        return;
    if (m_httpStatus == 0)
        handleMetaData();
    if (!m_reply)
        return; // handleMetaData() gave up on this answer
    const QByteArray bytes = m_reply->readAll();
    if (bytes.isEmpty())
        return;
    m_bytesReceived += quint64(bytes.size());
    m_sinceBytes.start();
    if (!m_streaming) {
        appendErrorBody(bytes);
        return;
    }
    if (!m_parser->feed(bytes))
        abortWith(tr("the gateway sent a line longer than %1 MiB; reconnecting")
                      .arg(m_parser->maxLineSize() / (1024 * 1024)));
}

void SseConnection::appendErrorBody(const QByteArray &bytes)
{
    if (const qsizetype room = maxErrorBody - m_errorBody.size(); room > 0)
        m_errorBody.append(bytes.first(std::min(bytes.size(), room)));
}

void SseConnection::dispatch(const SseEvent &event)
{
    // The gateway says why it is about to close; keep that as the reason for reconnecting.
    if (event.type == Vocabulary::shutdownEvent || event.type == Vocabulary::droppedEvent) {
        const QJsonObject o = QJsonDocument::fromJson(event.data).object();
        const QString detail = o.value(Vocabulary::messageMember).toString().isEmpty()
                                   ? o.value(Vocabulary::reasonMember).toString()
                                   : o.value(Vocabulary::messageMember).toString();
        m_closeReason = event.type == Vocabulary::shutdownEvent
                            ? tr("the gateway shut down")
                            : tr("the gateway dropped this connection (%1)").arg(detail);
    }
    Q_EMIT eventReceived(event);
}

void SseConnection::handleWatchdog()
{
    if (!m_reply)
        return;
    const qint64 silent = m_sinceBytes.elapsed();
    if (silent < m_watchdogMs) {
        m_watchdog.start(int(m_watchdogMs - silent));
        return;
    }
    const QString seconds = QString::number(m_watchdogMs / 1000.0, 'g', 3);
    abortWith(
        m_streaming
            ? tr("no data from the gateway for %1 s, not even a heartbeat; the "
                 "connection is presumed dead")
                  .arg(seconds)
            : tr("no answer from %1 within %2 s").arg(NetworkError::hostAndPort(m_base), seconds));
}

void SseConnection::abortWith(const QString &reason)
{
    if (!m_reply)
        return;
    m_abortReason = reason;
    m_reply->abort(); // finished() follows synchronously
}

void SseConnection::handleFinished()
{
    QNetworkReply *reply = m_reply;
    if (!reply)
        return;
    m_reply = nullptr;
    m_watchdog.stop();
    reply->deleteLater();
    if (m_httpStatus == 0)
        m_httpStatus = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (!m_streaming && m_httpStatus != 0 && m_httpStatus != 200) {
        appendErrorBody(reply->readAll());
    }

    const bool wasLive = m_streaming;
    m_streaming = false;
    if (!wasLive)
        ++m_failures;

    if (!m_abortReason.isEmpty()) {
        qCWarning(lcDesktopFeed, "%s", qUtf8Printable(m_abortReason));
        scheduleReconnect(m_abortReason, nextRetryDelayMs());
        return;
    }
    if (m_httpStatus != 0 && m_httpStatus != 200) {
        bool permanent = false;
        const QString why = describeHttpError(m_httpStatus, &permanent);
        qCWarning(lcDesktopFeed, "%s", qUtf8Printable(why));
        if (permanent)
            setState(State::Failed, why);
        else
            scheduleReconnect(why, m_retryAfterMs >= 0 ? std::max(m_retryAfterMs, 1000)
                                                       : nextRetryDelayMs());
        return;
    }
    QString why;
    if (reply->error() == QNetworkReply::NoError ||
        reply->error() == QNetworkReply::RemoteHostClosedError)
        why = m_closeReason.isEmpty() ? tr("the gateway closed the connection") : m_closeReason;
    else
        why = NetworkError::describe(reply, m_base);
    qCWarning(lcDesktopFeed, "%s", qUtf8Printable(why));
    scheduleReconnect(why, nextRetryDelayMs());
}

int SseConnection::nextRetryDelayMs() const
{
    const int retry =
        m_parser->retryMilliseconds() >= 0 ? m_parser->retryMilliseconds() : defaultRetryMs;
    // The server's time for the first attempt after a drop, doubling while attempts fail.
    const int doublings = std::clamp(m_failures - 1, 0, 16);
    const qint64 delay = qint64(retry) << doublings;
    return int(std::min<qint64>(delay, std::max(retry, maxRetryMs)));
}

qint64 SseConnection::nextAttemptInMs() const
{
    return m_retryTimer.isActive() ? m_nextAttempt.remainingTime() : 0;
}

void SseConnection::scheduleReconnect(const QString &reason, int delayMs)
{
    m_nextAttempt.setRemainingTime(std::max(0, delayMs));
    m_retryTimer.start(std::max(0, delayMs));
    setState(State::Reconnecting, reason);
}

void SseConnection::setState(State state, const QString &reason)
{
    if (state == m_state && reason == m_reason)
        return;
    m_state = state;
    m_reason = reason;
    Q_EMIT stateChanged(state, reason);
}

QString SseConnection::describeHttpError(int status, bool *permanent) const
{
    const QString said = NetworkError::gatewaySaid(m_errorBody);
    *permanent = status >= 400 && status < 500 && status != 408 && status != 429;
    switch (status) {
    case 400:
        return tr("the gateway refused the request (HTTP 400)%1. Check the channels in "
                  "Settings.")
            .arg(said);
    case 401:
        return tr("the gateway needs an access token (HTTP 401)%1. Enter the token in Settings.")
            .arg(said);
    case 403:
        return tr("the gateway refused this access token (HTTP 403)%1. Check the token in "
                  "Settings.")
            .arg(said);
    case 404:
        return tr("there is no event stream at %1 (HTTP 404); is this the gateway's address?")
            .arg(eventsUrl().toDisplayString(QUrl::RemoveUserInfo | QUrl::RemoveQuery));
    case 503:
        return tr("the gateway is busy (HTTP 503)%1").arg(said);
    default:
        return tr("the gateway answered HTTP %1%2").arg(status).arg(said);
    }
}
