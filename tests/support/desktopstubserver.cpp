#include "desktopstubserver.h"

DesktopStubServer::DesktopStubServer(QObject *parent) : QObject(parent)
{
    connect(&m_server, &QTcpServer::newConnection, this, &DesktopStubServer::handleConnection);
}

DesktopStubServer::~DesktopStubServer() = default;

bool DesktopStubServer::listen(quint16 port)
{
    m_clock.start();
    return m_server.listen(QHostAddress::LocalHost, port);
}

void DesktopStubServer::close()
{
    m_server.close();
}

QByteArray DesktopStubServer::baseUrl() const
{
    return "http://127.0.0.1:" + QByteArray::number(port());
}

void DesktopStubServer::handleConnection()
{
    while (QTcpSocket *socket = m_server.nextPendingConnection()) {
        auto *buffer = new QByteArray;
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        connect(socket, &QObject::destroyed, this, [buffer] { delete buffer; });
        connect(socket, &QTcpSocket::readyRead, this, [this, socket, buffer] {
            buffer->append(socket->readAll());
            const qsizetype end = buffer->indexOf("\r\n\r\n");
            if (end < 0 || socket->property("answered").toBool())
                return;
            socket->setProperty("answered", true);
            const QByteArray head = buffer->left(end + 2);
            m_requests.append(head);
            m_times.append(m_clock.elapsed());
            m_last = socket;
            if (m_handler)
                m_handler(socket, head, int(m_requests.size() - 1));
        });
    }
}

QByteArray DesktopStubServer::header(const QByteArray &head, const QByteArray &name)
{
    for (const QByteArray &line : head.split('\n')) {
        const qsizetype colon = line.indexOf(':');
        if (colon > 0 && line.left(colon).trimmed().toLower() == name.toLower())
            return line.mid(colon + 1).trimmed();
    }
    return {};
}

QByteArray DesktopStubServer::sseHead()
{
    return "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
           "Connection: close\r\n\r\n";
}

QByteArray DesktopStubServer::response(int status, const QByteArray &reason, const QByteArray &body,
                                       const QByteArray &contentType,
                                       const QByteArray &extraHeaders)
{
    return "HTTP/1.1 " + QByteArray::number(status) + ' ' + reason +
           "\r\nContent-Type: " + contentType +
           "\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\nConnection: close\r\n" +
           extraHeaders + "\r\n" + body;
}
