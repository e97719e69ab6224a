// The desktop monitor's window end to end: a real redis-server, the gateway and a simulating
// producer in-process, the MainWindow on the offscreen platform. Lines appear, the status says
// live, the chart draws, filters and shortcuts work, errors are said in the window in plain
// words, and the window's layout persists. Scrolling back loads older lines from the gateway's
// history in order, a history search finds a line the window never received, and the delivery
// badge says "complete since", or the gap after a resume the stream's trimming overtook.
#include "desktopstubserver.h"
#include "feedstatus.h"
#include "gateway.h"
#include "historysearch.h"
#include "historysearchpanel.h"
#include "hub.h"
#include "logfilterproxy.h"
#include "logmodel.h"
#include "logview.h"
#include "mainwindow.h"
#include "payloadview.h"
#include "producerapp.h"
#include "redissubscriber.h"
#include "scrollback.h"
#include "streamreader.h"
#include "testredis.h"
#include "throughputchart.h"

#include <QColor>
#include <QComboBox>
#include <QDateTime>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QLineSeries>
#include <QMenu>
#include <QPushButton>
#include <QScrollBar>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTest>
#include <QWheelEvent>

#include <memory>

using State = SseConnection::State;

class tst_DesktopWindow : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void linesAppearStatusSaysLive();
    void filtersAndChannels();
    void shortcutsExportAndClear();
    void gapAfterGatewayRestartIsAMarkerLine();
    void idCellClickFiltersToTheId();
    void badUrlInPlainWords();
    void unreadableCaFileInPlainWords();
    void refusedConnectionInPlainWords();
    void unauthorizedInPlainWords();
    void badRequestInPlainWords();
    void layoutAndSettingsPersist();
    void applicationIcon();
    void followsThePalette();
    void scrollBackLoadsOlderLinesInOrder();
    void searchHistoryFindsAnOldLine();
    void badgeShowsAGapAfterATrimmedResume();

private:
    GatewayConfig gatewayConfig(quint16 port = 0) const;
    std::unique_ptr<Gateway> startGateway(quint16 port = 0);
    std::unique_ptr<Gateway> startStreamsGateway(quint16 port, const QByteArray &key);
    void startProducer(double rate);
    std::unique_ptr<MainWindow> openWindow(const QString &url);
    static QString lastLevel(const MainWindow &w, int proxyRow);

    QTemporaryDir m_dir;
    TestRedis m_redis;
    std::unique_ptr<Gateway> m_gateway;
    std::unique_ptr<ProducerApp> m_producer;
};

void tst_DesktopWindow::initTestCase()
{
    QVERIFY2(m_redis.start(), qPrintable(m_redis.errorString()));
    // The window keeps its state in QSettings(): point that at a private place.
    QCoreApplication::setOrganizationName(QStringLiteral("llmstreamer-tests"));
    QCoreApplication::setApplicationName(QStringLiteral("tst_desktopwindow"));
    QSettings::setDefaultFormat(QSettings::IniFormat);
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, m_dir.path());
}

void tst_DesktopWindow::init()
{
    QSettings().clear();
}

void tst_DesktopWindow::cleanup()
{
    m_producer.reset();
    m_gateway.reset();
}

GatewayConfig tst_DesktopWindow::gatewayConfig(quint16 port) const
{
    GatewayConfig c;
    c.port = port;
    c.redis = *RedisUrl::parse(m_redis.url());
    c.channels = {"logs:*"};
    c.retryMilliseconds = 200;
    return c;
}

std::unique_ptr<Gateway> tst_DesktopWindow::startGateway(quint16 port)
{
    auto gateway = std::make_unique<Gateway>(gatewayConfig(port));
    QString error;
    if (!gateway->start(&error) ||
        !QTest::qWaitFor([&] { return gateway->subscriber()->isSubscribed(); }, 10000))
        return nullptr;
    return gateway;
}

std::unique_ptr<Gateway> tst_DesktopWindow::startStreamsGateway(quint16 port, const QByteArray &key)
{
    GatewayConfig c = gatewayConfig(port);
    c.transport.kind = Transport::Kind::Streams;
    c.transport.streamKey = key;
    auto gateway = std::make_unique<Gateway>(c);
    QString error;
    if (!gateway->start(&error) ||
        !QTest::qWaitFor([&] { return gateway->streamReader()->isReady(); }, 30000))
        return nullptr;
    return gateway;
}

void tst_DesktopWindow::startProducer(double rate)
{
    ProducerOptions options;
    options.mode = ProducerOptions::Mode::Simulate;
    options.redis = *RedisUrl::parse(m_redis.url());
    options.rate = rate;
    options.seed = 7;
    options.seedSet = true;
    options.service = QStringLiteral("llm-backend-01");
    m_producer = std::make_unique<ProducerApp>(options);
    m_producer->start();
}

std::unique_ptr<MainWindow> tst_DesktopWindow::openWindow(const QString &url)
{
    DesktopSettings settings;
    settings.gatewayUrl = url;
    auto window = std::make_unique<MainWindow>(settings);
    window->show();
    if (!QTest::qWaitForWindowExposed(window.get()))
        return nullptr;
    window->start();
    return window;
}

QString tst_DesktopWindow::lastLevel(const MainWindow &w, int proxyRow)
{
    return w.proxy()->index(proxyRow, LogModel::LevelColumn).data().toString();
}

void tst_DesktopWindow::linesAppearStatusSaysLive()
{
    m_gateway = startGateway();
    QVERIFY(m_gateway);
    startProducer(200);
    auto w = openWindow(m_gateway->baseUrl());
    QVERIFY(w);
    QTRY_COMPARE_WITH_TIMEOUT(w->connection()->state(), State::Live, 30000);
    QTRY_VERIFY_WITH_TIMEOUT(w->model()->rowCount() >= 100, 30000);
    QTRY_VERIFY_WITH_TIMEOUT(w->feedStatus()->stateText().startsWith(QLatin1StringView("Live")),
                             30000);
    QVERIFY(!w->isBannerVisible());
    // Delivery: complete since the feed connected.
    QVERIFY(w->feed()->completeSinceMs() > 0);
    QCOMPARE(w->feedStatus()->deliveryText(),
             QStringLiteral("Complete since ") +
                 QDateTime::fromMSecsSinceEpoch(w->feed()->completeSinceMs())
                     .toString(QStringLiteral("HH:mm")));
    QCOMPARE(w->windowTitle(), QStringLiteral("LLM Streamer — ") + m_gateway->baseUrl());

    // Real simulated records, picked apart into columns.
    bool sawModel = false, sawTokens = false, sawInfo = false;
    for (int row = 0; row < w->model()->rowCount(); ++row) {
        const LogRecord &r = w->model()->record(row);
        sawModel = sawModel || !r.model().isEmpty();
        sawTokens = sawTokens || r.outputTokens > 0;
        sawInfo = sawInfo || r.level == LogLevel::Info;
        QCOMPARE(r.service(), QStringLiteral("llm-backend-01"));
    }
    QVERIFY(sawModel && sawTokens && sawInfo);

    // Following: the newest line is in view.
    LogView *view = w->logView();
    QTRY_VERIFY_WITH_TIMEOUT(
        view->verticalScrollBar()->value() == view->verticalScrollBar()->maximum(), 30000);
    QVERIFY(view->isFollowing());

    // The chart draws the gateway's stats: total and per channel, with tokens/s.
    QTRY_VERIFY_WITH_TIMEOUT(w->chart()->totalSeries()->count() >= 2, 30000);
    QTRY_VERIFY_WITH_TIMEOUT(w->chart()->totalSeries()->points().last().y() > 50, 30000);
    QVERIFY(w->chart()->channelSeries(QStringLiteral("logs:generation")));
    QTRY_VERIFY_WITH_TIMEOUT(w->chart()->tokensSeries()->isVisible(), 30000);

    // Status: rate and totals, and the channels learnt from /api/channels and the stats.
    QTRY_VERIFY_WITH_TIMEOUT(!w->feedStatus()->rateText().startsWith(u'0'), 30000);
    QVERIFY(w->feedStatus()->receivedText().endsWith(QLatin1StringView(" received")));
    QCOMPARE(w->feedStatus()->gapsText(), QStringLiteral("0 gaps"));
    QTRY_VERIFY_WITH_TIMEOUT(w->knownChannels().contains(QStringLiteral("logs:errors")), 30000);
    QVERIFY(w->knownChannels().contains(QStringLiteral("logs:metrics")));

    // Paused by the user, the view stands still while the chart and the count go on.
    const QPoint pos = view->viewport()->rect().center();
    QWheelEvent up(pos, view->viewport()->mapToGlobal(pos), QPoint(), QPoint(0, 360), Qt::NoButton,
                   Qt::NoModifier, Qt::NoScrollPhase, false);
    QApplication::sendEvent(view->viewport(), &up);
    QVERIFY(!view->isFollowing());
    const int points = w->chart()->totalSeries()->count();
    const quint64 received = w->received();
    QTRY_VERIFY_WITH_TIMEOUT(w->chart()->totalSeries()->count() > points, 30000);
    QVERIFY(w->received() > received);
    QVERIFY(view->newWhilePaused() > 0);
    QVERIFY(!view->isFollowing());

    // The selected line's payload, pretty-printed, in the side panel.
    view->setCurrentIndex(w->proxy()->index(w->proxy()->rowCount() - 1, 0));
    QVERIFY2(w->payloadView()->text().contains(QLatin1StringView("\"gen_ai.request.model\": ")) ||
                 w->payloadView()->text().contains(QLatin1StringView("\"queue_depth\": ")),
             qPrintable(w->payloadView()->text()));
    QVERIFY(w->payloadView()->title().contains(QLatin1StringView("id ")));
}

void tst_DesktopWindow::filtersAndChannels()
{
    m_gateway = startGateway();
    QVERIFY(m_gateway);
    startProducer(300);
    auto w = openWindow(m_gateway->baseUrl());
    QVERIFY(w);
    QTRY_VERIFY_WITH_TIMEOUT(w->model()->rowCount() >= 200, 30000);

    // Level filter from the tool bar.
    w->levelCombo()->setCurrentIndex(w->levelCombo()->findData(int(LogLevel::Error)));
    QTRY_VERIFY_WITH_TIMEOUT(w->proxy()->rowCount() > 0, 30000);
    for (int row = 0; row < w->proxy()->rowCount(); ++row)
        QCOMPARE(lastLevel(*w, row), QStringLiteral("ERROR"));
    QTRY_VERIFY_WITH_TIMEOUT(w->feedStatus()
                                 ->findChild<QLabel *>(QStringLiteral("shown"))
                                 ->text()
                                 .contains(QLatin1StringView(" of ")),
                             30000);
    w->levelCombo()->setCurrentIndex(0);

    // Typed text filter (applied after a short pause in typing).
    QTest::keyClicks(w->filterEdit(), QStringLiteral("KV cache"));
    QTRY_VERIFY_WITH_TIMEOUT(w->proxy()->rowCount() < w->model()->rowCount(), 30000);
    for (int row = 0; row < w->proxy()->rowCount(); ++row) {
        const QString message = w->proxy()->index(row, LogModel::MessageColumn).data().toString();
        QVERIFY2(message.contains(QLatin1StringView("KV cache"), Qt::CaseInsensitive) ||
                     w->proxy()->index(row, 0).data(LogModel::KindRole).toInt() != 0,
                 qPrintable(message));
    }
    w->filterEdit()->clear();
    QTRY_COMPARE_WITH_TIMEOUT(w->proxy()->isFiltering(), false, 30000);

    // Channel checkboxes: only logs:errors, resubscribing with ?channels=.
    QTRY_VERIFY_WITH_TIMEOUT(w->knownChannels().contains(QStringLiteral("logs:errors")), 30000);
    QAction *errorsOnly = nullptr;
    for (QAction *action : w->channelMenu()->actions())
        if (action->data().toString() == QLatin1StringView("logs:errors"))
            errorsOnly = action;
    QVERIFY(errorsOnly);
    const QList<QAction *> actions = w->channelMenu()->actions();
    for (QAction *action : actions)
        if (action->isCheckable() && action->data().isValid() && action != errorsOnly)
            action->trigger(); // uncheck the others
    QCOMPARE(w->channelSelection(),
             std::optional<QStringList>(QStringList{QStringLiteral("logs:errors")}));
    QCOMPARE(w->connection()->channels(), QStringList{QStringLiteral("logs:errors")});
    QTRY_COMPARE_WITH_TIMEOUT(w->connection()->state(), State::Live, 30000);
    for (int row = 0; row < w->proxy()->rowCount(); ++row)
        QCOMPARE(w->proxy()->index(row, LogModel::ChannelColumn).data().toString(),
                 QStringLiteral("logs:errors"));
    const quint64 before = w->received();
    QTRY_VERIFY_WITH_TIMEOUT(w->received() > before + 3, 30000);
    w->model()->flush();
    const int last = w->model()->rowCount() - 1;
    QCOMPARE(w->model()->record(last).channel(), QStringLiteral("logs:errors"));
    // Everything again.
    w->setChannelSelection(QStringList());
    QCOMPARE(w->connection()->channels(), QStringList());
    QCOMPARE(w->proxy()->channels(), std::nullopt);
}

void tst_DesktopWindow::shortcutsExportAndClear()
{
    m_gateway = startGateway();
    QVERIFY(m_gateway);
    startProducer(200);
    auto w = openWindow(m_gateway->baseUrl());
    QVERIFY(w);
    w->activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(w.get()));
    QTRY_VERIFY_WITH_TIMEOUT(w->model()->rowCount() >= 50, 30000);

    // Ctrl+F: to the filter.
    w->logView()->setFocus();
    QTest::keyClick(w.get(), Qt::Key_F, Qt::ControlModifier);
    QTRY_VERIFY_WITH_TIMEOUT(w->filterEdit()->hasFocus(), 30000);

    // Export what is shown (filtered).
    w->levelCombo()->setCurrentIndex(w->levelCombo()->findData(int(LogLevel::Info)));
    const QString path = m_dir.filePath(QStringLiteral("export.ndjson"));
    QString error;
    QVERIFY2(w->exportTo(path, LogExporter::Format::Ndjson, &error), qPrintable(error));
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = file.readAll().split('\n');
    QCOMPARE(lines.size() - 1, w->proxy()->rowCount());
    QVERIFY(lines.first().startsWith("{\"id\":"));

    // End: back to live after a pause; Ctrl+L: clear.
    w->logView()->setFocus();
    w->logView()->verticalScrollBar()->triggerAction(QAbstractSlider::SliderPageStepSub);
    QVERIFY(!w->logView()->isFollowing());
    QTest::keyClick(w->logView(), Qt::Key_End);
    QVERIFY(w->logView()->isFollowing());
    QTest::keyClick(w.get(), Qt::Key_L, Qt::ControlModifier);
    QVERIFY(w->model()->rowCount() < 50);
    QTRY_VERIFY_WITH_TIMEOUT(w->model()->rowCount() > 0, 30000); // and it goes on
}

void tst_DesktopWindow::gapAfterGatewayRestartIsAMarkerLine()
{
    m_gateway = startGateway();
    QVERIFY(m_gateway);
    const quint16 port = m_gateway->port();
    auto w = openWindow(m_gateway->baseUrl());
    QVERIFY(w);
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->clientCount(), 1, 30000);
    m_redis.publish("logs:a", "before");
    QTRY_COMPARE_WITH_TIMEOUT(w->received(), quint64(1), 30000);

    m_gateway.reset();
    QTRY_COMPARE_WITH_TIMEOUT(w->connection()->state(), State::Reconnecting, 30000);
    QTRY_VERIFY_WITH_TIMEOUT(w->isBannerVisible(), 30000);
    QVERIFY2(w->bannerText().startsWith(QLatin1StringView("Reconnecting in ")),
             qPrintable(w->bannerText()));
    QTest::qWait(5); // a new boot stamp (ms) for the new gateway's ids
    m_gateway = startGateway(port);
    QVERIFY(m_gateway);
    QTRY_COMPARE_WITH_TIMEOUT(w->connection()->state(), State::Live, 15000);
    QTRY_VERIFY_WITH_TIMEOUT(!w->isBannerVisible(), 30000);
    QTRY_COMPARE_WITH_TIMEOUT(w->gapsSeen(), 1, 30000);
    m_redis.publish("logs:a", "after");
    QTRY_COMPARE_WITH_TIMEOUT(w->received(), quint64(2), 30000);
    w->model()->flush();
    QCOMPARE(w->model()->rowCount(), 3);
    QCOMPARE(w->model()->record(1).kind, LogRecord::Kind::Gap);
    QVERIFY(w->model()->record(1).message().contains(QLatin1StringView("the gateway restarted")));
    QCOMPARE(w->model()->index(1, LogModel::LevelColumn).data().toString(), QStringLiteral("GAP"));
    QCOMPARE(w->feedStatus()->gapsText(), QStringLiteral("1 gap"));
    QVERIFY(w->feedStatus()->stateText().contains(QLatin1StringView("gap: the gateway restarted")));
    QCOMPARE(w->feedStatus()->deliveryText(),
             QStringLiteral("Gap at %1: the gateway restarted; events published meanwhile may be "
                            "lost")
                 .arg(QDateTime::fromMSecsSinceEpoch(w->feed()->gapAtMs())
                          .toString(QStringLiteral("HH:mm"))));
    // Gap lines pass every filter.
    w->filterEdit()->setText(QStringLiteral("no such text"));
    QTRY_COMPARE_WITH_TIMEOUT(w->proxy()->rowCount(), 1, 30000);
}

void tst_DesktopWindow::idCellClickFiltersToTheId()
{
    m_gateway = startGateway();
    QVERIFY(m_gateway);
    auto w = openWindow(m_gateway->baseUrl());
    QVERIFY(w);
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->clientCount(), 1, 30000);
    // What `llmstreamer-producer pipe --format auto` writes for lines with these ids.
    m_redis.publish("logs:a", R"({"msg":"ids start","request_id":"r-7","raw":"x"})");
    m_redis.publish("logs:a", R"({"msg":"ids other","request_id":"r-71"})");
    m_redis.publish("logs:b", R"({"msg":"ids traced","request_id":"r-7",)"
                              R"("trace_id":"0af7651916cd43dd8448eb211c80319c"})");
    m_redis.publish("logs:a", "ids plain r-7");
    QTRY_COMPARE_WITH_TIMEOUT(w->received(), quint64(4), 30000);
    w->model()->flush();
    const auto messages = [&] {
        QStringList out;
        for (int row = 0; row < w->proxy()->rowCount(); ++row)
            out.append(w->proxy()->index(row, LogModel::MessageColumn).data().toString());
        return out;
    };
    const auto clickId = [&](int row) {
        const QModelIndex index = w->proxy()->index(row, LogModel::IdColumn);
        w->logView()->scrollTo(index);
        QTest::mouseClick(w->logView()->viewport(), Qt::LeftButton, {},
                          w->logView()->visualRect(index).center());
    };
    QCOMPARE(w->proxy()->index(2, LogModel::IdColumn).data().toString(),
             QStringLiteral("0af76519\u2026"));
    QVERIFY(w->proxy()->index(3, LogModel::IdColumn).data().isNull());

    clickId(3); // no id: nothing happens
    QCOMPARE(w->filterEdit()->text(), QString());
    clickId(0);
    QCOMPARE(w->filterEdit()->text(), QStringLiteral("\"r-7\""));
    QTRY_COMPARE_WITH_TIMEOUT(
        messages(), (QStringList{QStringLiteral("ids start"), QStringLiteral("ids traced")}),
        30000);
    clickId(1); // "ids traced": its trace id
    QCOMPARE(w->filterEdit()->text(), QStringLiteral("\"0af7651916cd43dd8448eb211c80319c\""));
    QTRY_COMPARE_WITH_TIMEOUT(messages(), QStringList{QStringLiteral("ids traced")}, 30000);
    w->filterEdit()->clear();
    QTRY_COMPARE_WITH_TIMEOUT(w->proxy()->rowCount(), 4, 30000);
}

void tst_DesktopWindow::badUrlInPlainWords()
{
    auto w = openWindow(QStringLiteral("redis://127.0.0.1:6379"));
    QVERIFY(w);
    QCOMPARE(w->connection()->state(), State::Failed);
    QVERIFY(w->isBannerVisible());
    QCOMPARE(w->bannerText(),
             QStringLiteral("Not connected: the gateway URL must start with http:// or https://, "
                            "not redis://. Open Settings to correct it."));
    QVERIFY(w->feedStatus()->stateText().startsWith(QLatin1StringView("Stopped: the gateway URL")));
}

void tst_DesktopWindow::unreadableCaFileInPlainWords()
{
    DesktopSettings settings;
    settings.gatewayUrl = QStringLiteral("https://127.0.0.1:1");
    settings.caFile = m_dir.filePath(QStringLiteral("no-such-ca.pem"));
    MainWindow w(settings);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    w.start();
    QCOMPARE(w.connection()->state(), State::Failed);
    QVERIFY2(w.bannerText().startsWith(QStringLiteral("Not connected: cannot read the CA file ") +
                                       settings.caFile),
             qPrintable(w.bannerText()));
    QVERIFY(w.bannerText().endsWith(QLatin1StringView(". Open Settings to correct it.")));
}

void tst_DesktopWindow::refusedConnectionInPlainWords()
{
    const quint16 port = TestRedis::freePort();
    auto w = openWindow(QStringLiteral("127.0.0.1:%1").arg(port));
    QVERIFY(w);
    QTRY_COMPARE_WITH_TIMEOUT(w->connection()->state(), State::Reconnecting, 30000);
    QTRY_VERIFY_WITH_TIMEOUT(w->isBannerVisible(), 30000);
    QVERIFY2(w->bannerText().contains(
                 QStringLiteral("connection refused by 127.0.0.1:%1; is the gateway running there?")
                     .arg(port)),
             qPrintable(w->bannerText()));
    QVERIFY(w->bannerText().startsWith(QLatin1StringView("Reconnecting in ")));
    QVERIFY(w->feedStatus()->stateText().startsWith(QLatin1StringView("Reconnecting in ")));
}

void tst_DesktopWindow::unauthorizedInPlainWords()
{
    DesktopStubServer stub;
    QVERIFY(stub.listen());
    stub.setHandler([](QTcpSocket *socket, const QByteArray &, int) {
        socket->write(DesktopStubServer::response(
            401, "Unauthorized", "missing or invalid access token\n", "text/plain; charset=utf-8",
            "WWW-Authenticate: Bearer\r\n"));
        socket->flush();
        socket->disconnectFromHost();
    });
    auto w = openWindow(QString::fromLatin1(stub.baseUrl()));
    QVERIFY(w);
    QTRY_COMPARE_WITH_TIMEOUT(w->connection()->state(), State::Failed, 30000);
    QVERIFY(w->isBannerVisible());
    QCOMPARE(w->bannerText(),
             QStringLiteral("Not connected: the gateway needs an access token (HTTP 401): missing "
                            "or invalid access token. Enter the token in Settings."));
    // With a token the next attempt sends it.
    DesktopSettings s = w->settings();
    s.token = QStringLiteral("t0k");
    w->applySettings(s, false);
    QTRY_COMPARE_WITH_TIMEOUT(stub.requestCount(), 2, 30000);
    QCOMPARE(DesktopStubServer::header(stub.requests().at(1), "authorization"),
             QByteArray("Bearer t0k"));
}

void tst_DesktopWindow::badRequestInPlainWords()
{
    m_gateway = startGateway();
    QVERIFY(m_gateway);
    DesktopSettings settings;
    settings.gatewayUrl = m_gateway->baseUrl();
    settings.channels = QStringLiteral("secret:*");
    MainWindow w(settings);
    w.show();
    w.start();
    QTRY_COMPARE_WITH_TIMEOUT(w.connection()->state(), State::Failed, 30000);
    QVERIFY2(w.bannerText().contains(QLatin1StringView(
                 "the gateway refused the request (HTTP 400): channel \"secret:*\" is outside "
                 "this gateway's allowlist (logs:*). Check the channels in Settings.")),
             qPrintable(w.bannerText()));
}

void tst_DesktopWindow::layoutAndSettingsPersist()
{
    QList<int> vertical, horizontal;
    {
        DesktopSettings settings;
        MainWindow w(settings);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.resize(1000, 700);
        auto *split = w.findChild<QSplitter *>(QStringLiteral("verticalSplitter"));
        split->setSizes({300, 340});
        vertical = split->sizes();
        horizontal = w.findChild<QSplitter *>(QStringLiteral("horizontalSplitter"))->sizes();
        DesktopSettings changed = settings;
        changed.gatewayUrl = QStringLiteral("http://127.0.0.1:1");
        changed.bufferLines = 77'000;
        w.applySettings(changed, true);
        QCOMPARE(w.model()->capacity(), 77'000);
        w.close();
    }
    QSettings store;
    QVERIFY(DesktopSettings::exist(store));
    QCOMPARE(DesktopSettings::load(store).bufferLines, 77'000);
    QCOMPARE(DesktopSettings::load(store).gatewayUrl, QStringLiteral("http://127.0.0.1:1"));

    MainWindow again(DesktopSettings::load(store));
    again.show();
    QVERIFY(QTest::qWaitForWindowExposed(&again));
    QCOMPARE(again.size(), QSize(1000, 700));
    QCOMPARE(again.findChild<QSplitter *>(QStringLiteral("verticalSplitter"))->sizes(), vertical);
    QCOMPARE(again.findChild<QSplitter *>(QStringLiteral("horizontalSplitter"))->sizes(),
             horizontal);
}

void tst_DesktopWindow::applicationIcon()
{
    // Built in, for platforms without the installed hicolor theme icon.
    const QIcon icon = MainWindow::applicationIcon();
    QVERIFY(!icon.isNull());
    QVERIFY(!icon.pixmap(64).isNull());
}

void tst_DesktopWindow::followsThePalette()
{
    DesktopSettings settings;
    MainWindow w(settings);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    LogRecord error;
    error.text = QStringLiteral("boom");
    error.level = LogLevel::Error;
    w.model()->append({error});
    const auto errorColour = [&] {
        return w.model()->index(0, LogModel::LevelColumn).data(Qt::ForegroundRole).value<QColor>();
    };
    const QColor onLight = errorColour();
    const QPalette original = QApplication::palette();
    QPalette dark = original;
    dark.setColor(QPalette::Window, QColor(0x2b, 0x2d, 0x30));
    dark.setColor(QPalette::WindowText, QColor(0xdf, 0xe1, 0xe5));
    dark.setColor(QPalette::Base, QColor(0x1e, 0x1f, 0x22));
    dark.setColor(QPalette::Text, QColor(0xdf, 0xe1, 0xe5));
    QApplication::setPalette(dark);
    QTRY_VERIFY_WITH_TIMEOUT(errorColour() != onLight, 30000);
    QVERIFY(errorColour().lightness() > onLight.lightness());
    QTRY_COMPARE_WITH_TIMEOUT(w.chart()->chart()->backgroundBrush().color(),
                              QColor(0x1e, 0x1f, 0x22), 30000);
    QApplication::setPalette(original);
    QTRY_COMPARE_WITH_TIMEOUT(errorColour(), onLight, 30000);
}

void tst_DesktopWindow::scrollBackLoadsOlderLinesInOrder()
{
    m_gateway = startGateway();
    QVERIFY(m_gateway);
    // Before the window connects: only the gateway's history has these.
    for (int i = 0; i < 250; ++i)
        m_redis.publish(i % 2 ? "logs:a" : "logs:b", "old " + QByteArray::number(i));
    auto w = openWindow(m_gateway->baseUrl());
    QVERIFY(w);
    w->scrollBack()->setPageSize(100);
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->clientCount(), 1, 30000);
    for (int i = 0; i < 80; ++i)
        m_redis.publish("logs:a", "new " + QByteArray::number(i));
    QTRY_COMPARE_WITH_TIMEOUT(w->received(), quint64(80), 30000);
    w->model()->flush();
    QCOMPARE(w->model()->rowCount(), 80);

    LogView *view = w->logView();
    QScrollBar *bar = view->verticalScrollBar();
    const auto topLine = [view] {
        return view->indexAt(QPoint(5, 2))
            .siblingAtColumn(LogModel::MessageColumn)
            .data()
            .toString();
    };
    // Paused, up to the top: the page before the oldest line goes above it, the view stays.
    QTRY_VERIFY_WITH_TIMEOUT(bar->maximum() > 0, 30000);
    bar->triggerAction(QAbstractSlider::SliderToMinimum);
    QVERIFY(!view->isFollowing());
    QCOMPARE(topLine(), QStringLiteral("new 0"));
    QTRY_COMPARE_WITH_TIMEOUT(w->model()->rowCount(), 180, 30000);
    QCOMPARE(topLine(), QStringLiteral("new 0"));
    QVERIFY(bar->value() > 0);
    QVERIFY(!view->isFollowing());
    QTRY_VERIFY_WITH_TIMEOUT(w->statusMessage().startsWith(QLatin1StringView(
                                 "Loaded 100 older lines from the gateway's history")),
                             30000);
    // Again, twice: everything the history holds, then the gateway says nothing older is held.
    bar->triggerAction(QAbstractSlider::SliderToMinimum);
    QTRY_COMPARE_WITH_TIMEOUT(w->model()->rowCount(), 280, 30000);
    bar->triggerAction(QAbstractSlider::SliderToMinimum);
    QTRY_COMPARE_WITH_TIMEOUT(w->model()->rowCount(), 330, 30000);
    QTRY_COMPARE_WITH_TIMEOUT(w->statusMessage(),
                              QStringLiteral("Loaded 50 older lines from the gateway's history; "
                                             "nothing older is held by the gateway"),
                              30000);
    QVERIFY(w->scrollBack()->reachedStart());
    // In order, nothing twice, nothing missing.
    QStringList expected, shown, ids;
    for (int i = 0; i < 250; ++i)
        expected.append(QStringLiteral("old %1").arg(i));
    for (int i = 0; i < 80; ++i)
        expected.append(QStringLiteral("new %1").arg(i));
    for (int row = 0; row < w->model()->rowCount(); ++row) {
        shown.append(w->model()->record(row).message());
        ids.append(w->model()->record(row).id());
    }
    QCOMPARE(shown, expected);
    QCOMPARE(QSet<QString>(ids.begin(), ids.end()).size(), 330);
    // The Load Older action, at the start: said, not asked.
    w->statusBar()->clearMessage();
    w->loadOlderAction()->trigger();
    QCOMPARE(w->statusMessage(), QStringLiteral("Nothing older: the gateway's history holds no "
                                                "line before the oldest one shown"));
    QCOMPARE(w->model()->rowCount(), 330);
    // Live lines still arrive at the bottom meanwhile, and Live follows them.
    m_redis.publish("logs:a", "newest");
    QTRY_COMPARE_WITH_TIMEOUT(w->received(), quint64(81), 30000);
    view->goLive();
    w->model()->flush();
    QCOMPARE(w->model()->record(w->model()->rowCount() - 1).message(), QStringLiteral("newest"));
    QCOMPARE(w->model()->record(0).message(), QStringLiteral("old 0"));

    // Cleared: scrolling back brings back the lines up to the last one received, that one too.
    w->clearLog();
    QCOMPARE(w->model()->rowCount(), 0);
    QVERIFY(!w->scrollBack()->reachedStart());
    w->loadOlderAction()->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(w->model()->rowCount(), 101, 30000);
    QCOMPARE(w->model()->record(0).message(), QStringLiteral("old 230"));
    QCOMPARE(w->model()->record(99).message(), QStringLiteral("new 79"));
    QCOMPARE(w->model()->record(100).message(), QStringLiteral("newest"));
}

void tst_DesktopWindow::searchHistoryFindsAnOldLine()
{
    m_gateway = startGateway();
    QVERIFY(m_gateway);
    m_redis.publish("logs:errors",
                    R"({"level":"error","msg":"the Old Needle broke","service":"s"})");
    for (int i = 0; i < 100; ++i)
        m_redis.publish("logs:a", "hay " + QByteArray::number(i));
    auto w = openWindow(m_gateway->baseUrl());
    QVERIFY(w);
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->clientCount(), 1, 30000);
    m_redis.publish("logs:a", "a live line");
    QTRY_COMPARE_WITH_TIMEOUT(w->received(), quint64(1), 30000);

    // The filter finds nothing received; the history search finds it.
    QVERIFY(!w->searchHistoryAction()->isEnabled());
    QTest::keyClicks(w->filterEdit(), QStringLiteral("old needle"));
    QVERIFY(w->searchHistoryAction()->isEnabled());
    QTRY_COMPARE_WITH_TIMEOUT(w->proxy()->rowCount(), 0, 30000);
    w->searchHistoryAction()->trigger();
    QVERIFY(w->isShowingHistorySearch());
    HistorySearchPanel *panel = w->historySearchPanel();
    QVERIFY(panel->isVisible());
    QVERIFY(!w->logView()->isVisible());
    QTRY_COMPARE_WITH_TIMEOUT(panel->model()->rowCount(), 1, 30000);
    const LogRecord &found = panel->model()->record(0);
    QCOMPARE(found.message(), QStringLiteral("the Old Needle broke"));
    QCOMPARE(found.level, LogLevel::Error);
    QCOMPARE(found.channel(), QStringLiteral("logs:errors"));
    QTRY_VERIFY_WITH_TIMEOUT(!w->feed()->historySearch()->isBusy(), 30000);
    QCOMPARE(panel->bannerText(),
             QStringLiteral("History search for \"old needle\" in all channels: 1 line matches, "
                            "the whole history the gateway holds was searched (102 entries "
                            "examined)."));
    QVERIFY(!panel->searchOlderButton()->isEnabled());
    // Its payload in the side panel.
    panel->view()->setCurrentIndex(panel->model()->index(0, 0));
    QVERIFY2(
        w->payloadView()->text().contains(QLatin1StringView("\"msg\": \"the Old Needle broke\"")),
        qPrintable(w->payloadView()->text()));

    // A regular expression, as the filter's .* switch says; Search Older pages back.
    w->filterEdit()->clear();
    QTest::keyClicks(w->filterEdit(), QStringLiteral("^logs:a hay [0-9]*7$"));
    for (QAction *action : w->filterEdit()->actions())
        if (action->text() == QLatin1StringView(".*"))
            action->setChecked(true);
    w->feed()->historySearch()->setPageSize(4);
    w->searchHistoryAction()->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(panel->model()->rowCount(), 4, 30000);
    QTRY_VERIFY_WITH_TIMEOUT(panel->searchOlderButton()->isEnabled(), 30000);
    QVERIFY2(panel->bannerText().startsWith(QLatin1StringView(
                 "History search for \"/^logs:a hay [0-9]*7$/i\" in all channels: 4 lines "
                 "match, ")),
             qPrintable(panel->bannerText()));
    QTest::mouseClick(panel->searchOlderButton(), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(panel->model()->rowCount(), 8, 30000);
    QTRY_VERIFY_WITH_TIMEOUT(!w->feed()->historySearch()->isBusy(), 30000);
    QStringList results;
    for (int row = 0; row < panel->model()->rowCount(); ++row)
        results.append(panel->model()->record(row).message());
    QCOMPARE(results, (QStringList{QStringLiteral("hay 27"), QStringLiteral("hay 37"),
                                   QStringLiteral("hay 47"), QStringLiteral("hay 57"),
                                   QStringLiteral("hay 67"), QStringLiteral("hay 77"),
                                   QStringLiteral("hay 87"), QStringLiteral("hay 97")}));

    // Back to the live log, which went on meanwhile.
    QTest::mouseClick(panel->backButton(), Qt::LeftButton);
    QVERIFY(!w->isShowingHistorySearch());
    QVERIFY(w->logView()->isVisible());
    w->filterEdit()->clear();
    m_redis.publish("logs:a", "another live line");
    QTRY_COMPARE_WITH_TIMEOUT(w->received(), quint64(2), 30000);
    QTRY_COMPARE_WITH_TIMEOUT(w->proxy()->rowCount(), 2, 30000);
}

void tst_DesktopWindow::badgeShowsAGapAfterATrimmedResume()
{
    const QByteArray key = "tst_desktopwindow:stream";
    const auto xadd = [&](const QByteArray &data) {
        return m_redis.command({"XADD", key, "*", "channel", "logs:a", "data", data});
    };
    m_gateway = startStreamsGateway(0, key);
    QVERIFY(m_gateway);
    const quint16 port = m_gateway->port();
    auto w = openWindow(m_gateway->baseUrl());
    QVERIFY(w);
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->clientCount(), 1, 30000);
    for (int i = 0; i < 3; ++i)
        xadd("first " + QByteArray::number(i));
    QTRY_COMPARE_WITH_TIMEOUT(w->received(), quint64(3), 30000);
    QVERIFY2(w->feedStatus()->deliveryText().startsWith(QLatin1StringView("Complete since ")),
             qPrintable(w->feedStatus()->deliveryText()));
    QCOMPARE(w->feed()->gapAtMs(), qint64(-1));

    // Every gateway down; many entries, trimmed to the last few before anyone read them.
    m_gateway.reset();
    QTRY_COMPARE_WITH_TIMEOUT(w->connection()->state(), State::Reconnecting, 30000);
    for (int i = 0; i < 200; ++i)
        xadd("meanwhile " + QByteArray::number(i));
    QCOMPARE(m_redis.command({"XTRIM", key, "MAXLEN", "5"}), QByteArray("198"));
    m_gateway = startStreamsGateway(port, key);
    QVERIFY(m_gateway);

    // The feed resumes with its Last-Event-ID: a gap first, then what the stream retained.
    QTRY_COMPARE_WITH_TIMEOUT(w->gapsSeen(), 1, 30000);
    QTRY_COMPARE_WITH_TIMEOUT(w->received(), quint64(8), 30000);
    const QString reason = w->feed()->gapReason();
    QVERIFY2(reason == QLatin1StringView("history-exceeded") ||
                 reason == QLatin1StringView("trimmed"),
             qPrintable(reason));
    const QString at =
        QDateTime::fromMSecsSinceEpoch(w->feed()->gapAtMs()).toString(QStringLiteral("HH:mm"));
    QTRY_VERIFY_WITH_TIMEOUT(
        w->feedStatus()->deliveryText().startsWith(QStringLiteral("Gap at %1: ").arg(at)), 30000);
    QVERIFY2(w->feedStatus()->deliveryText().contains(w->feed()->gapText().first(30)),
             qPrintable(w->feedStatus()->deliveryText()));
    QVERIFY(w->feedStatus()->deliveryToolTip().contains(reason));
    w->model()->flush();
    QStringList lines;
    for (int row = 0; row < w->model()->rowCount(); ++row)
        lines.append(w->model()->record(row).message());
    QCOMPARE(lines.size(), 9);
    QVERIFY2(lines[3].startsWith(QLatin1StringView("gap: ")), qPrintable(lines[3]));
    QCOMPARE(lines.mid(4),
             (QStringList{QStringLiteral("meanwhile 195"), QStringLiteral("meanwhile 196"),
                          QStringLiteral("meanwhile 197"), QStringLiteral("meanwhile 198"),
                          QStringLiteral("meanwhile 199")}));
}

QTEST_MAIN(tst_DesktopWindow)
#include "tst_desktopwindow.moc"
