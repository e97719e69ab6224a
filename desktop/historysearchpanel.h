#pragma once

#include <QWidget>

class HistorySearch;
class LogModel;
class LogView;
class QFrame;
class QLabel;
class QPushButton;
struct LogPage;

// The results of a history search, apart from the live log so nobody takes them for it: a
// banner says what was searched, how many lines matched and how far back the gateway looked,
// with "Search Older" (the page before, above the results) and "Back to Live".
class HistorySearchPanel final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HistorySearchPanel)

public:
    static constexpr qsizetype maxResults = 100'000;

    explicit HistorySearchPanel(HistorySearch *search, QWidget *parent = nullptr);
    ~HistorySearchPanel() override;

    // Starts a search for `query` (see HistorySearch::queryFor), dropping the last results.
    void start(const QString &query);

    LogModel *model() const { return m_model; }
    LogView *view() const { return m_view; }
    QString bannerText() const;
    QPushButton *searchOlderButton() const { return m_olderButton; }
    QPushButton *backButton() const { return m_backButton; }

Q_SIGNALS:
    void backToLiveRequested();

private:
    void handlePage(const LogPage &page);
    void updateBanner();

    HistorySearch *m_search;
    LogModel *m_model;
    LogView *m_view;
    QFrame *m_banner;
    QLabel *m_bannerText;
    QPushButton *m_olderButton;
    QPushButton *m_backButton;
};
