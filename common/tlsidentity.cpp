#include "tlsidentity.h"

#include <QFile>
#include <QSslCertificate>
#include <QSslKey>
#include <QSslSocket>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

namespace {

// Qt has no way to ask whether a private key belongs to a certificate; OpenSSL (which Qt's TLS
// backend uses anyway) has. Without this check a mismatch would only show as failed handshakes.
bool keyMatches(const QSslCertificate &certificate, const QByteArray &keyPem)
{
    const QByteArray der = certificate.toDer();
    const auto *bytes = reinterpret_cast<const unsigned char *>(der.constData());
    std::unique_ptr<X509, decltype(&X509_free)> x509(d2i_X509(nullptr, &bytes, der.size()),
                                                     X509_free);
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(keyPem.constData(), int(keyPem.size())), BIO_free);
    if (!x509 || !bio)
        return false;
    // No passphrase prompt on the terminal: an encrypted key is refused before this.
    auto noPassphrase = [](char *, int, int, void *) { return 0; };
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
        PEM_read_bio_PrivateKey(bio.get(), nullptr, noPassphrase, nullptr), EVP_PKEY_free);
    return key && X509_check_private_key(x509.get(), key.get()) == 1;
}

} // namespace

std::optional<QByteArray> TlsIdentity::readPemFile(const QString &path, const char *what,
                                                   QString *why)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *why = QStringLiteral("cannot read the %1 file %2: %3")
                   .arg(QLatin1String(what), path, file.errorString());
        return std::nullopt;
    }
    return file.readAll();
}

std::optional<TlsIdentity> TlsIdentity::load(const QString &certFile, const QString &keyFile,
                                             QString *why)
{
    const auto certPem = readPemFile(certFile, "certificate", why);
    if (!certPem)
        return std::nullopt;
    const QList<QSslCertificate> chain = QSslCertificate::fromData(*certPem, QSsl::Pem);
    if (chain.isEmpty() || chain.constFirst().isNull()) {
        *why = QStringLiteral("%1 holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
                   .arg(certFile);
        return std::nullopt;
    }
    const auto keyPem = readPemFile(keyFile, "private key", why);
    if (!keyPem)
        return std::nullopt;
    if (keyPem->contains("ENCRYPTED")) {
        *why = QStringLiteral("the private key in %1 is encrypted; it is needed without a "
                              "passphrase (openssl pkey -in %1 -out <new file>)")
                   .arg(keyFile);
        return std::nullopt;
    }
    QSslKey key;
    for (QSsl::KeyAlgorithm algorithm : {QSsl::Rsa, QSsl::Ec, QSsl::Dsa}) {
        key = QSslKey(*keyPem, algorithm, QSsl::Pem, QSsl::PrivateKey);
        if (!key.isNull())
            break;
    }
    if (key.isNull()) {
        *why = QStringLiteral("%1 holds no PEM private key (RSA or EC, -----BEGIN PRIVATE "
                              "KEY-----)")
                   .arg(keyFile);
        return std::nullopt;
    }
    const QSslCertificate &leaf = chain.constFirst();
    if (!keyMatches(leaf, *keyPem)) {
        *why = QStringLiteral("the private key in %1 does not belong to the certificate in %2 "
                              "(%3)")
                   .arg(keyFile, certFile, leaf.subjectDisplayName());
        return std::nullopt;
    }

    TlsIdentity identity;
    identity.configuration = QSslConfiguration::defaultConfiguration();
    identity.configuration.setLocalCertificateChain(chain);
    identity.configuration.setPrivateKey(key);
    identity.configuration.setProtocol(QSsl::TlsV1_2OrLater);
    identity.configuration.setPeerVerifyMode(QSslSocket::VerifyNone);
    identity.configuration.setAllowedNextProtocols({QSslConfiguration::NextProtocolHttp1_1});
    identity.subject = leaf.subjectDisplayName();
    identity.serial = QString::fromLatin1(leaf.serialNumber());
    identity.expires = leaf.expiryDate();
    return identity;
}

QString TlsIdentity::summary() const
{
    return QStringLiteral("%1, serial %2, valid until %3")
        .arg(subject, serial, expires.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm 'UTC'")));
}
