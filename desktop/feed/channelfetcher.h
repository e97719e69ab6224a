#pragma once

#include <QObject>
#include <QPointer>
#include <QString>
#include <QStringList>
#include <QUrl>

class QNetworkAccessManager;
class QNetworkReply;

// Asks the gateway which channels it has seen (GET /api/channels) and what its allowlist is, for
// the channel checkboxes.
class ChannelFetcher final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ChannelFetcher)

public:
    explicit ChannelFetcher(QObject *parent = nullptr);
    ~ChannelFetcher() override;

    void fetch(const QUrl &gatewayBase, const QString &token);

Q_SIGNALS:
    void channelsFetched(const QStringList &channels, const QStringList &allowlist);
    void fetchFailed(const QString &reason);

private:
    void handleFinished(QNetworkReply *reply);

    QNetworkAccessManager *m_network;
    QPointer<QNetworkReply> m_reply;
};
