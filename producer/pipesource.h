#pragma once

#include "linebuffer.h"
#include "lineparser.h"

#include <QByteArray>
#include <QObject>
#include <QString>

class QSocketNotifier;
class RedisPublisher;

// Publishes every line read from a file descriptor (stdin in the program; any pipe or file in
// tests) once, byte for byte or as the record its LineParser makes of it: lines split on '\n' only,
// a last line without '\n' flushed at the end, a line longer than the cap cut (see LineBuffer).
// Reads one chunk per readiness notification so the event loop never blocks, and stops reading
// while the publisher is full, so no input is ever dropped.
class PipeSource final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(PipeSource)

public:
    // Does not take ownership of fd.
    PipeSource(int fd, const QByteArray &channel, RedisPublisher *publisher,
               QObject *parent = nullptr);
    ~PipeSource() override;

    // Default LineBuffer::defaultMaxLineBytes.
    void setMaxLineBytes(qsizetype bytes) { m_buffer.setMaxLineBytes(bytes); }
    // How lines become messages; the default publishes each as it came to the channel given
    // above (LineParser::Format::Text).
    void setLineParser(const LineParser &parser) { m_parser = parser; }

    void start();
    // Stops reading; lines already read (and a partial last one) still go to the publisher.
    void stop();

    quint64 lines() const { return m_lines; }
    quint64 truncatedLines() const { return m_buffer.truncatedLines(); }
    bool isFinished() const { return m_finished; }
    QString errorString() const { return m_error; }

Q_SIGNALS:
    // The input ended (or could not be read: see errorString()) and every line read went to the
    // publisher; they may not be acknowledged yet.
    void finished();
    // More lines were cut to the cap: `total` so far, the last one `lineBytes` long.
    void linesTruncated(quint64 total, qint64 lineBytes);

private:
    void publishLine(QByteArray line);
    void handleReadable();
    void forward();
    void finish(const QString &error);
    void reportTruncations();

    int m_fd;
    RedisPublisher *m_publisher;
    LineParser m_parser;
    QSocketNotifier *m_notifier = nullptr;
    LineBuffer m_buffer;
    quint64 m_lines = 0;
    bool m_atEnd = false;
    bool m_finished = false;
    QString m_error;
};
