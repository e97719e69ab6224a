// The desktop monitor's window end to end: a real redis-server, the gateway and a simulating
// producer in-process, the MainWindow on the offscreen platform. Lines appear, the status says
// live, the chart draws, filters and shortcuts work, errors are said in the window in plain
// words, and the window's layout persists.
#include "desktopstubserver.h"
#include "feedstatus.h"
#include "gateway.h"
#include "hub.h"
#include "logfilterproxy.h"
#include "logmodel.h"
#include "logview.h"
#include "mainwindow.h"
#include "payloadview.h"
#include "producerapp.h"
#include "redissubscriber.h"
#include "testredis.h"
#include "throughputchart.h"

#include <QColor>
#include <QComboBox>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QLineSeries>
#include <QMenu>
#include <QScrollBar>
#include <QSettings>
#include <QSplitter>
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
    void badUrlInPlainWords();
    void refusedConnectionInPlainWords();
    void unauthorizedInPlainWords();
    void badRequestInPlainWords();
    void layoutAndSettingsPersist();
    void applicationIcon();
    void followsThePalette();

private:
    GatewayConfig gatewayConfig(quint16 port = 0) const;
    std::unique_ptr<Gateway> startGateway(quint16 port = 0);
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
    // Gap lines pass every filter.
    w->filterEdit()->setText(QStringLiteral("no such text"));
    QTRY_COMPARE_WITH_TIMEOUT(w->proxy()->rowCount(), 1, 30000);
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

QTEST_MAIN(tst_DesktopWindow)
#include "tst_desktopwindow.moc"
