#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include <optional>

// Splits a byte stream into lines on '\n' only: the '\n' is removed, everything else ('\r', NUL,
// invalid UTF-8) is kept as read. A partial last line waits for more bytes or the end of input.
// A line longer than maxLineBytes() keeps only its first maxLineBytes() bytes (cut back to a
// UTF-8 character boundary) followed by truncationMarker(): the rest is discarded as it arrives,
// so a line of any length holds at most maxLineBytes() here.
class LineBuffer final
{
public:
    static constexpr qsizetype defaultMaxLineBytes = 1024 * 1024;

    // " … [truncated: N bytes]", N being the length of the whole line.
    static QByteArray truncationMarker(qint64 lineBytes);

    // Applies to bytes appended from now on; at least 1.
    void setMaxLineBytes(qsizetype bytes);
    qsizetype maxLineBytes() const { return m_maxLineBytes; }

    void append(QByteArrayView bytes);
    // The next complete line; with atEnd also a last line that has no '\n'.
    std::optional<QByteArray> takeLine(bool atEnd = false);
    bool hasCompleteLine() const;
    // Bytes held: complete lines not taken yet plus the partial last line.
    qsizetype size() const { return m_data.size() - m_pos; }
    void clear();

    // Lines cut so far (counted when their end arrives), and the length of the last one.
    quint64 truncatedLines() const { return m_truncatedLines; }
    qint64 lastTruncatedLineBytes() const { return m_lastTruncatedLineBytes; }
    // Lines cut since the last call, for whoever reports them.
    quint64 takeNewTruncations();

private:
    void compact();
    void appendToLine(QByteArrayView piece);
    void endTruncatedLine();

    QByteArray m_data;
    qsizetype m_pos = 0;              // start of the first line not taken
    mutable qsizetype m_scanFrom = 0; // no '\n' before this offset (saves rescanning long lines)
    qsizetype m_lineStart = 0;        // start of the partial last line
    qsizetype m_maxLineBytes = defaultMaxLineBytes;
    qint64 m_discarded = 0; // bytes of the partial last line beyond the cap, not kept
    quint64 m_truncatedLines = 0;
    quint64 m_truncationsTaken = 0;
    qint64 m_lastTruncatedLineBytes = 0;
};
