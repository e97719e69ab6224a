#include "logexporter.h"

#include "logmodel.h"
#include "logrecord.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>

namespace LogExporter {

Format formatForPath(const QString &path)
{
    const QString suffix = QFileInfo(path).suffix().toLower();
    return suffix == QLatin1StringView("ndjson") || suffix == QLatin1StringView("jsonl") ||
                   suffix == QLatin1StringView("json")
               ? Format::Ndjson
               : Format::Text;
}

QByteArray ndjsonLine(const LogRecord &r)
{
    if (r.kind == LogRecord::Kind::Message) {
        // Object payloads are embedded as received and may contain line breaks between tokens.
        if (!r.raw.contains('\n') && !r.raw.contains('\r'))
            return r.raw + '\n';
        const QJsonDocument doc = QJsonDocument::fromJson(r.raw);
        if (doc.isObject())
            return doc.toJson(QJsonDocument::Compact) + '\n';
    }
    QJsonObject o{{QStringLiteral("event"), r.kind == LogRecord::Kind::Gap
                                                ? QStringLiteral("gap")
                                                : QStringLiteral("notice")},
                  {QStringLiteral("ts"), r.ts},
                  {QStringLiteral("message"), r.message()}};
    const QJsonDocument data = QJsonDocument::fromJson(r.raw);
    if (data.isObject())
        o.insert(QStringLiteral("data"), data.object());
    return QJsonDocument(o).toJson(QJsonDocument::Compact) + '\n';
}

QString textLine(const LogRecord &r)
{
    const auto orDash = [](const QString &s) { return s.isEmpty() ? QStringLiteral("-") : s; };
    QString message = r.message();
    message.replace(QLatin1StringView("\r\n"), QLatin1StringView("\\n"));
    message.replace(u'\n', QLatin1StringView("\\n"));
    message.replace(u'\r', QLatin1StringView("\\r"));
    QString level = LogLevels::name(r.level);
    if (r.kind == LogRecord::Kind::Gap)
        level = QStringLiteral("GAP");
    else if (r.kind == LogRecord::Kind::Notice)
        level = QStringLiteral("NOTE");
    QString line = QDateTime::fromMSecsSinceEpoch(r.ts).toString(Qt::ISODateWithMs) + u' ' +
                   orDash(r.channel()) + u' ' + orDash(level) + u' ' + orDash(r.service()) + u' ' +
                   message;
    if (!r.model().isEmpty())
        line += QStringLiteral(" model=") + r.model();
    if (r.inputTokens >= 0)
        line += QStringLiteral(" in=") + QString::number(r.inputTokens);
    if (r.outputTokens >= 0)
        line += QStringLiteral(" out=") + QString::number(r.outputTokens);
    if (!std::isnan(r.durationMs))
        line += QStringLiteral(" duration_ms=") + QString::number(r.durationMs);
    if (!std::isnan(r.ttftMs))
        line += QStringLiteral(" ttft_ms=") + QString::number(r.ttftMs);
    if (!r.errorType().isEmpty())
        line += QStringLiteral(" error=") + r.errorType();
    return line + u'\n';
}

bool write(const QString &path, Format format, qsizetype count,
           const std::function<const LogRecord &(qsizetype)> &recordAt, QString *error)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        *error = QCoreApplication::translate("LogExporter", "cannot write %1: %2")
                     .arg(QDir::toNativeSeparators(path), file.errorString());
        return false;
    }
    QByteArray buffer;
    constexpr qsizetype flushAt = 256 * 1024;
    for (qsizetype i = 0; i < count; ++i) {
        const LogRecord &r = recordAt(i);
        if (format == Format::Ndjson)
            buffer += ndjsonLine(r);
        else
            buffer += textLine(r).toUtf8();
        if (buffer.size() >= flushAt || i + 1 == count) {
            if (file.write(buffer) != buffer.size()) {
                *error = QCoreApplication::translate("LogExporter", "cannot write %1: %2")
                             .arg(QDir::toNativeSeparators(path), file.errorString());
                file.cancelWriting();
                return false;
            }
            buffer.clear();
        }
    }
    if (!file.commit()) {
        *error = QCoreApplication::translate("LogExporter", "cannot save %1: %2")
                     .arg(QDir::toNativeSeparators(path), file.errorString());
        return false;
    }
    return true;
}

} // namespace LogExporter
