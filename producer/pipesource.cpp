#include "pipesource.h"

#include "redispublisher.h"

#include <QSocketNotifier>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace {
constexpr qsizetype chunkSize = 64 * 1024;
}

PipeSource::PipeSource(int fd, const QByteArray &channel, RedisPublisher *publisher,
                       QObject *parent)
    : QObject(parent), m_fd(fd), m_publisher(publisher), m_parser(LineParser::Format::Text, channel)
{
    connect(m_publisher, &RedisPublisher::spaceAvailable, this, &PipeSource::forward);
}

PipeSource::~PipeSource() = default;

void PipeSource::start()
{
    if (m_notifier || m_finished)
        return;
    if (::fcntl(m_fd, F_GETFD) < 0) { // e.g. started with stdin closed
        finish(QStringLiteral("cannot read the input: %1")
                   .arg(QString::fromLocal8Bit(strerror(errno))));
        return;
    }
    // The fd is left in blocking mode (stdin's file description is shared with the shell, which
    // must not find it non-blocking later): we read once per readiness, which never blocks. A
    // regular file is always "ready", so it is simply read chunk by chunk.
    m_notifier = new QSocketNotifier(m_fd, QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &PipeSource::handleReadable);
    forward();
}

void PipeSource::stop()
{
    if (m_finished)
        return;
    if (m_notifier)
        m_notifier->setEnabled(false);
    while (const auto line = m_buffer.takeLine(true)) {
        publishLine(std::move(*line));
        ++m_lines;
    }
    reportTruncations();
    finish({});
}

void PipeSource::handleReadable()
{
    QByteArray chunk(chunkSize, Qt::Uninitialized);
    const ssize_t n = ::read(m_fd, chunk.data(), size_t(chunk.size()));
    if (n < 0) {
        if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
            return;
        const QString error = QStringLiteral("cannot read the input: %1")
                                  .arg(QString::fromLocal8Bit(strerror(errno)));
        m_notifier->setEnabled(false);
        // Publish what was read before the error, then report it.
        m_atEnd = true;
        m_error = error;
        forward();
        return;
    }
    if (n == 0)
        m_atEnd = true;
    else
        m_buffer.append(QByteArrayView(chunk.constData(), n));
    forward();
}

void PipeSource::forward()
{
    if (m_finished || !m_notifier)
        return;
    while (m_publisher->hasRoom()) {
        const auto line = m_buffer.takeLine(m_atEnd);
        if (!line)
            break;
        publishLine(std::move(*line));
        ++m_lines;
    }
    reportTruncations();
    if (m_atEnd && m_buffer.size() == 0) {
        finish(m_error);
        return;
    }
    // Read more only when everything read so far has been handed over.
    m_notifier->setEnabled(!m_atEnd && m_publisher->hasRoom() && !m_buffer.hasCompleteLine());
}

void PipeSource::reportTruncations()
{
    if (m_buffer.takeNewTruncations() > 0)
        Q_EMIT linesTruncated(m_buffer.truncatedLines(), m_buffer.lastTruncatedLineBytes());
}

void PipeSource::finish(const QString &error)
{
    m_finished = true;
    m_error = error;
    if (m_notifier)
        m_notifier->setEnabled(false);
    Q_EMIT finished();
}

void PipeSource::publishLine(QByteArray line)
{
    const LineParser::Record record = m_parser.parse(std::move(line));
    m_publisher->publish(record.channel, record.payload);
}
