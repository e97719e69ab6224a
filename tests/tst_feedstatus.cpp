// FeedStatus: the status bar's texts, and tooltips that show the gateway's words as written.
#include "feedstatus.h"

#include <QLabel>
#include <QTest>
#include <QTextDocument>

class tst_FeedStatus : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void toolTipsShowTextLiterally_data();
    void toolTipsShowTextLiterally();
};

void tst_FeedStatus::toolTipsShowTextLiterally_data()
{
    QTest::addColumn<QString>("label"); // object name of the QLabel
    QTest::addColumn<QString>("expected");

    QTest::newRow("reason") << QStringLiteral("connectionState")
                            << QStringLiteral("Stopped: <b>x</b> <img src=x>");
    QTest::newRow("gap") << QStringLiteral("gaps")
                         << QStringLiteral("Last gap: gap: <img src=x> <b>lost</b>");
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
    const auto *widget = status.findChild<QLabel *>(label);
    QVERIFY(widget);
    const QString toolTip = widget->toolTip();
    QVERIFY2(Qt::mightBeRichText(toolTip), qPrintable(toolTip)); // so escaping is what counts
    QTextDocument shown;
    shown.setHtml(toolTip);
    QCOMPARE(shown.toPlainText(), expected);
}

QTEST_MAIN(tst_FeedStatus)
#include "tst_feedstatus.moc"
