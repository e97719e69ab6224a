#include "sseparser.h"

#include <cstring>
#include <utility>

SseParser::SseParser(EventHandler onEvent) : m_onEvent(std::move(onEvent)) {}

void SseParser::reset()
{
    m_partial.clear();
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
        if (!eol) {
            if (m_partial.size() + (end - p) > m_maxLine) {
                m_failed = true;
                return false;
            }
            m_partial.append(p, end - p);
            break;
        }
        // The same cap whether the line arrived whole or in pieces.
        if (m_partial.size() + (eol - p) > m_maxLine) {
            m_failed = true;
            return false;
        }
        if (m_partial.isEmpty()) {
            processLine(QByteArrayView(p, eol - p));
        } else {
            m_partial.append(p, eol - p);
            processLine(m_partial);
            m_partial.clear();
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
        value = line.sliced(colon + 1);
        if (value.startsWith(' '))
            value = value.sliced(1);
    }
    if (field == "data") {
        if (m_hasData)
            m_data.append('\n');
        m_data.append(value);
        m_hasData = true;
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
