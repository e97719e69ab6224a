#include "gatewaytrust.h"

#include <QCoreApplication>
#include <QFile>
#include <QSslCertificate>
#include <QSslConfiguration>

namespace GatewayTrust {

bool setCaFile(const QString &caFile, QString *error)
{
    // What the process started with: a later CA file replaces the earlier one, not adds to it.
    static const QSslConfiguration original = QSslConfiguration::defaultConfiguration();
    QSslConfiguration configuration = original;
    if (!caFile.isEmpty()) {
        QFile file(caFile);
        if (!file.open(QIODevice::ReadOnly)) {
            *error = QCoreApplication::translate("GatewayTrust", "cannot read the CA file %1: %2")
                         .arg(caFile, file.errorString());
            return false;
        }
        const QList<QSslCertificate> authorities =
            QSslCertificate::fromData(file.readAll(), QSsl::Pem);
        if (authorities.isEmpty()) {
            *error = QCoreApplication::translate("GatewayTrust",
                                                 "the CA file %1 holds no PEM certificate "
                                                 "(-----BEGIN CERTIFICATE-----)")
                         .arg(caFile);
            return false;
        }
        // Setting CA certificates turns off loading the system's on demand: list them too.
        configuration.setCaCertificates(QSslConfiguration::systemCaCertificates() + authorities);
    }
    QSslConfiguration::setDefaultConfiguration(configuration);
    return true;
}

} // namespace GatewayTrust
