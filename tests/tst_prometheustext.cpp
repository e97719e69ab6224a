// Unit tests of the Prometheus text exposition (format 0.0.4) builder: exact output.
#include "prometheustext.h"

#include <QTest>

#include <cmath>
#include <limits>

class tst_PrometheusText : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void exposition();
    void helpEscaping();
    void value_data();
    void value();
    void labelValue_data();
    void labelValue();
};

void tst_PrometheusText::exposition()
{
    PrometheusText m;
    m.family("llmstreamer_messages_total", "counter", "Messages received from Redis.");
    m.sample("llmstreamer_messages_total", {{"channel", "logs:a"}}, 12);
    m.sample("llmstreamer_messages_total", {{"channel", "logs:b"}, {"kind", "json"}}, 3);
    m.family("llmstreamer_clients", "gauge", "Connected SSE clients.");
    m.sample("llmstreamer_clients", 2);

    QCOMPARE(m.text(),
             QByteArray("# HELP llmstreamer_messages_total Messages received from Redis.\n"
                        "# TYPE llmstreamer_messages_total counter\n"
                        "llmstreamer_messages_total{channel=\"logs:a\"} 12\n"
                        "llmstreamer_messages_total{channel=\"logs:b\",kind=\"json\"} 3\n"
                        "# HELP llmstreamer_clients Connected SSE clients.\n"
                        "# TYPE llmstreamer_clients gauge\n"
                        "llmstreamer_clients 2\n"));
    QCOMPARE(PrometheusText().text(), QByteArray());
}

void tst_PrometheusText::helpEscaping()
{
    PrometheusText m;
    m.family("x", "gauge", "a \\ b\nc \"d\"");
    // HELP escapes backslash and newline only; quotes stay.
    QCOMPARE(m.text(), QByteArray("# HELP x a \\\\ b\\nc \"d\"\n# TYPE x gauge\n"));
}

void tst_PrometheusText::value_data()
{
    QTest::addColumn<double>("value");
    QTest::addColumn<QByteArray>("text");

    QTest::newRow("zero") << 0.0 << QByteArray("0");
    QTest::newRow("negative zero") << -0.0 << QByteArray("0");
    QTest::newRow("integer") << 42.0 << QByteArray("42");
    QTest::newRow("negative integer") << -7.0 << QByteArray("-7");
    QTest::newRow("large integer") << 1e15 << QByteArray("1000000000000000");
    QTest::newRow("byte count") << 8589934592.0 << QByteArray("8589934592");
    QTest::newRow("half") << 0.5 << QByteArray("0.5");
    QTest::newRow("tenth") << 0.1 << QByteArray("0.1");
    QTest::newRow("rate") << 1234.25 << QByteArray("1234.25");
    QTest::newRow("negative fraction") << -2.75 << QByteArray("-2.75");
    QTest::newRow("many digits kept") << 0.1234567890123 << QByteArray("0.1234567890123");
    QTest::newRow("timestamp with ms") << 1712345678.123 << QByteArray("1712345678.123");
    QTest::newRow("tiny") << 1.5e-9 << QByteArray("1.5e-09");
    QTest::newRow("above exact integers") << 1e20 << QByteArray("1e+20");
    QTest::newRow("NaN") << std::numeric_limits<double>::quiet_NaN() << QByteArray("NaN");
    QTest::newRow("+Inf") << std::numeric_limits<double>::infinity() << QByteArray("+Inf");
    QTest::newRow("-Inf") << -std::numeric_limits<double>::infinity() << QByteArray("-Inf");
}

void tst_PrometheusText::value()
{
    QFETCH(double, value);
    QFETCH(QByteArray, text);

    PrometheusText m;
    m.sample("m", value);
    QCOMPARE(m.text(), QByteArray("m " + text + '\n'));
    if (std::isfinite(value))
        QCOMPARE(text.toDouble(), value); // exact: no digits lost
}

void tst_PrometheusText::labelValue_data()
{
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<QByteArray>("escaped");

    QTest::newRow("plain") << QByteArray("logs:errors") << QByteArray("logs:errors");
    QTest::newRow("empty") << QByteArray() << QByteArray();
    QTest::newRow("backslash") << QByteArray("a\\b") << QByteArray("a\\\\b");
    QTest::newRow("quote") << QByteArray("a\"b") << QByteArray("a\\\"b");
    QTest::newRow("newline") << QByteArray("a\nb") << QByteArray("a\\nb");
    QTest::newRow("all three") << QByteArray("\\\"\n") << QByteArray("\\\\\\\"\\n");
    QTest::newRow("tab and CR kept") << QByteArray("a\tb\rc") << QByteArray("a\tb\rc");
    QTest::newRow("UTF-8 kept") << QByteArray("caf\xC3\xA9 \xF0\x9F\x98\x80")
                                << QByteArray("caf\xC3\xA9 \xF0\x9F\x98\x80");
    QTest::newRow("invalid byte") << QByteArray("a\xFF"
                                                "b")
                                  << QByteArray("a\xEF\xBF\xBD"
                                                "b");
    QTest::newRow("truncated sequence")
        << QByteArray("a\xE2\x82") << QByteArray("a\xEF\xBF\xBD\xEF\xBF\xBD");
    QTest::newRow("surrogate") << QByteArray("\xED\xA0\x80")
                               << QByteArray("\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
}

void tst_PrometheusText::labelValue()
{
    QFETCH(QByteArray, value);
    QFETCH(QByteArray, escaped);

    QCOMPARE(PrometheusText::escapeLabelValue(value), escaped);
    PrometheusText m;
    m.sample("m", {{"l", value}}, 1);
    QCOMPARE(m.text(), QByteArray("m{l=\"" + escaped + "\"} 1\n"));
}

QTEST_GUILESS_MAIN(tst_PrometheusText)
#include "tst_prometheustext.moc"
