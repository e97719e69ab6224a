#include "networkerror.h"

#include <QCoreApplication>
#include <QNetworkReply>

namespace NetworkError {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("NetworkError", text);
}

} // namespace

QString hostAndPort(const QUrl &base)
{
    const int defaultPort = base.scheme() == QLatin1StringView("https") ? 443 : 80;
    return base.host() + u':' + QString::number(base.port(defaultPort));
}

QString describe(const QNetworkReply *reply, const QUrl &base)
{
    const QString where = hostAndPort(base);
    switch (reply->error()) {
    case QNetworkReply::ConnectionRefusedError:
        return tr("connection refused by %1; is the gateway running there?").arg(where);
    case QNetworkReply::HostNotFoundError:
        return tr("host \"%1\" not found; check the gateway URL").arg(base.host());
    case QNetworkReply::TimeoutError:
        return tr("connecting to %1 timed out").arg(where);
    case QNetworkReply::NetworkSessionFailedError:
    case QNetworkReply::TemporaryNetworkFailureError:
        return tr("the network is down (%1)").arg(reply->errorString());
    case QNetworkReply::SslHandshakeFailedError:
        return tr("TLS handshake with %1 failed: %2").arg(where, reply->errorString());
    case QNetworkReply::ProxyConnectionRefusedError:
    case QNetworkReply::ProxyNotFoundError:
    case QNetworkReply::ProxyTimeoutError:
        return tr("cannot reach the proxy: %1").arg(reply->errorString());
    default:
        return tr("connection to %1 failed: %2").arg(where, reply->errorString());
    }
}

QString gatewaySaid(const QByteArray &body)
{
    QString text = QString::fromUtf8(body).simplified();
    if (text.size() > 300)
        text = text.first(300) + QChar(0x2026);
    return text.isEmpty() ? QString() : QStringLiteral(": ") + text;
}

} // namespace NetworkError
