#include "rawhttp.h"

#include <QTcpSocket>
#include <QTest>

namespace RawHttp {

QByteArray exchange(quint16 port, const QByteArray &request, int timeoutMs)
{
    QTcpSocket s;
    s.connectToHost(QHostAddress::LocalHost, port);
    s.write(request);
    QByteArray got;
    (void)QTest::qWaitFor(
        [&] {
            got += s.readAll();
            return s.state() == QAbstractSocket::UnconnectedState ||
                   (got.contains("\r\n\r\n") && got.contains("Content-Length: ") &&
                    got.size() - got.indexOf("\r\n\r\n") - 4 >=
                        got.mid(got.indexOf("Content-Length: ") + 16).split('\r').first().toInt());
        },
        timeoutMs);
    return got + s.readAll();
}

Reply untilClosed(quint16 port, const QByteArray &request, int timeoutMs, const QHostAddress &from)
{
    QTcpSocket s;
    if (from != QHostAddress::LocalHost)
        s.bind(from);
    s.connectToHost(QHostAddress::LocalHost, port);
    s.write(request);
    Reply reply;
    reply.closed = QTest::qWaitFor(
        [&] {
            reply.bytes += s.readAll();
            return s.state() == QAbstractSocket::UnconnectedState;
        },
        timeoutMs);
    reply.bytes += s.readAll();
    return reply;
}

int statusOf(const QByteArray &response)
{
    return response.split(' ').value(1).toInt();
}

QByteArray headerOf(const QByteArray &response, const QByteArray &name)
{
    for (const QByteArray &line : response.left(response.indexOf("\r\n\r\n")).split('\n'))
        if (line.toLower().startsWith(QByteArray(name.toLower() + ':')))
            return line.mid(name.size() + 1).trimmed();
    return {};
}

int responseCount(const QByteArray &bytes)
{
    int n = bytes.startsWith("HTTP/1.1 ") ? 1 : 0;
    for (qsizetype at = bytes.indexOf("\nHTTP/1.1 "); at >= 0;
         at = bytes.indexOf("\nHTTP/1.1 ", at + 1))
        ++n;
    return n;
}

} // namespace RawHttp
