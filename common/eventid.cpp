#include "eventid.h"

namespace {

// Decimal digits of a 64-bit integer, sign included; returns the length.
int writeNumber(char *out, qint64 value)
{
    char digits[20];
    int n = 0;
    quint64 v = value < 0 ? 0 - quint64(value) : quint64(value);
    do {
        digits[n++] = char('0' + v % 10);
        v /= 10;
    } while (v);
    int len = 0;
    if (value < 0)
        out[len++] = '-';
    while (n)
        out[len++] = digits[--n];
    return len;
}

} // namespace

int EventId::write(char *out) const
{
    int len = writeNumber(out, boot);
    out[len++] = '-';
    return len + writeNumber(out + len, seq);
}

QByteArray EventId::toByteArray() const
{
    char buf[maxLength];
    return QByteArray(buf, write(buf));
}

std::optional<EventId> EventId::parse(QByteArrayView text)
{
    const qsizetype dash = text.indexOf('-');
    if (dash <= 0 || dash == text.size() - 1)
        return std::nullopt;
    auto number = [](QByteArrayView v) -> std::optional<qint64> {
        if (v.size() > 18)
            return std::nullopt;
        qint64 n = 0;
        for (char c : v) {
            if (c < '0' || c > '9')
                return std::nullopt;
            n = n * 10 + (c - '0');
        }
        return n;
    };
    const auto boot = number(text.first(dash));
    const auto seq = number(text.sliced(dash + 1));
    if (!boot || !seq)
        return std::nullopt;
    return EventId{*boot, *seq};
}
