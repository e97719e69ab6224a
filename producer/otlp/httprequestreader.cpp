#include "httprequestreader.h"

#include "httpsyntax.h"

#include <algorithm>
#include <cctype>

using HttpSyntax::equalsIgnoringCase;
using HttpSyntax::isToken;

void HttpRequestReader::reset()
{
    const qint64 maxBody = m_maxBody;
    *this = HttpRequestReader(maxBody);
}

void HttpRequestReader::fail(int status, const char *reason)
{
    m_state = State::Failed;
    m_status = status;
    m_reason = reason;
    m_body.clear();
}

QByteArray HttpRequestReader::field(QByteArrayView name) const
{
    for (const auto &[n, v] : m_fields)
        if (equalsIgnoringCase(n, name))
            return v;
    return {};
}

bool HttpRequestReader::wantsClose() const
{
    const QByteArray connection = field("connection");
    if (m_http10)
        return !equalsIgnoringCase(connection, "keep-alive");
    return equalsIgnoringCase(connection, "close");
}

void HttpRequestReader::read(QByteArray &input)
{
    if (m_state == State::Head)
        readHead(input);
    if (m_state == State::Body)
        readBody(input);
}

void HttpRequestReader::readHead(QByteArray &input)
{
    // Empty lines before a request line are allowed (RFC 9112 2.2).
    qsizetype start = 0;
    while (start < input.size() && (input[start] == '\r' || input[start] == '\n'))
        ++start;
    if (start > 0)
        input.remove(0, start);
    qsizetype end = -1;
    for (qsizetype i = input.indexOf('\n'); i >= 0; i = input.indexOf('\n', i + 1)) {
        const qsizetype next = i + 1;
        if (next < input.size() && input[next] == '\n') {
            end = next + 1;
            break;
        }
        if (next + 1 < input.size() && input[next] == '\r' && input[next + 1] == '\n') {
            end = next + 2;
            break;
        }
        if (next >= maxHeadBytes)
            break;
    }
    if (end < 0) {
        if (input.size() > maxHeadBytes)
            fail(431, "the request head is longer than 16 KiB");
        return;
    }
    if (end > maxHeadBytes)
        return fail(431, "the request head is longer than 16 KiB");
    const bool ok = parseHead(QByteArrayView(input).first(end));
    input.remove(0, end);
    if (!ok)
        return;
    m_state = State::Body;
    if (!m_chunked && m_remaining == 0)
        m_state = State::Complete;
}

bool HttpRequestReader::parseHead(QByteArrayView head)
{
    QList<QByteArrayView> lines;
    for (qsizetype pos = 0; pos < head.size();) {
        const qsizetype nl = head.indexOf('\n', pos);
        QByteArrayView line = head.sliced(pos, nl - pos);
        if (line.endsWith('\r'))
            line.chop(1);
        pos = nl + 1;
        if (line.contains('\r')) {
            fail(400, "a bare CR in the request head");
            return false;
        }
        if (!line.isEmpty())
            lines.append(line);
    }
    // Request line: method SP target SP version.
    const QByteArrayView requestLine = lines.value(0);
    const qsizetype sp1 = requestLine.indexOf(' ');
    const qsizetype sp2 = sp1 < 0 ? -1 : requestLine.indexOf(' ', sp1 + 1);
    if (sp2 < 0 || requestLine.indexOf(' ', sp2 + 1) >= 0) {
        fail(400, "malformed request line");
        return false;
    }
    const QByteArrayView method = requestLine.first(sp1);
    const QByteArrayView target = requestLine.sliced(sp1 + 1, sp2 - sp1 - 1);
    const QByteArrayView version = requestLine.sliced(sp2 + 1);
    if (!isToken(method) || target.isEmpty() ||
        std::any_of(target.begin(), target.end(),
                    [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; })) {
        fail(400, "malformed request line");
        return false;
    }
    if (version == "HTTP/1.0") {
        m_http10 = true;
    } else if (version != "HTTP/1.1") {
        fail(version.startsWith("HTTP/") ? 505 : 400, "only HTTP/1.1 and HTTP/1.0 are served");
        return false;
    }
    m_method = method.toByteArray();
    m_target = target.toByteArray();

    if (lines.size() - 1 > maxFields) {
        fail(431, "more than 100 header fields");
        return false;
    }
    qint64 contentLength = -1;
    bool transferEncoding = false;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArrayView line = lines[i];
        if (line.front() == ' ' || line.front() == '\t') {
            fail(400, "obs-folded header field lines are not accepted");
            return false;
        }
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0 || !isToken(line.first(colon))) {
            fail(400, "malformed header field");
            return false;
        }
        const QByteArrayView name = line.first(colon);
        const QByteArrayView value = HttpSyntax::trimmedOws(line.sliced(colon + 1));
        if (std::any_of(value.begin(), value.end(), [](char c) {
                return (static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f;
            })) {
            fail(400, "a control character in a header field");
            return false;
        }
        m_fields.append({name.toByteArray(), value.toByteArray()});
        if (equalsIgnoringCase(name, "content-length")) {
            if (value.isEmpty() || value.size() > 18 ||
                !std::all_of(value.begin(), value.end(),
                             [](char c) { return c >= '0' && c <= '9'; })) {
                fail(400, "malformed Content-Length");
                return false;
            }
            const qint64 n = value.toLongLong();
            if (contentLength >= 0 && n != contentLength) {
                fail(400, "two different Content-Lengths");
                return false;
            }
            contentLength = n;
        } else if (equalsIgnoringCase(name, "transfer-encoding")) {
            if (transferEncoding || !equalsIgnoringCase(value, "chunked")) {
                fail(501, "the only Transfer-Encoding served is chunked");
                return false;
            }
            transferEncoding = true;
        }
    }
    if (transferEncoding && (contentLength >= 0 || m_http10)) {
        fail(400, "Transfer-Encoding together with Content-Length or in HTTP/1.0");
        return false;
    }
    if (contentLength > m_maxBody) {
        fail(413, "the body is larger than the receiver's --max-body");
        return false;
    }
    m_chunked = transferEncoding;
    m_remaining = std::max<qint64>(contentLength, 0);
    return true;
}

void HttpRequestReader::readBody(QByteArray &input)
{
    if (m_chunked)
        return readChunked(input);
    const qsizetype n = qsizetype(std::min<qint64>(m_remaining, input.size()));
    if (m_body.isEmpty() && m_body.capacity() < m_remaining)
        m_body.reserve(qsizetype(std::min<qint64>(m_remaining, 1024 * 1024)));
    m_body.append(input.constData(), n);
    input.remove(0, n);
    m_remaining -= n;
    if (m_remaining == 0)
        m_state = State::Complete;
}

bool HttpRequestReader::takeLine(QByteArray &input, qsizetype maxLength, QByteArray *line)
{
    const qsizetype nl = input.indexOf('\n');
    if (nl < 0) {
        if (input.size() > maxLength)
            fail(400, "a chunk size or trailer line is too long");
        return false;
    }
    if (nl > maxLength) {
        fail(400, "a chunk size or trailer line is too long");
        return false;
    }
    *line = input.first(nl);
    if (line->endsWith('\r'))
        line->chop(1);
    input.remove(0, nl + 1);
    return true;
}

void HttpRequestReader::readChunked(QByteArray &input)
{
    for (;;) {
        QByteArray line;
        switch (m_chunk) {
        case Chunk::Size: {
            if (!takeLine(input, 1024, &line))
                return;
            // chunk-size [; extensions]
            const qsizetype semicolon = line.indexOf(';');
            const QByteArrayView digits = HttpSyntax::trimmedOws(
                QByteArrayView(line).first(semicolon < 0 ? line.size() : semicolon));
            // Hex digits only (toLongLong() would also take a sign or "0x"); 15 stay in range.
            if (digits.isEmpty() || digits.size() > 15 ||
                !std::all_of(digits.begin(), digits.end(),
                             [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }))
                return fail(400, "malformed chunk size");
            const qint64 size = digits.toLongLong(nullptr, 16);
            if (size > m_maxBody - m_body.size())
                return fail(413, "the body is larger than the receiver's --max-body");
            if (size == 0) {
                m_chunk = Chunk::Trailer;
                continue;
            }
            m_remaining = size;
            m_chunk = Chunk::Data;
            continue;
        }
        case Chunk::Data: {
            const qsizetype n = qsizetype(std::min<qint64>(m_remaining, input.size()));
            m_body.append(input.constData(), n);
            input.remove(0, n);
            m_remaining -= n;
            if (m_remaining > 0)
                return;
            m_chunk = Chunk::DataEnd;
            continue;
        }
        case Chunk::DataEnd:
            if (!takeLine(input, 2, &line))
                return;
            if (!line.isEmpty())
                return fail(400, "chunk data longer than its size");
            m_chunk = Chunk::Size;
            continue;
        case Chunk::Trailer:
            if (!takeLine(input, maxHeadBytes, &line))
                return;
            m_trailerBytes += line.size() + 2;
            if (m_trailerBytes > maxHeadBytes)
                return fail(431, "the trailer fields are longer than 16 KiB");
            if (line.isEmpty()) {
                m_state = State::Complete;
                return;
            }
            continue;
        }
    }
}
