#pragma once

#include <QByteArray>
#include <QByteArrayList>
#include <QHostAddress>
#include <QList>
#include <QMetaObject>
#include <QPair>
#include <QPointer>
#include <QTcpSocket>

#include <memory>
#include <vector>

class QHttpServerResponder;

// One /events stream: the HTTP responder and its socket, the channel selection, and where the
// client stands in the hub's event sequence (live, or replaying from the ring). Not a QObject:
// the hub connects to the socket's signals itself, so a client costs no QObject of its own.
// QHttpServerResponder::socket() is public only in Qt 6.4; besides this class, GatewayServer uses
// it to tell the ConnectionGuard which connection a response or a new stream belongs to.
class SseClient final
{
public:
    using Headers = QList<QPair<QByteArray, QByteArray>>;

    // `headers` are added to the response head (CORS); `grant` is the token the stream was
    // opened with, if any, and its channels then (a token file reload ends the streams whose
    // grant changed).
    SseClient(QHttpServerResponder &&responder, QByteArrayList selection, Headers headers = {},
              QByteArray grantToken = {}, QByteArrayList grantChannels = {});
    ~SseClient();
    Q_DISABLE_COPY_MOVE(SseClient)

    // Writes the response head and the first bytes of the stream.
    void begin(int retryMilliseconds, const QByteArray &firstBytes);
    // Writes through the socket's own buffer at once (after anything queued).
    void write(const QByteArray &bytes);
    // Queues a shared frame for flush(); returns true when the queue was empty before (the
    // caller then schedules a flush). The live fan-out path: a client costs one sendmsg() per
    // event-loop pass, however many events arrived, and no QSocketNotifier toggling (see flush).
    bool queue(const QByteArray &bytes);
    // Writes the queued frames with one sendmsg(); what the kernel does not take goes to the
    // socket's buffer (which then drains by its write notifier as before).
    void flush();
    // Ends the stream: sends `finalBytes`, closes once flushed, aborts if that takes too long.
    void close(const QByteArray &finalBytes = {});

    // Whether events of channel `name` (index `channelIndex` in the hub's table, or -1 when
    // it is not in the table) are selected. Cached per channel index.
    bool accepts(int channelIndex, const QByteArray &name);

    QTcpSocket *socket() const { return m_socket; }
    bool isConnected() const;
    qint64 pendingBytes() const { return m_socket ? m_socket->bytesToWrite() + m_queuedBytes : 0; }
    QHostAddress peerAddress() const { return m_peer; }
    // Empty: everything the gateway carries.
    const QByteArrayList &selection() const { return m_selection; }
    const QByteArray &grantToken() const { return m_grantToken; }
    const QByteArrayList &grantChannels() const { return m_grantChannels; }

    // Hub-owned state.
    bool live = false;
    bool dead = false;
    qint64 cursor = 0; // last sequence number handled while replaying
    std::vector<QMetaObject::Connection> connections;

private:
    std::unique_ptr<QHttpServerResponder> m_responder;
    QPointer<QTcpSocket> m_socket;
    QHostAddress m_peer;
    QByteArrayList m_selection; // empty: everything the gateway carries
    Headers m_headers;
    QByteArray m_grantToken;
    QByteArrayList m_grantChannels;
    std::vector<qint8> m_acceptCache; // per channel index: -1 unknown, 0 no, 1 yes
    std::vector<QByteArray> m_queue;  // frames queued by queue(), shared with the hub's ring
    qint64 m_queuedBytes = 0;
};
