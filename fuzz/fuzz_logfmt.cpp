// Fuzzes the logfmt reader (Logfmt::parse, producer/logfmt.h). It must never crash; a line it
// takes has only non-empty keys without separators; and the pairs, written back with every value
// quoted and escaped, read back as the same pairs.

#include "fuzzsupport.h"

#include "logfmt.h"

namespace {

QByteArray quoted(const QByteArray &value)
{
    QByteArray out = "\"";
    for (const char c : value) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (quint8(c) < 0x20) {
            out += "\\u00";
            out += "0123456789abcdef"[quint8(c) >> 4];
            out += "0123456789abcdef"[quint8(c) & 0xf];
        } else {
            out += c;
        }
    }
    return out + '"';
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const auto pairs = Logfmt::parse(FuzzSupport::view(data, size));
    if (!pairs)
        return 0;
    FUZZ_CHECK(!pairs->isEmpty());
    QByteArray again;
    for (const auto &pair : *pairs) {
        FUZZ_CHECK(!pair.key.isEmpty());
        for (const char c : pair.key)
            FUZZ_CHECK(quint8(c) > ' ' && c != '=' && c != '"');
        FUZZ_CHECK(pair.hasValue || pair.value.isEmpty());
        again += pair.key;
        if (pair.hasValue)
            again += '=' + quoted(pair.value);
        again += ' ';
    }
    const auto reread = Logfmt::parse(again);
    FUZZ_CHECK(reread);
    FUZZ_CHECK(reread->size() == pairs->size());
    for (qsizetype i = 0; i < pairs->size(); ++i) {
        FUZZ_CHECK(reread->at(i).key == pairs->at(i).key);
        FUZZ_CHECK(reread->at(i).value == pairs->at(i).value);
        FUZZ_CHECK(reread->at(i).hasValue == pairs->at(i).hasValue);
    }
    return 0;
}
