#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include <optional>

// Splits a byte stream into lines on '\n' only: the '\n' is removed, everything else ('\r', NUL,
// invalid UTF-8) is kept as read. A partial last line waits for more bytes or the end of input.
class LineBuffer final
{
public:
    void append(QByteArrayView bytes);
    // The next complete line; with atEnd also a last line that has no '\n'.
    std::optional<QByteArray> takeLine(bool atEnd = false);
    bool hasCompleteLine() const;
    // Bytes held: complete lines not taken yet plus the partial last line.
    qsizetype size() const { return m_data.size() - m_pos; }
    void clear();

private:
    QByteArray m_data;
    qsizetype m_pos = 0;              // start of the first line not taken
    mutable qsizetype m_scanFrom = 0; // no '\n' before this offset (saves rescanning long lines)
};
