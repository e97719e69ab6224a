#pragma once

#include <QDateTime>
#include <QSslConfiguration>
#include <QString>

#include <optional>

// The gateway's certificate chain and private key, read from PEM files and checked (readable,
// a certificate, an unencrypted key that belongs to it) before the listener uses them: at start,
// where a failure stops the gateway, and on SIGHUP (rotation), where it keeps the old ones.
struct TlsIdentity
{
    QSslConfiguration configuration; // TLS 1.2 or newer, HTTP/1.1, no client certificates
    QString subject;                 // of the leaf certificate
    QString serial;
    QDateTime expires;

    // Why it is refused names the file and what to do.
    static std::optional<TlsIdentity> load(const QString &certFile, const QString &keyFile,
                                           QString *why);
    // "CN=localhost, serial 01:02, valid until 2027-01-01 00:00 UTC".
    QString summary() const;
};
