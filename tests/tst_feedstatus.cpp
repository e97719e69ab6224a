// FeedStatus: the status bar's texts, the delivery badge, and tooltips that show the gateway's
// words as written.
#include "feedstatus.h"

#include <QDateTime>
#include <QLabel>
#include <QTest>
#include <QTextDocument>

class tst_FeedStatus : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void toolTipsShowTextLiterally_data();
    void toolTipsShowTextLiterally();
    void deliveryBadge_data();
    void deliveryBadge();
};

namespace {

// A local time today, in ms since the epoch.
qint64 at(int hour, int minute)
{
    return QDateTime(QDate::currentDate(), QTime(hour, minute, 30)).toMSecsSinceEpoch();
}

QString shownAsToolTip(const QString &toolTip)
{
    QTextDocument shown;
    shown.setHtml(toolTip);
    return Qt::mightBeRichText(toolTip) ? shown.toPlainText() : toolTip;
}

} // namespace

void tst_FeedStatus::toolTipsShowTextLiterally_data()
{
    QTest::addColumn<QString>("label"); // object name of the QLabel
    QTest::addColumn<QString>("expected");

    QTest::newRow("reason") << QStringLiteral("connectionState")
                            << QStringLiteral("Stopped: <b>x</b> <img src=x>");
    QTest::newRow("gap") << QStringLiteral("gaps")
                         << QStringLiteral("Last gap: gap: <img src=x> <b>lost</b>");
    QTest::newRow("delivery") << QStringLiteral("delivery")
                              << QStringLiteral(
                                     "Events are missing at 10:05 (<i>r</i>): <b>lost</b>. "
                                     "Everything since then has arrived.");
}

void tst_FeedStatus::toolTipsShowTextLiterally()
{
    // The reason and the gap text come from the gateway (and from whatever it relays); the
    // labels are plain text, and so must their rich-text tooltips read.
    QFETCH(QString, label);
    QFETCH(QString, expected);
    FeedStatus status;
    status.setConnectionState(SseConnection::State::Failed, QStringLiteral("<b>x</b> <img src=x>"),
                              0);
    status.setGaps(1, QStringLiteral("gap: <img src=x> <b>lost</b>"));
    status.setDelivery(at(9, 0), at(10, 5), QStringLiteral("<i>r</i>"),
                       QStringLiteral("<b>lost</b>"));
    const auto *widget = status.findChild<QLabel *>(label);
    QVERIFY(widget);
    const QString toolTip = widget->toolTip();
    QVERIFY2(Qt::mightBeRichText(toolTip), qPrintable(toolTip)); // so escaping is what counts
    QTextDocument shown;
    shown.setHtml(toolTip);
    QCOMPARE(shown.toPlainText(), expected);
}

void tst_FeedStatus::deliveryBadge_data()
{
    QTest::addColumn<qint64>("completeSince");
    QTest::addColumn<qint64>("gapAt");
    QTest::addColumn<QString>("reason");
    QTest::addColumn<QString>("message");
    QTest::addColumn<QString>("text"); // empty: no badge
    QTest::addColumn<QString>("toolTip");

    QTest::newRow("not connected yet")
        << qint64(-1) << qint64(-1) << QString() << QString() << QString() << QString();
    QTest::newRow("complete") << at(9, 41) << qint64(-1) << QString() << QString()
                              << QStringLiteral("Complete since 09:41")
                              << QStringLiteral("Every event since 09:41, when the feed "
                                                "connected, has arrived: the gateway announced "
                                                "no gap.");
    QTest::newRow("gap") << at(14, 2) << at(14, 2) << QStringLiteral("trimmed")
                         << QStringLiteral("3 entries were trimmed before they were read")
                         << QStringLiteral(
                                "Gap at 14:02: 3 entries were trimmed before they were read")
                         << QStringLiteral("Events are missing at 14:02 (trimmed): 3 entries were "
                                           "trimmed before they were read. Everything since then "
                                           "has arrived.");
    const QString longMessage = QString(100, u'x');
    QTest::newRow("long gap message cut, whole in the tooltip")
        << at(23, 59) << at(23, 59) << QStringLiteral("history-exceeded") << longMessage
        << QStringLiteral("Gap at 23:59: ") + QString(80, u'x') + QChar(0x2026)
        << QStringLiteral("Events are missing at 23:59 (history-exceeded): ") + longMessage +
               QStringLiteral(". Everything since then has arrived.");
}

void tst_FeedStatus::deliveryBadge()
{
    QFETCH(qint64, completeSince);
    QFETCH(qint64, gapAt);
    QFETCH(QString, reason);
    QFETCH(QString, message);
    QFETCH(QString, text);
    QFETCH(QString, toolTip);
    FeedStatus status;
    status.show();
    status.setDelivery(completeSince, gapAt, reason, message);
    QCOMPARE(status.deliveryText(), text);
    QCOMPARE(status.findChild<QLabel *>(QStringLiteral("delivery"))->isVisible(), !text.isEmpty());
    QCOMPARE(shownAsToolTip(status.deliveryToolTip()), toolTip);
    // Back to complete (another gateway): the gap is gone from the badge.
    status.setDelivery(at(8, 0), -1, {}, {});
    QCOMPARE(status.deliveryText(), QStringLiteral("Complete since 08:00"));
}

QTEST_MAIN(tst_FeedStatus)
#include "tst_feedstatus.moc"
