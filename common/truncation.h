#pragma once

#include <QByteArray>
#include <QByteArrayView>

// How the gateway (--max-payload-bytes) and the producer (--max-line-bytes) cut text that is
// too long: on a UTF-8 character boundary, visibly, with the original size in a marker, so a
// reader can never take a cut line for a whole one.
namespace Truncation {

// The length of the longest prefix of `bytes` that does not end inside a UTF-8 character; bytes
// that are not UTF-8 are kept as they are.
qsizetype utf8Boundary(QByteArrayView bytes);
// " … [truncated: N bytes]", N being the size before the cut.
QByteArray marker(qint64 originalBytes);
// At most `maxBytes` of `text` (to a whole character), then marker(text.size()).
QByteArray cut(QByteArrayView text, qsizetype maxBytes);

} // namespace Truncation
