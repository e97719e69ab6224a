#include "gatewayserver.h"

#include "channelglob.h"
#include "connectionguard.h"
#include "gatewaymetrics.h"
#include "hub.h"
#include "redisfeed.h"
#include "sseclient.h"
#include "tlsidentity.h"

#include <QDateTime>
#include <QFile>
#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QPointer>
#include <QTcpSocket>
#include <QUrlQuery>

#include <algorithm>
#include <memory>

Q_LOGGING_CATEGORY(lcHttp, "llmstreamer.http")

using Status = QHttpServerResponder::StatusCode;

namespace {

constexpr qsizetype maxSessions = 10000;
const QByteArray sessionCookie = QByteArrayLiteral("llmstreamer_session");

// Security headers, built once. Every response also gets nosniff and no-store (respond()).
using HeaderList = QList<QPair<QByteArray, QByteArray>>;
const HeaderList challengeHeaders{{"WWW-Authenticate", "Bearer realm=\"llmstreamer\""}};
const HeaderList signInPageHeaders{{"WWW-Authenticate", "Bearer realm=\"llmstreamer\""},
                                   {"Content-Security-Policy",
                                    "default-src 'self'; style-src 'self'; script-src 'self'; "
                                    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"},
                                   {"Referrer-Policy", "no-referrer"}};
const HeaderList dashboardHeaders{
    {"Content-Security-Policy",
     "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
     "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"},
    {"Referrer-Policy", "no-referrer"}};

// The sign-in page, read once: a request without a token costs no file read.
const QByteArray &signInPage()
{
    static const QByteArray page = [] {
        QFile login(QStringLiteral(":/dashboard/login.html"));
        return login.open(QIODevice::ReadOnly) ? login.readAll() : QByteArray();
    }();
    return page;
}

bool isPage(const QString &path)
{
    return path == QLatin1String("/") || path.endsWith(QLatin1String(".html"));
}

// The value of cookie `name` in a Cookie header ("a=1; b=2").
QByteArray cookieValue(const QByteArray &header, const QByteArray &name)
{
    for (const QByteArray &part : header.split(';')) {
        const QByteArray kv = part.trimmed();
        if (kv.startsWith(name) && kv.size() > name.size() && kv[name.size()] == '=')
            return kv.mid(name.size() + 1);
    }
    return {};
}

QByteArray bearerToken(const QByteArray &authorization)
{
    const QByteArray v = authorization.trimmed();
    if (v.size() > 7 && v.first(7).toLower() == "bearer ")
        return v.mid(7).trimmed();
    return {};
}

} // namespace

GatewayServer::GatewayServer(const GatewayConfig &config, Hub *hub, RedisFeed *feed,
                             QObject *parent)
    : QAbstractHttpServer(parent), m_config(config), m_hub(hub), m_feed(feed),
      m_sessions(config.sessionsPerToken, maxSessions, qint64(config.sessionLifetimeSeconds) * 1000)
{}

GatewayServer::~GatewayServer() = default;

bool GatewayServer::start(QString *error)
{
    ConnectionGuard::Limits limits;
    limits.maxRequestBytes = m_config.maxRequestBytes;
    limits.idleTimeoutSeconds = m_config.idleTimeoutSeconds;
    limits.headTimeoutSeconds = m_config.headTimeoutSeconds;
    limits.maxConnectionsPerAddress = m_config.maxConnectionsPerAddress;
    limits.trustedProxies = m_config.trustedProxies;
    m_tcp = new ConnectionGuard(limits, this);
    if (isTls()) {
        QString why;
        const auto identity = TlsIdentity::load(m_config.tlsCertFile, m_config.tlsKeyFile, &why);
        if (!identity) {
            *error = QStringLiteral("cannot serve HTTPS: %1").arg(why);
            delete m_tcp;
            m_tcp = nullptr;
            return false;
        }
        m_tlsSummary = identity->summary();
        m_tcp->setTlsConfiguration(identity->configuration);
        // Browsers then use HTTPS for this host for a year, even if given an http:// link.
        m_tlsHeaders = {{"Strict-Transport-Security", "max-age=31536000"}};
    }
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
    m_tcp->serverBound();
    return true;
}

bool GatewayServer::reloadTls(QString *message)
{
    if (!isTls() || !m_tcp) {
        *message = QStringLiteral("no --tls-cert: nothing to reload");
        return false;
    }
    QString why;
    const auto identity = TlsIdentity::load(m_config.tlsCertFile, m_config.tlsKeyFile, &why);
    if (!identity) {
        *message = QStringLiteral("certificate not reloaded, the old one stays: %1").arg(why);
        return false;
    }
    m_tcp->setTlsConfiguration(identity->configuration);
    m_tlsSummary = identity->summary();
    *message = QStringLiteral("certificate reloaded: %1").arg(identity->summary());
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

void GatewayServer::respond(QHttpServerResponder &r, int status, const QByteArray &contentType,
                            const QByteArray &body, const Headers &extra)
{
    r.writeStatusLine(Status(status));
    r.writeHeader("Content-Type", contentType);
    r.writeHeader("Content-Length", QByteArray::number(body.size()));
    r.writeHeader("Cache-Control", "no-store");
    r.writeHeader("X-Content-Type-Options", "nosniff");
    if (m_tcp && m_tcp->closesAfterResponse(r.socket()))
        r.writeHeader("Connection", "close");
    for (const auto &[key, value] : std::as_const(m_responseHeaders))
        r.writeHeader(key, value);
    for (const auto &[key, value] : std::as_const(m_tlsHeaders))
        r.writeHeader(key, value);
    for (const auto &[key, value] : extra)
        r.writeHeader(key, value);
    r.writeBody(body);
}

void GatewayServer::respondText(QHttpServerResponder &r, int status, const QString &text,
                                const Headers &extra)
{
    respond(r, status, "text/plain; charset=utf-8", text.toUtf8() + '\n', extra);
}

// Only requests the ConnectionGuard accepted get here: a complete, unambiguous head without a
// body, within the size limits, one at a time per connection.
bool GatewayServer::handleRequest(const QHttpServerRequest &request, QTcpSocket *socket)
{
    QHttpServerResponder responder = makeResponder(request, socket);
    applyCors(request);
    if (answerPreflightOrMethod(request, responder))
        return true;
    if (request.url().path() == QLatin1String("/healthz")) {
        respondText(responder, 200, QStringLiteral("ok"));
        return true;
    }
    const AccessPolicy::Grant *grant = nullptr;
    if (answerUnauthorized(request, responder, &grant) || answerSignIn(request, responder, grant))
        return true;
    route(request, std::move(responder), grant);
    return true;
}

void GatewayServer::applyCors(const QHttpServerRequest &request)
{
    m_responseHeaders.clear();
    const QByteArray origin = request.value("Origin");
    if (!origin.isEmpty() && m_config.corsOrigins.contains(origin)) {
        m_responseHeaders = {{"Access-Control-Allow-Origin", origin},
                             {"Access-Control-Allow-Credentials", "true"},
                             {"Vary", "Origin"}};
    }
}

bool GatewayServer::answerPreflightOrMethod(const QHttpServerRequest &request,
                                            QHttpServerResponder &r)
{
    if (request.method() == QHttpServerRequest::Method::Options) {
        // CORS preflight: headers only when the origin is allowed.
        Headers allow{{"Allow", "GET, OPTIONS"}};
        if (!m_responseHeaders.isEmpty())
            allow += Headers{
                {"Access-Control-Allow-Methods", "GET"},
                {"Access-Control-Allow-Headers", "Authorization, Last-Event-ID, Cache-Control"},
                {"Access-Control-Max-Age", "600"}};
        respond(r, 204, "text/plain", {}, allow);
        return true;
    }
    if (request.method() != QHttpServerRequest::Method::Get) {
        respondText(r, 405, QStringLiteral("only GET is supported"), {{"Allow", "GET"}});
        return true;
    }
    return false;
}

bool GatewayServer::answerUnauthorized(const QHttpServerRequest &request, QHttpServerResponder &r,
                                       const AccessPolicy::Grant **grant)
{
    const QString path = request.url().path();
    // The sign-in page's own assets are public: it is shown to those without a token.
    if (!m_config.access.isEnabled() || path == QLatin1String("/login.css") ||
        path == QLatin1String("/favicon.svg"))
        return false;
    *grant = authenticate(request);
    if (*grant)
        return false;
    const bool tried = !request.value("Authorization").isEmpty() ||
                       QUrlQuery(request.url()).hasQueryItem(QStringLiteral("token")) ||
                       !cookieValue(request.value("Cookie"), sessionCookie).isEmpty();
    ++m_authFailures[tried ? "invalid" : "missing"];
    refuse(r, path,
           tried ? QStringLiteral("invalid or expired token")
                 : QStringLiteral("a token is required: send \"Authorization: Bearer "
                                  "<token>\" or open /?token=<token> once"));
    return true;
}

bool GatewayServer::answerSignIn(const QHttpServerRequest &request, QHttpServerResponder &r,
                                 const AccessPolicy::Grant *grant)
{
    if (!grant || !isPage(request.url().path()) ||
        !QUrlQuery(request.url()).hasQueryItem(QStringLiteral("token")) ||
        !bearerToken(request.value("Authorization")).isEmpty())
        return false;
    // Swap the token in the URL for an HttpOnly session cookie, then drop it from the URL.
    const QByteArray session = m_sessions.create(grant->token, QDateTime::currentMSecsSinceEpoch());
    QUrlQuery query(request.url());
    query.removeAllQueryItems(QStringLiteral("token"));
    QByteArray location = request.url().path(QUrl::FullyEncoded).toUtf8();
    if (!query.isEmpty())
        location += '?' + query.toString(QUrl::FullyEncoded).toUtf8();
    respondText(r, 303, QStringLiteral("signed in"),
                {{"Location", location},
                 {"Set-Cookie", sessionCookie + '=' + session + "; Path=/; Max-Age=" +
                                    QByteArray::number(m_config.sessionLifetimeSeconds) +
                                    "; HttpOnly; SameSite=Strict" + (isTls() ? "; Secure" : "")}});
    return true;
}

void GatewayServer::route(const QHttpServerRequest &request, QHttpServerResponder &&r,
                          const AccessPolicy::Grant *grant)
{
    const QString path = request.url().path();
    if (path == QLatin1String("/events")) {
        serveEvents(request, std::move(r), grant);
    } else if (path == QLatin1String("/readyz")) {
        const bool ready = m_feed->isReady();
        QJsonObject o{{QStringLiteral("ready"), ready},
                      {QStringLiteral("redis"), m_config.redis.toDisplayString()}};
        if (!ready)
            o.insert(QStringLiteral("reason"),
                     m_feed->lastError().isEmpty()
                         ? QStringLiteral("not subscribed to Redis yet")
                         : QStringLiteral("not subscribed to Redis: ") + m_feed->lastError());
        respond(r, ready ? 200 : 503, "application/json",
                QJsonDocument(o).toJson(QJsonDocument::Compact));
    } else if (path == QLatin1String("/metrics")) {
        // /metrics names every channel and counter: with tokens, only for a metrics grant.
        if (grant && !grant->metrics) {
            ++m_authFailures["forbidden"];
            respondText(r, 403,
                        QStringLiteral("this token may not read /metrics; give it the grant "
                                       "+metrics in the token file"));
            return;
        }
        respond(r, 200, "text/plain; version=0.0.4; charset=utf-8",
                GatewayMetrics::text(
                    {*m_hub, *m_feed, m_tcp, m_limitHits, m_authFailures, m_sessions.size()}));
    } else if (path == QLatin1String("/api/history")) {
        serveHistory(request, std::move(r), grant);
    } else if (path == QLatin1String("/api/channels")) {
        respond(r, 200, "application/json", channelsJson(grant));
    } else {
        serveStatic(path, r);
    }
}

int GatewayServer::replaceAccess(AccessPolicy access)
{
    m_config.access = std::move(access);
    // Grants are looked up by token: a token still there with the same channels goes on.
    auto revoked = [this](const QByteArray &token, const QByteArrayList *channels) {
        if (token.isEmpty())
            return m_config.access.isEnabled(); // opened without a token; tokens now required
        const AccessPolicy::Grant *g = m_config.access.authenticate(token);
        return !g || (channels && g->channels != *channels);
    };
    m_sessions.removeWhere([&](const QByteArray &token) { return revoked(token, nullptr); });
    return m_hub->closeClientsWhere(
        [&](const EventSink &c) { return revoked(c.grantToken(), &c.grantChannels()); },
        "access-revoked");
}

void GatewayServer::missingHandler(const QHttpServerRequest &request, QTcpSocket *socket)
{
    QHttpServerResponder responder = makeResponder(request, socket);
    respondText(responder, 404, QStringLiteral("not found"));
}

const AccessPolicy::Grant *GatewayServer::authenticate(const QHttpServerRequest &request)
{
    if (const QByteArray bearer = bearerToken(request.value("Authorization")); !bearer.isEmpty())
        return m_config.access.authenticate(bearer);
    // A token in the URL wins over a session: it is how one signs in again, or as someone else.
    const QUrlQuery query(request.url());
    if (query.hasQueryItem(QStringLiteral("token")))
        return m_config.access.authenticate(
            query.queryItemValue(QStringLiteral("token"), QUrl::FullyDecoded).toUtf8());
    const QByteArray session = cookieValue(request.value("Cookie"), sessionCookie);
    if (session.isEmpty())
        return nullptr;
    const QByteArray token = m_sessions.tokenOf(session, QDateTime::currentMSecsSinceEpoch());
    return token.isEmpty() ? nullptr : m_config.access.authenticate(token);
}

void GatewayServer::refuse(QHttpServerResponder &r, const QString &path, const QString &why)
{
    // A browser gets the sign-in page (still a 401), which asks for the token.
    if (isPage(path) && !signInPage().isEmpty())
        respond(r, 401, "text/html; charset=utf-8", signInPage(), signInPageHeaders);
    else
        respondText(r, 401, why, challengeHeaders);
}

QString GatewayServer::checkSelection(const QByteArrayList &selection) const
{
    if (selection.size() > m_config.maxSelection)
        return QStringLiteral("too many channels selected (%1, at most %2)")
            .arg(selection.size())
            .arg(m_config.maxSelection);
    for (const QByteArray &entry : selection) {
        if (entry.size() > m_config.maxGlobLength)
            return QStringLiteral("channel name or glob longer than %1 bytes")
                .arg(m_config.maxGlobLength);
        if (std::any_of(entry.begin(), entry.end(),
                        [](char c) { return static_cast<unsigned char>(c) < 0x20; }))
            return QStringLiteral("control character in channel selection");
        const bool allowed =
            std::any_of(m_config.channels.begin(), m_config.channels.end(),
                        [&](const QByteArray &a) { return ChannelGlob::covers(a, entry); });
        if (!allowed)
            return QStringLiteral("channel \"%1\" is outside this gateway's allowlist (%2)")
                .arg(QString::fromUtf8(entry), QString::fromUtf8(m_config.channels.join(',')));
    }
    return {};
}

bool GatewayServer::readSelection(const QUrlQuery &query, const AccessPolicy::Grant *grant,
                                  QHttpServerResponder &responder, QByteArrayList *out)
{
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
                responder, 400,
                QStringLiteral("channels= is empty; leave it out to receive every channel"));
            return false;
        }
        if (const QString why = checkSelection(selection); !why.isEmpty()) {
            countLimit("selection");
            respondText(responder, 400, why);
            return false;
        }
        if (grant) {
            for (const QByteArray &entry : std::as_const(selection)) {
                if (!AccessPolicy::permits(*grant, entry)) {
                    ++m_authFailures["forbidden"];
                    respondText(responder, 403,
                                QStringLiteral("this token may not read \"%1\" (it may read %2)")
                                    .arg(QString::fromUtf8(entry),
                                         QString::fromUtf8(grant->channels.join(','))));
                    return false;
                }
            }
        }
    } else if (grant) {
        selection = grant->channels; // everything this token may read
        if (selection.isEmpty()) {
            ++m_authFailures["forbidden"];
            respondText(responder, 403, QStringLiteral("this token may read no channels"));
            return false;
        }
    }
    // A selection that covers the whole allowlist is everything the gateway carries: the
    // stream then also counts the aggregate rows in its stats, and matches nothing per event.
    const bool everything =
        std::all_of(m_config.channels.begin(), m_config.channels.end(), [&](const QByteArray &a) {
            return std::any_of(selection.begin(), selection.end(),
                               [&](const QByteArray &s) { return ChannelGlob::covers(s, a); });
        });
    if (everything)
        selection.clear();
    *out = std::move(selection);
    return true;
}

void GatewayServer::serveHistory(const QHttpServerRequest &request,
                                 QHttpServerResponder &&responder, const AccessPolicy::Grant *grant)
{
    const QUrlQuery query(request.url());
    QByteArrayList selection;
    if (!readSelection(query, grant, responder, &selection))
        return;
    QString error;
    auto history = HistoryQuery::parse(query, &error);
    if (!history) {
        respondText(responder, 400, error);
        return;
    }
    history->setSelection(std::move(selection));
    // The stream's history comes from Redis later: no further request of this connection is
    // read until it is answered (responses go out in order).
    struct Pending
    {
        QHttpServerResponder responder;
        QPointer<QTcpSocket> socket;
        Headers headers; // CORS, of this request
        bool answered = false;
        bool deferred = false;
    };
    auto pending = std::make_shared<Pending>(
        Pending{std::move(responder), nullptr, m_responseHeaders, false, false});
    pending->socket = pending->responder.socket();
    m_history(*history, [this, pending](const HistoryAnswer &answer) {
        pending->answered = true;
        if (!pending->socket)
            return; // the client went away meanwhile
        m_responseHeaders = pending->headers;
        if (answer.status == 200)
            respond(pending->responder, 200, "application/json", answer.body);
        else
            respond(pending->responder, answer.status, "text/plain; charset=utf-8", answer.body);
        if (pending->deferred && m_tcp)
            m_tcp->releaseRequests(pending->socket);
    });
    if (!pending->answered && m_tcp && pending->socket) {
        pending->deferred = true;
        m_tcp->holdRequests(pending->socket);
    }
}

void GatewayServer::serveEvents(const QHttpServerRequest &request, QHttpServerResponder &&responder,
                                const AccessPolicy::Grant *grant)
{
    const QUrlQuery query(request.url());
    QByteArrayList selection;
    if (!readSelection(query, grant, responder, &selection))
        return;
    int tail = 0;
    if (query.hasQueryItem(QStringLiteral("tail"))) {
        bool ok = false;
        tail = query.queryItemValue(QStringLiteral("tail")).toInt(&ok);
        if (!ok || tail < 0) {
            respondText(responder, 400,
                        QStringLiteral("tail= must be a number of events (0 or more)"));
            return;
        }
        tail = std::min(tail, m_config.history); // more than the history holds is all of it
    }
    if (m_hub->clientCount() >= m_config.maxClients) {
        countLimit("max_clients");
        respondText(
            responder, 503,
            QStringLiteral("too many clients (%1); try again later").arg(m_config.maxClients),
            {{"Retry-After", "5"}});
        return;
    }
    // Behind a trusted proxy, the client it forwarded the request for.
    const QHostAddress client = m_tcp->clientAddress(responder.socket());
    if (m_hub->clientsFrom(client) >= m_config.maxClientsPerAddress) {
        countLimit("max_clients_per_address");
        respondText(responder, 429,
                    QStringLiteral("too many streams from %1 (%2); try again later")
                        .arg(client.toString())
                        .arg(m_config.maxClientsPerAddress),
                    {{"Retry-After", "5"}});
        return;
    }
    QByteArray lastEventId = request.value("Last-Event-ID");
    if (lastEventId.isEmpty())
        lastEventId =
            query.queryItemValue(QStringLiteral("last_event_id"), QUrl::FullyDecoded).toUtf8();
    m_tcp->markStreaming(responder.socket());
    m_hub->addClient(std::make_unique<SseClient>(std::move(responder), client, selection,
                                                 m_responseHeaders + m_tlsHeaders,
                                                 grant ? grant->token : QByteArray(),
                                                 grant ? grant->channels : QByteArrayList()),
                     lastEventId.trimmed(), tail);
}

void GatewayServer::serveStatic(const QString &path, QHttpServerResponder &responder, int status)
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
        respondText(responder, 404, QStringLiteral("not found: %1").arg(path));
        return;
    }
    const QByteArray type =
        types.value(name.section(QLatin1Char('.'), -1), "application/octet-stream");
    respond(responder, status, type, file.readAll(), dashboardHeaders);
}

QByteArray GatewayServer::channelsJson(const AccessPolicy::Grant *grant) const
{
    QJsonArray channels;
    std::vector<const Hub::ChannelStats *> sorted;
    for (const Hub::ChannelStats &s : m_hub->channels())
        if (!grant || (!s.aggregate && AccessPolicy::permitsChannel(*grant, s.name)))
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
    QJsonObject o{{QStringLiteral("allowlist"), allow},
                  {QStringLiteral("channels"), channels},
                  {QStringLiteral("transport"), QLatin1StringView(m_hub->transportName())}};
    if (grant) {
        QJsonArray permitted;
        for (const QByteArray &c : grant->channels)
            permitted.append(QString::fromUtf8(c));
        o.insert(QStringLiteral("permitted"), permitted);
    }
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}
