#pragma once

#include "configoptions.h"

#include <QList>
#include <QString>

#include <optional>

// A parsed REDIS_URL: redis://[[username]:password@]host[:port][/db], the same with rediss:// for
// TLS, or unix:///path/to.sock[?db=N]. Credentials are percent-decoded. The TLS files come from
// their own options (--redis-ca, --redis-cert, --redis-key), kept when the URL is set.
struct RedisUrl
{
    QString host = QStringLiteral("127.0.0.1");
    quint16 port = 6379;
    QString socketPath; // set for unix:// URLs, host/port unused then
    QString username;
    QString password;
    int db = 0;
    bool tls = false; // rediss://
    // PEM files; an empty CA means the system's CAs. The certificate and key are the client's,
    // for a Redis that asks for one (tls-auth-clients).
    QString tlsCaFile;
    QString tlsCertFile;
    QString tlsKeyFile;

    // More nodes to try when host:port cannot be reached (a Redis Cluster's seed nodes):
    // "redis://:pw@h1:7000,h2:7001,h3:7002". They share the first URL's scheme and credentials.
    struct Node
    {
        QString host;
        quint16 port = 6379;
        friend bool operator==(const Node &, const Node &) = default;
    };
    QList<Node> moreNodes;

    static std::optional<RedisUrl> parse(const QString &text, QString *error = nullptr);
    // host:port and then moreNodes.
    QList<Node> nodes() const;
    // The --redis-url / REDIS_URL option row of a program's ConfigOptions, setting `target`;
    // `use` says what the program does with Redis ("publish to").
    static ConfigOptions::Row optionRow(RedisUrl *target, const QString &use);
    // --redis-ca, --redis-cert, --redis-key (LLMSTREAMER_REDIS_CA, ..._CERT, ..._KEY).
    static QList<ConfigOptions::Row> tlsOptionRows(RedisUrl *target);
    // Why these settings cannot work (TLS files without rediss://, a certificate without its key,
    // a file that cannot be read or is not PEM); empty when they can.
    QString tlsProblem() const;
    // For messages and logs: never shows the password.
    QString toDisplayString() const;
    bool isUnixSocket() const { return !socketPath.isEmpty(); }
};
