#pragma once

#include "linebuffer.h"
#include "lineparser.h"

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
// Lines longer than the cap are cut (see LineBuffer); each goes as it came or as the record its
// LineParser makes of it.
//
// The path must keep leading to the same place, with the same owner, as when the first file was
// opened: a producer that may read more than the log's writer (root, group adm) must not be
// turned into a reader of any file by someone who can replace the log with a symlink (or a hard
// link) to it. A file at a changed resolved path or of another owner is not opened; refused()
// says so once, and the follower keeps polling until the path leads to an acceptable file again.
// setTrustPath(true) turns that check off.
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
    // Default LineBuffer::defaultMaxLineBytes.
    void setMaxLineBytes(qsizetype bytes) { m_buffer.setMaxLineBytes(bytes); }
    // How lines become messages; the default publishes each as it came to the channel given
    // above (LineParser::Format::Text).
    void setLineParser(const LineParser &parser) { m_parser = parser; }
    // Follow the path wherever it leads and whoever owns the file there.
    void setTrustPath(bool trust) { m_trustPath = trust; }

    void start();
    void stop();
    // Checks the file now (the timer does it every poll interval).
    void poll();

    quint64 lines() const { return m_lines; }
    quint64 rotations() const { return m_rotations; }
    quint64 truncations() const { return m_truncations; }
    quint64 truncatedLines() const { return m_buffer.truncatedLines(); }
    // Times a file at the path was refused (counted once until one is accepted again).
    quint64 refusals() const { return m_refusals; }

Q_SIGNALS:
    // More lines were cut to the cap: `total` so far, the last one `lineBytes` long.
    void linesTruncated(quint64 total, qint64 lineBytes);
    // A file at the path was not opened; a message for the user saying why and what to do.
    void refused(const QString &message);

private:
    void publishLine(QByteArray line);
    bool open(bool atEnd);
    // Why a file the path now resolves to, owned by `owner`, may not be read; empty if it may.
    QString identityChange(const QByteArray &resolved, uint owner) const;
    void refuse(const QString &message);
    void close();
    // Reads up to the end of the open file; false if it stopped early because the publisher is
    // full.
    bool readToEnd();
    bool forwardLines(bool atEnd);

    QString m_path;
    RedisPublisher *m_publisher;
    LineParser m_parser;
    QTimer m_pollTimer;
    LineBuffer m_buffer;
    int m_fd = -1;
    quint64 m_device = 0;
    quint64 m_inode = 0;
    qint64 m_offset = 0;
    bool m_fromStart = false;
    bool m_trustPath = false;
    bool m_identityKnown = false; // the first file was opened: the two below are set
    QByteArray m_resolvedPath;    // what the path led to then (symlinks resolved)
    uint m_owner = 0;             // the uid of that file
    bool m_refusing = false;
    bool m_started = false;
    bool m_joinAtEnd = false; // the next open() starts at the end of the file
    bool m_waitingReported = false;
    quint64 m_lines = 0;
    quint64 m_rotations = 0;
    quint64 m_truncations = 0;
    quint64 m_refusals = 0;
};
