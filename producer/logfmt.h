#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>

#include <optional>

// Reads one logfmt line (`time=2024-05-01T10:00:00Z level=INFO msg="loaded model" n=3`), the
// format of Go's log/slog text handler, logrus and go-logfmt. Strict: the whole line must parse,
// or nothing does, so a text line is never half taken for fields.
//
// Pairs are separated by spaces or tabs (a trailing '\r' counts as space). A key is a run of bytes
// above ' ' other than '=' and '"'. A value is bare (bytes above ' ' other than '=' and '"', may
// be empty: `k=`) or quoted ("…", escapes \" \\ \/ \b \f \n \r \t \uXXXX, the escapes of Go's
// strconv.Quote and JSON; a raw control byte inside quotes is refused). A key alone, without '=',
// is a pair without a value.
namespace Logfmt {

struct Pair
{
    QByteArray key;
    QByteArray value; // unescaped, UTF-8 as read (\u escapes written as UTF-8)
    bool hasValue = true;
};

// Nullopt when the line is not logfmt: an unbalanced quote, a bad escape, '=' or '"' where a key
// or bare value is, or no pair at all.
std::optional<QList<Pair>> parse(QByteArrayView line);

} // namespace Logfmt
