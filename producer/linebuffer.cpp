#include "linebuffer.h"

#include "truncation.h"

#include <algorithm>

QByteArray LineBuffer::truncationMarker(qint64 lineBytes)
{
    return Truncation::marker(lineBytes);
}

void LineBuffer::setMaxLineBytes(qsizetype bytes)
{
    m_maxLineBytes = std::max<qsizetype>(1, bytes);
}

void LineBuffer::compact()
{
    if (m_pos == 0)
        return;
    m_data.remove(0, m_pos);
    m_scanFrom = std::max<qsizetype>(0, m_scanFrom - m_pos);
    m_lineStart -= m_pos;
    m_pos = 0;
}

void LineBuffer::append(QByteArrayView bytes)
{
    compact();
    // Nothing in these bytes can take a line past the cap: they go in whole. With 64 KiB reads
    // and the 1 MiB default, that is nearly every call.
    if (m_discarded == 0 && m_data.size() - m_lineStart + bytes.size() <= m_maxLineBytes) {
        if (const qsizetype newline = bytes.lastIndexOf('\n'); newline >= 0)
            m_lineStart = m_data.size() + newline + 1;
        m_data.append(bytes);
        return;
    }
    while (!bytes.isEmpty()) {
        const qsizetype newline = bytes.indexOf('\n');
        appendToLine(newline < 0 ? bytes : bytes.first(newline));
        if (newline < 0)
            return;
        if (m_discarded > 0)
            endTruncatedLine();
        m_data.append('\n');
        m_lineStart = m_data.size();
        bytes = bytes.sliced(newline + 1);
    }
}

void LineBuffer::appendToLine(QByteArrayView piece)
{
    const qsizetype room = std::max<qsizetype>(0, m_maxLineBytes - (m_data.size() - m_lineStart));
    const qsizetype keep = std::min(room, piece.size());
    m_data.append(piece.first(keep));
    m_discarded += piece.size() - keep;
}

void LineBuffer::endTruncatedLine()
{
    const qint64 lineBytes = m_data.size() - m_lineStart + m_discarded;
    m_data.truncate(m_lineStart +
                    Truncation::utf8Boundary(QByteArrayView(m_data).sliced(m_lineStart)));
    m_data.append(truncationMarker(lineBytes));
    m_scanFrom = std::min(m_scanFrom, m_data.size());
    m_discarded = 0;
    ++m_truncatedLines;
    m_lastTruncatedLineBytes = lineBytes;
}

std::optional<QByteArray> LineBuffer::takeLine(bool atEnd)
{
    const qsizetype newline = m_data.indexOf('\n', std::max(m_pos, m_scanFrom));
    if (newline < 0) {
        m_scanFrom = m_data.size();
        if (!atEnd || (m_pos == m_data.size() && m_discarded == 0))
            return std::nullopt;
        if (m_discarded > 0)
            endTruncatedLine();
        QByteArray last = m_data.mid(m_pos);
        clear();
        return last;
    }
    QByteArray line = m_data.mid(m_pos, newline - m_pos);
    m_pos = newline + 1;
    m_scanFrom = m_pos;
    if (m_pos == m_data.size())
        clear();
    return line;
}

quint64 LineBuffer::takeNewTruncations()
{
    const quint64 count = m_truncatedLines - m_truncationsTaken;
    m_truncationsTaken = m_truncatedLines;
    return count;
}

bool LineBuffer::hasCompleteLine() const
{
    const qsizetype newline = m_data.indexOf('\n', std::max(m_pos, m_scanFrom));
    if (newline < 0)
        m_scanFrom = m_data.size();
    return newline >= 0;
}

void LineBuffer::clear()
{
    m_data.clear();
    m_pos = 0;
    m_scanFrom = 0;
    m_lineStart = 0;
    m_discarded = 0;
}
