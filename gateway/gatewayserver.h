#pragma once

#include "gatewayconfig.h"
#include "history.h"
#include "sessionstore.h"

#include <QAbstractHttpServer>
#include <QList>
#include <QPair>

#include <functional>
#include <map>

class ConnectionGuard;
class Hub;
class QHttpServerResponder;
class QUrlQuery;
class RedisFeed;

// The HTTP face of the gateway: routes requests to the dashboard, the SSE stream and the JSON
// and Prometheus endpoints, and enforces what Qt HttpServer 6.4 does not: access tokens (Bearer
// header, ?token= exchanged for a session cookie), CORS for named origins, request size and
// client count limits. Listens through a ConnectionGuard (backlog, read buffer, idle timeout).
class GatewayServer final : public QAbstractHttpServer
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(GatewayServer)

public:
    GatewayServer(const GatewayConfig &config, Hub *hub, RedisFeed *feed,
                  QObject *parent = nullptr);
    ~GatewayServer() override;

    // How /api/history is answered (from the ring, or from the stream); `done` may be called
    // at once or later from the event loop.
    using HistorySearch = std::function<void(const HistoryQuery &query,
                                             std::function<void(const HistoryAnswer &)> done)>;
    void setHistorySearch(HistorySearch search) { m_history = std::move(search); }

    // Listens; with --tls-cert, a certificate or key that cannot be used is the error.
    bool start(QString *error);
    // Reads the certificate and key again (SIGHUP): new connections get them, open ones keep
    // theirs. On failure the old ones stay. `message` says what happened.
    bool reloadTls(QString *message);
    bool isTls() const { return !m_config.tlsCertFile.isEmpty(); }
    // The certificate in use (TlsIdentity::summary()); empty without TLS.
    const QString &tlsSummary() const { return m_tlsSummary; }
    // Stops accepting connections; open streams are the hub's to close.
    void stopListening();
    quint16 port() const;

    // Validates a ?channels= selection against the allowlist; returns the reason it is refused.
    QString checkSelection(const QByteArrayList &selection) const;
    // Replaces the tokens (the token file was reloaded): sessions and streams whose token is
    // gone or reads other channels now end. Returns how many streams were closed.
    int replaceAccess(AccessPolicy access);
    const AccessPolicy &access() const { return m_config.access; }
    qsizetype sessionCount() const { return m_sessions.size(); }

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override;
    void missingHandler(const QHttpServerRequest &request, QTcpSocket *socket) override;

private:
    using Headers = QList<QPair<QByteArray, QByteArray>>;

    void respond(QHttpServerResponder &r, int status, const QByteArray &contentType,
                 const QByteArray &body, const Headers &extra = {});
    void respondText(QHttpServerResponder &r, int status, const QString &text,
                     const Headers &extra = {});
    // Who is asking (Bearer header, else ?token=, else the session cookie): null when tokens
    // are configured and none valid was given.
    const AccessPolicy::Grant *authenticate(const QHttpServerRequest &request);
    // The steps of handleRequest, in order; each returns true when it answered the request.
    void applyCors(const QHttpServerRequest &request);
    bool answerPreflightOrMethod(const QHttpServerRequest &request, QHttpServerResponder &r);
    bool answerUnauthorized(const QHttpServerRequest &request, QHttpServerResponder &r,
                            const AccessPolicy::Grant **grant);
    bool answerSignIn(const QHttpServerRequest &request, QHttpServerResponder &r,
                      const AccessPolicy::Grant *grant);
    void route(const QHttpServerRequest &request, QHttpServerResponder &&r,
               const AccessPolicy::Grant *grant);
    void refuse(QHttpServerResponder &r, const QString &path, const QString &why);
    // The ?channels= selection, checked against the allowlist and the token (empty: all it
    // may read); false when the request was answered with why it is refused.
    bool readSelection(const QUrlQuery &query, const AccessPolicy::Grant *grant,
                       QHttpServerResponder &responder, QByteArrayList *selection);
    void serveEvents(const QHttpServerRequest &request, QHttpServerResponder &&responder,
                     const AccessPolicy::Grant *grant);
    void serveHistory(const QHttpServerRequest &request, QHttpServerResponder &&responder,
                      const AccessPolicy::Grant *grant);
    void serveStatic(const QString &path, QHttpServerResponder &responder, int status = 200);
    QByteArray channelsJson(const AccessPolicy::Grant *grant) const;
    void countLimit(const char *limit) { ++m_limitHits[limit]; }

    GatewayConfig m_config;
    Hub *m_hub;
    RedisFeed *m_feed;
    ConnectionGuard *m_tcp = nullptr;
    Headers m_responseHeaders; // added to every response of the request being handled (CORS)
    SessionStore m_sessions;
    std::map<QByteArray, quint64> m_limitHits;
    std::map<QByteArray, quint64> m_authFailures;
    HistorySearch m_history;
    Headers m_tlsHeaders; // on every response over HTTPS (HSTS)
    QString m_tlsSummary;
};
