// LogPage: the body of GET /api/history read into log lines, each envelope kept as the bytes
// the gateway wrote (so a line from the history reads like the same line received live), and
// the answers that are not one said in plain words. Also the q= a search sends for the filter
// box's text (HistorySearch::queryFor).
#include "historysearch.h"
#include "logpage.h"
#include "logrecorddecoder.h"

#include <QTest>

class tst_LogPage : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parse_data();
    void parse();
    void refuses_data();
    void refuses();
    void queryFor_data();
    void queryFor();
};

namespace {

const QByteArray plain =
    R"({"id":"7-1","channel":"logs:a","ts":1700000000001,"payload":"x ] } \" y"})";
const QByteArray object =
    R"({"id":"7-2","channel":"logs:b","ts":1700000000002,)"
    R"("payload":{"msg":"hi [","level":"warn","nested":{"a":[1,{"b":"}"}]}}})";
const QByteArray truncated = R"({"id":"7-3","channel":"logs:a","ts":1700000000003,)"
                             R"("payload":"cut \u2026","truncated":5000000})";

} // namespace

void tst_LogPage::parse_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QByteArrayList>("raw"); // each record's bytes: the envelopes as written
    QTest::addColumn<QStringList>("messages");
    QTest::addColumn<QString>("before");
    QTest::addColumn<QString>("stopped");
    QTest::addColumn<qint64>("scanned");

    QTest::newRow("the gateway's layout")
        << QByteArray(R"({"events":[)" + plain + ',' + object + ',' + truncated +
                      R"(],"before":"7-1","scanned":3,"stopped":"limit","transport":"pubsub"})")
        << QByteArrayList{plain, object, truncated}
        << QStringList{QStringLiteral("x ] } \" y"), QStringLiteral("hi ["),
                       QStringLiteral("cut \u2026")}
        << QStringLiteral("7-1") << QStringLiteral("limit") << qint64(3);
    QTest::newRow("spaced out, members in another order")
        << QByteArray("{\n \"before\" : \"s5-0\" ,\n \"stopped\":\"scan-limit\",\"scanned\":10000,"
                      "\n \"events\" : [ \n" +
                      object + " ,\n\t" + plain + "\n ] , \"transport\":\"streams\"}\n")
        << QByteArrayList{object, plain}
        << QStringList{QStringLiteral("hi ["), QStringLiteral("x ] } \" y")}
        << QStringLiteral("s5-0") << QStringLiteral("scan-limit") << qint64(10000);
    QTest::newRow("nothing older")
        << QByteArray(R"({"events":[],"before":null,"scanned":0,"stopped":"start",)"
                      R"("transport":"pubsub"})")
        << QByteArrayList{} << QStringList{} << QString() << QStringLiteral("start") << qint64(0);
    // Not how the gateway writes it: read another way, same lines.
    QTest::newRow("escaped key") << QByteArray(R"({"ev\u0065nts":[)" + plain +
                                               R"(],"before":null,"stopped":"start"})")
                                 << QByteArrayList{} << QStringList{QStringLiteral("x ] } \" y")}
                                 << QString() << QStringLiteral("start") << qint64(0);
    QTest::newRow("an element that is no envelope")
        << QByteArray(R"({"events":[)" + plain + R"(,42],"before":null,"stopped":"start"})")
        << QByteArrayList{plain} << QStringList{QStringLiteral("x ] } \" y")} << QString()
        << QStringLiteral("start") << qint64(0);
}

void tst_LogPage::parse()
{
    QFETCH(QByteArray, body);
    QFETCH(QByteArrayList, raw);
    QFETCH(QStringList, messages);
    QFETCH(QString, before);
    QFETCH(QString, stopped);
    QFETCH(qint64, scanned);

    LogRecordDecoder decoder;
    QString error;
    const auto page = LogPage::parse(body, decoder, &error);
    QVERIFY2(page, qPrintable(error));
    QCOMPARE(qsizetype(page->records.size()), messages.size());
    LogRecordDecoder live;
    for (qsizetype i = 0; i < messages.size(); ++i) {
        const LogRecord &r = page->records[std::size_t(i)];
        QCOMPARE(r.kind, LogRecord::Kind::Message);
        QCOMPARE(r.message(), messages[i]);
        if (!raw.isEmpty()) {
            QCOMPARE(r.raw, raw[i]);
            // The same line as the same envelope received live.
            const LogRecord same = live.decodeEnvelope(raw[i]);
            QCOMPARE(r.id(), same.id());
            QCOMPARE(r.level, same.level);
            QCOMPARE(r.channel(), same.channel());
            QCOMPARE(r.ts, same.ts);
            QCOMPARE(r.prettyPayload(), same.prettyPayload());
        }
    }
    QCOMPARE(page->before, before);
    QCOMPARE(page->reachedStart(), before.isEmpty());
    QCOMPARE(page->stopped, stopped);
    QCOMPARE(page->scanLimited(), stopped == QLatin1StringView("scan-limit"));
    QCOMPARE(page->scanned, scanned);
}

void tst_LogPage::refuses_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("error");

    QTest::newRow("HTML") << QByteArray("<html>proxy error</html>")
                          << QStringLiteral("the gateway's history answer is not JSON (");
    QTest::newRow("cut short") << QByteArray(R"({"events":[{"id":"1-1",)")
                               << QStringLiteral("the gateway's history answer is not JSON (");
    QTest::newRow("an array") << QByteArray("[]")
                              << QStringLiteral("the gateway's history answer has no \"events\"");
    QTest::newRow("no events") << QByteArray(R"({"before":null})")
                               << QStringLiteral("the gateway's history answer has no \"events\"");
    QTest::newRow("no before") << QByteArray(R"({"events":[]})")
                               << QStringLiteral("the gateway's history answer has no \"events\"");
    QTest::newRow("before a number")
        << QByteArray(R"({"events":[],"before":5})")
        << QStringLiteral("the gateway's history answer has no \"events\"");
}

void tst_LogPage::refuses()
{
    QFETCH(QByteArray, body);
    QFETCH(QString, error);
    LogRecordDecoder decoder;
    QString why;
    QVERIFY(!LogPage::parse(body, decoder, &why));
    QVERIFY2(why.startsWith(error), qPrintable(why));
}

void tst_LogPage::queryFor_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("isRegex");
    QTest::addColumn<QString>("query");

    QTest::newRow("text") << QStringLiteral("KV cache") << false << QStringLiteral("KV cache");
    QTest::newRow("text that looks like a regex is the gateway's to read")
        << QStringLiteral("/x+/") << false << QStringLiteral("/x+/");
    QTest::newRow("regex, case-insensitive like the filter")
        << QStringLiteral("err(or)?\\b") << true << QStringLiteral("/err(or)?\\b/i");
    QTest::newRow("regex with a slash")
        << QStringLiteral("a/b") << true << QStringLiteral("/a/b/i");
    QTest::newRow("regex written with flags")
        << QStringLiteral("/^ERROR/ms") << true << QStringLiteral("/^ERROR/ms");
    QTest::newRow("regex written without flags")
        << QStringLiteral("/timeout/") << true << QStringLiteral("/timeout/");
    QTest::newRow("a lone slash") << QStringLiteral("/") << true << QStringLiteral("///i");
    QTest::newRow("empty") << QString() << true << QString();
}

void tst_LogPage::queryFor()
{
    QFETCH(QString, text);
    QFETCH(bool, isRegex);
    QFETCH(QString, query);
    QCOMPARE(HistorySearch::queryFor(text, isRegex), query);
}

QTEST_GUILESS_MAIN(tst_LogPage)
#include "tst_logpage.moc"
