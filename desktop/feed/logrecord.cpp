#include "logrecord.h"

#include "envelope.h"
#include "vocabulary.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

#include <array>

QString LogRecord::message() const
{
    QString m = !text.isEmpty() || messageLength == 0
                    ? text
                    : QString::fromUtf8(
                          QByteArrayView(raw)
                              .sliced(messageOffset)
                              .first(std::min<qsizetype>(messageLength, 4 * maxMessageChars)));
    if (m.size() > maxMessageChars) {
        // Never half a character: a surrogate pair across the cut is left out.
        m.truncate(m.at(maxMessageChars - 1).isHighSurrogate() ? maxMessageChars - 1
                                                               : maxMessageChars);
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
    // Made once: the model asks for every visible cell, the filter for every line.
    static const auto names = [] {
        std::array<QString, std::size(Vocabulary::levelNames) + 1> n; // [0]: None
        for (qsizetype i = 0; i < qsizetype(std::size(Vocabulary::levelNames)); ++i)
            n[i + 1] = Vocabulary::levelNames[i];
        return n;
    }();
    return names[qsizetype(level)];
}

LogLevel fromName(QAnyStringView name)
{
    static_assert(std::size(Vocabulary::levelNames) == int(LogLevel::Fatal));
    // No name or alias is longer; a longer one can only be a padded one (below).
    if (name.size() <= 16) {
        for (qsizetype i = 0; i < qsizetype(std::size(Vocabulary::levelNames)); ++i)
            if (QAnyStringView::compare(name, Vocabulary::levelNames[i], Qt::CaseInsensitive) == 0)
                return LogLevel(i + 1);
        for (const Vocabulary::LevelAlias &a : Vocabulary::levelAliases)
            if (QAnyStringView::compare(name, a.alias, Qt::CaseInsensitive) == 0)
                return fromName(a.level);
    }
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
