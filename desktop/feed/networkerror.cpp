#include "networkerror.h"

#include <QCoreApplication>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSslCertificate>
#include <QSslError>

namespace NetworkError {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("NetworkError", text);
}

// The reply property watchCertificates() sets.
constexpr char certificateProblem[] = "llmstreamerCertificateProblem";

QString names(const QSslCertificate &certificate)
{
    QStringList all = certificate.subjectAlternativeNames().values();
    if (all.isEmpty())
        all = certificate.subjectInfo(QSslCertificate::CommonName);
    return all.join(QStringLiteral(", "));
}

QString sentence(const QSslError &error, const QUrl &base)
{
    const QSslCertificate c = error.certificate();
    const QString issuer = c.issuerDisplayName();
    switch (error.error()) {
    case QSslError::SelfSignedCertificate:
        return tr("the gateway's certificate is self-signed (%1) and not trusted; give it as the "
                  "CA file (Settings, or --ca-file)")
            .arg(c.subjectDisplayName());
    case QSslError::SelfSignedCertificateInChain:
    case QSslError::UnableToGetLocalIssuerCertificate:
    case QSslError::UnableToGetIssuerCertificate:
    case QSslError::UnableToVerifyFirstCertificate:
    case QSslError::CertificateUntrusted:
        return tr("the gateway's certificate is not signed by a trusted CA (issued by %1); give "
                  "that CA's certificate as the CA file (Settings, or --ca-file)")
            .arg(issuer.isEmpty() ? tr("an unknown issuer") : issuer);
    case QSslError::HostNameMismatch:
        return tr("the gateway's certificate is for %1, not for %2; connect by one of its names")
            .arg(names(c), base.host());
    case QSslError::CertificateExpired:
        return tr("the gateway's certificate expired on %1")
            .arg(c.expiryDate().toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm 'UTC'")));
    case QSslError::CertificateNotYetValid:
        return tr("the gateway's certificate is not valid before %1; is this computer's clock "
                  "right?")
            .arg(c.effectiveDate().toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm 'UTC'")));
    case QSslError::CertificateRevoked:
        return tr("the gateway's certificate was revoked");
    default:
        return tr("the gateway's certificate is not accepted: %1").arg(error.errorString());
    }
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
        if (const QString problem = reply->property(certificateProblem).toString();
            !problem.isEmpty())
            return tr("cannot trust %1: %2").arg(where, problem);
        return tr("TLS handshake with %1 failed: %2").arg(where, reply->errorString());
    case QNetworkReply::ProxyConnectionRefusedError:
    case QNetworkReply::ProxyNotFoundError:
    case QNetworkReply::ProxyTimeoutError:
        return tr("cannot reach the proxy: %1").arg(reply->errorString());
    default:
        return tr("connection to %1 failed: %2").arg(where, reply->errorString());
    }
}

void watchCertificates(QNetworkAccessManager *network)
{
    QObject::connect(network, &QNetworkAccessManager::sslErrors, network,
                     [](QNetworkReply *reply, const QList<QSslError> &errors) {
                         reply->setProperty(certificateProblem,
                                            describeCertificate(errors, reply->url()));
                     });
}

QString describeCertificate(const QList<QSslError> &errors, const QUrl &base)
{
    QStringList sentences;
    for (const QSslError &error : errors)
        if (const QString s = sentence(error, base); !sentences.contains(s))
            sentences.append(s);
    return sentences.join(QStringLiteral("; "));
}

QString gatewaySaid(const QByteArray &body)
{
    QString text = QString::fromUtf8(body).simplified();
    if (text.size() > 300)
        text = text.first(300) + QChar(0x2026);
    return text.isEmpty() ? QString() : QStringLiteral(": ") + text;
}

} // namespace NetworkError
