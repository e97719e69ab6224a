#include "sseencoder.h"

#include <cstring>

namespace SseEncoder {

namespace {

// Appends `field: value` lines for every line of `value` (CR, LF and CRLF all end a line).
void appendLines(QByteArray &out, QByteArrayView field, QByteArrayView value)
{
    qsizetype start = 0;
    const qsizetype n = value.size();
    const char *d = value.data();
    for (qsizetype i = 0; i <= n; ++i) {
        if (i < n) {
            // Jump to the next line break with memchr (a JSON envelope usually has none).
            const void *lf = n > i ? std::memchr(d + i, '\n', size_t(n - i)) : nullptr;
            const qsizetype end = lf ? static_cast<const char *>(lf) - d : n;
            const void *cr = end > i ? std::memchr(d + i, '\r', size_t(end - i)) : nullptr;
            i = cr ? static_cast<const char *>(cr) - d : end;
        }
        out.append(field).append(": ", 2).append(value.sliced(start, i - start)).append('\n');
        if (i + 1 < n && value[i] == '\r' && value[i + 1] == '\n')
            ++i;
        start = i + 1;
    }
}

} // namespace

QByteArray event(QByteArrayView id, QByteArrayView type, QByteArrayView data)
{
    QByteArray out;
    out.reserve(data.size() + id.size() + type.size() + 32);
    out.append("id: ", 4).append(id).append('\n');
    if (!type.isEmpty())
        out.append("event: ", 7).append(type).append('\n');
    appendLines(out, "data", data);
    out.append('\n');
    return out;
}

QByteArray eventWithoutId(QByteArrayView type, QByteArrayView data)
{
    QByteArray out;
    out.reserve(data.size() + type.size() + 32);
    out.append("event: ", 7).append(type).append('\n');
    appendLines(out, "data", data);
    out.append('\n');
    return out;
}

QByteArray comment(QByteArrayView text)
{
    QByteArray out;
    appendLines(out, "", text);
    out.append('\n');
    return out;
}

QByteArray retry(int milliseconds)
{
    return QByteArray("retry: ").append(QByteArray::number(milliseconds)).append("\n\n");
}

} // namespace SseEncoder
