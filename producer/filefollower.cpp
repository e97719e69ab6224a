#include "filefollower.h"

#include "producerlogging.h"
#include "redispublisher.h"

#include <QFile>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace std::chrono_literals;

namespace {
constexpr qsizetype chunkSize = 64 * 1024;
}

FileFollower::FileFollower(const QString &path, const QByteArray &channel,
                           RedisPublisher *publisher, QObject *parent)
    : QObject(parent), m_path(path), m_channel(channel), m_publisher(publisher)
{
    m_pollTimer.setInterval(200ms);
    connect(&m_pollTimer, &QTimer::timeout, this, &FileFollower::poll);
    connect(m_publisher, &RedisPublisher::spaceAvailable, this, &FileFollower::poll);
}

FileFollower::~FileFollower()
{
    close();
}

void FileFollower::start()
{
    m_started = true;
    // Only the file found at start is joined at its end; one that appears later is new.
    m_joinAtEnd = !m_fromStart;
    m_pollTimer.start();
    poll();
}

void FileFollower::stop()
{
    m_started = false;
    m_pollTimer.stop();
    close();
}

bool FileFollower::open(bool atEnd)
{
    const int fd = ::open(QFile::encodeName(m_path).constData(), O_RDONLY | O_CLOEXEC);
    m_joinAtEnd = false;
    if (fd < 0) {
        if (!m_waitingReported) {
            m_waitingReported = true;
            qCInfo(lcProducer, "waiting for %s: %s", qUtf8Printable(m_path), strerror(errno));
        }
        return false;
    }
    struct stat st;
    if (::fstat(fd, &st) != 0) {
        ::close(fd);
        return false;
    }
    m_fd = fd;
    m_device = quint64(st.st_dev);
    m_inode = quint64(st.st_ino);
    m_offset = atEnd ? qint64(::lseek(fd, 0, SEEK_END)) : 0;
    m_waitingReported = false;
    qCInfo(lcProducer, "following %s from offset %lld", qUtf8Printable(m_path),
           static_cast<long long>(m_offset));
    return true;
}

void FileFollower::close()
{
    if (m_fd >= 0)
        ::close(m_fd);
    m_fd = -1;
}

bool FileFollower::forwardLines(bool atEnd)
{
    while (m_publisher->hasRoom()) {
        const auto line = m_buffer.takeLine(atEnd);
        if (!line)
            return true;
        m_publisher->publish(m_channel, *line);
        ++m_lines;
    }
    return false;
}

bool FileFollower::readToEnd()
{
    QByteArray chunk(chunkSize, Qt::Uninitialized);
    for (;;) {
        if (!forwardLines(false) || m_buffer.hasCompleteLine())
            return false;
        const ssize_t n = ::read(m_fd, chunk.data(), size_t(chunk.size()));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            qCWarning(lcProducer, "cannot read %s: %s", qUtf8Printable(m_path), strerror(errno));
            return true;
        }
        if (n == 0)
            return true;
        m_offset += n;
        m_buffer.append(QByteArrayView(chunk.constData(), n));
    }
}

void FileFollower::poll()
{
    if (!m_started)
        return;
    if (m_fd < 0) {
        if (!open(m_joinAtEnd))
            return;
    }
    if (!readToEnd())
        return; // full: spaceAvailable() brings us back

    struct stat atPath;
    const bool exists = ::stat(QFile::encodeName(m_path).constData(), &atPath) == 0;
    if (exists && (quint64(atPath.st_dev) != m_device || quint64(atPath.st_ino) != m_inode)) {
        // Rotated, and the old file is read to its end: its unfinished last line is all there
        // will be of it.
        if (!forwardLines(true))
            return; // finish the old file once there is room
        ++m_rotations;
        qCInfo(lcProducer, "%s was rotated; reading the new file", qUtf8Printable(m_path));
        close();
        if (open(false))
            readToEnd();
        return;
    }
    // Same file, or none at the path (renamed or deleted, maybe still written to: keep reading it
    // until a new file shows up). A size below what was read means it was truncated.
    struct stat st;
    if (::fstat(m_fd, &st) == 0 && qint64(st.st_size) < m_offset) {
        forwardLines(true);
        ++m_truncations;
        qCInfo(lcProducer, "%s was truncated; reading it from the start", qUtf8Printable(m_path));
        ::lseek(m_fd, 0, SEEK_SET);
        m_offset = 0;
        readToEnd();
    }
}
