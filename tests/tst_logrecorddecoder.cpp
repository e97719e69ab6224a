// LogRecordDecoder: envelopes (built exactly as the gateway builds them) into columns. Every case
// is decoded twice, by the fast scanner and by the QJsonDocument path, and both must agree.
// tests/fixtures/records.json is the table the dashboard's records.js is held to as well
// (tests/js/records.test.mjs), so that both clients read a payload the same way.
#include "envelope.h"
#include "logrecorddecoder.h"
#include "logsimulator.h"
#include "sseparser.h"
#include "vocabulary.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QTest>

#include <span>

namespace {

QByteArray envelope(const QByteArray &channel, const QByteArray &payload)
{
    return Envelope::encode("1795564825851-7", channel, 1795564826663, payload).json;
}

struct Expected
{
    QString message = {};
    LogLevel level = LogLevel::None;
    QString service = {};
    QString model = {};
    QString errorType = {};
    qint32 in = -1;
    qint32 out = -1;
    float duration = NAN;
    float ttft = NAN;
};

// A fixture string: text, or [[piece, times], ...] for long text.
QString fixtureText(const QJsonValue &v)
{
    if (!v.isArray())
        return v.toString();
    QString out;
    for (const QJsonValue piece : v.toArray())
        out += piece.toArray().at(0).toString().repeated(piece.toArray().at(1).toInt());
    return out;
}

QJsonArray fixtureRows()
{
    QFile file(QStringLiteral(LLMSTREAMER_RECORDS_FIXTURE));
    if (!file.open(QIODevice::ReadOnly))
        qFatal("%s: %s", qPrintable(file.fileName()), qPrintable(file.errorString()));
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &error);
    if (!doc.isArray())
        qFatal("%s: %s", qPrintable(file.fileName()), qPrintable(error.errorString()));
    return doc.array();
}

} // namespace

Q_DECLARE_METATYPE(LogLevel)
Q_DECLARE_METATYPE(Expected)

class tst_LogRecordDecoder : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void envelopes_data();
    void envelopes();
    void sharedFixture_data();
    void sharedFixture();
    void sharedFixtureCoversTheVocabulary();
    void longMessageIsCut();
    void guessLevel_data();
    void guessLevel();
    void markers_data();
    void markers();
    void otherEventsAreNotLines();
    void unreadableEnvelopeIsANotice();
    void prettyPayloadAndId();
    void labelsAreShared();
    void scannerAgreesWithParserOnMutatedTraffic();
};

void tst_LogRecordDecoder::envelopes_data()
{
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<Expected>("expected");
    QTest::addColumn<bool>("scannable"); // the fast path handles it (else the parser does)

    QTest::newRow("simulated request")
        << QByteArray(R"({"duration_ms":5182,"gen_ai.request.model":"Qwen/Qwen2.5-14B-Instruct",)"
                      R"("gen_ai.usage.input_tokens":32768,"gen_ai.usage.output_tokens":139,)"
                      R"("level":"WARN","msg":"prompt truncated to context window",)"
                      R"("request_id":"req-5d845655c642ac39","service":"llm-backend",)"
                      R"("ts":"2026-11-25T00:33:27.991Z","ttft_ms":2667,"error.type":"timeout"})")
        << Expected{QStringLiteral("prompt truncated to context window"),
                    LogLevel::Warn,
                    QStringLiteral("llm-backend"),
                    QStringLiteral("Qwen/Qwen2.5-14B-Instruct"),
                    QStringLiteral("timeout"),
                    32768,
                    139,
                    5182,
                    2667}
        << true;
    QTest::newRow("plain text, level word")
        << QByteArray("2024-05-01 12:00:00 ERROR worker 3 crashed")
        << Expected{QStringLiteral("2024-05-01 12:00:00 ERROR worker 3 crashed"), LogLevel::Error}
        << true;
    QTest::newRow("plain text, level=")
        << QByteArray("ts=1 level=warn msg=\"slow\"")
        << Expected{QStringLiteral("ts=1 level=warn msg=\"slow\""), LogLevel::Warn} << false;
    QTest::newRow("plain text, WARNING")
        << QByteArray("WARNING: disk almost full")
        << Expected{QStringLiteral("WARNING: disk almost full"), LogLevel::Warn} << true;
    QTest::newRow("plain text, no level")
        << QByteArray("hello world") << Expected{QStringLiteral("hello world")} << true;
    QTest::newRow("plain text, lower-case word is not a level")
        << QByteArray("no error here") << Expected{QStringLiteral("no error here")} << true;
    QTest::newRow("plain text with line breaks")
        << QByteArray("Traceback:\n  File x\r\nValueError")
        << Expected{QStringLiteral("Traceback:\n  File x\r\nValueError")} << false;
    QTest::newRow("empty") << QByteArray() << Expected{} << true;
    QTest::newRow("JSON array stays text")
        << QByteArray("[1,2]") << Expected{QStringLiteral("[1,2]")} << true;
    QTest::newRow("invalid UTF-8")
        << QByteArray("ok \xff end") << Expected{QString::fromUtf16(u"ok \uFFFD end")} << true;
    QTest::newRow("UTF-8") << QByteArray("INFO café ☕")
                           << Expected{QString::fromUtf8("INFO café ☕"), LogLevel::Info} << true;
    QTest::newRow("message instead of msg")
        << QByteArray(R"({"message":"m","severity":"warning"})")
        << Expected{QStringLiteral("m"), LogLevel::Warn} << true;
    QTest::newRow("text, null msg") << QByteArray(R"({"msg":null,"text":"t","lvl":"err"})")
                                    << Expected{QStringLiteral("t"), LogLevel::Error} << true;
    QTest::newRow("numeric level (pino)") << QByteArray(R"({"level":50,"msg":"x"})")
                                          << Expected{QStringLiteral("x"), LogLevel::Error} << true;
    QTest::newRow("level alias notice") << QByteArray(R"({"level":"notice","msg":"x"})")
                                        << Expected{QStringLiteral("x"), LogLevel::Info} << true;
    QTest::newRow("level guessed from msg")
        << QByteArray(R"({"msg":"FATAL: out of memory"})")
        << Expected{QStringLiteral("FATAL: out of memory"), LogLevel::Fatal} << true;
    // The producer's bytes without the whitespace between tokens, keys in their order, as the
    // dashboard shows them (QJsonDocument would sort the keys).
    QTest::newRow("no message field: compact JSON")
        << QByteArray(R"({"b": 1, "a": "x"})") << Expected{QStringLiteral(R"({"b":1,"a":"x"})")}
        << false;
    QTest::newRow("empty msg: compact JSON")
        << QByteArray(R"({"msg":"","k":1})") << Expected{QStringLiteral(R"({"msg":"","k":1})")}
        << false;
    QTest::newRow("escaped msg") << QByteArray(R"({"msg":"say \"hi\"\nthen go","level":"INFO"})")
                                 << Expected{QStringLiteral("say \"hi\"\nthen go"), LogLevel::Info}
                                 << false;
    QTest::newRow("numeric msg") << QByteArray(R"({"msg":42})") << Expected{QStringLiteral("42")}
                                 << false;
    QTest::newRow("nested OpenTelemetry fields")
        << QByteArray(R"({"msg":"done","gen_ai":{"request":{"model":"m1"},)"
                      R"("usage":{"input_tokens":5,"output_tokens":7}},"error":{"type":"E"}})")
        << Expected{QStringLiteral("done"),
                    LogLevel::None,
                    {},
                    QStringLiteral("m1"),
                    QStringLiteral("E"),
                    5,
                    7}
        << false;
    QTest::newRow("service.name and response model")
        << QByteArray(R"({"msg":"x","service.name":"svc","gen_ai.response.model":"m2"})")
        << Expected{QStringLiteral("x"), LogLevel::None, QStringLiteral("svc"),
                    QStringLiteral("m2")}
        << true;
    QTest::newRow("numbers as strings")
        << QByteArray(R"({"msg":"x","duration_ms":"12.5","ttft_ms":" 3 ",)"
                      R"("gen_ai.usage.output_tokens":"9"})")
        << Expected{QStringLiteral("x"), LogLevel::None, {}, {}, {}, -1, 9, 12.5f, 3} << true;
    QTest::newRow("bad numbers ignored")
        << QByteArray(R"({"msg":"x","duration_ms":"soon","gen_ai.usage.input_tokens":-4})")
        << Expected{QStringLiteral("x")} << true;
    QTest::newRow("pretty-printed object")
        << QByteArray("{\n  \"msg\": \"x\",\n  \"level\": \"DEBUG\",\n  \"nested\": {\"a\": [1, "
                      "{\"b\": \"}\"}]}\n}\n")
        << Expected{QStringLiteral("x"), LogLevel::Debug} << true;
    QTest::newRow("raw control character in a string (escaped by the gateway)")
        << QByteArray("{\"msg\":\"tab\there\"}") << Expected{QStringLiteral("tab\there")} << false;
    QTest::newRow("broken JSON is text")
        << QByteArray(R"({"msg":)") << Expected{QStringLiteral(R"({"msg":)")} << false;
}

void tst_LogRecordDecoder::envelopes()
{
    QFETCH(QByteArray, payload);
    QFETCH(Expected, expected);
    QFETCH(bool, scannable);

    const QByteArray json = envelope("logs:generation", payload);
    LogRecordDecoder fast;
    LogRecordDecoder slow;
    slow.setScannerEnabled(false);
    const LogRecord a = fast.decodeEnvelope(json);
    const LogRecord b = slow.decodeEnvelope(json);
    QCOMPARE(fast.scanned(), quint64(scannable ? 1 : 0));
    QCOMPARE(slow.parsed(), quint64(1));

    for (const LogRecord *r : {&a, &b}) {
        const QString how = r == &a ? QStringLiteral("scanner") : QStringLiteral("parser");
        QVERIFY2(r->kind == LogRecord::Kind::Message, qPrintable(how));
        QCOMPARE(r->message(), expected.message);
        QCOMPARE(r->level, expected.level);
        QCOMPARE(r->channel(), QStringLiteral("logs:generation"));
        QCOMPARE(r->service(), expected.service);
        QCOMPARE(r->model(), expected.model);
        QCOMPARE(r->errorType(), expected.errorType);
        QCOMPARE(r->inputTokens, expected.in);
        QCOMPARE(r->outputTokens, expected.out);
        QCOMPARE(std::isnan(r->durationMs), std::isnan(expected.duration));
        if (!std::isnan(expected.duration))
            QCOMPARE(r->durationMs, expected.duration);
        QCOMPARE(std::isnan(r->ttftMs), std::isnan(expected.ttft));
        if (!std::isnan(expected.ttft))
            QCOMPARE(r->ttftMs, expected.ttft);
        QCOMPARE(r->ts, qint64(1795564826663));
        QCOMPARE(r->raw, json);
        QCOMPARE(r->payloadJson().toByteArray(),
                 json.mid(json.indexOf(",\"payload\":") + 11).chopped(1).trimmed());
    }
}

void tst_LogRecordDecoder::sharedFixture_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QJsonObject>("expected");

    const QJsonArray rows = fixtureRows();
    QVERIFY(rows.size() > 100);
    for (const QJsonValue value : rows) {
        const QJsonObject row = value.toObject();
        const QByteArray name = row.value(QLatin1StringView("name")).toString().toUtf8();
        // A payload is published, and the gateway's encoder makes the envelope; an envelope is
        // taken as received.
        const QByteArray json =
            row.contains(QLatin1StringView("payload"))
                ? envelope("logs:generation",
                           fixtureText(row.value(QLatin1StringView("payload"))).toUtf8())
                : fixtureText(row.value(QLatin1StringView("envelope"))).toUtf8();
        QTest::newRow(name.constData())
            << json << row.value(QLatin1StringView("expected")).toObject();
    }
}

void tst_LogRecordDecoder::sharedFixture()
{
    QFETCH(QByteArray, json);
    QFETCH(QJsonObject, expected);

    static const QStringList known = {
        QStringLiteral("msg"),   QStringLiteral("level"),   QStringLiteral("service"),
        QStringLiteral("model"), QStringLiteral("error"),   QStringLiteral("tin"),
        QStringLiteral("tout"),  QStringLiteral("dur"),     QStringLiteral("ttft"),
        QStringLiteral("obj"),   QStringLiteral("channel"), QStringLiteral("unreadable"),
        QStringLiteral("id")};
    for (const QString &key : expected.keys())
        QVERIFY2(known.contains(key), qPrintable(QStringLiteral("unknown expectation ") + key));
    const auto text = [&](const char *key) {
        return fixtureText(expected.value(QLatin1StringView(key)));
    };
    // Absent numbers: no value.
    const auto number = [&](const char *key) {
        const QJsonValue v = expected.value(QLatin1StringView(key));
        return v.isDouble() ? std::optional<double>(v.toDouble()) : std::nullopt;
    };

    LogRecordDecoder fast;
    LogRecordDecoder slow;
    slow.setScannerEnabled(false);
    const LogRecord a = fast.decodeEnvelope(json);
    const LogRecord b = slow.decodeEnvelope(json);
    for (const LogRecord *r : {&a, &b}) {
        const char *how = r == &a ? "scanner" : "parser";
        if (expected.value(QLatin1StringView("unreadable")).toBool()) {
            QVERIFY2(r->kind == LogRecord::Kind::Notice, how);
            QVERIFY2(r->message().startsWith(QLatin1StringView("unreadable event")), how);
            continue;
        }
        QVERIFY2(r->kind == LogRecord::Kind::Message, how);
        QCOMPARE(r->message(), text("msg"));
        QCOMPARE(LogLevels::name(r->level), text("level"));
        QCOMPARE(r->channel(), expected.contains(QLatin1StringView("channel"))
                                   ? text("channel")
                                   : QStringLiteral("logs:generation"));
        QCOMPARE(r->service(), text("service"));
        QCOMPARE(r->model(), text("model"));
        QCOMPARE(r->errorType(), text("error"));
        QCOMPARE(r->inputTokens, qint32(number("tin").value_or(-1)));
        QCOMPARE(r->outputTokens, qint32(number("tout").value_or(-1)));
        const auto compareFloat = [&](float actual, std::optional<double> wanted) {
            QVERIFY2(
                wanted ? actual == float(*wanted) : std::isnan(actual),
                qPrintable(QStringLiteral("%1: %2, expected %3")
                               .arg(QLatin1StringView(how))
                               .arg(actual)
                               .arg(wanted ? QString::number(*wanted) : QStringLiteral("none"))));
        };
        compareFloat(r->durationMs, number("dur"));
        compareFloat(r->ttftMs, number("ttft"));
        QCOMPARE(r->payloadIsObject, expected.value(QLatin1StringView("obj")).toBool());
        // The trace/request column: [field, value], or none.
        const auto id = LogRecordDecoder::linkedId(*r);
        QStringList gotId;
        if (id)
            gotId = {QString(id->field), id->value};
        QStringList wantedId;
        for (const QJsonValue v : expected.value(QLatin1StringView("id")).toArray())
            wantedId.append(v.toString());
        QCOMPARE(gotId, wantedId);
        QCOMPARE(r->ts, qint64(1795564826663));
    }
}

void tst_LogRecordDecoder::sharedFixtureCoversTheVocabulary()
{
    // A field or level name added to common/vocabulary.h needs rows, which then hold the
    // dashboard to it too.
    QString payloads;
    for (const QJsonValue row : fixtureRows())
        payloads += fixtureText(row.toObject().value(QLatin1StringView("payload")));
    const auto covers = [&](QLatin1StringView word) {
        return payloads.contains(u'"' + QString(word) + u'"', Qt::CaseInsensitive);
    };
    for (const auto &fields : {std::span<const QLatin1StringView>(Vocabulary::messageFields),
                               std::span<const QLatin1StringView>(Vocabulary::levelFields),
                               std::span<const QLatin1StringView>(Vocabulary::serviceFields),
                               std::span<const QLatin1StringView>(Vocabulary::modelFields),
                               std::span<const QLatin1StringView>(Vocabulary::errorTypeFields),
                               std::span<const QLatin1StringView>(Vocabulary::inputTokensFields),
                               std::span<const QLatin1StringView>(Vocabulary::outputTokensFields),
                               std::span<const QLatin1StringView>(Vocabulary::durationMsFields),
                               std::span<const QLatin1StringView>(Vocabulary::ttftMsFields),
                               std::span<const QLatin1StringView>(Vocabulary::levelNames)}) {
        for (const QLatin1StringView name : fields)
            QVERIFY2(covers(name), name.data());
    }
    for (const Vocabulary::LevelAlias &alias : Vocabulary::levelAliases)
        QVERIFY2(covers(alias.alias), alias.alias.data());
}

void tst_LogRecordDecoder::longMessageIsCut()
{
    const QByteArray line(3000, 'x');
    for (const bool scanner : {true, false}) {
        LogRecordDecoder d;
        d.setScannerEnabled(scanner);
        const LogRecord r = d.decodeEnvelope(envelope("c", line));
        QCOMPARE(r.message().size(), LogRecord::maxMessageChars + 1);
        QVERIFY(r.message().endsWith(QChar(0x2026)));
        QVERIFY(r.prettyPayload() == QString::fromLatin1(line)); // the detail view has it all
    }
}

void tst_LogRecordDecoder::guessLevel_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<LogLevel>("level");
    QTest::newRow("ERROR") << QStringLiteral("x ERROR y") << LogLevel::Error;
    QTest::newRow("CRITICAL") << QStringLiteral("CRITICAL x") << LogLevel::Fatal;
    QTest::newRow("WARN") << QStringLiteral("[WARN] x") << LogLevel::Warn;
    QTest::newRow("DEBUG") << QStringLiteral("DEBUG:x") << LogLevel::Debug;
    QTest::newRow("TRACE") << QStringLiteral("TRACE x") << LogLevel::Trace;
    QTest::newRow("level=error") << QStringLiteral("level=error x") << LogLevel::Error;
    QTest::newRow("\"level\": \"info\"") << QStringLiteral(R"("level": "info")") << LogLevel::Info;
    QTest::newRow("level=bogus then word") << QStringLiteral("level=bogus WARN") << LogLevel::Warn;
    QTest::newRow("part of a word") << QStringLiteral("ERRORS x") << LogLevel::None;
    QTest::newRow("lower case word") << QStringLiteral("an error") << LogLevel::None;
    QTest::newRow("beyond 300 chars")
        << QString(300, u'x') + QStringLiteral(" ERROR") << LogLevel::None;
}

void tst_LogRecordDecoder::guessLevel()
{
    QFETCH(QString, text);
    QFETCH(LogLevel, level);
    QCOMPARE(LogLevels::guess(text), level);
}

void tst_LogRecordDecoder::markers_data()
{
    QTest::addColumn<QByteArray>("type");
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("message");
    QTest::newRow("gap, gateway restarted")
        << QByteArray("gap")
        << QByteArray(R"({"reason":"gateway-restarted","message":"the gateway restarted; events )"
                      R"(published meanwhile may be lost"})")
        << int(LogRecord::Kind::Gap)
        << QStringLiteral("gap: the gateway restarted; events published meanwhile may be lost");
    QTest::newRow("gap, only a reason")
        << QByteArray("gap") << QByteArray(R"({"reason":"unknown-id"})")
        << int(LogRecord::Kind::Gap) << QStringLiteral("gap: unknown-id");
    QTest::newRow("shutdown") << QByteArray("shutdown") << QByteArray(R"({"reason":"stopping"})")
                              << int(LogRecord::Kind::Notice)
                              << QStringLiteral("the gateway is shutting down (stopping)");
    QTest::newRow("dropped") << QByteArray("dropped")
                             << QByteArray(R"({"reason":"slow-client","message":"too slow"})")
                             << int(LogRecord::Kind::Notice)
                             << QStringLiteral("the gateway dropped this connection: too slow");
}

void tst_LogRecordDecoder::markers()
{
    QFETCH(QByteArray, type);
    QFETCH(QByteArray, data);
    QFETCH(int, kind);
    QFETCH(QString, message);
    LogRecordDecoder d;
    const auto r = d.decode(SseEvent{type, data, "1-1"});
    QVERIFY(r);
    QCOMPARE(int(r->kind), kind);
    QVERIFY(r->isMarker());
    QCOMPARE(r->message(), message);
    QCOMPARE(r->raw, data);
    QVERIFY(qAbs(r->ts - QDateTime::currentMSecsSinceEpoch()) < 10000);
}

void tst_LogRecordDecoder::otherEventsAreNotLines()
{
    LogRecordDecoder d;
    QVERIFY(!d.decode(SseEvent{"stats", "{}", "1-1"}));
    QVERIFY(!d.decode(SseEvent{"something-new", "{}", "1-1"}));
    QVERIFY(d.decode(SseEvent{"message", envelope("c", "x"), "1-1"}));
}

void tst_LogRecordDecoder::unreadableEnvelopeIsANotice()
{
    LogRecordDecoder d;
    const LogRecord r = d.decodeEnvelope("this is not JSON");
    QCOMPARE(r.kind, LogRecord::Kind::Notice);
    QVERIFY2(r.message().startsWith(QLatin1StringView("unreadable event from the gateway")),
             qPrintable(r.message()));
}

void tst_LogRecordDecoder::prettyPayloadAndId()
{
    LogRecordDecoder d;
    const LogRecord obj = d.decodeEnvelope(envelope("c", R"({"msg":"x","n":1})"));
    QCOMPARE(obj.id(), QStringLiteral("1795564825851-7"));
    QCOMPARE(obj.prettyPayload(), QStringLiteral("{\n    \"msg\": \"x\",\n    \"n\": 1\n}\n"));
    const LogRecord text = d.decodeEnvelope(envelope("c", "a\nb"));
    QCOMPARE(text.prettyPayload(), QStringLiteral("a\nb"));
}

void tst_LogRecordDecoder::labelsAreShared()
{
    LogRecordDecoder d;
    const QByteArray p = R"({"msg":"x","service":"s","gen_ai.request.model":"m"})";
    const LogRecord a = d.decodeEnvelope(envelope("c", p));
    const LogRecord b = d.decodeEnvelope(envelope("c", p));
    const LogRecord c = d.decodeEnvelope(envelope("other", p));
    QCOMPARE(a.labels.data(), b.labels.data());
    QVERIFY(a.labels.data() != c.labels.data());
    QCOMPARE(c.channel(), QStringLiteral("other"));
}

void tst_LogRecordDecoder::scannerAgreesWithParserOnMutatedTraffic()
{
    // The producer's records, then cut, spliced and sprinkled with JSON-significant bytes the
    // way a broken producer might; the gateway's encoder turns each into a valid envelope.
    LogSimulator simulator(LogSimulator::Config{});
    QRandomGenerator rng(42);
    const QByteArray specials = "{}[]\",:\\ \n\t\r\x01\xc3\xa9\xff"
                                "0-.eEtrue";
    LogRecordDecoder fast;
    LogRecordDecoder slow;
    slow.setScannerEnabled(false);
    QDateTime now = QDateTime::currentDateTimeUtc();
    for (int i = 0; i < 3000; ++i) {
        now = now.addMSecs(7);
        QByteArray payload = simulator.next(now).json;
        const int mutations = i % 3 == 0 ? 0 : int(rng.bounded(4));
        for (int m = 0; m < mutations; ++m) {
            const qsizetype at = rng.bounded(payload.size() + 1);
            switch (rng.bounded(3)) {
            case 0:
                payload.truncate(at);
                break;
            case 1:
                payload.insert(at, specials[rng.bounded(specials.size())]);
                break;
            default:
                payload.remove(at, rng.bounded(8));
                break;
            }
        }
        const QByteArray json = envelope("logs:fuzz", payload);
        const LogRecord a = fast.decodeEnvelope(json);
        const LogRecord b = slow.decodeEnvelope(json);
        const QByteArray what = "case " + QByteArray::number(i) + ": " + payload;
        QVERIFY2(a.message() == b.message(), what.constData());
        QVERIFY2(a.level == b.level, what.constData());
        QVERIFY2(a.service() == b.service() && a.model() == b.model() &&
                     a.errorType() == b.errorType(),
                 what.constData());
        QVERIFY2(a.inputTokens == b.inputTokens && a.outputTokens == b.outputTokens,
                 what.constData());
        QVERIFY2(a.payloadJson() == b.payloadJson(), what.constData());
        QVERIFY2(a.payloadIsObject == b.payloadIsObject, what.constData());
    }
    // At least all the unmutated records (every third) took the fast way.
    QVERIFY2(fast.scanned() >= 1000, QByteArray::number(fast.scanned()).constData());
}

QTEST_GUILESS_MAIN(tst_LogRecordDecoder)
#include "tst_logrecorddecoder.moc"
