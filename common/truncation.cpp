#include "truncation.h"

#include <algorithm>

namespace Truncation {

qsizetype utf8Boundary(QByteArrayView bytes)
{
    const qsizetype lookBack = std::min<qsizetype>(4, bytes.size());
    for (qsizetype back = 1; back <= lookBack; ++back) {
        const auto c = uchar(bytes.at(bytes.size() - back));
        if ((c & 0xC0) == 0x80)
            continue; // a continuation byte: its lead byte is further back
        const qsizetype length = (c & 0xE0) == 0xC0   ? 2
                                 : (c & 0xF0) == 0xE0 ? 3
                                 : (c & 0xF8) == 0xF0 ? 4
                                                      : 1;
        return length > back ? bytes.size() - back : bytes.size();
    }
    return bytes.size();
}

QByteArray marker(qint64 originalBytes)
{
    return QByteArray(" \xe2\x80\xa6 [truncated: ")
        .append(QByteArray::number(originalBytes))
        .append(" bytes]");
}

QByteArray cut(QByteArrayView text, qsizetype maxBytes)
{
    const QByteArrayView kept = text.first(std::min(maxBytes, text.size()));
    return kept.first(utf8Boundary(kept)).toByteArray().append(marker(text.size()));
}

} // namespace Truncation
