#include "filefollower.h"

#include "producerlogging.h"
#include "redispublisher.h"

#include <QFile>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>

using namespace std::chrono_literals;

namespace {

constexpr qsizetype chunkSize = 64 * 1024;

// The path with every symlink resolved (realpath(3)); nullopt, with errno set, if it leads
// nowhere.
std::optional<QByteArray> resolve(const QByteArray &path)
{
    const std::unique_ptr<char, decltype(&std::free)> resolved(
        ::realpath(path.constData(), nullptr), &std::free);
    if (!resolved)
        return std::nullopt;
    return QByteArray(resolved.get());
}

} // namespace

FileFollower::FileFollower(const QString &path, const QByteArray &channel,
                           RedisPublisher *publisher, QObject *parent)
    : QObject(parent), m_path(path), m_publisher(publisher),
      m_parser(LineParser::Format::Text, channel)
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
    m_joinAtEnd = false;
    const QByteArray path = QFile::encodeName(m_path);
    std::optional<QByteArray> resolved;
    int fd = -1;
    if (m_trustPath) {
        fd = ::open(path.constData(), O_RDONLY | O_CLOEXEC);
    } else if ((resolved = resolve(path))) {
        // The resolved path, and no symlink put there since: the file checked below is the one
        // the path led to (the owner check holds even if a directory on the way is swapped).
        fd = ::open(resolved->constData(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    }
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
    if (!m_trustPath) {
        if (const QString why = identityChange(*resolved, uint(st.st_uid)); !why.isEmpty()) {
            ::close(fd);
            refuse(why);
            return false;
        }
        if (!m_identityKnown) {
            m_identityKnown = true;
            m_resolvedPath = *resolved;
            m_owner = uint(st.st_uid);
        }
    }
    // The file read last, back at the path (a refused change undone): go on where it stopped
    // rather than publish it again.
    const bool readBefore = quint64(st.st_dev) == m_device && quint64(st.st_ino) == m_inode &&
                            qint64(st.st_size) >= m_offset;
    m_refusing = false;
    m_fd = fd;
    m_device = quint64(st.st_dev);
    m_inode = quint64(st.st_ino);
    if (readBefore)
        ::lseek(fd, m_offset, SEEK_SET);
    else
        m_offset = atEnd ? qint64(::lseek(fd, 0, SEEK_END)) : 0;
    m_waitingReported = false;
    qCInfo(lcProducer, "following %s from offset %lld", qUtf8Printable(m_path),
           static_cast<long long>(m_offset));
    return true;
}

QString FileFollower::identityChange(const QByteArray &resolved, uint owner) const
{
    if (!m_identityKnown)
        return {};
    const QString advice = QStringLiteral(
        "If the change is intended, restart the producer, or pass --trust-path to follow such "
        "changes.");
    if (resolved != m_resolvedPath)
        return QStringLiteral("not reading %1: it now leads to %2, not %3 (a symlink was put "
                              "there or pointed elsewhere). Nothing of that file is published; "
                              "following goes on when %1 leads to %3 again. %4")
            .arg(m_path, QFile::decodeName(resolved), QFile::decodeName(m_resolvedPath), advice);
    if (owner != m_owner)
        return QStringLiteral("not reading %1: the file there now belongs to uid %2, the first "
                              "one to uid %3. Nothing of it is published; following goes on "
                              "when %1 is a file of uid %3 again. %4")
            .arg(m_path, QString::number(owner), QString::number(m_owner), advice);
    return {};
}

void FileFollower::refuse(const QString &message)
{
    if (m_refusing)
        return; // said once until a file is accepted again
    m_refusing = true;
    ++m_refusals;
    Q_EMIT refused(message);
}

void FileFollower::close()
{
    if (m_fd >= 0)
        ::close(m_fd);
    m_fd = -1;
}

bool FileFollower::forwardLines(bool atEnd)
{
    bool room = true;
    while ((room = m_publisher->hasRoom())) {
        const auto line = m_buffer.takeLine(atEnd);
        if (!line)
            break;
        publishLine(std::move(*line));
        ++m_lines;
    }
    if (m_buffer.takeNewTruncations() > 0)
        Q_EMIT linesTruncated(m_buffer.truncatedLines(), m_buffer.lastTruncatedLineBytes());
    return room;
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

void FileFollower::publishLine(QByteArray line)
{
    const LineParser::Record record = m_parser.parse(std::move(line));
    m_publisher->publish(record.channel, record.payload);
}
