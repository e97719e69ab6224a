#pragma once

#include <QByteArray>
#include <QHostAddress>

// Raw HTTP over a real socket, for tests that must send exactly the bytes they mean (pipelined,
// malformed or smuggled requests) and see exactly what came back.
namespace RawHttp {

// Sends `request` and returns what the server sent until it closed the connection, or until one
// complete response with a Content-Length arrived, or `timeoutMs` passed.
QByteArray exchange(quint16 port, const QByteArray &request, int timeoutMs = 3000);

struct Reply
{
    QByteArray bytes;    // everything received
    bool closed = false; // the server closed the connection within the time
};
// Sends `request` (from `from`, a loopback address) and reads until the server closes the
// connection or `timeoutMs` passed.
Reply untilClosed(quint16 port, const QByteArray &request, int timeoutMs = 5000,
                  const QHostAddress &from = QHostAddress::LocalHost);

int statusOf(const QByteArray &response);
QByteArray headerOf(const QByteArray &response, const QByteArray &name);
// How many responses `bytes` holds (status lines at the start of a line).
int responseCount(const QByteArray &bytes);

} // namespace RawHttp
