#pragma once

#include <QString>
#include <QStringList>
#include <QTemporaryDir>

// Certificates for HTTPS tests, made by the openssl program in a temporary directory (EC P-256,
// valid for two days): two CAs, "ca" (the one clients trust) and "otherca", and server
// certificates for 127.0.0.1 and localhost, each <name>.pem with <name>.key:
//   gateway-one   signed by ca, serial 10:01
//   gateway-two   signed by ca, serial 20:02
//   gateway-other signed by otherca, serial 30:03
// and encrypted.key (gateway-one's key under a passphrase) and garbage.pem (not PEM at all).
class TestCertificates final
{
public:
    // False with errorString() when openssl failed.
    bool make();
    QString errorString() const { return m_error; }
    QString path(const QString &fileName) const { return m_dir.filePath(fileName); }
    // "--tls-cert <name>.pem --tls-key <name>.key"
    QStringList gatewayArguments(const QString &name) const;

private:
    bool openssl(const QStringList &arguments);
    bool makeCertificate(const QString &name, const QString &ca, const QString &serial);

    QTemporaryDir m_dir;
    QString m_error;
};
