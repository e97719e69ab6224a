#include "historyfetcher.h"

#include "feedlogging.h"
#include "gatewayurl.h"
#include "networkerror.h"

#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>

namespace {

// A page is at most 1,000 envelopes; beyond this it is not an answer to keep in memory whole.
constexpr qint64 maxBodyBytes = 256LL * 1024 * 1024;

} // namespace

HistoryFetcher::HistoryFetcher(QObject *parent)
    : QObject(parent), m_network(new QNetworkAccessManager(this))
{
    NetworkError::watchCertificates(m_network);
}

HistoryFetcher::~HistoryFetcher()
{
    if (QNetworkReply *reply = m_reply) {
        reply->disconnect(this);
        reply->abort();
    }
}

void HistoryFetcher::setSource(const QUrl &gatewayBase, const QString &token,
                               const QStringList &channels)
{
    if (gatewayBase == m_base && token == m_token && channels == m_channels)
        return;
    cancel();
    m_base = gatewayBase;
    m_token = token;
    m_channels = channels;
}

QUrl HistoryFetcher::historyUrl(const HistoryRequest &request) const
{
    return GatewayUrl::history(m_base, m_channels, request.before, request.limit, request.query);
}

void HistoryFetcher::fetch(const HistoryRequest &request)
{
    const bool wasBusy = isBusy();
    if (QNetworkReply *old = m_reply) {
        m_reply = nullptr;
        old->disconnect(this);
        old->abort();
        old->deleteLater();
    }
    if (!m_base.isValid() || m_base.host().isEmpty()) {
        if (wasBusy)
            Q_EMIT busyChanged(false);
        Q_EMIT fetchFailed(tr("no gateway to ask for its history; connect to one first"));
        return;
    }
    m_request = request;
    QNetworkRequest r(historyUrl(request));
    r.setRawHeader("Accept", "application/json");
    if (!m_token.isEmpty())
        r.setRawHeader("Authorization", "Bearer " + m_token.toUtf8());
    r.setAttribute(QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);
    r.setTransferTimeout(transferTimeoutMs);
    qCInfo(lcDesktopFeed, "history: %s", qUtf8Printable(r.url().toDisplayString()));
    QNetworkReply *reply = m_network->get(r);
    m_reply = reply;
    m_tooLarge = false;
    connect(reply, &QNetworkReply::downloadProgress, this, [this, reply](qint64 received) {
        if (reply == m_reply && received > maxBodyBytes && !m_tooLarge) {
            m_tooLarge = true;
            reply->abort();
        }
    });
    connect(reply, &QNetworkReply::finished, this, [this, reply] { handleFinished(reply); });
    if (!wasBusy)
        Q_EMIT busyChanged(true);
}

void HistoryFetcher::cancel()
{
    QNetworkReply *reply = m_reply;
    if (!reply)
        return;
    m_reply = nullptr;
    reply->disconnect(this);
    reply->abort();
    reply->deleteLater();
    Q_EMIT busyChanged(false);
}

void HistoryFetcher::handleFinished(QNetworkReply *reply)
{
    reply->deleteLater();
    if (reply != m_reply)
        return;
    m_reply = nullptr;
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    QString why;
    if (m_tooLarge) {
        why = tr("the gateway's history answer is larger than %1 MiB; ask for fewer lines")
                  .arg(maxBodyBytes / (1024 * 1024));
    } else if (reply->error() == QNetworkReply::OperationCanceledError) {
        // Only the transfer timeout cancels a reply still connected here.
        why = tr("the gateway did not answer the history request within %1 s")
                  .arg(transferTimeoutMs / 1000);
    } else if (status == 0) {
        why = tr("cannot load the history: %1").arg(NetworkError::describe(reply, m_base));
    } else if (status != 200) {
        why = describeHttpError(status, reply->read(4096));
    } else if (auto page = LogPage::parse(reply->readAll(), m_decoder, &why)) {
        page->request = m_request;
        Q_EMIT pageFetched(*page);
    }
    if (!why.isEmpty()) {
        qCWarning(lcDesktopFeed, "%s", qUtf8Printable(why));
        Q_EMIT fetchFailed(why);
    }
    // Unless a receiver asked again already.
    if (!isBusy())
        Q_EMIT busyChanged(false);
}

QString HistoryFetcher::describeHttpError(int status, const QByteArray &body) const
{
    const QString said = NetworkError::gatewaySaid(body);
    switch (status) {
    case 400:
        return tr("the gateway refused the history request (HTTP 400)%1").arg(said);
    case 401:
        return tr("the gateway needs an access token for its history (HTTP 401)%1. Enter the "
                  "token in Settings.")
            .arg(said);
    case 403:
        return tr("the gateway refused this access token for its history (HTTP 403)%1. Check the "
                  "token and the channels in Settings.")
            .arg(said);
    case 404:
        return tr("the gateway has no history at %1 (HTTP 404); it may be older than this "
                  "monitor")
            .arg(GatewayUrl::history(m_base, {}, {}, 1, {})
                     .toDisplayString(QUrl::RemoveUserInfo | QUrl::RemoveQuery));
    default:
        return tr("the gateway answered the history request with HTTP %1%2").arg(status).arg(said);
    }
}
