#pragma once

#include "eventsink.h"

#include <QByteArray>
#include <QByteArrayList>
#include <QHostAddress>
#include <QList>
#include <QMetaObject>
#include <QPair>
#include <QPointer>
#include <QTcpSocket>

#include <functional>
#include <memory>
#include <vector>

class QHttpServerResponder;

// One /events stream over HTTP: the responder and its socket, behind the hub's EventSink. Not a
// QObject: it connects to its socket's signals with the socket as context, so a client costs no
// QObject of its own. QHttpServerResponder::socket() is public only in Qt 6.4; besides this
// class, GatewayServer uses it to tell the ConnectionGuard which connection a response or a new
// stream belongs to.
class SseClient final : public EventSink
{
public:
    using Headers = QList<QPair<QByteArray, QByteArray>>;

    // `client` is who opened the stream (the peer, or the client a trusted proxy forwarded
    // for); `headers` are added to the response head (CORS); `grant` is the token the stream
    // was opened with, if any, and its channels then (a token file reload ends the streams whose
    // grant changed).
    SseClient(QHttpServerResponder &&responder, QHostAddress client, QByteArrayList selection,
              Headers headers = {}, QByteArray grantToken = {}, QByteArrayList grantChannels = {});
    ~SseClient() override;
    Q_DISABLE_COPY_MOVE(SseClient)

    void begin(int retryMilliseconds, const QByteArray &firstBytes) override;
    // Writes through the socket's own buffer at once (after anything queued).
    void write(const QByteArray &bytes) override;
    // The live fan-out path: a client costs one sendmsg() per event-loop pass, however many
    // events arrived, and no QSocketNotifier toggling (see flush).
    bool queue(const QByteArray &bytes) override;
    // Writes the queued frames with one sendmsg(); what the kernel does not take goes to the
    // socket's buffer (which then drains by its write notifier as before).
    void flush() override;
    // Sends `finalBytes`, closes once flushed, aborts if that takes too long.
    void close(const QByteArray &finalBytes) override;

    bool isConnected() const override;
    qint64 pendingBytes() const override;
    QHostAddress peerAddress() const override { return m_peer; }
    const QByteArrayList &selection() const override { return m_selection; }
    const QByteArray &grantToken() const override { return m_grantToken; }
    const QByteArrayList &grantChannels() const override { return m_grantChannels; }
    // `gone` on the socket's disconnected() or destroyed(), `drained` on its bytesWritten()
    // (over TLS also on encryptedBytesWritten()).
    void setHandlers(std::function<void()> gone, std::function<void()> drained) override;

    QTcpSocket *socket() const { return m_socket; }

private:
    std::unique_ptr<QHttpServerResponder> m_responder;
    QPointer<QTcpSocket> m_socket;
    QHostAddress m_peer;
    QByteArrayList m_selection; // empty: everything the gateway carries
    Headers m_headers;
    QByteArray m_grantToken;
    QByteArrayList m_grantChannels;
    std::vector<QByteArray> m_queue; // frames queued by queue(), shared with the hub's ring
    qint64 m_queuedBytes = 0;
    std::function<void()> m_gone;
    std::function<void()> m_drained;
    std::vector<QMetaObject::Connection> m_connections;
    bool m_tls = false; // a QSslSocket: only Qt may write to its descriptor
};
