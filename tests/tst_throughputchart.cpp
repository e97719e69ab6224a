// ThroughputChart: stats events become points, per channel and in total, redrawn with one
// replace() per series, over a two-minute window.
#include "throughputchart.h"

#include <QJsonObject>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QSignalSpy>
#include <QTest>
#include <QTextDocument>
#include <QValueAxis>

namespace {

QJsonObject stats(qint64 ts, double total, double tokens,
                  const QList<QPair<QString, double>> &channels)
{
    QJsonObject perChannel;
    for (const auto &[name, rate] : channels)
        perChannel.insert(name, QJsonObject{{QStringLiteral("rate"), rate},
                                            {QStringLiteral("tokens_rate"), 0},
                                            {QStringLiteral("received"), 1}});
    return QJsonObject{{QStringLiteral("ts"), ts},
                       {QStringLiteral("rate"), total},
                       {QStringLiteral("tokens_rate"), tokens},
                       {QStringLiteral("channels"), perChannel}};
}

} // namespace

class tst_ThroughputChart : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void pointsFromStats();
    void oneReplacePerSeriesPerRefresh();
    void keepsTwoMinutes();
    void tokensAppearWithTokenCounts();
    void channelSeriesAreBounded();
    void channelNamesShowLiterally();
    void gatewayRestartStartsOver();
    void refreshesEverySecond();
};

void tst_ThroughputChart::pointsFromStats()
{
    ThroughputChart chart;
    const qint64 t0 = 1795564826000;
    for (int i = 0; i < 5; ++i)
        chart.addStats(stats(t0 + i * 1000, 10.0 * (i + 1), 0,
                             {{QStringLiteral("logs:a"), 6.0 * (i + 1)},
                              {QStringLiteral("logs:b"), 4.0 * (i + 1)}}));
    chart.refresh();
    QCOMPARE(chart.sampleCount(), 5);
    const QList<QPointF> total = chart.totalSeries()->points();
    QCOMPARE(total.size(), 5);
    QCOMPARE(total.last().y(), 50.0);
    QCOMPARE(total.first().y(), 10.0);
    // x is seconds before now: the newest point is at (about) 0, one second apart.
    QVERIFY(total.last().x() <= 0 && total.last().x() > -1);
    QCOMPARE(total.last().x() - total.first().x(), 4.0);
    QCOMPARE(chart.channelNames(),
             (QStringList{QStringLiteral("logs:a"), QStringLiteral("logs:b")}));
    QCOMPARE(chart.channelSeries(QStringLiteral("logs:a"))->points().last().y(), 30.0);
    QCOMPARE(chart.channelSeries(QStringLiteral("logs:b"))->points().last().y(), 20.0);
    // The axis fits the largest rate with a round number.
    auto *y = qobject_cast<QValueAxis *>(chart.totalSeries()->attachedAxes().at(1));
    QVERIFY(y);
    QVERIFY(y->max() >= 50 && y->max() <= 100);
}

void tst_ThroughputChart::oneReplacePerSeriesPerRefresh()
{
    ThroughputChart chart;
    const qint64 t0 = 1795564826000;
    chart.addStats(stats(t0, 1, 0, {{QStringLiteral("logs:a"), 1}}));
    QSignalSpy totalReplaced(chart.totalSeries(), &QXYSeries::pointsReplaced);
    QSignalSpy channelReplaced(chart.channelSeries(QStringLiteral("logs:a")),
                               &QXYSeries::pointsReplaced);
    QSignalSpy pointAdded(chart.totalSeries(), &QXYSeries::pointAdded);
    for (int i = 1; i < 30; ++i)
        chart.addStats(stats(t0 + i * 1000, i, 0, {{QStringLiteral("logs:a"), i}}));
    QCOMPARE(totalReplaced.size(), 0); // stats only record; drawing is once per tick
    chart.refresh();
    QCOMPARE(totalReplaced.size(), 1);
    QCOMPARE(channelReplaced.size(), 1);
    QCOMPARE(pointAdded.size(), 0);
    QCOMPARE(chart.totalSeries()->count(), 30);
}

void tst_ThroughputChart::keepsTwoMinutes()
{
    ThroughputChart chart;
    const qint64 t0 = 1795564826000;
    for (int i = 0; i < 300; ++i)
        chart.addStats(stats(t0 + i * 1000, i, 0, {}));
    chart.refresh();
    QCOMPARE(chart.sampleCount(), ThroughputChart::windowSeconds + 1);
    const QList<QPointF> total = chart.totalSeries()->points();
    QCOMPARE(total.first().y(), 299.0 - ThroughputChart::windowSeconds);
    QVERIFY(total.first().x() >= -ThroughputChart::windowSeconds - 1);
}

void tst_ThroughputChart::tokensAppearWithTokenCounts()
{
    ThroughputChart chart;
    const qint64 t0 = 1795564826000;
    chart.addStats(stats(t0, 5, 0, {}));
    chart.refresh();
    QVERIFY(!chart.tokensSeries()->isVisible());
    chart.addStats(stats(t0 + 1000, 5, 1234.5, {}));
    chart.refresh();
    QVERIFY(chart.tokensSeries()->isVisible());
    QCOMPARE(chart.tokensSeries()->points().last().y(), 1234.5);
}

void tst_ThroughputChart::channelSeriesAreBounded()
{
    ThroughputChart chart;
    QList<QPair<QString, double>> many;
    for (int i = 0; i < 20; ++i)
        many.append({QStringLiteral("logs:%1").arg(i, 2, 10, QLatin1Char('0')), 1});
    chart.addStats(stats(1795564826000, 20, 0, many));
    QCOMPARE(chart.channelNames().size(), ThroughputChart::maxChannelSeries);
    QCOMPARE(chart.chart()->series().size(), ThroughputChart::maxChannelSeries + 2);
}

void tst_ThroughputChart::channelNamesShowLiterally()
{
    // Qt Charts lays out legend labels and their tooltips as HTML; channel names are anyone's.
    const QString name = QStringLiteral("logs:<b>x</b><img src=x>&amp;");
    ThroughputChart chart;
    chart.addStats(stats(1795564826000, 1, 0, {{name, 1}}));
    QLineSeries *series = chart.channelSeries(name);
    QVERIFY(series);
    const QList<QLegendMarker *> markers = chart.chart()->legend()->markers(series);
    QCOMPARE(markers.size(), 1);
    QTextDocument shown;
    shown.setHtml(markers.first()->label());
    QCOMPARE(shown.toPlainText(), name);
    QVERIFY2(!shown.toHtml().contains(QLatin1StringView("<img")), qPrintable(shown.toHtml()));
}

void tst_ThroughputChart::gatewayRestartStartsOver()
{
    ThroughputChart chart;
    const qint64 t0 = 1795564826000;
    for (int i = 0; i < 10; ++i)
        chart.addStats(stats(t0 + i * 1000, 1, 0, {}));
    chart.addStats(stats(t0 + 2000, 1, 0, {})); // an older time: another gateway clock
    QCOMPARE(chart.sampleCount(), 1);
}

void tst_ThroughputChart::refreshesEverySecond()
{
    ThroughputChart chart;
    chart.addStats(stats(1795564826000, 7, 0, {}));
    QSignalSpy replaced(chart.totalSeries(), &QXYSeries::pointsReplaced);
    QVERIFY(replaced.wait(2500));
    QCOMPARE(chart.totalSeries()->points().last().y(), 7.0);
}

QTEST_MAIN(tst_ThroughputChart)
#include "tst_throughputchart.moc"
