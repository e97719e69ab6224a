#pragma once

#include <QByteArray>
#include <QElapsedTimer>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>

#include <functional>

// A scripted HTTP server for the desktop client's protocol tests: it reads each request head,
// records it, and lets the test answer on the raw socket (an SSE stream in pieces, a 401 with a
// body, silence, a close...). Everything happens in the test's event loop.
class DesktopStubServer final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DesktopStubServer)

public:
    // Called once per request with the socket, the request head and the request's index (0..).
    using Handler = std::function<void(QTcpSocket *socket, const QByteArray &head, int index)>;

    explicit DesktopStubServer(QObject *parent = nullptr);
    ~DesktopStubServer() override;

    bool listen(quint16 port = 0);
    void close();
    quint16 port() const { return m_server.serverPort(); }
    QByteArray baseUrl() const;
    void setHandler(Handler handler) { m_handler = std::move(handler); }

    qsizetype requestCount() const { return m_requests.size(); }
    QList<QByteArray> requests() const { return m_requests; }
    // A request header's value (case-insensitive name), or a null QByteArray when absent.
    static QByteArray header(const QByteArray &head, const QByteArray &name);
    // ms since listen() at which each request arrived.
    QList<qint64> requestTimes() const { return m_times; }
    // The socket of the latest request (null once it closed).
    QTcpSocket *lastSocket() const { return m_last; }

    static QByteArray sseHead();
    static QByteArray response(int status, const QByteArray &reason, const QByteArray &body,
                               const QByteArray &contentType = "text/plain; charset=utf-8",
                               const QByteArray &extraHeaders = {});

private:
    void handleConnection();

    QTcpServer m_server;
    Handler m_handler;
    QList<QByteArray> m_requests;
    QList<qint64> m_times;
    QElapsedTimer m_clock;
    QPointer<QTcpSocket> m_last;
};
