#pragma once

#include "trustedproxies.h"

#include <QByteArray>
#include <QHash>
#include <QHostAddress>
#include <QSslConfiguration>
#include <QTcpServer>
#include <QTimer>

#include <map>

class QSslSocket;
class QTcpSocket;

// The gateway's listening socket and the gate in front of Qt HttpServer 6.4's request parser,
// with the limits Qt lacks.
//
// Qt reads a connection's requests one after another as fast as they arrive, however many
// responses are still unsent, and parses heads leniently. So every connection's bytes go through
// the gate first: it takes what arrived out of the socket, checks the next request head with the
// strict RequestHead reader, and hands Qt exactly one accepted head at a time (pushing it back
// into the socket's buffer), only while less than `pauseOutputBytes` of responses are unsent.
// Refused heads are answered here and the connection closed: Qt never parses what follows. Bytes
// held back are put back into the socket's buffer after Qt's turn, where the buffer's size cap
// stops reading from the kernel (TCP then pushes back on the client).
//
// Also: the per-address cap on connections that are not event streams, a deadline to complete a
// request head, an idle timeout, client addresses forwarded by trusted proxies, an output cap,
// "Connection: close" and HTTP/1.0 honoured, one event stream per connection, and a 1024-deep
// listen backlog instead of Qt's 50.
//
// With a TLS configuration every connection is a QSslSocket whose handshake starts at accept;
// the gate then sees the decrypted bytes, so every limit above holds over TLS too. Not Qt's
// QSslServer: it hides a connection until its handshake completed, so the per-address cap would
// not count handshakes in progress, and it stops accepting at maxPendingConnections (30)
// handshakes in progress. Here a handshake counts as a request head: it must complete within
// the head timeout.
class ConnectionGuard final : public QTcpServer
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConnectionGuard)

public:
    struct Limits
    {
        qint64 maxRequestBytes = 8 * 1024;
        int idleTimeoutSeconds = 30;
        int headTimeoutSeconds = 10;
        int maxConnectionsPerAddress = 256; // connections that are not event streams
        // No further request is read while this much of the responses is unsent ...
        qint64 pauseOutputBytes = 64 * 1024;
        // ... and a connection that is not an event stream is closed past this much unsent.
        qint64 maxOutputBytes = 4 * 1024 * 1024;
        // A connection from one of these counts for the client its current request was
        // forwarded for, not for the proxy (it is counted once its first head arrived).
        TrustedProxies trustedProxies;
    };

    explicit ConnectionGuard(const Limits &limits, QObject *parent = nullptr);

    // Call once the HTTP server has been bound to this listener (its per-connection handlers must
    // be connected before the gate's second handler).
    void serverBound();
    // Serve HTTPS with `configuration` (certificate, key, protocols) from the next connection
    // on; connections already open keep theirs. A null configuration: plain HTTP.
    void setTlsConfiguration(const QSslConfiguration &configuration);
    bool isTls() const { return !m_tls.isNull(); }
    // Unsent bytes of `socket`: its buffer and, over TLS, what is encrypted and not yet sent.
    static qint64 unsentBytes(const QTcpSocket *socket);
    // The connection now carries an event stream: no timeout applies and nothing it sends is
    // parsed any more.
    void markStreaming(QTcpSocket *socket);
    // The request just handed to Qt is answered later (from Redis): nothing more is read on
    // `socket` until releaseRequests(), so responses go out in the order of the requests.
    void holdRequests(QTcpSocket *socket);
    // Its response is written: the next request is read (or the connection closed, if that
    // request asked for it).
    void releaseRequests(QTcpSocket *socket);
    // Whether the response being written on `socket` is its last one.
    bool closesAfterResponse(QTcpSocket *socket) const;
    // Who sent the request being handled on `socket`: its peer, or the client a trusted proxy
    // forwarded it for.
    QHostAddress clientAddress(QTcpSocket *socket) const;

    // Connections closed or requests refused, by limit name (as in /metrics).
    const std::map<QByteArray, quint64> &limitHits() const { return m_hits; }
    quint64 limitHits(const char *limit) const;
    qsizetype connections() const { return m_connections.size(); }
    // Response bytes not yet taken by the kernel, over connections that are not event streams.
    qint64 unsentResponseBytes() const;

protected:
    void incomingConnection(qintptr handle) override;

private:
    QTcpSocket *acceptSocket(qintptr handle);
    void watchHandshake(QSslSocket *socket);
    struct Connection
    {
        QHostAddress peer;
        QHostAddress client;      // of its latest request; what m_perAddress counts
        bool proxied = false;     // the peer is a trusted proxy
        QByteArray held;          // received, not yet handed to Qt
        qint64 lastRequestMs = 0; // accepted, or its last request completed
        qint64 headStartedMs = 0; // the first byte of an incomplete head; 0 when none
        bool streaming = false;
        bool closing = false;
        bool counted = false;    // in m_perAddress
        bool admitted = false;   // a head was handed to Qt in this readyRead
        bool closeAfter = false; // the admitted request asked for the connection to close
        bool awaiting = false;   // its response comes later (holdRequests)
        bool kickQueued = false;
        bool handshaking = false; // TLS: not encrypted yet
    };

    void beforeQt(QTcpSocket *socket);
    void afterQt(QTcpSocket *socket);
    void resume(QTcpSocket *socket);
    void kick(QTcpSocket *socket, Connection &c);
    void refuse(QTcpSocket *socket, Connection &c, int status, const QByteArray &reason,
                const char *limit);
    void closeConnection(QTcpSocket *socket, Connection &c);
    bool attribute(QTcpSocket *socket, Connection &c, const QHostAddress &client);
    void uncount(Connection &c);
    void sweep();

    Limits m_limits;
    QHash<QTcpSocket *, Connection> m_connections;
    QHash<QHostAddress, int> m_perAddress;
    QList<QTcpSocket *> m_newSockets; // accepted, waiting for their second handler
    QTimer m_sweepTimer;
    QSslConfiguration m_tls;
    std::map<QByteArray, quint64> m_hits;
};
