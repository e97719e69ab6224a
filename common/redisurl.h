#pragma once

#include "configoptions.h"

#include <QString>

#include <optional>

// A parsed REDIS_URL: redis://[[username]:password@]host[:port][/db] or
// unix:///path/to.sock[?db=N]. Credentials are percent-decoded. TLS (rediss://) is refused: hiredis
// 0.14 has no TLS.
struct RedisUrl
{
    QString host = QStringLiteral("127.0.0.1");
    quint16 port = 6379;
    QString socketPath; // set for unix:// URLs, host/port unused then
    QString username;
    QString password;
    int db = 0;

    static std::optional<RedisUrl> parse(const QString &text, QString *error = nullptr);
    // The --redis-url / REDIS_URL option row of a program's ConfigOptions, setting `target`;
    // `use` says what the program does with Redis ("publish to").
    static ConfigOptions::Row optionRow(RedisUrl *target, const QString &use);
    // For messages and logs: never shows the password.
    QString toDisplayString() const;
    bool isUnixSocket() const { return !socketPath.isEmpty(); }
};
