#pragma once

#include "accesspolicy.h"
#include "otlpdecoder.h"

#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QObject>
#include <QPair>
#include <QString>

#include <memory>
#include <optional>
#include <unordered_map>

class QTcpServer;
class QTcpSocket;
class RedisPublisher;

// llmstreamer-producer otlp: an OTLP/HTTP receiver (POST /v1/logs and /v1/traces, JSON or
// protobuf, plain or gzip) that publishes the records OtlpDecoder makes of each request through a
// RedisPublisher (Block overflow). While the publisher is full (Redis away for long) it answers
// 503 with Retry-After, which OTLP exporters retry, so nothing is lost; what it answered 200 for
// is buffered until Redis acknowledged it.
//
// Its own small HTTP/1.1 server on QTcpServer, not Qt HttpServer: QHttpServer 6.4 buffers a
// whole request body before a handler sees it, with no size limit (a 100 MB body, or an endless
// chunked one, would all be held), and cannot answer 413 or 100-continue from the head. Here the
// head is checked first (route, token, content type, length), the body is read only up to
// --max-body, and connections stay open between requests (keep-alive) unless told otherwise.
class OtlpReceiver final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(OtlpReceiver)

public:
    struct Settings
    {
        QHostAddress address = QHostAddress::LocalHost;
        quint16 port = 4318; // 0: any free port (tests)
        // Largest body, as sent and once inflated.
        qint64 maxBodyBytes = 16LL * 1024 * 1024;
        OtlpDecoder::Channels channels;
        QString tokenFile; // empty: no token needed
        int maxConnections = 256;
        int idleTimeoutMs = 120'000;
    };
    struct Counters
    {
        quint64 requests = 0; // answered 200
        quint64 records = 0;  // published
        quint64 rejected = 0; // log records and spans that could not be read
        quint64 refused = 0;  // requests answered with an error status
        quint64 busy = 0;     // of those, 503 because the publisher was full
    };

    OtlpReceiver(const Settings &settings, RedisPublisher *publisher, QObject *parent = nullptr);
    ~OtlpReceiver() override;

    // Reads the token file and starts listening; false with a message for the user if not.
    bool listen(QString *error);
    quint16 port() const;
    // Stops accepting connections and closes the open ones.
    void close();
    const Counters &counters() const { return m_counters; }

private:
    struct Connection;
    struct Response
    {
        int status = 200;
        QByteArray contentType;
        QByteArray body;
        QList<QPair<QByteArray, QByteArray>> fields;
        bool close = false;
    };

    void handleNewConnection();
    void handleReadyRead(QTcpSocket *socket);
    void process(Connection &connection);
    std::optional<Response> checkHead(Connection &connection);
    Response handleRequest(Connection &connection);
    Response errorResponse(const Connection &connection, int status, const QString &message);
    void send(Connection &connection, const Response &response);
    void drop(QTcpSocket *socket);

    Settings m_settings;
    RedisPublisher *m_publisher;
    QTcpServer *m_server;
    AccessPolicy m_policy;
    std::unordered_map<QTcpSocket *, std::unique_ptr<Connection>> m_connections;
    Counters m_counters;
};
