#pragma once

#include "redisurl.h"

#include <QObject>
#include <QSslConfiguration>
#include <QString>

#include <memory>
#include <optional>

class QLocalServer;
class QLocalSocket;
class QSslSocket;
class QTemporaryDir;

namespace RedisTls {
// TLS 1.2 or newer, Redis's certificate checked against the CA file (or the system's CAs) and
// its name, the client certificate and key when given. nullopt with the reason when a file
// cannot be read, is not PEM, or the key does not belong to the certificate.
std::optional<QSslConfiguration> configuration(const RedisUrl &url, QString *error);
} // namespace RedisTls

// Carries one hiredis connection over TLS. hiredis 0.14 has no TLS and connects only sockets it
// makes itself, so it connects to a Unix socket this bridge listens on (in a directory only this
// user can enter), and the bridge pumps the bytes between that socket and a QSslSocket to Redis.
// hiredis sees a plain Redis: its replies, errors and reconnects are unchanged.
//
// One TLS connection at a time: start() begins one; ready() says hiredis may connect to
// socketPath(); either side closing closes the other (hiredis then sees Redis go away), with
// closed(reason). Reading from Redis pauses while 4 MiB wait to be handed to hiredis.
class RedisTlsBridge final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RedisTlsBridge)

public:
    explicit RedisTlsBridge(QObject *parent = nullptr);
    ~RedisTlsBridge() override;

    // Connects to host:port (its certificate must name `host`); the TLS settings come from
    // RedisTls::configuration().
    void start(const QString &host, quint16 port, const QSslConfiguration &configuration);
    // Closes both sides, quietly.
    void stop();
    QString socketPath() const { return m_path; }

Q_SIGNALS:
    // The handshake is done: hiredis may connect to socketPath().
    void ready();
    // The TLS connection could not be made (handshake, certificate, network): the reason in
    // plain words.
    void failed(const QString &reason);
    // An established connection ended.
    void closed(const QString &reason);

private:
    void acceptLocal();
    void pumpFromRedis();
    void pumpToRedis();
    void end(const QString &reason);
    void failLater(const QString &reason);

    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_path;
    QLocalServer *m_server = nullptr;
    QSslSocket *m_tls = nullptr;
    QLocalSocket *m_local = nullptr;
    QString m_peer; // host:port, for messages
    bool m_encrypted = false;
    QString m_sslErrors;
};
