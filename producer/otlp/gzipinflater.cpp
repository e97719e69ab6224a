#include "gzipinflater.h"

#include <zlib.h>

#include <algorithm>

namespace GzipInflater {

Result inflate(QByteArrayView gzip, qint64 maxBytes)
{
    using namespace Qt::StringLiterals;
    Result result;
    z_stream stream{};
    // 16 + MAX_WBITS: a gzip header and trailer (CRC-32 and length checked), never raw zlib.
    if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK) {
        result.status = Result::Status::Corrupt;
        result.error = u"cannot start zlib"_s;
        return result;
    }
    stream.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(gzip.data()));
    stream.avail_in = uInt(gzip.size());
    // Grow by the compressed size (4x, bounded), not to the bound: most bodies are small.
    qsizetype capacity = qsizetype(std::clamp<qint64>(gzip.size() * 4, 4096, maxBytes + 1));
    result.data.resize(capacity);
    qsizetype produced = 0;
    for (;;) {
        if (produced == capacity) {
            if (capacity > maxBytes) {
                result.status = Result::Status::TooLarge;
                break;
            }
            capacity = qsizetype(std::min<qint64>(qint64(capacity) * 2, maxBytes + 1));
            result.data.resize(capacity);
        }
        stream.next_out = reinterpret_cast<Bytef *>(result.data.data() + produced);
        stream.avail_out = uInt(capacity - produced);
        const int rc = ::inflate(&stream, Z_NO_FLUSH);
        produced = capacity - qsizetype(stream.avail_out);
        if (produced > maxBytes) {
            result.status = Result::Status::TooLarge;
            break;
        }
        if (rc == Z_STREAM_END) {
            if (stream.avail_in == 0)
                break;
            // Another gzip member follows.
            if (inflateReset(&stream) != Z_OK) {
                result.status = Result::Status::Corrupt;
                result.error = u"cannot restart zlib"_s;
                break;
            }
            continue;
        }
        if (rc == Z_BUF_ERROR && stream.avail_in == 0) {
            result.status = Result::Status::Corrupt;
            result.error = u"the gzip data ends early"_s;
            break;
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            result.status = Result::Status::Corrupt;
            result.error =
                stream.msg ? QString::fromLatin1(stream.msg) : u"zlib error %1"_s.arg(rc);
            break;
        }
    }
    inflateEnd(&stream);
    if (result.status == Result::Status::Ok)
        result.data.truncate(produced);
    else
        result.data = QByteArray();
    return result;
}

} // namespace GzipInflater
