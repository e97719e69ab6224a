// LogExporter: NDJSON keeps the gateway's envelopes, text is what the view shows; files are
// written atomically and failures are reported in plain words.
#include "envelope.h"
#include "logexporter.h"
#include "logrecorddecoder.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

namespace {

std::vector<LogRecord> sample()
{
    LogRecordDecoder d;
    std::vector<LogRecord> v;
    v.push_back(d.decodeEnvelope(
        Envelope::encode("1-1", "logs:generation", 1700000000000,
                         R"({"level":"INFO","msg":"done","service":"api",)"
                         R"("gen_ai.request.model":"m","gen_ai.usage.input_tokens":3,)"
                         R"("gen_ai.usage.output_tokens":4,"duration_ms":5,"ttft_ms":6})")
            .json));
    // A pretty-printed payload: embedded as received, with line breaks.
    v.push_back(d.decodeEnvelope(
        Envelope::encode("1-2", "logs:x", 1700000000001, "{\n  \"msg\": \"two\"\n}").json));
    v.push_back(d.decodeEnvelope(
        Envelope::encode("1-3", "logs:raw", 1700000000002, "ERROR multi\nline").json));
    v.push_back(LogRecordDecoder::marker(
        LogRecord::Kind::Gap, "gap", R"({"reason":"gateway-restarted","message":"restarted"})"));
    return v;
}

} // namespace

class tst_LogExporter : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void formatForPath_data();
    void formatForPath();
    void ndjson();
    void text();
    void writeFile_data();
    void writeFile();
    void unwritablePathIsReported();

private:
    QTemporaryDir m_dir;
};

void tst_LogExporter::formatForPath_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<bool>("ndjson");
    QTest::newRow("ndjson") << QStringLiteral("a.ndjson") << true;
    QTest::newRow("jsonl") << QStringLiteral("a.JSONL") << true;
    QTest::newRow("json") << QStringLiteral("a.json") << true;
    QTest::newRow("log") << QStringLiteral("a.log") << false;
    QTest::newRow("none") << QStringLiteral("a") << false;
}

void tst_LogExporter::formatForPath()
{
    QFETCH(QString, path);
    QFETCH(bool, ndjson);
    QCOMPARE(LogExporter::formatForPath(path) == LogExporter::Format::Ndjson, ndjson);
}

void tst_LogExporter::ndjson()
{
    const auto records = sample();
    // The envelope exactly as received.
    QCOMPARE(LogExporter::ndjsonLine(records[0]), records[0].raw + '\n');
    // One line per record even when the payload had line breaks; still the same JSON.
    const QByteArray two = LogExporter::ndjsonLine(records[1]);
    QCOMPARE(two.count('\n'), 1);
    QCOMPARE(QJsonDocument::fromJson(two).object(),
             QJsonDocument::fromJson(records[1].raw).object());
    QCOMPARE(LogExporter::ndjsonLine(records[2]).count('\n'), 1);
    const QJsonObject gap = QJsonDocument::fromJson(LogExporter::ndjsonLine(records[3])).object();
    QCOMPARE(gap.value(QStringLiteral("event")).toString(), QStringLiteral("gap"));
    QCOMPARE(
        gap.value(QStringLiteral("data")).toObject().value(QStringLiteral("reason")).toString(),
        QStringLiteral("gateway-restarted"));
}

void tst_LogExporter::text()
{
    const auto records = sample();
    const QString first = LogExporter::textLine(records[0]);
    QVERIFY2(first.endsWith(QLatin1StringView(" logs:generation INFO api done model=m in=3 out=4 "
                                              "duration_ms=5 ttft_ms=6\n")),
             qPrintable(first));
    QVERIFY(first.startsWith(
        QDateTime::fromMSecsSinceEpoch(1700000000000).toString(Qt::ISODateWithMs)));
    QVERIFY2(LogExporter::textLine(records[2])
                 .endsWith(QLatin1StringView(" logs:raw ERROR - ERROR multi\\nline\n")),
             qPrintable(LogExporter::textLine(records[2])));
    QVERIFY(
        LogExporter::textLine(records[3]).contains(QLatin1StringView(" - GAP - gap: restarted")));
}

void tst_LogExporter::writeFile_data()
{
    QTest::addColumn<bool>("ndjson");
    QTest::newRow("ndjson") << true;
    QTest::newRow("text") << false;
}

void tst_LogExporter::writeFile()
{
    QFETCH(bool, ndjson);
    const auto records = sample();
    const QString path =
        m_dir.filePath(ndjson ? QStringLiteral("out.ndjson") : QStringLiteral("out.log"));
    QString error;
    QVERIFY2(LogExporter::write(
                 path, ndjson ? LogExporter::Format::Ndjson : LogExporter::Format::Text,
                 qsizetype(records.size()),
                 [&](qsizetype i) -> const LogRecord & { return records[size_t(i)]; }, &error),
             qPrintable(error));
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = file.readAll().split('\n');
    QCOMPARE(lines.size(), 5); // four lines and the empty rest after the last newline
    QVERIFY(lines.last().isEmpty());
    if (ndjson)
        for (int i = 0; i < 4; ++i)
            QVERIFY(QJsonDocument::fromJson(lines[i]).isObject());
}

void tst_LogExporter::unwritablePathIsReported()
{
    const auto records = sample();
    const QString path = m_dir.filePath(QStringLiteral("no/such/dir/out.ndjson"));
    QString error;
    QVERIFY(!LogExporter::write(
        path, LogExporter::Format::Ndjson, 1,
        [&](qsizetype) -> const LogRecord & { return records[0]; }, &error));
    QVERIFY2(error.startsWith(QLatin1StringView("cannot write ")) &&
                 error.contains(QLatin1StringView("out.ndjson")),
             qPrintable(error));
    QVERIFY(!QFile::exists(path));
}

QTEST_GUILESS_MAIN(tst_LogExporter)
#include "tst_logexporter.moc"
