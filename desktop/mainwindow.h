#pragma once

#include "desktopsettings.h"
#include "logexporter.h"
#include "logfeed.h"

#include <QHash>
#include <QMainWindow>
#include <QStringList>
#include <QTimer>

#include <optional>

class FeedStatus;
class HistorySearchPanel;
class LogFilterProxy;
class LogModel;
class LogView;
class PayloadView;
class QAction;
class QComboBox;
class QFrame;
class QIcon;
class QLabel;
class QLineEdit;
class QMenu;
class QPushButton;
class QSplitter;
class QStackedWidget;
class QToolButton;
class ScrollBack;
class ThroughputChart;

// The monitor's window: the throughput chart above the log, the selected line's payload beside
// it, filters in the tool bar, the feed's state and delivery in the status bar and, when
// something is wrong, in plain words in a banner above the log. It owns the feed (LogFeed) and
// connects it to the model, which takes the lines in batches, the chart and the status bar; to
// ScrollBack, which puts older lines above the log; and to the history search's panel, shown
// in place of the log.
class MainWindow final : public QMainWindow
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MainWindow)

public:
    explicit MainWindow(const DesktopSettings &settings, QWidget *parent = nullptr);
    ~MainWindow() override;

    // The theme's icon where there is one (an installed Linux package), else the built-in one.
    static QIcon applicationIcon();

    // Connects to the gateway with the current settings.
    void start();
    // Replaces the settings (e.g. from the dialog) and reconnects; `persist` saves them.
    void applySettings(const DesktopSettings &settings, bool persist);
    const DesktopSettings &settings() const { return m_settings; }
    // Subscribes to exactly these channels (nullopt: all), as the channel checkboxes do.
    void setChannelSelection(const std::optional<QStringList> &channels);
    std::optional<QStringList> channelSelection() const { return m_selectedChannels; }
    QStringList knownChannels() const { return m_feed->knownChannels(); }
    // Writes the filtered view; false with `error` in plain words.
    bool exportTo(const QString &path, LogExporter::Format format, QString *error);

    LogFeed *feed() const { return m_feed; }
    SseConnection *connection() const { return m_feed->connection(); }
    LogModel *model() const { return m_model; }
    LogFilterProxy *proxy() const { return m_proxy; }
    LogView *logView() const { return m_view; }
    ThroughputChart *chart() const { return m_chart; }
    FeedStatus *feedStatus() const { return m_status; }
    PayloadView *payloadView() const { return m_payload; }
    QLineEdit *filterEdit() const { return m_filter; }
    QComboBox *levelCombo() const { return m_level; }
    QMenu *channelMenu() const { return m_channelMenu; }
    ScrollBack *scrollBack() const { return m_scrollBack; }
    HistorySearchPanel *historySearchPanel() const { return m_searchPanel; }
    QAction *loadOlderAction() const { return m_loadOlderAction; }
    QAction *searchHistoryAction() const { return m_searchHistoryAction; }
    bool isShowingHistorySearch() const;
    // The status bar's passing message (e.g. about older lines), or empty.
    QString statusMessage() const;
    bool isBannerVisible() const;
    QString bannerText() const;
    quint64 received() const { return m_feed->received(); }
    int gapsSeen() const { return m_feed->gaps(); }

public Q_SLOTS:
    void showSettings();
    void exportView();
    void clearLog();
    void focusFilter();
    // Searches the gateway's history for the filter box's text, in the search panel.
    void searchHistory();
    // Back from the search panel to the live log.
    void showLiveLog();

protected:
    void closeEvent(QCloseEvent *event) override;
    void changeEvent(QEvent *event) override;

private:
    void createActions();
    void createToolBar();
    void createCentralWidgets();
    void restoreWindowState();
    void saveWindowState();
    void handleStateChanged();
    void handleCountersUpdated();
    void rebuildChannelMenu();
    void handleChannelToggled();
    void applyTextFilter();
    // A click on a line's trace/request cell: show only the lines of that id.
    void filterToLinkedId(const QModelIndex &index);
    void applyLevelFilter();
    void showCurrentPayload();
    void showSearchResultPayload();
    void handleOlderLoaded(int count, int dropped, bool atStart);
    void handleNothingOlder();
    void updateSearchHistoryAction();
    void updateStatus();
    void updateBanner();
    void applyPalette();

    DesktopSettings m_settings;
    LogFeed *m_feed;
    LogModel *m_model;
    LogFilterProxy *m_proxy;
    LogView *m_view;
    ThroughputChart *m_chart;
    PayloadView *m_payload;
    FeedStatus *m_status;
    ScrollBack *m_scrollBack;
    HistorySearchPanel *m_searchPanel;
    QStackedWidget *m_logStack = nullptr;
    QSplitter *m_vertical = nullptr;
    QSplitter *m_horizontal = nullptr;
    QFrame *m_banner = nullptr;
    QLabel *m_bannerText = nullptr;
    QPushButton *m_bannerRetry = nullptr;
    QLineEdit *m_filter = nullptr;
    QAction *m_regexAction = nullptr;
    QComboBox *m_level = nullptr;
    QToolButton *m_channelButton = nullptr;
    QMenu *m_channelMenu = nullptr;
    QAction *m_allChannelsAction = nullptr;
    QAction *m_channelsSeparator = nullptr;
    QAction *m_allowlistSeparator = nullptr;
    QAction *m_allowlistAction = nullptr;
    QHash<QString, QAction *> m_channelActions;
    QAction *m_liveAction = nullptr;
    QAction *m_loadOlderAction = nullptr;
    QAction *m_searchHistoryAction = nullptr;
    QAction *m_exportAction = nullptr;
    QAction *m_clearAction = nullptr;
    QAction *m_settingsAction = nullptr;
    QAction *m_copyAction = nullptr;
    QAction *m_copyPayloadAction = nullptr;
    QAction *m_filterAction = nullptr;
    QAction *m_chartAction = nullptr;
    QAction *m_detailsAction = nullptr;
    QTimer m_filterDelay;

    std::optional<QStringList> m_selectedChannels; // nullopt: as the settings say
};
