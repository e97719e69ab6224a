#pragma once

#include <QByteArray>
#include <QByteArrayList>
#include <QHostAddress>

#include <functional>

// What the hub needs of one event stream's transport, and all it sees of it: bytes in, how many
// are still unsent, and two callbacks out. SseClient is the one over an HTTP socket; tests use
// a fake, so the fan-out core runs without sockets (compare Nchan's per-transport subscriber
// function table).
class EventSink
{
public:
    EventSink() = default;
    virtual ~EventSink() = default;
    Q_DISABLE_COPY_MOVE(EventSink)

    // Writes the response head and the first bytes of the stream.
    virtual void begin(int retryMilliseconds, const QByteArray &firstBytes) = 0;
    // Writes at once, after anything queued.
    virtual void write(const QByteArray &bytes) = 0;
    // Queues a frame for flush(); returns true when the queue was empty before (the caller then
    // schedules a flush).
    virtual bool queue(const QByteArray &bytes) = 0;
    virtual void flush() = 0;
    // Ends the stream: sends `finalBytes` after anything queued, then closes.
    virtual void close(const QByteArray &finalBytes) = 0;

    virtual bool isConnected() const = 0;
    // Bytes written or queued but not yet taken by the peer.
    virtual qint64 pendingBytes() const = 0;
    // Who opened the stream: the peer, or the client a trusted proxy forwarded the request for
    // (the hub counts streams per address with it).
    virtual QHostAddress peerAddress() const = 0;
    // The channel names and globs the stream selected; empty: everything the gateway carries.
    virtual const QByteArrayList &selection() const = 0;
    // The token the stream was opened with, if any, and its channels then.
    virtual const QByteArray &grantToken() const = 0;
    virtual const QByteArrayList &grantChannels() const = 0;

    // Set once by the hub after begin(): `gone` when the peer is gone (disconnected, or the
    // transport destroyed), `drained` when some pending bytes were taken. Never called after
    // the sink is destroyed.
    virtual void setHandlers(std::function<void()> gone, std::function<void()> drained) = 0;
};
