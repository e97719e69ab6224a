#include "logsimulator.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <cmath>

namespace {

const QDateTime start = QDateTime(QDate(2024, 5, 1), QTime(12, 0), Qt::UTC);

LogSimulator::Config config(quint32 seed)
{
    LogSimulator::Config c;
    c.service = QStringLiteral("test-host-42");
    c.seed = seed;
    return c;
}

// n records, 50 ms apart, as the producer would emit them at 20 msgs/s.
QList<LogSimulator::Record> generate(LogSimulator &sim, int n)
{
    QList<LogSimulator::Record> records;
    for (int i = 0; i < n; ++i)
        records.append(sim.next(start.addMSecs(qint64(i) * 50)));
    return records;
}

bool isInteger(const QJsonValue &v)
{
    return v.isDouble() && v.toDouble() == std::floor(v.toDouble()) && v.toDouble() >= 0;
}

} // namespace

class tst_LogSimulator : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void recordsHaveTheirChannelsFields_data();
    void recordsHaveTheirChannelsFields();
    void channelsFollowThePrefix();
    void timestampIsIsoWithMilliseconds();
    void sameSeedSameRecords();
    void levelMix();
    void outputTokensCountedOncePerRequest();
};

void tst_LogSimulator::recordsHaveTheirChannelsFields_data()
{
    QTest::addColumn<QByteArray>("channel");
    QTest::addColumn<QStringList>("levels");
    QTest::addColumn<QStringList>("stringFields");
    QTest::addColumn<QStringList>("integerFields");

    const QStringList common{QStringLiteral("ts"), QStringLiteral("level"),
                             QStringLiteral("service"), QStringLiteral("msg")};
    const QStringList request =
        common + QStringList{QStringLiteral("request_id"), QStringLiteral("gen_ai.request.model")};
    QTest::newRow("generation") << QByteArray("logs:generation")
                                << QStringList{QStringLiteral("INFO"), QStringLiteral("DEBUG")}
                                << request
                                << QStringList{QStringLiteral("gen_ai.usage.input_tokens")};
    QTest::newRow("errors") << QByteArray("logs:errors")
                            << QStringList{QStringLiteral("WARN"), QStringLiteral("ERROR")}
                            << request
                            << QStringList{QStringLiteral("gen_ai.usage.input_tokens"),
                                           QStringLiteral("gen_ai.usage.output_tokens"),
                                           QStringLiteral("duration_ms")};
    QTest::newRow("metrics")
        << QByteArray("logs:metrics") << QStringList{QStringLiteral("INFO")} << common
        << QStringList{QStringLiteral("requests"),       QStringLiteral("errors"),
                       QStringLiteral("input_tokens"),   QStringLiteral("output_tokens"),
                       QStringLiteral("latency_p50_ms"), QStringLiteral("latency_p95_ms"),
                       QStringLiteral("ttft_p50_ms"),    QStringLiteral("queue_depth")};
}

void tst_LogSimulator::recordsHaveTheirChannelsFields()
{
    QFETCH(QByteArray, channel);
    QFETCH(QStringList, levels);
    QFETCH(QStringList, stringFields);
    QFETCH(QStringList, integerFields);

    LogSimulator sim(config(7));
    int seen = 0;
    for (const LogSimulator::Record &record : generate(sim, 3000)) {
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(record.json, &error);
        QVERIFY2(error.error == QJsonParseError::NoError, record.json.constData());
        QVERIFY2(doc.isObject(), record.json.constData());
        if (record.channel != channel)
            continue;
        ++seen;
        const QJsonObject o = doc.object();
        for (const QString &field : stringFields)
            QVERIFY2(o.value(field).isString() && !o.value(field).toString().isEmpty(),
                     qPrintable(field + QLatin1Char(' ') + QString::fromUtf8(record.json)));
        for (const QString &field : integerFields)
            QVERIFY2(isInteger(o.value(field)),
                     qPrintable(field + QLatin1Char(' ') + QString::fromUtf8(record.json)));
        const QString level = o.value(QLatin1StringView("level")).toString();
        QVERIFY2(levels.contains(level), record.json.constData());
        QCOMPARE(o.value(QLatin1StringView("service")).toString(), QStringLiteral("test-host-42"));
        // Errors name their type; completed requests carry usage and timing.
        if (level == QLatin1StringView("ERROR"))
            QVERIFY2(o.value(QLatin1StringView("error.type")).isString(), record.json.constData());
        if (level == QLatin1StringView("INFO") && channel != "logs:metrics") {
            QVERIFY(isInteger(o.value(QLatin1StringView("gen_ai.usage.output_tokens"))));
            QVERIFY(isInteger(o.value(QLatin1StringView("duration_ms"))));
            QVERIFY(isInteger(o.value(QLatin1StringView("ttft_ms"))));
            QVERIFY(!o.contains(QLatin1StringView("error.type")));
        }
        if (o.contains(QLatin1StringView("ttft_ms")))
            QVERIFY(o.value(QLatin1StringView("ttft_ms")).toDouble() <=
                    o.value(QLatin1StringView("duration_ms")).toDouble());
    }
    QVERIFY2(seen > 30, qPrintable(QString::number(seen)));
}

void tst_LogSimulator::channelsFollowThePrefix()
{
    LogSimulator::Config c = config(3);
    c.channelPrefix = "staging";
    LogSimulator sim(c);
    QSet<QByteArray> channels;
    for (const LogSimulator::Record &record : generate(sim, 1000))
        channels.insert(record.channel);
    QCOMPARE(channels,
             (QSet<QByteArray>{"staging:generation", "staging:errors", "staging:metrics"}));
    QCOMPARE(sim.errorsChannel(), QByteArray("staging:errors"));
}

void tst_LogSimulator::timestampIsIsoWithMilliseconds()
{
    LogSimulator sim(config(1));
    const QDateTime now(QDate(2024, 5, 1), QTime(12, 34, 56, 789), Qt::UTC);
    const QJsonObject o = QJsonDocument::fromJson(sim.next(now).json).object();
    QCOMPARE(o.value(QLatin1StringView("ts")).toString(),
             QStringLiteral("2024-05-01T12:34:56.789Z"));
}

void tst_LogSimulator::sameSeedSameRecords()
{
    LogSimulator a(config(1234));
    LogSimulator b(config(1234));
    LogSimulator c(config(1235));
    const auto ra = generate(a, 500);
    const auto rb = generate(b, 500);
    const auto rc = generate(c, 500);
    for (int i = 0; i < ra.size(); ++i) {
        QCOMPARE(ra.at(i).channel, rb.at(i).channel);
        QCOMPARE(ra.at(i).json, rb.at(i).json);
    }
    int different = 0;
    for (int i = 0; i < ra.size(); ++i)
        different += ra.at(i).json != rc.at(i).json ? 1 : 0;
    QVERIFY(different > 490);
}

void tst_LogSimulator::levelMix()
{
    LogSimulator sim(config(99));
    QHash<QString, int> levels;
    QHash<QByteArray, int> channels;
    const int n = 10000;
    for (const LogSimulator::Record &record : generate(sim, n)) {
        const QJsonObject o = QJsonDocument::fromJson(record.json).object();
        ++levels[o.value(QLatin1StringView("level")).toString()];
        ++channels[record.channel];
    }
    auto share = [&](const char *level) { return double(levels.value(QLatin1String(level))) / n; };
    // Designed as 80% INFO, 12% DEBUG, 5% WARN, 3% ERROR of requests, plus ~2.4% summaries.
    QVERIFY2(share("INFO") > 0.70 && share("INFO") < 0.88,
             qPrintable(QString::number(share("INFO"))));
    QVERIFY2(share("DEBUG") > 0.08 && share("DEBUG") < 0.16,
             qPrintable(QString::number(share("DEBUG"))));
    QVERIFY2(share("WARN") > 0.03 && share("WARN") < 0.07,
             qPrintable(QString::number(share("WARN"))));
    QVERIFY2(share("ERROR") > 0.015 && share("ERROR") < 0.045,
             qPrintable(QString::number(share("ERROR"))));
    QCOMPARE(levels.size(), 4);
    QCOMPARE(channels.value("logs:errors"),
             levels.value(QStringLiteral("WARN")) + levels.value(QStringLiteral("ERROR")));
    QVERIFY(channels.value("logs:metrics") > 200 && channels.value("logs:metrics") < 300);
}

void tst_LogSimulator::outputTokensCountedOncePerRequest()
{
    // A consumer summing gen_ai.usage.output_tokens must count each request once: summaries
    // report their window under other names, unfinished (DEBUG) steps report none.
    LogSimulator sim(config(5));
    qint64 window = 0;
    int summaries = 0;
    for (const LogSimulator::Record &record : generate(sim, 2000)) {
        const QJsonObject o = QJsonDocument::fromJson(record.json).object();
        if (record.channel == "logs:metrics") {
            QVERIFY(!o.contains(QLatin1StringView("gen_ai.usage.output_tokens")));
            QCOMPARE(o.value(QLatin1StringView("output_tokens")).toInteger(), window);
            window = 0;
            ++summaries;
            continue;
        }
        if (o.value(QLatin1StringView("level")).toString() == QLatin1StringView("DEBUG"))
            QVERIFY(!o.contains(QLatin1StringView("gen_ai.usage.output_tokens")));
        window += o.value(QLatin1StringView("gen_ai.usage.output_tokens")).toInteger();
    }
    QCOMPARE(summaries, 2000 / 41);
}

QTEST_GUILESS_MAIN(tst_LogSimulator)
#include "tst_logsimulator.moc"
