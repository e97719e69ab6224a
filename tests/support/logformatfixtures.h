#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QMetaType>
#include <QString>

// The log lines of tests/fixtures/logformats/ with what `--format auto` makes of each, from that
// folder's expected.json, plus a few lines too large to keep in a file. tst_lineparser holds
// LineParser to them and tst_producerformats the llmstreamer-producer program.
namespace LogFormatFixtures {

struct Case
{
    QString file;
    int index = 0;      // the line's index in its file
    QByteArray line;    // without its '\n'
    QString kind;       // text, json, logfmt or metrics
    QJsonObject fields; // members with exactly these values
    QStringList absent; // members not there
    QString name() const { return QStringLiteral("%1:%2").arg(file).arg(index + 1); }
};

QString directory();
QStringList files();
// Every line of every file, in order; empty with *error set if the folder cannot be read or does
// not match expected.json.
QList<Case> cases(QString *error);
// Lines of a megabyte and more (valid JSON and logfmt records among them), built here.
QList<Case> largeCases();

// Whether (channel, payload) is what the case expects, lines going to `channel` and stats to
// `metricsChannel`; if not, *why says how it differs.
bool matches(const Case &c, const QByteArray &channel, const QByteArray &payload,
             const QByteArray &mainChannel, const QByteArray &metricsChannel, QString *why);

} // namespace LogFormatFixtures

Q_DECLARE_METATYPE(LogFormatFixtures::Case)
