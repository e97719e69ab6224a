// LogFilterProxy: which lines a text, regular expression, level and channel filter let through,
// and that the proxy stays a correct model while the ring buffer under it fills and wraps.
#include "envelope.h"
#include "logfilterproxy.h"
#include "logmodel.h"
#include "logrecorddecoder.h"
#include "sseparser.h"

#include <QAbstractItemModelTester>
#include <QTest>

Q_DECLARE_METATYPE(LogLevel)

namespace {

using Channels = std::optional<QSet<QString>>;

LogRecord record(LogRecordDecoder &decoder, const QByteArray &channel, const QByteArray &payload)
{
    return decoder.decodeEnvelope(Envelope::encode("1-1", channel, 1700000000000, payload).json);
}

// Seven lines of different kinds; their messages are what the tests compare.
std::vector<LogRecord> sample()
{
    LogRecordDecoder d;
    std::vector<LogRecord> v;
    v.push_back(record(d, "logs:generation",
                       R"({"level":"INFO","msg":"generation complete","service":"api",)"
                       R"("gen_ai.request.model":"llama-8b","request_id":"req-abc"})"));
    v.push_back(record(d, "logs:errors",
                       R"({"level":"ERROR","msg":"CUDA out of memory","service":"api",)"
                       R"("error.type":"OutOfMemoryError"})"));
    v.push_back(
        record(d, "logs:errors", R"({"level":"WARN","msg":"rate limited","service":"worker"})"));
    v.push_back(record(d, "logs:generation", "DEBUG tokenizer loaded"));
    v.push_back(record(d, "logs:raw", "plain line without level"));
    v.push_back(
        LogRecordDecoder::marker(LogRecord::Kind::Gap, "gap", R"({"reason":"gateway-restarted"})"));
    v.push_back(record(d, "logs:generation", QByteArray(R"({"level":"INFO","msg":"Café ready"})")));
    return v;
}

QStringList visible(const LogFilterProxy &proxy)
{
    QStringList out;
    for (int row = 0; row < proxy.rowCount(); ++row)
        out.append(proxy.index(row, LogModel::MessageColumn).data().toString());
    return out;
}

const QString gap = QStringLiteral("gap: gateway-restarted");
const QString l0 = QStringLiteral("generation complete");
const QString l1 = QStringLiteral("CUDA out of memory");
const QString l2 = QStringLiteral("rate limited");
const QString l3 = QStringLiteral("DEBUG tokenizer loaded");
const QString l4 = QStringLiteral("plain line without level");
const QString l6 = QString::fromUtf8("Café ready");

} // namespace

class tst_LogFilterProxy : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void filters_data();
    void filters();
    void invalidRegexKeepsPreviousFilter();
    void followsTheRingBuffer();
};

void tst_LogFilterProxy::filters_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("regex");
    QTest::addColumn<LogLevel>("level");
    QTest::addColumn<Channels>("channels");
    QTest::addColumn<QStringList>("expected");

    const Channels all;
    QTest::newRow("no filter") << QString() << false << LogLevel::None << all
                               << QStringList{l0, l1, l2, l3, l4, gap, l6};
    QTest::newRow("text in message")
        << QStringLiteral("cuda") << false << LogLevel::None << all << QStringList{l1, gap};
    QTest::newRow("any case") << QStringLiteral("CuDa") << false << LogLevel::None << all
                              << QStringList{l1, gap};
    QTest::newRow("payload field without a column")
        << QStringLiteral("req-abc") << false << LogLevel::None << all << QStringList{l0, gap};
    QTest::newRow("model column") << QStringLiteral("llama") << false << LogLevel::None << all
                                  << QStringList{l0, gap};
    QTest::newRow("service column")
        << QStringLiteral("worker") << false << LogLevel::None << all << QStringList{l2, gap};
    QTest::newRow("channel column")
        << QStringLiteral("logs:raw") << false << LogLevel::None << all << QStringList{l4, gap};
    QTest::newRow("error: level, channel, error.type")
        << QStringLiteral("error") << false << LogLevel::None << all << QStringList{l1, l2, gap};
    QTest::newRow("non-ASCII") << QString::fromUtf8("café") << false << LogLevel::None << all
                               << QStringList{gap, l6};
    QTest::newRow("non-ASCII, other case")
        << QString::fromUtf8("CAFÉ") << false << LogLevel::None << all << QStringList{gap, l6};
    QTest::newRow("no match") << QStringLiteral("zzz") << false << LogLevel::None << all
                              << QStringList{gap};
    QTest::newRow("regex alternation") << QStringLiteral("^rate|memory$") << true << LogLevel::None
                                       << all << QStringList{l1, l2, gap};
    QTest::newRow("regex in payload")
        << QStringLiteral("req-[a-c]{3}") << true << LogLevel::None << all << QStringList{l0, gap};
    QTest::newRow("regex text is literal without regex")
        << QStringLiteral("^rate") << false << LogLevel::None << all << QStringList{gap};
    QTest::newRow("level WARN and above")
        << QString() << false << LogLevel::Warn << all << QStringList{l1, l2, gap};
    QTest::newRow("level DEBUG and above hides lines without level")
        << QString() << false << LogLevel::Debug << all << QStringList{l0, l1, l2, l3, gap, l6};
    QTest::newRow("one channel") << QString() << false << LogLevel::None
                                 << Channels(QSet<QString>{QStringLiteral("logs:errors")})
                                 << QStringList{l1, l2, gap};
    QTest::newRow("channel and text")
        << QStringLiteral("rate") << false << LogLevel::None
        << Channels(QSet<QString>{QStringLiteral("logs:errors")}) << QStringList{l2, gap};
    QTest::newRow("level and channel exclude everything but markers")
        << QString() << false << LogLevel::Error
        << Channels(QSet<QString>{QStringLiteral("logs:generation")}) << QStringList{gap};
}

void tst_LogFilterProxy::filters()
{
    QFETCH(QString, text);
    QFETCH(bool, regex);
    QFETCH(LogLevel, level);
    QFETCH(Channels, channels);
    QFETCH(QStringList, expected);

    LogModel model;
    LogFilterProxy proxy;
    proxy.setLogModel(&model);
    QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.append(sample());
    QCOMPARE(proxy.setTextFilter(text, regex), QString());
    proxy.setMinimumLevel(level);
    proxy.setChannels(channels);
    QCOMPARE(visible(proxy), expected);
    QCOMPARE(proxy.isFiltering(), !text.isEmpty() || level != LogLevel::None || channels);
    // Same result when the lines arrive after the filter was set.
    model.clear();
    model.append(sample());
    QCOMPARE(visible(proxy), expected);
    // And every line is back once the filters are cleared.
    proxy.setTextFilter(QString(), false);
    proxy.setMinimumLevel(LogLevel::None);
    proxy.setChannels(std::nullopt);
    QCOMPARE(proxy.rowCount(), 7);
}

void tst_LogFilterProxy::invalidRegexKeepsPreviousFilter()
{
    LogModel model;
    LogFilterProxy proxy;
    proxy.setLogModel(&model);
    model.append(sample());
    QCOMPARE(proxy.setTextFilter(QStringLiteral("cuda"), false), QString());
    const QString error = proxy.setTextFilter(QStringLiteral("(unclosed"), true);
    QVERIFY2(error.startsWith(QLatin1StringView("invalid regular expression at character")),
             qPrintable(error));
    QCOMPARE(proxy.textFilter(), QStringLiteral("cuda"));
    QCOMPARE(visible(proxy), (QStringList{l1, gap}));
}

void tst_LogFilterProxy::followsTheRingBuffer()
{
    LogModel model(50);
    LogFilterProxy proxy;
    proxy.setLogModel(&model);
    QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    proxy.setMinimumLevel(LogLevel::Warn);
    LogRecordDecoder d;
    int errors = 0;
    for (int batch = 0; batch < 20; ++batch) {
        std::vector<LogRecord> lines;
        for (int i = 0; i < 15; ++i) {
            const int n = batch * 15 + i;
            const bool error = n % 3 == 0;
            errors += error ? 1 : 0;
            lines.push_back(
                record(d, "logs:x", (error ? "ERROR " : "INFO ") + QByteArray::number(n)));
        }
        model.append(std::move(lines));
        // Exactly the kept ERROR lines, in order.
        QStringList expected;
        for (int row = 0; row < model.rowCount(); ++row)
            if (model.record(row).level == LogLevel::Error)
                expected.append(model.record(row).message());
        QCOMPARE(visible(proxy), expected);
        QCOMPARE(proxy.sourceRow(proxy.rowCount() - 1) <= model.rowCount() - 1, true);
    }
    QCOMPARE(model.rowCount(), 50);
    QVERIFY(errors > 50);
}

QTEST_MAIN(tst_LogFilterProxy)
#include "tst_logfilterproxy.moc"
