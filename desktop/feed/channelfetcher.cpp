#include "channelfetcher.h"

#include "feedlogging.h"
#include "gatewayurl.h"
#include "networkerror.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>

ChannelFetcher::ChannelFetcher(QObject *parent)
    : QObject(parent), m_network(new QNetworkAccessManager(this))
{
    NetworkError::watchCertificates(m_network);
}

ChannelFetcher::~ChannelFetcher()
{
    if (m_reply)
        m_reply->abort();
}

void ChannelFetcher::fetch(const QUrl &gatewayBase, const QString &token)
{
    if (m_reply) {
        m_reply->disconnect(this);
        m_reply->abort();
        m_reply->deleteLater();
    }
    QNetworkRequest request(GatewayUrl::channelsApi(gatewayBase));
    request.setRawHeader("Accept", "application/json");
    if (!token.isEmpty())
        request.setRawHeader("Authorization", "Bearer " + token.toUtf8());
    request.setTransferTimeout(10000);
    QNetworkReply *reply = m_network->get(request);
    m_reply = reply;
    connect(reply, &QNetworkReply::finished, this, [this, reply] { handleFinished(reply); });
}

void ChannelFetcher::handleFinished(QNetworkReply *reply)
{
    reply->deleteLater();
    if (reply != m_reply)
        return;
    m_reply = nullptr;
    if (reply->error() != QNetworkReply::NoError) {
        const QString why = tr("cannot list the gateway's channels: %1").arg(reply->errorString());
        qCInfo(lcDesktopFeed, "%s", qUtf8Printable(why));
        Q_EMIT fetchFailed(why);
        return;
    }
    const QJsonObject o = QJsonDocument::fromJson(reply->readAll()).object();
    QStringList channels, allowlist;
    for (const QJsonValue &c : o.value(QLatin1StringView("channels")).toArray()) {
        const QString name = c.toObject().value(QLatin1StringView("name")).toString();
        if (!name.isEmpty())
            channels.append(name);
    }
    for (const QJsonValue &a : o.value(QLatin1StringView("allowlist")).toArray())
        allowlist.append(a.toString());
    channels.sort();
    Q_EMIT channelsFetched(channels, allowlist);
}
