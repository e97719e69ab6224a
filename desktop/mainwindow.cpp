#include "mainwindow.h"

#include "channelglob.h"
#include "desktoplogging.h"
#include "feedstatus.h"
#include "gatewaytrust.h"
#include "gatewayurl.h"
#include "historysearch.h"
#include "historysearchpanel.h"
#include "logfilterproxy.h"
#include "logmodel.h"
#include "logview.h"
#include "payloadview.h"
#include "scrollback.h"
#include "settingsdialog.h"
#include "throughputchart.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFrame>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QIcon>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QPainter>
#include <QPushButton>
#include <QSettings>
#include <QSplitter>
#include <QStackedWidget>
#include <QStandardPaths>
#include <QStatusBar>
#include <QToolBar>
#include <QToolButton>
#include <QVBoxLayout>

namespace {

constexpr int gapNoteSeconds = 10;      // the status bar mentions a gap this long
constexpr int historyMessageMs = 10000; // what loading older lines gave, in the status bar

bool isDark(const QPalette &palette)
{
    return palette.color(QPalette::Window).lightness() < 128;
}

// Keeps a menu open while its checkable entries are toggled.
class StayOpenMenu final : public QMenu
{
public:
    using QMenu::QMenu;

protected:
    void mouseReleaseEvent(QMouseEvent *event) override
    {
        QAction *action = activeAction();
        if (action && action->isEnabled() && action->isCheckable()) {
            action->trigger();
            return;
        }
        QMenu::mouseReleaseEvent(event);
    }
};

} // namespace

MainWindow::MainWindow(const DesktopSettings &settings, QWidget *parent)
    : QMainWindow(parent), m_settings(settings), m_feed(new LogFeed(this)),
      m_model(new LogModel(settings.bufferLines, this)), m_proxy(new LogFilterProxy(this)),
      m_view(new LogView), m_chart(new ThroughputChart), m_payload(new PayloadView),
      m_status(new FeedStatus), m_scrollBack(new ScrollBack(m_model, m_feed, this)),
      m_searchPanel(new HistorySearchPanel(m_feed->historySearch()))
{
    setObjectName(QStringLiteral("mainWindow"));
    m_proxy->setLogModel(m_model);
    createActions();
    createToolBar();
    createCentralWidgets();
    statusBar()->addWidget(m_status, 1);
    statusBar()->setSizeGripEnabled(true);

    connect(m_feed, &LogFeed::recordReceived, m_model,
            [this](const LogRecord &record) { m_model->enqueue(record); });
    connect(m_feed, &LogFeed::statsReceived, m_chart, &ThroughputChart::addStats);
    connect(m_feed, &LogFeed::stateChanged, this, &MainWindow::handleStateChanged);
    connect(m_feed, &LogFeed::countersUpdated, this, &MainWindow::handleCountersUpdated);
    connect(m_feed, &LogFeed::channelsChanged, this, &MainWindow::rebuildChannelMenu);
    connect(m_feed, &LogFeed::deliveryChanged, this, &MainWindow::updateStatus);

    connect(m_view, &LogView::scrolledToTop, m_scrollBack, &ScrollBack::loadOlder);
    connect(m_scrollBack, &ScrollBack::loaded, this, &MainWindow::handleOlderLoaded);
    connect(m_scrollBack, &ScrollBack::nothingOlder, this, &MainWindow::handleNothingOlder);
    connect(m_scrollBack, &ScrollBack::failed, this, [this](const QString &reason) {
        statusBar()->showMessage(tr("Cannot load older lines: %1").arg(reason), historyMessageMs);
    });
    connect(m_scrollBack, &ScrollBack::busyChanged, this, [this](bool busy) {
        const QString loading = tr("Loading older lines from the gateway's history…");
        if (busy)
            statusBar()->showMessage(loading);
        else if (statusBar()->currentMessage() == loading)
            statusBar()->clearMessage(); // superseded, or its answer said nothing
    });
    connect(m_searchPanel, &HistorySearchPanel::backToLiveRequested, this,
            &MainWindow::showLiveLog);

    m_filterDelay.setSingleShot(true);
    m_filterDelay.setInterval(150); // typing is not re-filtering 200,000 lines per key
    connect(&m_filterDelay, &QTimer::timeout, this, &MainWindow::applyTextFilter);

    applyPalette();
    restoreWindowState();
    rebuildChannelMenu();
    updateStatus();
    updateBanner();
}

MainWindow::~MainWindow() = default;

QIcon MainWindow::applicationIcon()
{
    const QString name = QStringLiteral("io.github.llmstreamer.Desktop");
    QIcon icon = QIcon::fromTheme(name);
    if (icon.isNull()) {
        for (const int size : {16, 32, 48, 64, 128, 256})
            icon.addFile(QStringLiteral(":/icons/%1x%1/apps/%2.png").arg(size).arg(name));
    }
    return icon;
}

void MainWindow::createActions()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    m_exportAction = file->addAction(style()->standardIcon(QStyle::SP_DialogSaveButton),
                                     tr("&Export View…"), this, &MainWindow::exportView);
    m_exportAction->setShortcut(QKeySequence::Save);
    m_exportAction->setToolTip(tr("Save the lines shown (filtered) as NDJSON or text (Ctrl+S)"));
    file->addSeparator();
    m_settingsAction = file->addAction(tr("&Settings…"), this, &MainWindow::showSettings);
    m_settingsAction->setShortcut(QKeySequence::Preferences);
    m_settingsAction->setMenuRole(QAction::PreferencesRole);
    file->addSeparator();
    QAction *quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);
    quit->setMenuRole(QAction::QuitRole);

    QMenu *edit = menuBar()->addMenu(tr("&Edit"));
    m_copyAction = edit->addAction(tr("&Copy Lines"), m_view, &LogView::copySelection);
    m_copyAction->setShortcut(QKeySequence::Copy);
    m_copyAction->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    m_view->addAction(m_copyAction);
    m_copyPayloadAction = edit->addAction(tr("Copy &Payload"), this, [this] {
        QApplication::clipboard()->setText(m_payload->text());
    });
    m_copyPayloadAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C));
    edit->addSeparator();
    m_filterAction = edit->addAction(tr("&Filter…"), this, &MainWindow::focusFilter);
    m_filterAction->setShortcut(QKeySequence::Find);
    m_clearAction = edit->addAction(style()->standardIcon(QStyle::SP_DialogResetButton),
                                    tr("C&lear"), this, &MainWindow::clearLog);
    m_clearAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_L));
    m_clearAction->setToolTip(tr("Remove every line from the view (Ctrl+L)"));

    QMenu *view = menuBar()->addMenu(tr("&View"));
    m_liveAction = new QAction(style()->standardIcon(QStyle::SP_MediaPlay), tr("Live"), this);
    m_liveAction->setCheckable(true);
    m_liveAction->setChecked(true);
    m_liveAction->setToolTip(tr("Follow new lines (End); scrolling up or selecting pauses"));
    connect(m_liveAction, &QAction::triggered, this,
            [this](bool live) { live ? m_view->goLive() : m_view->pause(); });
    connect(m_view, &LogView::followingChanged, m_liveAction, &QAction::setChecked);
    QAction *goLive = view->addAction(tr("Go &Live"), m_view, &LogView::goLive);
    goLive->setShortcut(QKeySequence(Qt::Key_End));
    m_loadOlderAction =
        view->addAction(style()->standardIcon(QStyle::SP_ArrowUp), tr("Load &Older Lines"),
                        m_scrollBack, &ScrollBack::loadOlder);
    m_loadOlderAction->setObjectName(QStringLiteral("loadOlder"));
    m_loadOlderAction->setIconText(tr("Load Older"));
    m_loadOlderAction->setToolTip(tr("Load the lines before the oldest one shown from the "
                                     "gateway's history (also by scrolling to the top while "
                                     "paused)"));
    m_searchHistoryAction =
        view->addAction(QIcon::fromTheme(QStringLiteral("edit-find"),
                                         style()->standardIcon(QStyle::SP_FileDialogContentsView)),
                        tr("&Search History"), this, &MainWindow::searchHistory);
    m_searchHistoryAction->setObjectName(QStringLiteral("searchHistory"));
    m_searchHistoryAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_F));
    m_searchHistoryAction->setToolTip(tr("Search the gateway's history for the filter's text, "
                                         "beyond the lines received (Ctrl+Shift+F)"));
    m_searchHistoryAction->setEnabled(false);
    view->addSeparator();
    m_chartAction = view->addAction(tr("Throughput &Chart"));
    m_chartAction->setCheckable(true);
    m_chartAction->setChecked(true);
    connect(m_chartAction, &QAction::toggled, m_chart, &QWidget::setVisible);
    m_detailsAction = view->addAction(tr("&Details Panel"));
    m_detailsAction->setCheckable(true);
    m_detailsAction->setChecked(true);
    connect(m_detailsAction, &QAction::toggled, m_payload, &QWidget::setVisible);

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    QAction *about = help->addAction(tr("&About LLM Streamer"), this, [this] {
        QMessageBox::about(this, tr("About LLM Streamer"),
                           tr("<h3>LLM Streamer %1</h3><p>Live logs of your LLM backends, "
                              "streamed from Redis by the LLM Streamer gateway.</p>")
                               .arg(QCoreApplication::applicationVersion()));
    });
    about->setMenuRole(QAction::AboutRole);
}

void MainWindow::createToolBar()
{
    QToolBar *bar = addToolBar(tr("Filters"));
    bar->setObjectName(QStringLiteral("filtersToolBar"));
    bar->setMovable(false);
    bar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);

    m_filter = new QLineEdit(bar);
    m_filter->setObjectName(QStringLiteral("filterEdit"));
    m_filter->setPlaceholderText(tr("Filter (Ctrl+F)"));
    m_filter->setClearButtonEnabled(true);
    m_filter->setMinimumWidth(260);
    m_filter->setToolTip(tr("Show only lines containing this text (any column or payload field)"));
    m_regexAction = m_filter->addAction(QIcon(), QLineEdit::TrailingPosition);
    m_regexAction->setText(QStringLiteral(".*"));
    m_regexAction->setCheckable(true);
    m_regexAction->setToolTip(tr("Regular expression"));
    // The action shows its text as an icon: draw ".*" so it is visible without an icon theme.
    const auto regexIcon = [this](bool on) {
        QPixmap pixmap(QSize(20, 16) * devicePixelRatioF());
        pixmap.setDevicePixelRatio(devicePixelRatioF());
        pixmap.fill(Qt::transparent);
        QPainter p(&pixmap);
        QFont font = this->font();
        font.setBold(on);
        p.setFont(font);
        p.setPen(on ? palette().color(QPalette::Highlight)
                    : palette().color(QPalette::PlaceholderText));
        p.drawText(QRect(0, 0, 20, 16), Qt::AlignCenter, QStringLiteral(".*"));
        return QIcon(pixmap);
    };
    m_regexAction->setIcon(regexIcon(false));
    connect(m_regexAction, &QAction::toggled, this, [this, regexIcon](bool on) {
        m_regexAction->setIcon(regexIcon(on));
        applyTextFilter();
    });
    connect(m_filter, &QLineEdit::textChanged, this, [this] {
        m_filterDelay.start();
        updateSearchHistoryAction();
    });
    connect(m_filter, &QLineEdit::returnPressed, this, &MainWindow::applyTextFilter);
    bar->addWidget(m_filter);
    bar->addAction(m_searchHistoryAction);

    m_level = new QComboBox(bar);
    m_level->setObjectName(QStringLiteral("levelCombo"));
    m_level->addItem(tr("All levels"), int(LogLevel::None));
    m_level->addItem(tr("DEBUG and above"), int(LogLevel::Debug));
    m_level->addItem(tr("INFO and above"), int(LogLevel::Info));
    m_level->addItem(tr("WARN and above"), int(LogLevel::Warn));
    m_level->addItem(tr("ERROR and above"), int(LogLevel::Error));
    m_level->setToolTip(tr("Minimum level"));
    connect(m_level, &QComboBox::currentIndexChanged, this, &MainWindow::applyLevelFilter);
    bar->addWidget(m_level);

    m_channelMenu = new StayOpenMenu(this);
    m_channelMenu->setObjectName(QStringLiteral("channelMenu"));
    m_channelButton = new QToolButton(bar);
    m_channelButton->setObjectName(QStringLiteral("channelButton"));
    m_channelButton->setPopupMode(QToolButton::InstantPopup);
    m_channelButton->setMenu(m_channelMenu);
    m_channelButton->setToolTip(tr("Channels to subscribe to"));
    bar->addWidget(m_channelButton);

    auto *spacer = new QWidget(bar);
    spacer->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
    bar->addWidget(spacer);
    bar->addAction(m_loadOlderAction);
    bar->addAction(m_liveAction);
    bar->addAction(m_clearAction);
    bar->addAction(m_exportAction);
}

void MainWindow::createCentralWidgets()
{
    m_view->setObjectName(QStringLiteral("logView"));
    m_view->setModel(m_proxy);
    m_view->applyDefaultColumnWidths();
    connect(m_view, &QAbstractItemView::doubleClicked, this, [this] {
        m_detailsAction->setChecked(true);
        showCurrentPayload();
    });
    connect(m_view, &QAbstractItemView::clicked, this, &MainWindow::filterToLinkedId);
    connect(m_view->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            &MainWindow::showCurrentPayload);
    m_searchPanel->setObjectName(QStringLiteral("historySearchPanel"));
    connect(m_searchPanel->view()->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            &MainWindow::showSearchResultPayload);

    // The banner: what is wrong with the connection, in plain words, where one looks.
    m_banner = new QFrame;
    m_banner->setObjectName(QStringLiteral("banner"));
    m_banner->setFrameShape(QFrame::StyledPanel);
    m_banner->setAutoFillBackground(true);
    m_bannerText = new QLabel(m_banner);
    m_bannerText->setObjectName(QStringLiteral("bannerText"));
    m_bannerText->setWordWrap(true);
    m_bannerText->setTextFormat(Qt::PlainText);
    m_bannerText->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_bannerRetry = new QPushButton(tr("Retry Now"), m_banner);
    auto *bannerSettings = new QPushButton(tr("Settings…"), m_banner);
    connect(m_bannerRetry, &QPushButton::clicked, this, &MainWindow::start);
    connect(bannerSettings, &QPushButton::clicked, this, &MainWindow::showSettings);
    auto *bannerLayout = new QHBoxLayout(m_banner);
    bannerLayout->setContentsMargins(10, 6, 6, 6);
    bannerLayout->addWidget(m_bannerText, 1);
    bannerLayout->addWidget(m_bannerRetry);
    bannerLayout->addWidget(bannerSettings);
    m_banner->hide();

    auto *logArea = new QWidget;
    auto *logLayout = new QVBoxLayout(logArea);
    logLayout->setContentsMargins(0, 0, 0, 0);
    logLayout->setSpacing(4);
    logLayout->addWidget(m_banner);
    m_logStack = new QStackedWidget;
    m_logStack->addWidget(m_view);
    m_logStack->addWidget(m_searchPanel);
    logLayout->addWidget(m_logStack, 1);

    m_payload->setObjectName(QStringLiteral("payloadView"));
    m_horizontal = new QSplitter(Qt::Horizontal);
    m_horizontal->setObjectName(QStringLiteral("horizontalSplitter"));
    m_horizontal->addWidget(logArea);
    m_horizontal->addWidget(m_payload);
    m_horizontal->setStretchFactor(0, 4);
    m_horizontal->setStretchFactor(1, 1);
    m_horizontal->setChildrenCollapsible(false);

    m_chart->setObjectName(QStringLiteral("throughputChart"));
    m_vertical = new QSplitter(Qt::Vertical);
    m_vertical->setObjectName(QStringLiteral("verticalSplitter"));
    m_vertical->addWidget(m_chart);
    m_vertical->addWidget(m_horizontal);
    m_vertical->setStretchFactor(0, 1);
    m_vertical->setStretchFactor(1, 3);
    m_vertical->setChildrenCollapsible(false);
    setCentralWidget(m_vertical);
}

void MainWindow::restoreWindowState()
{
    QSettings store;
    resize(1280, 800);
    m_horizontal->setSizes({980, 300});
    m_vertical->setSizes({200, 560});
    restoreGeometry(store.value(QStringLiteral("window/geometry")).toByteArray());
    restoreState(store.value(QStringLiteral("window/state")).toByteArray());
    m_vertical->restoreState(store.value(QStringLiteral("window/verticalSplitter")).toByteArray());
    m_horizontal->restoreState(
        store.value(QStringLiteral("window/horizontalSplitter")).toByteArray());
    m_view->horizontalHeader()->restoreState(
        store.value(QStringLiteral("window/logColumns")).toByteArray());
    m_chartAction->setChecked(store.value(QStringLiteral("window/chart"), true).toBool());
    m_detailsAction->setChecked(store.value(QStringLiteral("window/details"), true).toBool());
}

void MainWindow::saveWindowState()
{
    QSettings store;
    store.setValue(QStringLiteral("window/geometry"), saveGeometry());
    store.setValue(QStringLiteral("window/state"), saveState());
    store.setValue(QStringLiteral("window/verticalSplitter"), m_vertical->saveState());
    store.setValue(QStringLiteral("window/horizontalSplitter"), m_horizontal->saveState());
    store.setValue(QStringLiteral("window/logColumns"), m_view->horizontalHeader()->saveState());
    store.setValue(QStringLiteral("window/chart"), m_chartAction->isChecked());
    store.setValue(QStringLiteral("window/details"), m_detailsAction->isChecked());
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    saveWindowState();
    m_feed->stop();
    event->accept();
}

void MainWindow::changeEvent(QEvent *event)
{
    QMainWindow::changeEvent(event);
    if (event->type() == QEvent::PaletteChange || event->type() == QEvent::ThemeChange)
        applyPalette();
}

void MainWindow::applyPalette()
{
    m_model->setDarkPalette(isDark(palette()));
    updateBanner();
}

void MainWindow::start()
{
    QString why;
    const auto url = GatewayUrl::parse(m_settings.gatewayUrl, &why);
    setWindowTitle(url ? tr("LLM Streamer — %1").arg(url->toDisplayString(QUrl::RemoveUserInfo))
                       : tr("LLM Streamer"));
    if (!url) {
        m_feed->fail(why + tr(". Open Settings to correct it."));
        return;
    }
    if (!GatewayTrust::setCaFile(m_settings.caFile, &why)) {
        m_feed->fail(why + tr(". Open Settings to correct it."));
        return;
    }
    m_feed->start(*url, m_settings.token,
                  m_selectedChannels ? *m_selectedChannels : m_settings.channelList());
}

void MainWindow::applySettings(const DesktopSettings &settings, bool persist)
{
    const bool reconnect =
        settings.gatewayUrl != m_settings.gatewayUrl || settings.token != m_settings.token ||
        settings.channels != m_settings.channels || settings.caFile != m_settings.caFile;
    if (settings.channels != m_settings.channels) {
        m_selectedChannels.reset();
        m_proxy->setChannels(std::nullopt);
    }
    m_settings = settings;
    if (persist) {
        QSettings store;
        m_settings.save(store);
    }
    m_model->setCapacity(settings.bufferLines);
    rebuildChannelMenu();
    if (reconnect || m_feed->state() == SseConnection::State::Failed)
        start();
}

void MainWindow::showSettings()
{
    QSettings store;
    const bool firstStart = !DesktopSettings::exist(store);
    SettingsDialog dialog(m_settings, store.fileName(), firstStart, this);
    if (dialog.exec() == QDialog::Accepted)
        applySettings(dialog.settings(), true);
}

void MainWindow::handleStateChanged()
{
    updateStatus();
    updateBanner();
}

void MainWindow::handleCountersUpdated()
{
    updateStatus();
    if (m_feed->state() == SseConnection::State::Reconnecting)
        updateBanner(); // the countdown
}

void MainWindow::rebuildChannelMenu()
{
    const QStringList known = m_feed->knownChannels();
    const QStringList allowlist = m_feed->allowlist();
    // Actions are updated in place, never recreated: this runs from their own triggered().
    if (!m_allChannelsAction) {
        m_allChannelsAction = m_channelMenu->addAction(tr("All Channels"));
        m_allChannelsAction->setObjectName(QStringLiteral("allChannels"));
        m_allChannelsAction->setCheckable(true);
        connect(m_allChannelsAction, &QAction::triggered, this,
                [this] { setChannelSelection(QStringList()); });
        m_channelsSeparator = m_channelMenu->addSeparator();
        m_allowlistSeparator = m_channelMenu->addSeparator();
        m_allowlistAction = m_channelMenu->addAction(QString());
        m_allowlistAction->setEnabled(false);
    }
    for (auto it = m_channelActions.begin(); it != m_channelActions.end();) {
        if (known.contains(it.key())) {
            ++it;
            continue;
        }
        m_channelMenu->removeAction(it.value());
        it.value()->deleteLater();
        it = m_channelActions.erase(it);
    }
    for (const QString &name : known) {
        if (m_channelActions.contains(name))
            continue;
        auto *action = new QAction(name, m_channelMenu);
        action->setCheckable(true);
        action->setData(name);
        connect(action, &QAction::triggered, this, &MainWindow::handleChannelToggled);
        // Sorted: before the first known channel after it, or at the end of the list.
        QAction *before = m_allowlistSeparator;
        for (const QString &other : known)
            if (other > name && m_channelActions.contains(other)) {
                before = m_channelActions.value(other);
                break;
            }
        m_channelMenu->insertAction(before, action);
        m_channelActions.insert(name, action);
    }

    const QStringList subscribed =
        m_selectedChannels ? *m_selectedChannels : m_settings.channelList();
    const auto checked = [&](const QString &name) {
        if (subscribed.isEmpty())
            return true;
        const QByteArray channel = name.toUtf8();
        return std::any_of(subscribed.begin(), subscribed.end(), [&](const QString &entry) {
            return ChannelGlob::matches(entry.toUtf8(), channel);
        });
    };
    m_allChannelsAction->setChecked(subscribed.isEmpty());
    int shown = 0;
    for (auto it = m_channelActions.cbegin(); it != m_channelActions.cend(); ++it) {
        it.value()->setChecked(checked(it.key()));
        shown += it.value()->isChecked() ? 1 : 0;
    }
    m_channelsSeparator->setVisible(!m_channelActions.isEmpty());
    m_allowlistSeparator->setVisible(!allowlist.isEmpty());
    m_allowlistAction->setVisible(!allowlist.isEmpty());
    m_allowlistAction->setText(tr("Gateway allows: %1").arg(allowlist.join(QStringLiteral(", "))));

    if (subscribed.isEmpty())
        m_channelButton->setText(tr("All channels"));
    else if (m_selectedChannels || known.isEmpty())
        m_channelButton->setText(subscribed.size() == 1 ? subscribed.constFirst()
                                                        : tr("%1 channels").arg(subscribed.size()));
    else
        m_channelButton->setText(tr("%1 of %2 channels").arg(shown).arg(known.size()));
}

void MainWindow::handleChannelToggled()
{
    const QStringList known = m_feed->knownChannels();
    QStringList chosen;
    for (const QString &name : known)
        if (m_channelActions.value(name)->isChecked())
            chosen.append(name);
    if (chosen.isEmpty()) {
        // Nothing to subscribe to would be a 400: keep the last one.
        if (auto *action = qobject_cast<QAction *>(sender()))
            action->setChecked(true);
        return;
    }
    setChannelSelection(chosen.size() == known.size() ? QStringList() : chosen);
}

void MainWindow::setChannelSelection(const std::optional<QStringList> &channels)
{
    m_selectedChannels = channels;
    // Lines already shown from channels no longer wanted are hidden too.
    if (channels && !channels->isEmpty())
        m_proxy->setChannels(QSet<QString>(channels->begin(), channels->end()));
    else
        m_proxy->setChannels(std::nullopt);
    rebuildChannelMenu();
    if (m_feed->state() != SseConnection::State::Idle)
        start(); // resubscribe, resuming from the last event
}

void MainWindow::filterToLinkedId(const QModelIndex &index)
{
    if (index.column() != LogModel::IdColumn)
        return;
    const QString id = index.data(LogModel::LinkedIdRole).toString();
    if (id.isEmpty())
        return;
    // The id as a JSON string, quotes included, as the dashboard's chip does: "r-42" finds the
    // lines whose field is r-42 in their payload, not r-421.
    const QByteArray array = QJsonDocument(QJsonArray{id}).toJson(QJsonDocument::Compact);
    m_regexAction->setChecked(false);
    m_filter->setText(QString::fromUtf8(array.sliced(1, array.size() - 2)));
    applyTextFilter();
}

void MainWindow::applyTextFilter()
{
    m_filterDelay.stop();
    const QString error = m_proxy->setTextFilter(m_filter->text(), m_regexAction->isChecked());
    QPalette pal = m_filter->palette();
    pal.setColor(QPalette::Text,
                 error.isEmpty() ? palette().color(QPalette::Text) : QColor(0xd0, 0x30, 0x30));
    m_filter->setPalette(pal);
    m_filter->setToolTip(error.isEmpty() ? tr("Show only lines containing this text (any column "
                                              "or payload field)")
                                         : error);
    updateStatus();
}

void MainWindow::applyLevelFilter()
{
    m_proxy->setMinimumLevel(LogLevel(m_level->currentData().toInt()));
    updateStatus();
}

void MainWindow::focusFilter()
{
    m_filter->setFocus(Qt::ShortcutFocusReason);
    m_filter->selectAll();
}

void MainWindow::showCurrentPayload()
{
    const QModelIndex current = m_view->currentIndex();
    if (!current.isValid())
        return;
    const QModelIndex source = m_proxy->mapToSource(current);
    if (source.isValid())
        m_payload->showRecord(&m_model->record(source.row()));
}

void MainWindow::showSearchResultPayload()
{
    const QModelIndex current = m_searchPanel->view()->currentIndex();
    if (current.isValid())
        m_payload->showRecord(&m_searchPanel->model()->record(current.row()));
}

void MainWindow::updateSearchHistoryAction()
{
    m_searchHistoryAction->setEnabled(!m_filter->text().trimmed().isEmpty());
}

void MainWindow::searchHistory()
{
    const QString text = m_filter->text().trimmed();
    if (text.isEmpty())
        return;
    m_searchPanel->start(HistorySearch::queryFor(text, m_regexAction->isChecked()));
    m_logStack->setCurrentWidget(m_searchPanel);
    m_payload->showRecord(nullptr);
}

void MainWindow::showLiveLog()
{
    m_feed->historySearch()->cancel();
    m_logStack->setCurrentWidget(m_view);
    m_payload->showRecord(nullptr);
    showCurrentPayload();
}

bool MainWindow::isShowingHistorySearch() const
{
    return m_logStack->currentWidget() == m_searchPanel;
}

QString MainWindow::statusMessage() const
{
    return statusBar()->currentMessage();
}

void MainWindow::handleOlderLoaded(int count, int dropped, bool atStart)
{
    QString text;
    if (count > 0)
        text = count == 1 ? tr("Loaded 1 older line from the gateway's history")
                          : tr("Loaded %1 older lines from the gateway's history")
                                .arg(QLocale().toString(count));
    else if (dropped == 0)
        text = tr("No older lines that are not shown already");
    if (dropped > 0)
        text += (text.isEmpty() ? QString() : QStringLiteral("; ")) +
                tr("%1 older lines do not fit in the buffer of %2 lines (raise it in Settings)")
                    .arg(QLocale().toString(dropped), QLocale().toString(m_model->capacity()));
    if (atStart)
        text += tr("; nothing older is held by the gateway");
    statusBar()->showMessage(text, historyMessageMs);
    updateStatus();
}

void MainWindow::handleNothingOlder()
{
    statusBar()->showMessage(
        tr("Nothing older: the gateway's history holds no line before the oldest one shown"),
        historyMessageMs);
}

void MainWindow::clearLog()
{
    m_model->clear();
    m_payload->showRecord(nullptr);
    m_view->goLive();
    updateStatus();
}

bool MainWindow::exportTo(const QString &path, LogExporter::Format format, QString *error)
{
    m_model->flush();
    const int rows = m_proxy->rowCount();
    const bool ok = LogExporter::write(
        path, format, rows,
        [this](qsizetype row) -> const LogRecord & {
            return m_model->record(m_proxy->sourceRow(int(row)));
        },
        error);
    if (ok)
        qCInfo(lcDesktopUi, "exported %d lines to %s", rows, qUtf8Printable(path));
    return ok;
}

void MainWindow::exportView()
{
    const QString ndjson = tr("NDJSON, one envelope per line (*.ndjson)");
    const QString text = tr("Text, as shown (*.log *.txt)");
    QString filter = ndjson;
    const QString suggested =
        QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation) +
        QStringLiteral("/llmstreamer-") +
        QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss")) +
        QStringLiteral(".ndjson");
    QString path = QFileDialog::getSaveFileName(this, tr("Export View"), suggested,
                                                ndjson + QStringLiteral(";;") + text, &filter);
    if (path.isEmpty())
        return;
    LogExporter::Format format =
        filter == text ? LogExporter::Format::Text : LogExporter::Format::Ndjson;
    if (QFileInfo(path).suffix().isEmpty())
        path += format == LogExporter::Format::Text ? QStringLiteral(".log")
                                                    : QStringLiteral(".ndjson");
    else
        format = LogExporter::formatForPath(path);
    QString error;
    if (exportTo(path, format, &error))
        statusBar()->showMessage(
            tr("Exported %1 lines to %2")
                .arg(QLocale().toString(m_proxy->rowCount()), QDir::toNativeSeparators(path)),
            5000);
    else
        QMessageBox::warning(this, tr("Export View"), error);
}

void MainWindow::updateStatus()
{
    const SseConnection *connection = m_feed->connection();
    const qint64 sinceGap = m_feed->msSinceLastGap();
    const bool recentGap = sinceGap >= 0 && sinceGap < gapNoteSeconds * 1000;
    m_status->setConnectionState(connection->state(), connection->reason(),
                                 connection->nextAttemptInMs(),
                                 recentGap ? m_feed->lastGap() : QString());
    m_status->setRate(m_feed->rate());
    m_status->setReceived(m_feed->received());
    m_status->setGaps(m_feed->gaps(), m_feed->lastGap());
    m_status->setShown(m_proxy->rowCount(), m_model->rowCount());
    m_status->setDelivery(m_feed->completeSinceMs(), m_feed->gapAtMs(), m_feed->gapReason(),
                          m_feed->gapText());
}

bool MainWindow::isBannerVisible() const
{
    return !m_banner->isHidden();
}

QString MainWindow::bannerText() const
{
    return m_bannerText->text();
}

void MainWindow::updateBanner()
{
    const SseConnection *connection = m_feed->connection();
    const SseConnection::State state = connection->state();
    if (state != SseConnection::State::Failed && state != SseConnection::State::Reconnecting) {
        m_banner->hide();
        return;
    }
    const bool failed = state == SseConnection::State::Failed;
    const qint64 seconds = (connection->nextAttemptInMs() + 999) / 1000;
    m_bannerText->setText(
        failed ? tr("Not connected: %1").arg(connection->reason())
               : tr("Reconnecting in %1 s: %2").arg(seconds).arg(connection->reason()));
    m_bannerRetry->setText(failed ? tr("Retry") : tr("Retry Now"));
    const bool dark = isDark(palette());
    QPalette pal = m_banner->palette();
    pal.setColor(QPalette::Window,
                 failed ? (dark ? QColor(0x5a, 0x1f, 0x24) : QColor(0xf8, 0xd7, 0xda))
                        : (dark ? QColor(0x4d, 0x3d, 0x12) : QColor(0xff, 0xf3, 0xcd)));
    pal.setColor(QPalette::WindowText, dark ? QColor(0xf0, 0xf0, 0xf0) : QColor(0x21, 0x21, 0x21));
    m_banner->setPalette(pal);
    m_bannerText->setPalette(pal);
    m_banner->show();
}
