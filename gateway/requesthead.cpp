#include "requesthead.h"

#include "httpsyntax.h"

#include <algorithm>

namespace {

using HttpSyntax::equalsIgnoringCase;
using HttpSyntax::isToken;
using HttpSyntax::trimmedOws;

RequestHead refused(int status, const char *reason)
{
    RequestHead head;
    head.state = RequestHead::State::Refused;
    head.status = status;
    head.reason = reason;
    return head;
}

} // namespace

RequestHead RequestHead::parse(QByteArrayView buffer, qsizetype maxBytes)
{
    // Empty lines before a request are ignored (RFC 9112 2.2); they count towards the limit.
    qsizetype start = 0;
    while (start < buffer.size()) {
        if (buffer[start] == '\n')
            ++start;
        else if (buffer[start] == '\r' && start + 1 < buffer.size() && buffer[start + 1] == '\n')
            start += 2;
        else
            break;
    }
    // The head ends at its first empty line.
    const QByteArrayView rest = buffer.sliced(start);
    const qsizetype lf = rest.indexOf("\n\n");
    const qsizetype crlf = rest.indexOf("\n\r\n");
    qsizetype end = -1; // index in `rest` of the line feed that ends the last line
    qsizetype terminator = 0;
    if (lf >= 0 && (crlf < 0 || lf < crlf)) {
        end = lf;
        terminator = 2;
    } else if (crlf >= 0) {
        end = crlf;
        terminator = 3;
    }
    if (end < 0) {
        if (buffer.size() > maxBytes)
            return refused(431, "request head too large");
        return {};
    }
    if (start + end + terminator > maxBytes)
        return refused(431, "request head too large");

    RequestHead head;
    head.state = State::Complete;
    head.length = start + end + terminator;

    int fields = 0, hosts = 0, contentLengths = 0;
    bool transferEncoding = false, body = false, closeToken = false, keepAliveToken = false;
    bool first = true;
    for (QByteArrayView lines = rest.first(end + 1); !lines.isEmpty();) {
        const qsizetype nl = lines.indexOf('\n');
        QByteArrayView line = lines.first(nl);
        lines = lines.sliced(nl + 1);
        if (line.endsWith('\r'))
            line.chop(1);
        if (line.contains('\r'))
            return refused(400, "bare CR in the request head");
        if (first) {
            first = false;
            // method SP request-target SP HTTP-version, single spaces (RFC 9112 3).
            const qsizetype sp1 = line.indexOf(' ');
            const qsizetype sp2 = sp1 < 0 ? -1 : line.indexOf(' ', sp1 + 1);
            if (sp1 < 0 || sp2 < 0 || line.indexOf(' ', sp2 + 1) >= 0)
                return refused(400, "malformed request line");
            const QByteArrayView method = line.first(sp1);
            const QByteArrayView target = line.sliced(sp1 + 1, sp2 - sp1 - 1);
            const QByteArrayView version = line.sliced(sp2 + 1);
            if (!isToken(method))
                return refused(400, "malformed request method");
            if (target.isEmpty() || !std::all_of(target.begin(), target.end(),
                                                 [](char c) { return c > 0x20 && c < 0x7f; }))
                return refused(400, "malformed request target");
            if (version == "HTTP/1.0") {
                head.http10 = true;
            } else if (version != "HTTP/1.1") {
                const bool looksLikeHttp = version.size() == 8 && version.startsWith("HTTP/") &&
                                           version[5] >= '0' && version[5] <= '9' &&
                                           version[6] == '.' && version[7] >= '0' &&
                                           version[7] <= '9';
                return looksLikeHttp ? refused(505, "only HTTP/1.0 and HTTP/1.1 are supported")
                                     : refused(400, "malformed HTTP version");
            }
            continue;
        }
        if (line.startsWith(' ') || line.startsWith('\t'))
            return refused(400, "obsolete line folding in a header field");
        const qsizetype colon = line.indexOf(':');
        if (colon < 0 || !isToken(line.first(colon)))
            return refused(400, "malformed header field");
        const QByteArrayView name = line.first(colon);
        const QByteArrayView value = trimmedOws(line.sliced(colon + 1));
        for (char c : value) {
            const auto u = static_cast<unsigned char>(c);
            if ((u < 0x20 && c != '\t') || u == 0x7f)
                return refused(400, "control character in a header field");
        }
        if (++fields > maxFields)
            return refused(431, "more than 100 header fields");
        if (equalsIgnoringCase(name, "host")) {
            ++hosts;
            if (std::any_of(value.begin(), value.end(),
                            [](char c) { return c == ' ' || c == '\t' || c == '/' || c == '@'; }))
                return refused(400, "malformed Host header");
        } else if (equalsIgnoringCase(name, "content-length")) {
            ++contentLengths;
            if (value.isEmpty() || value.size() > 18 ||
                !std::all_of(value.begin(), value.end(),
                             [](char c) { return c >= '0' && c <= '9'; }))
                return refused(400, "malformed Content-Length");
            body = body || value.toLongLong() > 0;
        } else if (equalsIgnoringCase(name, "forwarded")) {
            head.forwarded.append(value.toByteArray());
        } else if (equalsIgnoringCase(name, "x-forwarded-for")) {
            head.forwardedFor.append(value.toByteArray());
        } else if (equalsIgnoringCase(name, "transfer-encoding")) {
            transferEncoding = true;
        } else if (equalsIgnoringCase(name, "connection")) {
            for (QByteArrayView options = value; !options.isEmpty();) {
                const qsizetype comma = options.indexOf(',');
                const QByteArrayView option =
                    trimmedOws(comma < 0 ? options : options.first(comma));
                options = comma < 0 ? QByteArrayView() : options.sliced(comma + 1);
                closeToken = closeToken || equalsIgnoringCase(option, "close");
                keepAliveToken = keepAliveToken || equalsIgnoringCase(option, "keep-alive");
            }
        }
    }
    if (hosts > 1)
        return refused(400, "more than one Host header");
    if (hosts == 0 && !head.http10)
        return refused(400, "missing Host header");
    if (contentLengths > 1)
        return refused(400, "more than one Content-Length");
    if (transferEncoding && (contentLengths > 0 || head.http10))
        return refused(400, "Transfer-Encoding together with Content-Length or in HTTP/1.0");
    if (transferEncoding || body)
        return refused(413, "this gateway takes no request bodies");
    head.close = closeToken || (head.http10 && !keepAliveToken);
    return head;
}
