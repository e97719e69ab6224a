#pragma once

#include "linebuffer.h"

#include <QByteArray>
#include <QObject>
#include <QString>
#include <QTimer>

#include <chrono>

class RedisPublisher;

// Publishes each new complete line of a file, like `tail -F`: starts at the end (or the start),
// waits for a file that does not exist yet, survives rotation (the path renamed and recreated:
// the old file is read to its end, then the new one from its start) and truncation (read again
// from offset 0). Polls inode and size on a timer; stops reading while the publisher is full.
class FileFollower final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(FileFollower)

public:
    FileFollower(const QString &path, const QByteArray &channel, RedisPublisher *publisher,
                 QObject *parent = nullptr);
    ~FileFollower() override;

    // Read the file that is there at start() from its beginning instead of its end.
    void setFromStart(bool fromStart) { m_fromStart = fromStart; }
    void setPollInterval(std::chrono::milliseconds interval) { m_pollTimer.setInterval(interval); }

    void start();
    void stop();
    // Checks the file now (the timer does it every poll interval).
    void poll();

    quint64 lines() const { return m_lines; }
    quint64 rotations() const { return m_rotations; }
    quint64 truncations() const { return m_truncations; }

private:
    bool open(bool atEnd);
    void close();
    // Reads up to the end of the open file; false if it stopped early because the publisher is
    // full.
    bool readToEnd();
    bool forwardLines(bool atEnd);

    QString m_path;
    QByteArray m_channel;
    RedisPublisher *m_publisher;
    QTimer m_pollTimer;
    LineBuffer m_buffer;
    int m_fd = -1;
    quint64 m_device = 0;
    quint64 m_inode = 0;
    qint64 m_offset = 0;
    bool m_fromStart = false;
    bool m_started = false;
    bool m_joinAtEnd = false; // the next open() starts at the end of the file
    bool m_waitingReported = false;
    quint64 m_lines = 0;
    quint64 m_rotations = 0;
    quint64 m_truncations = 0;
};
