#pragma once

#include "logpage.h"
#include "logrecorddecoder.h"

#include <QObject>
#include <QPointer>
#include <QString>
#include <QStringList>
#include <QUrl>

class QNetworkAccessManager;
class QNetworkReply;

// Pages of the gateway's history (GET /api/history) for one purpose, e.g. scrolling back or one
// search: at most one request in flight, a newer one superseding an older one (whose answer is
// then never reported). The gateway URL, token and channels are the feed's (LogFeed sets them);
// failures come in plain words with the HTTP status and the gateway's reason.
class HistoryFetcher final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HistoryFetcher)

public:
    static constexpr int transferTimeoutMs = 30000; // a search may scan for a while

    explicit HistoryFetcher(QObject *parent = nullptr);
    ~HistoryFetcher() override;

    // Where and as whom to ask; a change cancels the request in flight, whose answer would be
    // about other lines.
    void setSource(const QUrl &gatewayBase, const QString &token, const QStringList &channels);
    QUrl gatewayUrl() const { return m_base; }
    QStringList channels() const { return m_channels; }
    QUrl historyUrl(const HistoryRequest &request) const;

    void fetch(const HistoryRequest &request);
    void cancel();
    bool isBusy() const { return !m_reply.isNull(); }

Q_SIGNALS:
    void pageFetched(const LogPage &page);
    void fetchFailed(const QString &reason);
    void busyChanged(bool busy);

private:
    void handleFinished(QNetworkReply *reply);
    QString describeHttpError(int status, const QByteArray &body) const;

    QNetworkAccessManager *m_network;
    QPointer<QNetworkReply> m_reply;
    HistoryRequest m_request; // of m_reply
    bool m_tooLarge = false;  // m_reply was aborted for its size
    LogRecordDecoder m_decoder;
    QUrl m_base;
    QString m_token;
    QStringList m_channels;
};
