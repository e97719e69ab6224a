#include "logformatfixtures.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>

QString LogFormatFixtures::directory()
{
    return QStringLiteral(LLMSTREAMER_LOGFORMATS_FIXTURES);
}

QStringList LogFormatFixtures::files()
{
    QFile file(QDir(directory()).filePath(QStringLiteral("expected.json")));
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(file.readAll())
        .object()
        .value(QLatin1StringView("files"))
        .toObject()
        .keys();
}

QList<LogFormatFixtures::Case> LogFormatFixtures::cases(QString *error)
{
    const QDir dir(directory());
    QFile expectedFile(dir.filePath(QStringLiteral("expected.json")));
    if (!expectedFile.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read %1").arg(expectedFile.fileName());
        return {};
    }
    QJsonParseError parseError;
    const QJsonObject files = QJsonDocument::fromJson(expectedFile.readAll(), &parseError)
                                  .object()
                                  .value(QLatin1StringView("files"))
                                  .toObject();
    if (parseError.error != QJsonParseError::NoError || files.isEmpty()) {
        *error = QStringLiteral("expected.json: %1").arg(parseError.errorString());
        return {};
    }
    QList<Case> out;
    for (auto it = files.begin(); it != files.end(); ++it) {
        QFile log(dir.filePath(it.key()));
        if (!log.open(QIODevice::ReadOnly)) {
            *error = QStringLiteral("cannot read %1").arg(log.fileName());
            return {};
        }
        QByteArray content = log.readAll();
        if (!content.endsWith('\n')) {
            *error = QStringLiteral("%1 does not end with a newline").arg(it.key());
            return {};
        }
        content.chop(1);
        const QByteArrayList lines = content.split('\n');
        const QJsonArray rows = it.value().toArray();
        if (rows.size() != lines.size()) {
            *error = QStringLiteral("%1 has %2 lines, expected.json %3 rows")
                         .arg(it.key())
                         .arg(lines.size())
                         .arg(rows.size());
            return {};
        }
        for (int i = 0; i < lines.size(); ++i) {
            const QJsonObject row = rows.at(i).toObject();
            Case c;
            c.file = it.key();
            c.index = i;
            c.line = lines.at(i);
            c.kind = row.value(QLatin1StringView("kind")).toString();
            c.fields = row.value(QLatin1StringView("fields")).toObject();
            for (const QJsonValue &name : row.value(QLatin1StringView("absent")).toArray())
                c.absent.append(name.toString());
            out.append(c);
        }
    }
    return out;
}

QList<LogFormatFixtures::Case> LogFormatFixtures::largeCases()
{
    const QByteArray mib(1024 * 1024, 'x');
    QList<Case> out;
    Case json;
    json.file = QStringLiteral("large");
    json.index = 0;
    json.line = "{\"level\":\"info\",\"msg\":\"" + mib + mib + "\"}";
    json.kind = QStringLiteral("json");
    json.fields = {{QStringLiteral("level"), QStringLiteral("INFO")},
                   {QStringLiteral("msg"), QString::fromLatin1(mib + mib)}};
    out.append(json);
    Case logfmt;
    logfmt.file = json.file;
    logfmt.index = 1;
    logfmt.line = "level=warn msg=\"" + mib + "\" n=1";
    logfmt.kind = QStringLiteral("logfmt");
    logfmt.fields = {{QStringLiteral("level"), QStringLiteral("WARN")},
                     {QStringLiteral("msg"), QString::fromLatin1(mib)},
                     {QStringLiteral("n"), QStringLiteral("1")}};
    out.append(logfmt);
    Case unbalanced = logfmt;
    unbalanced.index = 2;
    unbalanced.line = "level=warn msg=\"" + mib + " n=1";
    unbalanced.kind = QStringLiteral("text");
    unbalanced.fields = {};
    out.append(unbalanced);
    Case text = unbalanced;
    text.index = 3;
    text.line = mib + mib;
    out.append(text);
    return out;
}

bool LogFormatFixtures::matches(const Case &c, const QByteArray &channel, const QByteArray &payload,
                                const QByteArray &mainChannel, const QByteArray &metricsChannel,
                                QString *why)
{
    const QByteArray expectedChannel =
        c.kind == QLatin1StringView("metrics") ? metricsChannel : mainChannel;
    if (channel != expectedChannel) {
        *why = QStringLiteral("%1: channel %2, expected %3")
                   .arg(c.name(), QString::fromUtf8(channel), QString::fromUtf8(expectedChannel));
        return false;
    }
    if (c.kind == QLatin1StringView("text")) {
        if (payload != c.line) {
            *why = QStringLiteral("%1: the line was changed: %2")
                       .arg(c.name(), QString::fromUtf8(payload.left(300)));
            return false;
        }
        return true;
    }
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(payload, &error);
    if (!doc.isObject()) {
        *why = QStringLiteral("%1: not a JSON object (%2): %3")
                   .arg(c.name(), error.errorString(), QString::fromUtf8(payload.left(300)));
        return false;
    }
    const QJsonObject record = doc.object();
    if (record.value(QLatin1StringView("raw")) != QJsonValue(QString::fromUtf8(c.line))) {
        *why = QStringLiteral("%1: raw is not the line").arg(c.name());
        return false;
    }
    for (auto it = c.fields.begin(); it != c.fields.end(); ++it) {
        if (record.value(it.key()) != it.value()) {
            *why = QStringLiteral("%1: %2 is %3, expected %4")
                       .arg(c.name(), it.key(),
                            QString::fromUtf8(
                                QJsonDocument(QJsonArray{record.value(it.key())}).toJson()),
                            QString::fromUtf8(QJsonDocument(QJsonArray{it.value()}).toJson()))
                       .left(2000);
            return false;
        }
    }
    for (const QString &name : c.absent) {
        if (record.contains(name)) {
            *why = QStringLiteral("%1: %2 should not be there").arg(c.name(), name);
            return false;
        }
    }
    return true;
}
