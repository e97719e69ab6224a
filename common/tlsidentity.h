#pragma once

#include <QByteArray>
#include <QDateTime>
#include <QSslConfiguration>
#include <QString>

#include <optional>

// A certificate chain and its private key, read from PEM files and checked (readable, a
// certificate, an unencrypted key that belongs to it) before they are used: the gateway's own
// for HTTPS (at start, where a failure stops it, and on SIGHUP, where it keeps the old ones), and
// a client's for Redis over TLS (common/redistls.h).
struct TlsIdentity
{
    QSslConfiguration configuration; // TLS 1.2 or newer, HTTP/1.1, no client certificates
    QString subject;                 // of the leaf certificate
    QString serial;
    QDateTime expires;

    // Why it is refused names the file and what to do.
    static std::optional<TlsIdentity> load(const QString &certFile, const QString &keyFile,
                                           QString *why);
    // The bytes of a PEM file; nullopt with "cannot read the <what> file <path>: <reason>".
    static std::optional<QByteArray> readPemFile(const QString &path, const char *what,
                                                 QString *why);
    // "CN=localhost, serial 01:02, valid until 2027-01-01 00:00 UTC".
    QString summary() const;
};
