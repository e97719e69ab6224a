#include "redistls.h"

#include "tlsidentity.h"

#include <QLocalServer>
#include <QLocalSocket>
#include <QSslCertificate>
#include <QSslKey>
#include <QSslSocket>
#include <QTemporaryDir>

#include <utility>

namespace {

constexpr qint64 maxUnhanded = 4 * 1024 * 1024; // read from Redis, not yet taken by hiredis
constexpr qint64 tlsReadBuffer = 1024 * 1024;
constexpr qint64 pumpChunk = 256 * 1024;

} // namespace

namespace RedisTls {

std::optional<QSslConfiguration> configuration(const RedisUrl &url, QString *error)
{
    QSslConfiguration config = QSslConfiguration::defaultConfiguration();
    config.setProtocol(QSsl::TlsV1_2OrLater);
    config.setPeerVerifyMode(QSslSocket::VerifyPeer);
    if (!url.tlsCaFile.isEmpty()) {
        const auto pem = TlsIdentity::readPemFile(url.tlsCaFile, "CA", error);
        if (!pem)
            return std::nullopt;
        const QList<QSslCertificate> cas = QSslCertificate::fromData(*pem, QSsl::Pem);
        if (cas.isEmpty()) {
            *error = QStringLiteral("the CA file %1 holds no PEM certificate").arg(url.tlsCaFile);
            return std::nullopt;
        }
        config.setCaCertificates(cas);
    }
    if (url.tlsCertFile.isEmpty() != url.tlsKeyFile.isEmpty()) {
        *error = url.tlsCertFile.isEmpty()
                     ? QStringLiteral("--redis-key needs the certificate it belongs to "
                                      "(--redis-cert)")
                     : QStringLiteral("--redis-cert needs its private key (--redis-key)");
        return std::nullopt;
    }
    if (!url.tlsCertFile.isEmpty()) {
        const auto identity = TlsIdentity::load(url.tlsCertFile, url.tlsKeyFile, error);
        if (!identity)
            return std::nullopt;
        config.setLocalCertificateChain(identity->configuration.localCertificateChain());
        config.setPrivateKey(identity->configuration.privateKey());
    }
    if (!url.tls && (!url.tlsCaFile.isEmpty() || !url.tlsCertFile.isEmpty())) {
        *error = QStringLiteral("--redis-ca, --redis-cert and --redis-key are for TLS: use a "
                                "rediss:// URL");
        return std::nullopt;
    }
    return config;
}

} // namespace RedisTls

RedisTlsBridge::RedisTlsBridge(QObject *parent) : QObject(parent) {}

RedisTlsBridge::~RedisTlsBridge()
{
    stop();
}

void RedisTlsBridge::start(const QString &host, quint16 port,
                           const QSslConfiguration &configuration)
{
    stop();
    m_peer = QStringLiteral("%1:%2").arg(host).arg(port);
    if (!m_dir) {
        // 0700: only this user reaches the socket, which carries the Redis session in clear.
        m_dir = std::make_unique<QTemporaryDir>();
        if (!m_dir->isValid()) {
            const QString why = m_dir->errorString();
            m_dir.reset();
            failLater(
                QStringLiteral("cannot make a private directory for the TLS bridge: %1").arg(why));
            return;
        }
        m_path = m_dir->filePath(QStringLiteral("redis.sock"));
    }
    m_server = new QLocalServer(this);
    m_server->setSocketOptions(QLocalServer::UserAccessOption);
    QLocalServer::removeServer(m_path);
    if (!m_server->listen(m_path)) {
        const QString why = m_server->errorString();
        failLater(QStringLiteral("cannot listen on the TLS bridge's socket: %1").arg(why));
        return;
    }
    connect(m_server, &QLocalServer::newConnection, this, &RedisTlsBridge::acceptLocal);

    m_tls = new QSslSocket(this);
    m_tls->setSslConfiguration(configuration);
    m_tls->setReadBufferSize(tlsReadBuffer);
    connect(m_tls, &QSslSocket::encrypted, this, [this] {
        m_encrypted = true;
        m_tls->setSocketOption(QAbstractSocket::KeepAliveOption, 1);
        m_tls->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        Q_EMIT ready();
    });
    connect(m_tls, &QSslSocket::sslErrors, this, [this](const QList<QSslError> &errors) {
        // Never ignored: the handshake fails, and errorOccurred() reports these.
        QStringList texts;
        for (const QSslError &e : errors)
            texts.append(e.errorString());
        m_sslErrors = texts.join(QStringLiteral("; "));
    });
    connect(m_tls, &QSslSocket::errorOccurred, this, [this](QAbstractSocket::SocketError) {
        const QString why = m_sslErrors.isEmpty() ? m_tls->errorString() : m_sslErrors;
        end(m_encrypted ? why : QStringLiteral("TLS connection to %1 failed: %2").arg(m_peer, why));
    });
    connect(m_tls, &QSslSocket::disconnected, this,
            [this] { end(QStringLiteral("Redis closed the TLS connection")); });
    connect(m_tls, &QSslSocket::readyRead, this, &RedisTlsBridge::pumpFromRedis);
    m_tls->connectToHostEncrypted(host, port);
}

// From start(), whose caller connects to failed() only afterwards, or is in the middle of
// setting up: the reason arrives from the event loop, as a TLS failure would.
void RedisTlsBridge::failLater(const QString &reason)
{
    QMetaObject::invokeMethod(
        this, [this, reason] { Q_EMIT failed(reason); }, Qt::QueuedConnection);
}

void RedisTlsBridge::stop()
{
    m_encrypted = false;
    m_sslErrors.clear();
    // Possibly called from one of their own signals: deleted later, and deaf from now on.
    if (m_tls) {
        m_tls->disconnect(this);
        m_tls->abort();
        m_tls->deleteLater();
        m_tls = nullptr;
    }
    if (m_local) {
        m_local->disconnect(this);
        m_local->abort();
        m_local->deleteLater();
        m_local = nullptr;
    }
    if (m_server) {
        m_server->disconnect(this);
        m_server->close();
        m_server->deleteLater();
        m_server = nullptr;
    }
}

void RedisTlsBridge::acceptLocal()
{
    while (QLocalSocket *socket = m_server->nextPendingConnection()) {
        if (m_local) { // one hiredis connection per TLS connection
            socket->abort();
            socket->deleteLater();
            continue;
        }
        m_local = socket;
        connect(m_local, &QLocalSocket::readyRead, this, &RedisTlsBridge::pumpToRedis);
        connect(m_local, &QLocalSocket::bytesWritten, this, &RedisTlsBridge::pumpFromRedis);
        connect(m_local, &QLocalSocket::disconnected, this,
                [this] { end(QStringLiteral("the connection was closed")); });
    }
    pumpFromRedis();
}

void RedisTlsBridge::pumpFromRedis()
{
    if (!m_local || !m_tls)
        return;
    while (m_tls->bytesAvailable() > 0 && m_local->bytesToWrite() < maxUnhanded)
        m_local->write(m_tls->read(pumpChunk));
}

void RedisTlsBridge::pumpToRedis()
{
    if (m_local && m_tls)
        m_tls->write(m_local->readAll());
}

void RedisTlsBridge::end(const QString &reason)
{
    if (!m_tls)
        return;
    const bool wasEncrypted = m_encrypted;
    // What Redis sent before it went (an error reply, say) reaches hiredis first.
    if (m_local && m_local->state() == QLocalSocket::ConnectedState) {
        while (m_tls->bytesAvailable() > 0)
            m_local->write(m_tls->read(pumpChunk));
    }
    if (QLocalSocket *local = std::exchange(m_local, nullptr)) {
        // Closed once what is queued is written; not with the server it came from.
        local->disconnect(this);
        local->setParent(this);
        connect(local, &QLocalSocket::disconnected, local, &QObject::deleteLater);
        local->disconnectFromServer();
        if (local->state() == QLocalSocket::UnconnectedState)
            local->deleteLater();
    }
    stop();
    if (wasEncrypted) {
        Q_EMIT closed(reason);
    } else {
        Q_EMIT failed(reason);
    }
}
