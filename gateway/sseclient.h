#pragma once

#include <QByteArray>
#include <QByteArrayList>
#include <QHostAddress>
#include <QList>
#include <QPair>
#include <QMetaObject>
#include <QPointer>
#include <QTcpSocket>

#include <memory>
#include <vector>

class QHttpServerResponder;

// One /events stream: the HTTP responder and its socket, the channel selection, and where the
// client stands in the hub's event sequence (live, or replaying from the ring). Not a QObject:
// the hub connects to the socket's signals itself, so a client costs no QObject of its own.
// QHttpServerResponder::socket() is public only in Qt 6.4; this class is its only user.
class SseClient final
{
public:
    using Headers = QList<QPair<QByteArray, QByteArray>>;

    // `headers` are added to the response head (CORS).
    SseClient(QHttpServerResponder &&responder, QByteArrayList selection, Headers headers = {});
    ~SseClient();
    Q_DISABLE_COPY_MOVE(SseClient)

    // Writes the response head and the first bytes of the stream.
    void begin(int retryMilliseconds, const QByteArray &firstBytes);
    void write(const QByteArray &bytes);
    // Ends the stream: sends `finalBytes`, closes once flushed, aborts if that takes too long.
    void close(const QByteArray &finalBytes = {});

    // Whether events of channel `name` (index `channelIndex` in the hub's table, or -1 when
    // it is not in the table) are selected. Cached per channel index.
    bool accepts(int channelIndex, const QByteArray &name);

    QTcpSocket *socket() const { return m_socket; }
    bool isConnected() const;
    qint64 pendingBytes() const { return m_socket ? m_socket->bytesToWrite() : 0; }
    QHostAddress peerAddress() const { return m_peer; }

    // Hub-owned state.
    bool live = false;
    bool dead = false;
    qint64 cursor = 0; // last sequence number handled while replaying
    std::vector<QMetaObject::Connection> connections;

private:
    std::unique_ptr<QHttpServerResponder> m_responder;
    QPointer<QTcpSocket> m_socket;
    QHostAddress m_peer;
    QByteArrayList m_selection;       // empty: everything the gateway carries
    Headers m_headers;
    std::vector<qint8> m_acceptCache; // per channel index: -1 unknown, 0 no, 1 yes
};
