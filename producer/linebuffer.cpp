#include "linebuffer.h"

#include <algorithm>

void LineBuffer::append(QByteArrayView bytes)
{
    if (m_pos > 0) {
        m_data.remove(0, m_pos);
        m_scanFrom = std::max<qsizetype>(0, m_scanFrom - m_pos);
        m_pos = 0;
    }
    m_data.append(bytes);
}

std::optional<QByteArray> LineBuffer::takeLine(bool atEnd)
{
    const qsizetype newline = m_data.indexOf('\n', std::max(m_pos, m_scanFrom));
    if (newline < 0) {
        m_scanFrom = m_data.size();
        if (!atEnd || m_pos == m_data.size())
            return std::nullopt;
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
}
