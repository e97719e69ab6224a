#include "logrecord.h"

#include "envelope.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

QString LogRecord::message() const
{
    QString m = !text.isEmpty() || messageLength == 0
                    ? text
                    : QString::fromUtf8(
                          QByteArrayView(raw)
                              .sliced(messageOffset)
                              .first(std::min<qsizetype>(messageLength, 4 * maxMessageChars)));
    if (m.size() > maxMessageChars) {
        m.truncate(maxMessageChars);
        m.append(QChar(0x2026)); // …
    }
    return m;
}

void LogRecord::setLabels(const QString &channel, const QString &service, const QString &model,
                          const QString &errorType)
{
    labels = new LogLabels;
    labels->channel = channel;
    labels->service = service;
    labels->model = model;
    labels->errorType = errorType;
}

QByteArrayView LogRecord::payloadJson() const
{
    QByteArrayView v = QByteArrayView(raw).sliced(std::min<qsizetype>(payloadOffset, raw.size()));
    if (kind != Kind::Message)
        return v;
    v = v.trimmed();
    if (v.endsWith('}'))
        v.chop(1);
    return v.trimmed();
}

QString LogRecord::prettyPayload() const
{
    if (kind == Kind::Message) {
        if (const auto envelope = Envelope::decode(raw)) {
            if (envelope->payload.isObject())
                return QString::fromUtf8(
                    QJsonDocument(envelope->payload.toObject()).toJson(QJsonDocument::Indented));
            return envelope->payload.toString();
        }
        return QString::fromUtf8(raw);
    }
    const QJsonDocument doc = QJsonDocument::fromJson(raw);
    return doc.isObject() ? QString::fromUtf8(doc.toJson(QJsonDocument::Indented))
                          : QString::fromUtf8(raw);
}

QString LogRecord::id() const
{
    if (kind != Kind::Message)
        return {};
    const auto envelope = Envelope::decode(raw);
    return envelope ? envelope->id : QString();
}

namespace LogLevels {

QString name(LogLevel level)
{
    switch (level) {
    case LogLevel::None:
        return {};
    case LogLevel::Trace:
        return QStringLiteral("TRACE");
    case LogLevel::Debug:
        return QStringLiteral("DEBUG");
    case LogLevel::Info:
        return QStringLiteral("INFO");
    case LogLevel::Warn:
        return QStringLiteral("WARN");
    case LogLevel::Error:
        return QStringLiteral("ERROR");
    case LogLevel::Fatal:
        return QStringLiteral("FATAL");
    }
    return {};
}

LogLevel fromName(QAnyStringView name)
{
    struct Alias
    {
        QLatin1StringView name;
        LogLevel level;
    };
    static constexpr Alias aliases[] = {
        {QLatin1StringView("TRACE"), LogLevel::Trace},
        {QLatin1StringView("DEBUG"), LogLevel::Debug},
        {QLatin1StringView("DBG"), LogLevel::Debug},
        {QLatin1StringView("VERBOSE"), LogLevel::Debug},
        {QLatin1StringView("INFO"), LogLevel::Info},
        {QLatin1StringView("INFORMATION"), LogLevel::Info},
        {QLatin1StringView("NOTICE"), LogLevel::Info},
        {QLatin1StringView("WARN"), LogLevel::Warn},
        {QLatin1StringView("WARNING"), LogLevel::Warn},
        {QLatin1StringView("ERROR"), LogLevel::Error},
        {QLatin1StringView("ERR"), LogLevel::Error},
        {QLatin1StringView("FATAL"), LogLevel::Fatal},
        {QLatin1StringView("CRITICAL"), LogLevel::Fatal},
        {QLatin1StringView("CRIT"), LogLevel::Fatal},
        {QLatin1StringView("PANIC"), LogLevel::Fatal},
        {QLatin1StringView("EMERG"), LogLevel::Fatal},
        {QLatin1StringView("ALERT"), LogLevel::Fatal},
    };
    if (name.size() > 16)
        return LogLevel::None;
    for (const Alias &a : aliases)
        if (QAnyStringView::compare(name, a.name, Qt::CaseInsensitive) == 0)
            return a.level;
    // Rare: surrounding spaces.
    if (const QString trimmed = name.toString().trimmed(); trimmed.size() != name.size())
        return fromName(trimmed);
    return LogLevel::None;
}

LogLevel fromNumber(double value)
{
    // pino/bunyan: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal.
    return value >= 60   ? LogLevel::Fatal
           : value >= 50 ? LogLevel::Error
           : value >= 40 ? LogLevel::Warn
           : value >= 30 ? LogLevel::Info
           : value >= 20 ? LogLevel::Debug
                         : LogLevel::Trace;
}

LogLevel guess(QStringView text)
{
    // Loggers print the level as level=xxx, or as an upper-case word near the start.
    static const QRegularExpression keyValue(
        QStringLiteral(R"(\blevel["']?\s*[=:]\s*["']?([a-zA-Z]+))"),
        QRegularExpression::CaseInsensitiveOption);
    static const QRegularExpression word(
        QStringLiteral(R"(\b(FATAL|CRITICAL|PANIC|ERROR|WARNING|WARN|INFO|DEBUG|TRACE)\b)"));
    const QStringView head = text.first(std::min<qsizetype>(text.size(), 300));
    if (const auto m = keyValue.match(head); m.hasMatch())
        if (const LogLevel level = fromName(m.capturedView(1)); level != LogLevel::None)
            return level;
    if (const auto m = word.match(head); m.hasMatch())
        return fromName(m.capturedView(1));
    return LogLevel::None;
}

} // namespace LogLevels
