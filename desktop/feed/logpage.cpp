#include "logpage.h"

#include "logrecorddecoder.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace {

// ---- The elements of the top-level "events" array as the bytes the gateway wrote. Only run
// on text QJsonDocument has accepted, so it need not check anything. ----

qsizetype skipSpace(QByteArrayView s, qsizetype i)
{
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        ++i;
    return i;
}

// One past the end of the value starting at `i`.
qsizetype valueEnd(QByteArrayView s, qsizetype i)
{
    if (i >= s.size())
        return i;
    if (s[i] == '"') {
        for (++i; i < s.size() && s[i] != '"'; ++i) {
            if (s[i] == '\\')
                ++i;
        }
        return i + 1;
    }
    if (s[i] == '{' || s[i] == '[') {
        int depth = 0;
        while (i < s.size()) {
            const char c = s[i];
            if (c == '"') {
                i = valueEnd(s, i);
                continue;
            }
            ++i;
            if (c == '{' || c == '[')
                ++depth;
            else if ((c == '}' || c == ']') && --depth == 0)
                return i;
        }
        return i;
    }
    while (i < s.size() && !QByteArrayView(",}] \t\r\n").contains(s[i]))
        ++i;
    return i;
}

// The bytes of each element of the object's "events" array; empty if there is none (or its key
// is written with escapes, which the caller then handles another way).
QByteArrayList rawEvents(const QByteArray &body)
{
    const QByteArrayView s(body);
    qsizetype i = skipSpace(s, 0);
    if (i >= s.size() || s[i] != '{')
        return {};
    i = skipSpace(s, i + 1);
    while (i < s.size() && s[i] == '"') {
        const qsizetype keyEnd = valueEnd(s, i);
        const QByteArrayView key = s.sliced(i, keyEnd - i);
        i = skipSpace(s, keyEnd);
        i = skipSpace(s, i + 1); // the colon
        if (key == "\"events\"" && i < s.size() && s[i] == '[') {
            QByteArrayList out;
            i = skipSpace(s, i + 1);
            while (i < s.size() && s[i] != ']') {
                const qsizetype end = valueEnd(s, i);
                out.append(body.sliced(i, end - i));
                i = skipSpace(s, end);
                if (i < s.size() && s[i] == ',')
                    i = skipSpace(s, i + 1);
            }
            return out;
        }
        i = skipSpace(s, valueEnd(s, i));
        if (i < s.size() && s[i] == ',')
            i = skipSpace(s, i + 1);
    }
    return {};
}

QString tr(const char *text)
{
    return QCoreApplication::translate("LogPage", text);
}

} // namespace

std::optional<LogPage> LogPage::parse(const QByteArray &body, LogRecordDecoder &decoder,
                                      QString *error)
{
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(body, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        *error = tr("the gateway's history answer is not JSON (%1 at byte %2)")
                     .arg(parseError.errorString())
                     .arg(parseError.offset);
        return std::nullopt;
    }
    const QJsonObject o = document.object();
    const QJsonValue events = o.value(QLatin1StringView("events"));
    const QJsonValue before = o.value(QLatin1StringView("before"));
    if (!document.isObject() || !events.isArray() || !(before.isString() || before.isNull())) {
        *error = tr("the gateway's history answer has no \"events\" list and \"before\" id; is "
                    "this an LLM Streamer gateway with the history API?");
        return std::nullopt;
    }
    LogPage page;
    page.before = before.toString();
    page.stopped = o.value(QLatin1StringView("stopped")).toString();
    page.scanned = qint64(o.value(QLatin1StringView("scanned")).toDouble());
    page.transport = o.value(QLatin1StringView("transport")).toString();

    const QJsonArray array = events.toArray();
    QByteArrayList raw = rawEvents(body);
    if (raw.size() != array.size()) {
        // Not the layout the gateway writes: the envelopes as Qt writes them instead (keys in
        // another order, which only the slower way of reading handles).
        raw.clear();
        for (const QJsonValue &v : array)
            raw.append(QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact));
    }
    page.records.reserve(std::size_t(raw.size()));
    for (qsizetype k = 0; k < raw.size(); ++k) {
        if (array.at(k).isObject())
            page.records.push_back(decoder.decodeEnvelope(raw[k]));
    }
    return page;
}
