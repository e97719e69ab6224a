#include "gatewayserver.h"

#include "channelglob.h"
#include "hub.h"
#include "prometheustext.h"
#include "redissubscriber.h"
#include "sseclient.h"

#include <QFile>
#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QTcpServer>
#include <QUrlQuery>

#include <algorithm>

Q_LOGGING_CATEGORY(lcHttp, "llmstreamer.http")

using Status = QHttpServerResponder::StatusCode;

namespace {

constexpr int maxSelectionEntries = 64;
constexpr int maxSelectionEntryLength = 256;

void respond(QHttpServerResponder &r, Status status, const QByteArray &contentType,
             const QByteArray &body,
             std::initializer_list<std::pair<QByteArray, QByteArray>> extra = {})
{
    r.writeStatusLine(status);
    r.writeHeader("Content-Type", contentType);
    r.writeHeader("Content-Length", QByteArray::number(body.size()));
    r.writeHeader("Cache-Control", "no-store");
    r.writeHeader("X-Content-Type-Options", "nosniff");
    for (const auto &[key, value] : extra)
        r.writeHeader(key, value);
    r.writeBody(body);
}

void respondText(QHttpServerResponder &r, Status status, const QString &text,
                 std::initializer_list<std::pair<QByteArray, QByteArray>> extra = {})
{
    respond(r, status, "text/plain; charset=utf-8", text.toUtf8() + '\n', extra);
}

void respondJson(QHttpServerResponder &r, Status status, const QJsonObject &o)
{
    respond(r, status, "application/json", QJsonDocument(o).toJson(QJsonDocument::Compact));
}

} // namespace

GatewayServer::GatewayServer(const GatewayConfig &config, Hub *hub, RedisSubscriber *subscriber,
                             QObject *parent)
    : QAbstractHttpServer(parent), m_config(config), m_hub(hub), m_subscriber(subscriber)
{}

GatewayServer::~GatewayServer() = default;

bool GatewayServer::start(QString *error)
{
    m_tcp = new QTcpServer(this);
    m_tcp->setListenBacklogSize(1024);
    if (!m_tcp->listen(m_config.bind, m_config.port)) {
        *error = QStringLiteral("cannot listen on %1:%2: %3")
                     .arg(m_config.bind.toString())
                     .arg(m_config.port)
                     .arg(m_tcp->errorString());
        delete m_tcp;
        m_tcp = nullptr;
        return false;
    }
    bind(m_tcp);
    return true;
}

void GatewayServer::stopListening()
{
    if (m_tcp)
        m_tcp->close();
}

quint16 GatewayServer::port() const
{
    return m_tcp ? m_tcp->serverPort() : 0;
}

bool GatewayServer::handleRequest(const QHttpServerRequest &request, QTcpSocket *socket)
{
    QHttpServerResponder responder = makeResponder(request, socket);
    const QString path = request.url().path();
    if (request.method() != QHttpServerRequest::Method::Get) {
        respondText(responder, Status::MethodNotAllowed, QStringLiteral("only GET is supported"),
                    {{"Allow", "GET"}});
        return true;
    }
    if (path == QLatin1String("/events")) {
        serveEvents(request, std::move(responder));
    } else if (path == QLatin1String("/healthz")) {
        respondText(responder, Status::Ok, QStringLiteral("ok"));
    } else if (path == QLatin1String("/readyz")) {
        const bool ready = m_subscriber->isSubscribed();
        QJsonObject o{{QStringLiteral("ready"), ready},
                      {QStringLiteral("redis"), m_config.redis.toDisplayString()}};
        if (!ready)
            o.insert(QStringLiteral("reason"),
                     m_subscriber->lastError().isEmpty()
                         ? QStringLiteral("not subscribed to Redis yet")
                         : QStringLiteral("not subscribed to Redis: ") + m_subscriber->lastError());
        respondJson(responder, ready ? Status::Ok : Status::ServiceUnavailable, o);
    } else if (path == QLatin1String("/metrics")) {
        respond(responder, Status::Ok, "text/plain; version=0.0.4; charset=utf-8", metricsText());
    } else if (path == QLatin1String("/api/channels")) {
        respond(responder, Status::Ok, "application/json", channelsJson());
    } else {
        serveStatic(path, responder);
    }
    return true;
}

void GatewayServer::missingHandler(const QHttpServerRequest &request, QTcpSocket *socket)
{
    QHttpServerResponder responder = makeResponder(request, socket);
    respondText(responder, Status::NotFound, QStringLiteral("not found"));
}

QString GatewayServer::checkSelection(const QByteArrayList &selection,
                                      const QByteArrayList &allowlist)
{
    if (selection.size() > maxSelectionEntries)
        return QStringLiteral("too many channels selected (%1, at most %2)")
            .arg(selection.size())
            .arg(maxSelectionEntries);
    for (const QByteArray &entry : selection) {
        if (entry.size() > maxSelectionEntryLength)
            return QStringLiteral("channel name or glob longer than %1 bytes")
                .arg(maxSelectionEntryLength);
        if (std::any_of(entry.begin(), entry.end(),
                        [](char c) { return static_cast<unsigned char>(c) < 0x20; }))
            return QStringLiteral("control character in channel selection");
        const bool allowed =
            std::any_of(allowlist.begin(), allowlist.end(),
                        [&](const QByteArray &a) { return ChannelGlob::covers(a, entry); });
        if (!allowed)
            return QStringLiteral("channel \"%1\" is outside this gateway's allowlist (%2)")
                .arg(QString::fromUtf8(entry), QString::fromUtf8(allowlist.join(',')));
    }
    return {};
}

void GatewayServer::serveEvents(const QHttpServerRequest &request, QHttpServerResponder &&responder)
{
    const QUrlQuery query(request.url());
    QByteArrayList selection;
    if (query.hasQueryItem(QStringLiteral("channels"))) {
        const QString raw = query.queryItemValue(QStringLiteral("channels"), QUrl::FullyDecoded);
        for (const QString &part : raw.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
            const QByteArray entry = part.trimmed().toUtf8();
            if (!entry.isEmpty() && !selection.contains(entry))
                selection.append(entry);
        }
        if (selection.isEmpty()) {
            respondText(
                responder, Status::BadRequest,
                QStringLiteral("channels= is empty; leave it out to receive every channel"));
            return;
        }
        if (const QString why = checkSelection(selection, m_config.channels); !why.isEmpty()) {
            respondText(responder, Status::BadRequest, why);
            return;
        }
    }
    if (m_hub->clientCount() >= m_config.maxClients) {
        respondText(
            responder, Status::ServiceUnavailable,
            QStringLiteral("too many clients (%1); try again later").arg(m_config.maxClients),
            {{"Retry-After", "5"}});
        return;
    }
    int tail = 0;
    if (query.hasQueryItem(QStringLiteral("tail"))) {
        bool ok = false;
        tail = query.queryItemValue(QStringLiteral("tail")).toInt(&ok);
        if (!ok || tail < 0) {
            respondText(responder, Status::BadRequest,
                        QStringLiteral("tail= must be a number of events (0 or more)"));
            return;
        }
        tail = std::min(tail, m_config.history); // more than the history holds is all of it
    }
    QByteArray lastEventId = request.value("Last-Event-ID");
    if (lastEventId.isEmpty())
        lastEventId =
            query.queryItemValue(QStringLiteral("last_event_id"), QUrl::FullyDecoded).toUtf8();
    m_hub->addClient(std::make_unique<SseClient>(std::move(responder), selection),
                     lastEventId.trimmed(), tail);
}

void GatewayServer::serveStatic(const QString &path, QHttpServerResponder &responder)
{
    static const QHash<QString, QByteArray> types{
        {QStringLiteral("html"), "text/html; charset=utf-8"},
        {QStringLiteral("js"), "text/javascript; charset=utf-8"},
        {QStringLiteral("css"), "text/css; charset=utf-8"},
        {QStringLiteral("svg"), "image/svg+xml"},
        {QStringLiteral("png"), "image/png"},
        {QStringLiteral("ico"), "image/x-icon"}};
    QString name = path == QLatin1String("/") ? QStringLiteral("index.html") : path.mid(1);
    // Only plain file names from the embedded dashboard; no paths.
    const bool plain =
        !name.isEmpty() && !name.contains(QLatin1Char('/')) && !name.startsWith(QLatin1Char('.'));
    QFile file(QStringLiteral(":/dashboard/") + name);
    if (!plain || !file.open(QIODevice::ReadOnly)) {
        respondText(responder, Status::NotFound, QStringLiteral("not found: %1").arg(path));
        return;
    }
    const QByteArray type =
        types.value(name.section(QLatin1Char('.'), -1), "application/octet-stream");
    respond(responder, Status::Ok, type, file.readAll(),
            {{"Content-Security-Policy",
              "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
              "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"},
             {"Referrer-Policy", "no-referrer"}});
}

QByteArray GatewayServer::channelsJson() const
{
    QJsonArray channels;
    std::vector<const Hub::ChannelStats *> sorted;
    for (const Hub::ChannelStats &s : m_hub->channels())
        sorted.push_back(&s);
    std::sort(sorted.begin(), sorted.end(), [](auto *a, auto *b) { return a->name < b->name; });
    for (const Hub::ChannelStats *s : sorted)
        channels.append(QJsonObject{{QStringLiteral("name"), QString::fromUtf8(s->name)},
                                    {QStringLiteral("received"), qint64(s->received)},
                                    {QStringLiteral("rate"), s->rate},
                                    {QStringLiteral("tokens_rate"), s->tokenRate},
                                    {QStringLiteral("last_ts"), s->lastTs}});
    QJsonArray allow;
    for (const QByteArray &a : m_config.channels)
        allow.append(QString::fromUtf8(a));
    return QJsonDocument(QJsonObject{{QStringLiteral("allowlist"), allow},
                                     {QStringLiteral("channels"), channels}})
        .toJson(QJsonDocument::Compact);
}

QByteArray GatewayServer::metricsText() const
{
    PrometheusText m;
    m.family("llmstreamer_build_info", "gauge", "Version of the gateway.");
    m.sample("llmstreamer_build_info", {{"version", LLMSTREAMER_VERSION}}, 1);

    struct Counter
    {
        const char *name;
        const char *help;
        quint64 Hub::ChannelStats::*field;
    };
    const Counter perChannel[] = {
        {"llmstreamer_messages_received_total", "Messages received from Redis.",
         &Hub::ChannelStats::received},
        {"llmstreamer_messages_delivered_total",
         "Messages written to live clients (one per client).", &Hub::ChannelStats::delivered},
        {"llmstreamer_messages_dropped_total",
         "Messages not written because the client was cut loose for not reading.",
         &Hub::ChannelStats::dropped},
        {"llmstreamer_messages_replayed_total", "Messages replayed after Last-Event-ID.",
         &Hub::ChannelStats::replayed},
        {"llmstreamer_payload_bytes_received_total", "Payload bytes received from Redis.",
         &Hub::ChannelStats::bytes},
        {"llmstreamer_output_tokens_received_total",
         "gen_ai.usage.output_tokens summed over JSON payloads.", &Hub::ChannelStats::outputTokens},
    };
    for (const Counter &c : perChannel) {
        m.family(c.name, "counter", c.help);
        for (const Hub::ChannelStats &s : m_hub->channels())
            m.sample(c.name, {{"channel", s.name}}, double(s.*(c.field)));
    }
    m.family("llmstreamer_channel_rate", "gauge", "Messages per second over the last second.");
    for (const Hub::ChannelStats &s : m_hub->channels())
        m.sample("llmstreamer_channel_rate", {{"channel", s.name}}, s.rate);

    m.family("llmstreamer_clients", "gauge", "Open SSE streams.");
    m.sample("llmstreamer_clients", m_hub->clientCount());
    m.family("llmstreamer_clients_accepted_total", "counter", "SSE streams opened.");
    m.sample("llmstreamer_clients_accepted_total", double(m_hub->clientsAccepted()));
    m.family("llmstreamer_clients_dropped_total", "counter",
             "SSE streams cut loose because the client stopped reading.");
    m.sample("llmstreamer_clients_dropped_total", {{"reason", "slow"}},
             double(m_hub->clientsDroppedSlow()));
    m.family("llmstreamer_gaps_total", "counter", "Gap events announced.");
    m.sample("llmstreamer_gaps_total", {{"reason", "redis"}}, double(m_hub->gapsRedis()));
    m.sample("llmstreamer_gaps_total", {{"reason", "history"}}, double(m_hub->gapsHistory()));
    m.family("llmstreamer_invalid_utf8_payloads_total", "counter",
             "Payloads whose invalid UTF-8 bytes were replaced by U+FFFD.");
    m.sample("llmstreamer_invalid_utf8_payloads_total", double(m_hub->invalidUtf8Payloads()));
    m.family("llmstreamer_replay_events", "gauge", "Events held for replay.");
    m.sample("llmstreamer_replay_events", double(m_hub->ring().size()));
    m.family("llmstreamer_replay_bytes", "gauge", "Bytes of events held for replay.");
    m.sample("llmstreamer_replay_bytes", double(m_hub->ring().bytes()));
    m.family("llmstreamer_redis_connected", "gauge", "1 while subscribed to Redis.");
    m.sample("llmstreamer_redis_connected", m_subscriber->isSubscribed() ? 1 : 0);
    m.family("llmstreamer_redis_reconnects_total", "counter",
             "Connections to Redis re-established after a loss.");
    m.sample("llmstreamer_redis_reconnects_total", double(m_subscriber->reconnects()));
    return m.text();
}
