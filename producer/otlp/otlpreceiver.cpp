#include "otlpreceiver.h"

#include "gzipinflater.h"
#include "httprequestreader.h"
#include "otlp/otlp.pb.h"
#include "producerlogging.h"
#include "redispublisher.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>

#include <sys/socket.h>

using namespace Qt::StringLiterals;

namespace {

// After an error that ends the connection the client may still be sending its body: reading on
// (and dropping) for a while after our response, instead of closing at once, keeps the kernel
// from answering the unread bytes with a reset that can destroy the response before the client
// reads it (what nginx calls a lingering close).
constexpr int lingerMs = 2000;
constexpr int retryAfterSeconds = 1;

QByteArray reasonPhrase(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 431:
        return "Request Header Fields Too Large";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Error";
    }
}

// google.rpc.Code for an HTTP status, for the Status body OTLP/HTTP errors carry.
int rpcCode(int status)
{
    switch (status) {
    case 401:
        return 16; // UNAUTHENTICATED
    case 403:
        return 7; // PERMISSION_DENIED
    case 404:
        return 5; // NOT_FOUND
    case 405:
    case 501:
    case 505:
        return 12; // UNIMPLEMENTED
    case 413:
        return 8; // RESOURCE_EXHAUSTED
    case 503:
        return 14; // UNAVAILABLE
    default:
        return 3; // INVALID_ARGUMENT
    }
}

QByteArrayView mediaType(QByteArrayView contentType)
{
    const qsizetype semicolon = contentType.indexOf(';');
    return (semicolon < 0 ? contentType : contentType.first(semicolon)).trimmed();
}

} // namespace

struct OtlpReceiver::Connection
{
    explicit Connection(qint64 maxBody) : reader(maxBody) {}

    QTcpSocket *socket = nullptr;
    QByteArray input;
    HttpRequestReader reader;
    QTimer *idle = nullptr; // a child of the socket: it may fire what deletes the connection
    bool headChecked = false;
    bool lingering = false;
    // From the head of the current request.
    OtlpDecoder::Signal signal = OtlpDecoder::Signal::Logs;
    std::optional<OtlpDecoder::Encoding> encoding;
    bool gzip = false;
};

OtlpReceiver::OtlpReceiver(const Settings &settings, RedisPublisher *publisher, QObject *parent)
    : QObject(parent), m_settings(settings), m_publisher(publisher), m_server(new QTcpServer(this))
{
    // Many exporters open a connection each; Qt's default backlog is 50.
    m_server->setListenBacklogSize(1024);
    connect(m_server, &QTcpServer::pendingConnectionAvailable, this,
            &OtlpReceiver::handleNewConnection);
}

OtlpReceiver::~OtlpReceiver()
{
    close();
}

bool OtlpReceiver::listen(QString *error)
{
    if (!m_settings.tokenFile.isEmpty()) {
        QString why;
        auto policy = AccessPolicy::load(m_settings.tokenFile, &why);
        if (!policy) {
            *error = u"cannot use the token file %1: %2"_s.arg(m_settings.tokenFile, why);
            return false;
        }
        if (!policy->isEnabled()) {
            *error = u"the token file %1 has no tokens; add a line \"<token> logs:*\""_s.arg(
                m_settings.tokenFile);
            return false;
        }
        m_policy = std::move(*policy);
    }
    if (!m_server->listen(m_settings.address, m_settings.port)) {
        *error = u"cannot listen on %1 port %2: %3; is another receiver (an OpenTelemetry "
                 "Collector?) using it? Choose another with --listen"_s
                     .arg(m_settings.address.toString())
                     .arg(m_settings.port)
                     .arg(m_server->errorString());
        return false;
    }
    qCInfo(lcProducer, "OTLP/HTTP receiver on http://%s:%u (POST /v1/logs, /v1/traces)",
           qUtf8Printable(m_settings.address.toString()), unsigned(port()));
    return true;
}

quint16 OtlpReceiver::port() const
{
    return m_server->serverPort();
}

void OtlpReceiver::close()
{
    m_server->close();
    auto connections = std::move(m_connections);
    m_connections.clear();
    for (auto &[socket, connection] : connections) {
        socket->disconnect(this);
        socket->abort();
        socket->deleteLater();
    }
}

void OtlpReceiver::handleNewConnection()
{
    while (QTcpSocket *socket = m_server->nextPendingConnection()) {
        if (qsizetype(m_connections.size()) >= m_settings.maxConnections) {
            qCWarning(lcProducer, "refused a connection: %d are open already",
                      m_settings.maxConnections);
            socket->abort();
            socket->deleteLater();
            continue;
        }
        auto connection = std::make_unique<Connection>(m_settings.maxBodyBytes);
        connection->socket = socket;
        connection->idle = new QTimer(socket);
        connection->idle->setSingleShot(true);
        connection->idle->setInterval(m_settings.idleTimeoutMs);
        connect(connection->idle, &QTimer::timeout, this, [this, socket] { drop(socket); });
        connection->idle->start();
        connect(socket, &QTcpSocket::readyRead, this, [this, socket] { handleReadyRead(socket); });
        connect(socket, &QTcpSocket::disconnected, this, [this, socket] { drop(socket); });
        connect(socket, &QTcpSocket::bytesWritten, this, [this, socket] {
            // A lingering connection whose response is out: stop sending, read on a while.
            const auto it = m_connections.find(socket);
            if (it != m_connections.end() && it->second->lingering && socket->bytesToWrite() == 0)
                ::shutdown(int(socket->socketDescriptor()), SHUT_WR);
        });
        m_connections.emplace(socket, std::move(connection));
    }
}

void OtlpReceiver::drop(QTcpSocket *socket)
{
    const auto it = m_connections.find(socket);
    if (it == m_connections.end())
        return;
    auto connection = std::move(it->second);
    m_connections.erase(it);
    socket->disconnect(this);
    socket->abort();
    socket->deleteLater();
}

void OtlpReceiver::handleReadyRead(QTcpSocket *socket)
{
    const auto it = m_connections.find(socket);
    if (it == m_connections.end())
        return;
    Connection &connection = *it->second;
    if (connection.lingering) {
        socket->readAll();
        return;
    }
    connection.input += socket->readAll();
    connection.idle->start();
    process(connection);
}

void OtlpReceiver::process(Connection &connection)
{
    HttpRequestReader &reader = connection.reader;
    while (!connection.lingering) {
        reader.read(connection.input);
        if (reader.state() == HttpRequestReader::State::Failed) {
            Response response =
                errorResponse(connection, reader.status(), QString::fromLatin1(reader.reason()));
            response.close = true;
            return send(connection, response);
        }
        if (!reader.headComplete())
            return;
        if (!connection.headChecked) {
            connection.headChecked = true;
            if (std::optional<Response> refusal = checkHead(connection)) {
                // With a body left unread the connection cannot go on.
                const bool bodyUnread = reader.state() != HttpRequestReader::State::Complete;
                refusal->close = bodyUnread || reader.wantsClose();
                send(connection, *refusal);
                if (refusal->close)
                    return;
                reader.reset();
                connection.headChecked = false;
                connection.encoding.reset();
                continue;
            }
            if (reader.state() == HttpRequestReader::State::Body &&
                reader.field("expect").compare("100-continue", Qt::CaseInsensitive) == 0 &&
                !reader.isHttp10())
                connection.socket->write("HTTP/1.1 100 Continue\r\n\r\n");
            continue;
        }
        if (reader.state() != HttpRequestReader::State::Complete)
            return;
        Response response = handleRequest(connection);
        response.close = response.close || reader.wantsClose();
        send(connection, response);
        if (response.close)
            return;
        reader.reset();
        connection.headChecked = false;
        connection.encoding.reset();
        if (connection.input.isEmpty())
            return;
    }
}

std::optional<OtlpReceiver::Response> OtlpReceiver::checkHead(Connection &connection)
{
    const HttpRequestReader &reader = connection.reader;
    connection.encoding.reset();
    connection.gzip = false;

    // The content type first: every error answer after this one is in the request's encoding.
    const QByteArrayView type = mediaType(reader.field("content-type"));
    if (type.compare("application/x-protobuf", Qt::CaseInsensitive) == 0)
        connection.encoding = OtlpDecoder::Encoding::Protobuf;
    else if (type.compare("application/json", Qt::CaseInsensitive) == 0)
        connection.encoding = OtlpDecoder::Encoding::Json;

    QByteArrayView path = reader.target();
    if (const qsizetype query = path.indexOf('?'); query >= 0)
        path = path.first(query);
    if (path == "/v1/logs")
        connection.signal = OtlpDecoder::Signal::Logs;
    else if (path == "/v1/traces")
        connection.signal = OtlpDecoder::Signal::Traces;
    else
        return errorResponse(connection, 404,
                             u"no such endpoint; this OTLP/HTTP receiver serves POST /v1/logs "
                             "and POST /v1/traces (metrics are not received)"_s);
    if (reader.method() != "POST") {
        Response response = errorResponse(connection, 405, u"use POST"_s);
        response.fields.emplaceBack("Allow", "POST");
        return response;
    }
    if (m_policy.isEnabled()) {
        const QByteArray authorization = reader.field("authorization");
        const AccessPolicy::Grant *grant =
            authorization.startsWith("Bearer ")
                ? m_policy.authenticate(QByteArrayView(authorization).sliced(7))
                : nullptr;
        if (!grant) {
            Response response = errorResponse(
                connection, 401,
                u"a token is needed: send \"Authorization: Bearer <token>\" (with an OTel "
                "exporter: OTEL_EXPORTER_OTLP_HEADERS=\"Authorization=Bearer <token>\")"_s);
            response.fields.emplaceBack("WWW-Authenticate", "Bearer realm=\"llmstreamer\"");
            return response;
        }
        const OtlpDecoder::Channels &c = m_settings.channels;
        QByteArrayList channels;
        if (connection.signal == OtlpDecoder::Signal::Logs)
            channels = {c.logs};
        else
            channels = c.allSpans ? QByteArrayList{c.generation, c.errors, c.spans}
                                  : QByteArrayList{c.generation, c.errors};
        for (const QByteArray &channel : channels)
            if (!AccessPolicy::permitsChannel(*grant, channel))
                return errorResponse(connection, 403,
                                     u"the token may not publish to %1; add it to the token's "
                                     "line in the token file"_s.arg(QString::fromUtf8(channel)));
    }
    if (!connection.encoding)
        return errorResponse(connection, 415,
                             u"Content-Type must be application/x-protobuf or application/json "
                             "(OTLP/HTTP; gRPC is not served)"_s);
    const QByteArray contentEncoding = reader.field("content-encoding");
    if (contentEncoding.compare("gzip", Qt::CaseInsensitive) == 0)
        connection.gzip = true;
    else if (!contentEncoding.isEmpty() &&
             contentEncoding.compare("identity", Qt::CaseInsensitive) != 0)
        return errorResponse(connection, 415,
                             u"Content-Encoding %1 is not supported; send gzip or none"_s.arg(
                                 QString::fromLatin1(contentEncoding)));
    return std::nullopt;
}

OtlpReceiver::Response OtlpReceiver::handleRequest(Connection &connection)
{
    if (!m_publisher->hasRoom()) {
        ++m_counters.busy;
        Response response = errorResponse(
            connection, 503,
            u"the receiver's buffer is full (Redis is unreachable or slow); retry later"_s);
        response.fields.emplaceBack("Retry-After", QByteArray::number(retryAfterSeconds));
        return response;
    }
    QByteArray body = connection.reader.takeBody();
    if (connection.gzip) {
        GzipInflater::Result inflated = GzipInflater::inflate(body, m_settings.maxBodyBytes);
        if (inflated.status == GzipInflater::Result::Status::TooLarge)
            return errorResponse(connection, 413,
                                 u"the body inflates to more than --max-body (%1 bytes)"_s.arg(
                                     m_settings.maxBodyBytes));
        if (inflated.status == GzipInflater::Result::Status::Corrupt)
            return errorResponse(connection, 400,
                                 u"the body is not valid gzip: %1"_s.arg(inflated.error));
        body = std::move(inflated.data);
    }
    OtlpDecoder::Limits limits;
    limits.maxOutputBytes = std::max<qint64>(4 * m_settings.maxBodyBytes, 1024 * 1024);
    OtlpDecoder::Result result = OtlpDecoder::decode(connection.signal, *connection.encoding, body,
                                                     m_settings.channels, limits);
    body.clear();
    switch (result.status) {
    case OtlpDecoder::Result::Status::Invalid:
        return errorResponse(connection, 400, result.error);
    case OtlpDecoder::Result::Status::OutputTooLarge:
        return errorResponse(connection, 413, result.error);
    case OtlpDecoder::Result::Status::Ok:
        break;
    }
    for (OtlpDecoder::Record &record : result.records)
        m_publisher->publish(record.channel, record.payload);
    ++m_counters.requests;
    m_counters.records += result.records.size();
    m_counters.rejected += quint64(result.rejected);

    const bool logs = connection.signal == OtlpDecoder::Signal::Logs;
    const QString rejectedMessage =
        result.rejected == 0
            ? QString()
            : u"%1 %2 rejected; the first: %3"_s.arg(result.rejected)
                  .arg(logs ? u"log records"_s : u"spans"_s, result.rejectedReason);
    Response response;
    if (*connection.encoding == OtlpDecoder::Encoding::Json) {
        QJsonObject answer;
        if (result.rejected > 0) {
            // int64 fields are strings in OTLP's JSON mapping.
            answer.insert("partialSuccess"_L1,
                          QJsonObject{{logs ? "rejectedLogRecords"_L1 : "rejectedSpans"_L1,
                                       QString::number(result.rejected)},
                                      {"errorMessage"_L1, rejectedMessage}});
        }
        response.contentType = "application/json";
        response.body = QJsonDocument(answer).toJson(QJsonDocument::Compact);
    } else {
        std::string bytes;
        if (logs) {
            llmstreamer::otlp::ExportLogsServiceResponse answer;
            if (result.rejected > 0) {
                answer.mutable_partial_success()->set_rejected_log_records(result.rejected);
                answer.mutable_partial_success()->set_error_message(rejectedMessage.toStdString());
            }
            answer.SerializeToString(&bytes);
        } else {
            llmstreamer::otlp::ExportTraceServiceResponse answer;
            if (result.rejected > 0) {
                answer.mutable_partial_success()->set_rejected_spans(result.rejected);
                answer.mutable_partial_success()->set_error_message(rejectedMessage.toStdString());
            }
            answer.SerializeToString(&bytes);
        }
        response.contentType = "application/x-protobuf";
        response.body = QByteArray::fromStdString(bytes);
    }
    return response;
}

OtlpReceiver::Response OtlpReceiver::errorResponse(const Connection &connection, int status,
                                                   const QString &message)
{
    ++m_counters.refused;
    Response response;
    response.status = status;
    // OTLP/HTTP: an error body is a google.rpc.Status in the request's encoding.
    if (connection.encoding == OtlpDecoder::Encoding::Protobuf) {
        llmstreamer::otlp::RpcStatus rpcStatus;
        rpcStatus.set_code(rpcCode(status));
        rpcStatus.set_message(message.toStdString());
        response.contentType = "application/x-protobuf";
        response.body = QByteArray::fromStdString(rpcStatus.SerializeAsString());
    } else if (connection.encoding == OtlpDecoder::Encoding::Json) {
        response.contentType = "application/json";
        response.body =
            QJsonDocument(QJsonObject{{"code"_L1, rpcCode(status)}, {"message"_L1, message}})
                .toJson(QJsonDocument::Compact);
    } else {
        response.contentType = "text/plain; charset=utf-8";
        response.body = message.toUtf8() + '\n';
    }
    return response;
}

void OtlpReceiver::send(Connection &connection, const Response &response)
{
    QByteArray head = "HTTP/1.1 " + QByteArray::number(response.status) + ' ' +
                      reasonPhrase(response.status) + "\r\nContent-Type: " + response.contentType +
                      "\r\nContent-Length: " + QByteArray::number(response.body.size()) + "\r\n";
    for (const auto &[name, value] : response.fields)
        head += name + ": " + value + "\r\n";
    if (response.close)
        head += "Connection: close\r\n";
    head += "\r\n";
    connection.socket->write(head + response.body);
    if (!response.close)
        return;
    connection.lingering = true;
    connection.input.clear();
    connection.idle->start(lingerMs);
    if (connection.socket->bytesToWrite() == 0)
        ::shutdown(int(connection.socket->socketDescriptor()), SHUT_WR);
}
