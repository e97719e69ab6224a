// LogView's follow mode driven the way a person drives it: wheel events, scroll bar actions,
// keys and mouse clicks on a shown view, with lines arriving, being evicted, and older ones put
// above meanwhile.
#include "logfilterproxy.h"
#include "logmodel.h"
#include "logview.h"

#include <QApplication>
#include <QClipboard>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QScrollBar>
#include <QSignalSpy>
#include <QTest>
#include <QWheelEvent>

namespace {

std::vector<LogRecord> lines(int from, int count)
{
    std::vector<LogRecord> v;
    for (int i = from; i < from + count; ++i) {
        LogRecord r;
        r.text = QStringLiteral("line %1").arg(i);
        r.level = LogLevel::Info;
        r.ts = 1700000000000 + i;
        r.setLabels(QStringLiteral("logs:test"), QStringLiteral("svc"));
        v.push_back(std::move(r));
    }
    return v;
}

} // namespace

class tst_LogView : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void followsNewLinesAtTheBottom();
    void wheelUpPausesEndResumes();
    void scrollBarUpPausesReachingBottomResumes();
    void keysPauseAndResume();
    void selectingPausesLiveButtonResumes();
    void pausedViewStaysPutWhileOldLinesAreEvicted();
    void evictedCurrentLineDoesNotStopFollowing();
    void olderLinesGoAboveWithoutMovingTheView();
    void olderLinesWhileFollowingStayAtTheBottom();
    void scrollingToTheTopWhilePausedAsksForOlderLines();
    void copiesSelectedLines();

private:
    void wheel(int angle);
    QString topLine() const;
    QString bottomLine() const;
    bool atBottom() const
    {
        return m_view->verticalScrollBar()->value() == m_view->verticalScrollBar()->maximum();
    }
    QString pausedText() const
    {
        return m_view->findChild<QLabel *>(QStringLiteral("pausedLabel"))->text();
    }
    bool pausedBarVisible() const
    {
        return m_view->findChild<QFrame *>(QStringLiteral("pausedBar"))->isVisible();
    }

    LogModel *m_model = nullptr;
    LogFilterProxy *m_proxy = nullptr;
    LogView *m_view = nullptr;
};

void tst_LogView::init()
{
    m_model = new LogModel(300);
    m_proxy = new LogFilterProxy;
    m_proxy->setLogModel(m_model);
    m_view = new LogView;
    m_view->setModel(m_proxy);
    m_view->resize(700, 320);
    m_view->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_view));
    m_model->append(lines(0, 100));
    QTRY_VERIFY_WITH_TIMEOUT(atBottom(), 30000);
    QVERIFY(m_view->isFollowing());
}

void tst_LogView::cleanup()
{
    delete m_view;
    delete m_proxy;
    delete m_model;
}

void tst_LogView::wheel(int angle)
{
    const QPoint pos = m_view->viewport()->rect().center();
    QWheelEvent event(pos, m_view->viewport()->mapToGlobal(pos), QPoint(), QPoint(0, angle),
                      Qt::NoButton, Qt::NoModifier, Qt::NoScrollPhase, false);
    QApplication::sendEvent(m_view->viewport(), &event);
}

QString tst_LogView::topLine() const
{
    return m_view->indexAt(QPoint(5, 2)).siblingAtColumn(LogModel::MessageColumn).data().toString();
}

QString tst_LogView::bottomLine() const
{
    const int y = m_view->viewport()->height() - 2;
    const QModelIndex index = m_view->indexAt(QPoint(5, y));
    return index.siblingAtColumn(LogModel::MessageColumn).data().toString();
}

void tst_LogView::followsNewLinesAtTheBottom()
{
    QCOMPARE(bottomLine(), QStringLiteral("line 99"));
    for (int batch = 0; batch < 5; ++batch) {
        m_model->append(lines(100 + batch * 80, 80)); // wraps: capacity 300
        QVERIFY(atBottom());
    }
    QCOMPARE(m_model->rowCount(), 300);
    QTRY_COMPARE_WITH_TIMEOUT(bottomLine(), QStringLiteral("line 499"), 30000);
    QVERIFY(m_view->isFollowing());
    QVERIFY(!pausedBarVisible());
}

void tst_LogView::wheelUpPausesEndResumes()
{
    QSignalSpy following(m_view, &LogView::followingChanged);
    wheel(120);
    QVERIFY(!atBottom());
    QVERIFY(!m_view->isFollowing());
    QCOMPARE(following.size(), 1);
    QVERIFY(pausedBarVisible());
    QCOMPARE(pausedText(), QStringLiteral("Paused · 0 new"));
    const QString top = topLine();

    m_model->append(lines(100, 30));
    QCOMPARE(m_view->newWhilePaused(), 30);
    QCOMPARE(pausedText(), QStringLiteral("Paused · 30 new"));
    QCOMPARE(topLine(), top); // nothing moved
    QVERIFY(!atBottom());

    QTest::keyClick(m_view, Qt::Key_End);
    QVERIFY(m_view->isFollowing());
    QVERIFY(atBottom());
    QVERIFY(!pausedBarVisible());
    QCOMPARE(m_view->newWhilePaused(), 0);
    QTRY_COMPARE_WITH_TIMEOUT(bottomLine(), QStringLiteral("line 129"), 30000);
    // Wheel down at the bottom changes nothing.
    wheel(-120);
    QVERIFY(m_view->isFollowing());
}

void tst_LogView::scrollBarUpPausesReachingBottomResumes()
{
    QScrollBar *bar = m_view->verticalScrollBar();
    bar->triggerAction(QAbstractSlider::SliderPageStepSub); // a click above the handle
    QVERIFY(!m_view->isFollowing());
    m_model->append(lines(100, 10));
    QVERIFY(!atBottom());
    QCOMPARE(m_view->newWhilePaused(), 10);
    // Scrolling down step by step: following resumes when the bottom is reached.
    while (!atBottom()) {
        QVERIFY(!m_view->isFollowing());
        bar->triggerAction(QAbstractSlider::SliderSingleStepAdd);
    }
    QVERIFY(m_view->isFollowing());
    m_model->append(lines(110, 10));
    QVERIFY(atBottom());
    QTRY_COMPARE_WITH_TIMEOUT(bottomLine(), QStringLiteral("line 119"), 30000);
}

void tst_LogView::keysPauseAndResume()
{
    m_view->setFocus();
    QTest::keyClick(m_view, Qt::Key_PageUp);
    QVERIFY(!m_view->isFollowing());
    m_model->append(lines(100, 5));
    QVERIFY(!atBottom());
    QTest::keyClick(m_view, Qt::Key_End, Qt::ControlModifier);
    QVERIFY(m_view->isFollowing());
    QVERIFY(atBottom());
    QTest::keyClick(m_view, Qt::Key_Home);
    QVERIFY(!m_view->isFollowing());
    QCOMPARE(topLine(), QStringLiteral("line 0"));
    QTest::keyClick(m_view, Qt::Key_End);
    QVERIFY(m_view->isFollowing());
}

void tst_LogView::selectingPausesLiveButtonResumes()
{
    const QModelIndex target = m_view->indexAt(QPoint(5, m_view->viewport()->height() / 2));
    QVERIFY(target.isValid());
    QTest::mouseClick(m_view->viewport(), Qt::LeftButton, {}, m_view->visualRect(target).center());
    QVERIFY(!m_view->isFollowing());
    QCOMPARE(m_view->selectedRows(), QList<int>{target.row()});
    const QString top = topLine();
    m_model->append(lines(100, 40));
    QCOMPARE(topLine(), top);
    QCOMPARE(pausedText(), QStringLiteral("Paused · 40 new"));

    auto *live = m_view->findChild<QPushButton *>(QStringLiteral("liveButton"));
    QVERIFY(live && live->isVisible());
    QTest::mouseClick(live, Qt::LeftButton);
    QVERIFY(m_view->isFollowing());
    QVERIFY(atBottom());
    QTRY_COMPARE_WITH_TIMEOUT(bottomLine(), QStringLiteral("line 139"), 30000);
    m_model->append(lines(140, 5));
    QVERIFY(atBottom()); // keeps following although a line is still selected
}

void tst_LogView::pausedViewStaysPutWhileOldLinesAreEvicted()
{
    m_model->append(lines(100, 200)); // full: 300 lines
    QVERIFY(atBottom());
    wheel(120);
    wheel(120);
    QVERIFY(!m_view->isFollowing());
    const QString top = topLine();
    const QString bottom = bottomLine();
    for (int batch = 0; batch < 4; ++batch) {
        m_model->append(lines(300 + batch * 25, 25)); // each batch evicts 25 from the top
        QCOMPARE(topLine(), top);
        QCOMPARE(bottomLine(), bottom);
    }
    QCOMPARE(m_view->newWhilePaused(), 100);
    QCOMPARE(m_model->record(0).text, QStringLiteral("line 100"));
}

void tst_LogView::evictedCurrentLineDoesNotStopFollowing()
{
    // A current line (keyboard focus) but no selection, on the oldest line.
    m_view->selectionModel()->setCurrentIndex(m_proxy->index(0, 0), QItemSelectionModel::NoUpdate);
    m_view->goLive();
    QVERIFY(m_view->isFollowing());
    m_model->append(lines(100, 250)); // evicts line 0 and the current index moves
    QVERIFY(m_view->isFollowing());
    QVERIFY(atBottom());
    QTRY_COMPARE_WITH_TIMEOUT(bottomLine(), QStringLiteral("line 349"), 30000);
}

void tst_LogView::olderLinesGoAboveWithoutMovingTheView()
{
    wheel(120);
    QVERIFY(!m_view->isFollowing());
    const QString top = topLine();
    const QString bottom = bottomLine();
    const int value = m_view->verticalScrollBar()->value();
    QCOMPARE(m_model->prepend(lines(-50, 50)), 50);
    // The same lines in view, further down the scroll range; not counted as new.
    QCOMPARE(topLine(), top);
    QCOMPARE(bottomLine(), bottom);
    QCOMPARE(m_view->verticalScrollBar()->value(),
             value + 50 * m_view->verticalHeader()->defaultSectionSize());
    QVERIFY(!m_view->isFollowing());
    QCOMPARE(m_view->newWhilePaused(), 0);
    QCOMPARE(pausedText(), QStringLiteral("Paused · 0 new"));
    // New lines at the bottom still are.
    m_model->append(lines(100, 3));
    QCOMPARE(m_view->newWhilePaused(), 3);
    QCOMPARE(topLine(), top);
    // Home reaches the oldest of them.
    m_view->setFocus();
    QTest::keyClick(m_view, Qt::Key_Home);
    QCOMPARE(topLine(), QStringLiteral("line -50"));
}

void tst_LogView::olderLinesWhileFollowingStayAtTheBottom()
{
    QVERIFY(m_view->isFollowing());
    QCOMPARE(m_model->prepend(lines(-20, 20)), 20);
    QVERIFY(m_view->isFollowing());
    QVERIFY(atBottom());
    QTRY_COMPARE_WITH_TIMEOUT(bottomLine(), QStringLiteral("line 99"), 30000);
    QCOMPARE(m_view->newWhilePaused(), 0);
}

void tst_LogView::scrollingToTheTopWhilePausedAsksForOlderLines()
{
    QSignalSpy top(m_view, &LogView::scrolledToTop);
    QScrollBar *bar = m_view->verticalScrollBar();
    bar->triggerAction(QAbstractSlider::SliderPageStepSub);
    QVERIFY(!m_view->isFollowing());
    QCOMPARE(top.size(), 0); // not at the top yet
    while (bar->value() > bar->minimum())
        bar->triggerAction(QAbstractSlider::SliderSingleStepSub);
    QCOMPARE(top.size(), 1);
    // Older lines arrive: the view stays on "line 0", away from the top, and scrolling up to
    // the top again asks again.
    QCOMPARE(m_model->prepend(lines(-30, 30)), 30);
    QCOMPARE(topLine(), QStringLiteral("line 0"));
    QVERIFY(bar->value() > bar->minimum());
    QCOMPARE(top.size(), 1);
    for (int i = 0; i < 1000 && bar->value() > bar->minimum(); ++i)
        wheel(120);
    QCOMPARE(bar->value(), bar->minimum());
    QCOMPARE(top.size(), 2);
    QCOMPARE(topLine(), QStringLiteral("line -30"));
    // Lines going away at the top move the view, not the user: no request.
    m_model->append(lines(100, 250));
    QCOMPARE(top.size(), 2);
}

void tst_LogView::copiesSelectedLines()
{
    m_view->selectionModel()->select(QItemSelection(m_proxy->index(3, 0), m_proxy->index(4, 0)),
                                     QItemSelectionModel::ClearAndSelect |
                                         QItemSelectionModel::Rows);
    m_view->setFocus();
    QTest::keyClick(m_view, Qt::Key_C, Qt::ControlModifier);
    const QStringList copied = QApplication::clipboard()->text().split(u'\n', Qt::SkipEmptyParts);
    QCOMPARE(copied.size(), 2);
    QVERIFY2(copied[0].contains(QLatin1StringView("\tlogs:test\tINFO\tsvc\tline 3")),
             qPrintable(copied[0]));
    QVERIFY(copied[1].contains(QLatin1StringView("line 4")));
}

QTEST_MAIN(tst_LogView)
#include "tst_logview.moc"
