// LineParser (producer/lineparser.h) with Logfmt, FieldMap and VllmStats under it: every line of
// tests/fixtures/logformats/ becomes what expected.json says, hostile lines keep their bytes, and
// the rules of each part hold on their own.

#include "fieldmap.h"
#include "lineparser.h"
#include "logfmt.h"
#include "logformatfixtures.h"
#include "vllmstats.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

namespace {

const QByteArray mainChannel = "logs:app";
const QByteArray metricsChannel = "logs:metrics";

} // namespace

class tst_LineParser final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void fixtureLines_data();
    void fixtureLines();
    void everyFormatKeepsHostileBytes();
    void recordsStayNearTheLineSize();
    void textFormatChangesNothing();
    void jsonAndLogfmtFormats();
    void formatNames();
    void logfmt_data();
    void logfmt();
    void levels_data();
    void levels();
    void epochTimes_data();
    void epochTimes();
    void vllmStatsNeedBothThroughputs();
    void autoRuleForLogfmt_data();
    void autoRuleForLogfmt();
};

void tst_LineParser::fixtureLines_data()
{
    QTest::addColumn<LogFormatFixtures::Case>("fixture");
    QString error;
    const auto cases = LogFormatFixtures::cases(&error);
    QVERIFY2(!cases.isEmpty(), qPrintable(error));
    QCOMPARE(LogFormatFixtures::files().size(), 9);
    for (const auto &c : cases + LogFormatFixtures::largeCases())
        QTest::newRow(qPrintable(c.name())) << c;
}

void tst_LineParser::fixtureLines()
{
    QFETCH(LogFormatFixtures::Case, fixture);
    const LineParser parser(LineParser::Format::Auto, mainChannel, metricsChannel);
    const LineParser::Record record = parser.parse(fixture.line);
    QString why;
    QVERIFY2(LogFormatFixtures::matches(fixture, record.channel, record.payload, mainChannel,
                                        metricsChannel, &why),
             qPrintable(why));
    const QLatin1StringView kinds[] = {QLatin1StringView("text"), QLatin1StringView("json"),
                                       QLatin1StringView("logfmt"), QLatin1StringView("metrics")};
    QCOMPARE(QString(kinds[int(record.kind)]), fixture.kind);
}

void tst_LineParser::everyFormatKeepsHostileBytes()
{
    // Whatever a line is read as, its bytes come out: as the payload, or as "raw".
    QString error;
    auto cases = LogFormatFixtures::cases(&error);
    QVERIFY2(!cases.isEmpty(), qPrintable(error));
    cases += LogFormatFixtures::largeCases();
    cases.append({QStringLiteral("cut"),
                  0,
                  QByteArray("{\"msg\":\"abc") + " \xe2\x80\xa6 [truncated: 9 bytes]",
                  {},
                  {},
                  {}});
    for (const auto format : {LineParser::Format::Auto, LineParser::Format::Json,
                              LineParser::Format::Logfmt, LineParser::Format::Text}) {
        const LineParser parser(format, mainChannel, metricsChannel);
        for (const auto &c : std::as_const(cases)) {
            const LineParser::Record record = parser.parse(c.line);
            if (record.kind == LineParser::Kind::Text) {
                QCOMPARE(record.payload, c.line);
                QCOMPARE(record.channel, mainChannel);
                continue;
            }
            const QJsonDocument doc = QJsonDocument::fromJson(record.payload);
            QVERIFY2(doc.isObject(), qPrintable(c.name()));
            QCOMPARE(doc.object().value(QLatin1StringView("raw")).toString().toUtf8(), c.line);
        }
    }
}

void tst_LineParser::recordsStayNearTheLineSize()
{
    // Control characters JSON writes as \u00XX: the record would be 12 times the line.
    const QByteArray controls = "{\"msg\":\"" + QByteArray(100'000, '\x01') + "\"}";
    const LineParser parser(LineParser::Format::Auto, mainChannel, metricsChannel);
    const auto record = parser.parse(controls);
    QCOMPARE(record.kind, LineParser::Kind::Text);
    QCOMPARE(record.payload, controls);
    // Just under the bound: a record.
    const QByteArray fewControls = "{\"msg\":\"" + QByteArray(100, '\x01') + "\"}";
    QCOMPARE(parser.parse(fewControls).kind, LineParser::Kind::Json);
}

void tst_LineParser::textFormatChangesNothing()
{
    const LineParser parser(LineParser::Format::Text, mainChannel, metricsChannel);
    for (const QByteArray &line :
         {QByteArray("{\"level\":30,\"msg\":\"x\"}"), QByteArray("level=INFO msg=x"),
          QByteArray("INFO 12-06 10:00:10 metrics.py:341] Avg prompt throughput: 1.0 tokens/s, "
                     "Avg generation throughput: 2.0 tokens/s")}) {
        const auto record = parser.parse(line);
        QCOMPARE(record.payload, line);
        QCOMPARE(record.channel, mainChannel);
        QCOMPARE(record.kind, LineParser::Kind::Text);
    }
}

void tst_LineParser::jsonAndLogfmtFormats()
{
    // json: logfmt stays text; logfmt: any complete logfmt line, even one auto would leave as
    // text, and JSON stays text.
    const LineParser json(LineParser::Format::Json, mainChannel, metricsChannel);
    QCOMPARE(json.parse("level=INFO msg=x").kind, LineParser::Kind::Text);
    QCOMPARE(json.parse("{\"a\":1}").kind, LineParser::Kind::Json);
    const LineParser logfmt(LineParser::Format::Logfmt, mainChannel, metricsChannel);
    QCOMPARE(logfmt.parse("{\"a\":1}").kind, LineParser::Kind::Text);
    const auto record = logfmt.parse("a=1 flag");
    QCOMPARE(record.kind, LineParser::Kind::Logfmt);
    const QJsonObject o = QJsonDocument::fromJson(record.payload).object();
    QCOMPARE(o.value(QLatin1StringView("a")), QJsonValue(QStringLiteral("1")));
    QCOMPARE(o.value(QLatin1StringView("flag")), QJsonValue(true));
    QCOMPARE(o.value(QLatin1StringView("raw")), QJsonValue(QStringLiteral("a=1 flag")));
    // An empty level is no level: it stays as it came (fuzz_logline found it).
    const QJsonObject empty = QJsonDocument::fromJson(logfmt.parse("level=").payload).object();
    QCOMPARE(empty.value(QLatin1StringView("level")), QJsonValue(QString()));
}

void tst_LineParser::formatNames()
{
    for (const auto format : {LineParser::Format::Auto, LineParser::Format::Json,
                              LineParser::Format::Logfmt, LineParser::Format::Text})
        QCOMPARE(LineParser::formatFromName(QString(LineParser::formatName(format))), format);
    QCOMPARE(LineParser::formatFromName(u"AUTO"), std::nullopt);
    QCOMPARE(LineParser::formatFromName(u"yaml"), std::nullopt);
}

void tst_LineParser::logfmt_data()
{
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<QString>("pairs"); // key=value|key=value…, a key alone for no value; "-": none
    QTest::newRow("bare") << QByteArray("a=1 b=two") << QStringLiteral("a=1|b=two");
    QTest::newRow("quoted") << QByteArray("msg=\"hello world\"")
                            << QStringLiteral("msg=hello world");
    QTest::newRow("escapes") << QByteArray(R"(m="q\"b\\s\/n\nt\tr\ru\u00e9p\ud83d\ude00")")
                             << QStringLiteral("m=q\"b\\s/n\nt\tr\ru\u00e9p\U0001F600");
    QTest::newRow("lone surrogate") << QByteArray(R"(m="\ud800x")") << QStringLiteral("m=\ufffdx");
    QTest::newRow("empty values") << QByteArray("a= b=\"\"") << QStringLiteral("a=|b=");
    QTest::newRow("key alone") << QByteArray("flag a=1") << QStringLiteral("flag|a=1");
    QTest::newRow("tabs, spaces, cr")
        << QByteArray("\t a=1 \t b=2 \r") << QStringLiteral("a=1|b=2");
    QTest::newRow("utf-8 key") << QByteArray("clé=v") << QStringLiteral("clé=v");
    QTest::newRow("dotted key") << QByteArray("log.level=warn") << QStringLiteral("log.level=warn");
    QTest::newRow("empty") << QByteArray("") << QStringLiteral("-");
    QTest::newRow("spaces only") << QByteArray("   ") << QStringLiteral("-");
    QTest::newRow("unbalanced quote") << QByteArray("a=\"x") << QStringLiteral("-");
    QTest::newRow("quote ends with backslash") << QByteArray("a=\"x\\") << QStringLiteral("-");
    QTest::newRow("bad escape") << QByteArray(R"(a="\q")") << QStringLiteral("-");
    QTest::newRow("short unicode escape") << QByteArray(R"(a="\u12")") << QStringLiteral("-");
    QTest::newRow("no key") << QByteArray("=v") << QStringLiteral("-");
    QTest::newRow("two equals") << QByteArray("a=b=c") << QStringLiteral("-");
    QTest::newRow("quote glued") << QByteArray("a=\"b\"c") << QStringLiteral("-");
    QTest::newRow("quote in key") << QByteArray("a\"b=1") << QStringLiteral("-");
    QTest::newRow("quote in bare value") << QByteArray("a=b\"c") << QStringLiteral("-");
    QTest::newRow("control byte in quotes") << QByteArray("a=\"x\x01y\"") << QStringLiteral("-");
    QTest::newRow("nul") << QByteArray("a=1\0 b=2", 8) << QStringLiteral("-");
}

void tst_LineParser::logfmt()
{
    QFETCH(QByteArray, line);
    QFETCH(QString, pairs);
    const auto parsed = Logfmt::parse(line);
    if (pairs == QLatin1StringView("-")) {
        QVERIFY(!parsed);
        return;
    }
    QVERIFY(parsed);
    QStringList got;
    for (const auto &pair : *parsed)
        got.append(pair.hasValue ? QString::fromUtf8(pair.key + '=' + pair.value)
                                 : QString::fromUtf8(pair.key));
    QCOMPARE(got.join(QLatin1Char('|')), pairs);
}

void tst_LineParser::levels_data()
{
    QTest::addColumn<QJsonValue>("value");
    QTest::addColumn<bool>("otel");
    QTest::addColumn<QJsonValue>("level"); // undefined: no level
    const auto s = [](const char *t) { return QJsonValue(QString::fromLatin1(t)); };
    QTest::newRow("INFO") << s("INFO") << false << s("INFO");
    QTest::newRow("lower case") << s("warn") << false << s("WARN");
    QTest::newRow("warning") << s("Warning") << false << s("WARN");
    QTest::newRow("critical") << s("CRITICAL") << false << s("FATAL");
    QTest::newRow("err") << s("err") << false << s("ERROR");
    QTest::newRow("spaces") << s(" debug ") << false << s("DEBUG");
    QTest::newRow("unknown name kept") << s("chatty") << false << s("chatty");
    QTest::newRow("empty") << s("") << false << QJsonValue(QJsonValue::Undefined);
    const char *names[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"};
    for (int n = 10; n <= 60; n += 10)
        QTest::addRow("pino %d", n) << QJsonValue(n) << false << s(names[n / 10 - 1]);
    QTest::newRow("pino as text") << s("50") << false << s("ERROR");
    for (int n = 1; n <= 24; ++n)
        QTest::addRow("otel %d", n) << QJsonValue(n) << true << s(names[(n - 1) / 4]);
    QTest::newRow("otel 13 as level") << QJsonValue(13) << false << s("WARN");
    QTest::newRow("otel 0") << QJsonValue(0) << true << QJsonValue(0);
    QTest::newRow("otel 25") << QJsonValue(25) << true << QJsonValue(25);
    QTest::newRow("fraction") << QJsonValue(30.5) << false << QJsonValue(30.5);
    QTest::newRow("70") << QJsonValue(70) << false << QJsonValue(70);
    QTest::newRow("bool") << QJsonValue(true) << false << QJsonValue(QJsonValue::Undefined);
    QTest::newRow("object") << QJsonValue(QJsonObject()) << false
                            << QJsonValue(QJsonValue::Undefined);
}

void tst_LineParser::levels()
{
    QFETCH(QJsonValue, value);
    QFETCH(bool, otel);
    QFETCH(QJsonValue, level);
    QCOMPARE(FieldMap::levelValue(value, otel), level);
}

void tst_LineParser::epochTimes_data()
{
    QTest::addColumn<double>("time");
    QTest::addColumn<QString>("ts");
    QTest::newRow("seconds") << 1733479200.0 << QStringLiteral("2024-12-06T10:00:00.000Z");
    QTest::newRow("fractional seconds")
        << 1733479200.25 << QStringLiteral("2024-12-06T10:00:00.250Z");
    QTest::newRow("milliseconds") << 1733479200123.0 << QStringLiteral("2024-12-06T10:00:00.123Z");
    QTest::newRow("microseconds") << 1733479200123456.0
                                  << QStringLiteral("2024-12-06T10:00:00.123Z");
    QTest::newRow("nanoseconds") << 1733479200123456789.0
                                 << QStringLiteral("2024-12-06T10:00:00.123Z");
}

void tst_LineParser::epochTimes()
{
    QFETCH(double, time);
    QFETCH(QString, ts);
    QJsonObject o{{QStringLiteral("time"), time}};
    FieldMap::normalize(o);
    QCOMPARE(o.value(QLatin1StringView("ts")).toString(), ts);
    QVERIFY(!o.contains(QLatin1StringView("time")));
}

void tst_LineParser::vllmStatsNeedBothThroughputs()
{
    QVERIFY(!VllmStats::parse(u"Avg prompt throughput: 1.0 tokens/s, Running: 2 reqs"));
    QVERIFY(!VllmStats::parse(u"Running: 2 reqs, GPU KV cache usage: 3.4%"));
    QVERIFY(!VllmStats::parseLine(u"INFO 12-06 10:00:10 metrics.py:341] Throughput: fine"));
    // Labels vLLM may add later keep their numbers, under a name made of the label.
    const auto stats = VllmStats::parse(u"Avg prompt throughput: 1.0 tokens/s, Avg generation "
                                        u"throughput: 2.5 tokens/s, Spec decode (draft) "
                                        u"acceptance: 71.5%, Mystery: n/a");
    QVERIFY(stats);
    QCOMPARE(stats->value(QLatin1StringView("prompt_tokens_per_s")), QJsonValue(1));
    QCOMPARE(stats->value(QLatin1StringView("tokens_per_s")), QJsonValue(2.5));
    QCOMPARE(stats->value(QLatin1StringView("spec_decode_draft_acceptance")), QJsonValue(0.715));
    QVERIFY(!stats->contains(QLatin1StringView("mystery")));
}

void tst_LineParser::autoRuleForLogfmt_data()
{
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<bool>("record");
    QTest::newRow("level and msg") << QByteArray("level=info msg=hi") << true;
    QTest::newRow("severity and another") << QByteArray("severity=warn x=1") << true;
    QTest::newRow("message and another") << QByteArray("message=\"a b\" x=1") << true;
    QTest::newRow("one pair") << QByteArray("level=info") << false;
    QTest::newRow("no level or message key") << QByteArray("a=1 b=2 c=3") << false;
    QTest::newRow("a key alone") << QByteArray("level=info msg=hi trailing") << false;
    QTest::newRow("prose") << QByteArray("set level=info for more") << false;
}

void tst_LineParser::autoRuleForLogfmt()
{
    QFETCH(QByteArray, line);
    QFETCH(bool, record);
    const LineParser parser(LineParser::Format::Auto, mainChannel, metricsChannel);
    QCOMPARE(parser.parse(line).kind == LineParser::Kind::Logfmt, record);
}

QTEST_GUILESS_MAIN(tst_LineParser)
#include "tst_lineparser.moc"
