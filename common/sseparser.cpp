#include "sseparser.h"

#include <cstring>
#include <utility>

SseParser::SseParser(EventHandler onEvent) : m_onEvent(std::move(onEvent)) {}

void SseParser::reset()
{
    m_partial.clear();
    m_openLineLength = 0;
    m_data.clear();
    m_eventType.clear();
    m_idBuffer = m_lastEventId;
    m_hasData = false;
    m_skipLf = false;
    m_bomChecked = false;
    m_failed = false;
}

bool SseParser::feed(QByteArrayView chunk)
{
    if (m_failed)
        return false;
    if (m_skipLf && !chunk.isEmpty()) {
        m_skipLf = false;
        if (chunk.front() == '\n')
            chunk = chunk.sliced(1);
    }

    const char *p = chunk.data();
    const char *end = p + chunk.size();
    while (p < end) {
        const char *lf = static_cast<const char *>(std::memchr(p, '\n', end - p));
        const char *cr = static_cast<const char *>(std::memchr(p, '\r', (lf ? lf : end) - p));
        const char *eol = cr ? cr : lf;
        // The same cap whether the line arrived whole or in pieces.
        const qsizetype pieceLength = (eol ? eol : end) - p;
        if (lineLength() + pieceLength > m_maxLine) {
            m_failed = true;
            return false;
        }
        if (!eol) {
            if (m_openLineLength > 0) {
                m_data.append(p, pieceLength);
                m_openLineLength += pieceLength;
            } else {
                m_partial.append(p, pieceLength);
                openDataLine();
            }
            break;
        }
        if (m_openLineLength > 0) {
            // The rest of a data line whose value already went into the data buffer.
            m_data.append(p, pieceLength);
            m_openLineLength = 0;
        } else if (m_partial.isEmpty()) {
            processLine(QByteArrayView(p, pieceLength));
        } else {
            m_partial.append(p, pieceLength);
            processLine(m_partial);
            clearPartial();
        }
        p = eol + 1;
        if (*eol == '\r') {
            if (p == end)
                m_skipLf = true;
            else if (*p == '\n')
                ++p;
        }
    }
    return true;
}

qsizetype SseParser::lineLength() const
{
    return m_openLineLength > 0 ? m_openLineLength : m_partial.size();
}

void SseParser::clearPartial()
{
    // Keeps the allocation for the next line that spans chunks, unless a huge line grew it.
    if (m_partial.capacity() > 1024 * 1024)
        m_partial.clear();
    else
        m_partial.resize(0);
}

void SseParser::openDataLine()
{
    // A "data:" line cut by the end of a chunk (typical for large events) is continued straight
    // into the data buffer instead of being collected whole first: one copy of its bytes, not
    // two. Only once the byte after "data:" is known (an optional space is not part of the value)
    // and the first line (which may start with a BOM) is behind us.
    if (!m_bomChecked || m_partial.size() < 6 || !m_partial.startsWith("data:"))
        return;
    appendData(fieldValue(QByteArrayView(m_partial).sliced(5)));
    m_openLineLength = m_partial.size();
    clearPartial();
}

QByteArrayView SseParser::fieldValue(QByteArrayView afterColon)
{
    return afterColon.startsWith(' ') ? afterColon.sliced(1) : afterColon;
}

void SseParser::appendData(QByteArrayView value)
{
    if (m_hasData)
        m_data.append('\n');
    m_data.append(value);
    m_hasData = true;
}

void SseParser::processLine(QByteArrayView line)
{
    if (!m_bomChecked) {
        m_bomChecked = true;
        if (line.startsWith("\xEF\xBB\xBF"))
            line = line.sliced(3);
    }
    if (line.isEmpty()) {
        // Dispatch. An event without data lines is dropped, but its id is taken over.
        m_lastEventId = m_idBuffer;
        if (m_hasData) {
            SseEvent ev;
            ev.type = m_eventType.isEmpty() ? QByteArrayLiteral("message") : m_eventType;
            ev.data = std::move(m_data);
            ev.lastEventId = m_lastEventId;
            m_data = QByteArray();
            m_hasData = false;
            m_eventType.clear();
            m_onEvent(ev);
        } else {
            m_eventType.clear();
        }
        return;
    }
    if (line.front() == ':') {
        ++m_comments;
        return;
    }
    QByteArrayView field = line;
    QByteArrayView value;
    if (const qsizetype colon = line.indexOf(':'); colon >= 0) {
        field = line.first(colon);
        value = fieldValue(line.sliced(colon + 1));
    }
    if (field == "data") {
        appendData(value);
    } else if (field == "event") {
        m_eventType = value.toByteArray();
    } else if (field == "id") {
        if (!value.contains('\0'))
            m_idBuffer = value.toByteArray();
    } else if (field == "retry") {
        bool digits = !value.isEmpty();
        for (char c : value)
            digits = digits && c >= '0' && c <= '9';
        if (digits) {
            bool ok = false;
            const int ms = value.toInt(&ok);
            if (ok)
                m_retry = ms;
        }
    }
}
