#pragma once

#include <QObject>
#include <QString>

class HistoryFetcher;
class LogFeed;
class LogModel;
struct LogPage;

// Scrolling back beyond what the window received: asks the gateway's history for the page
// before the oldest line shown and puts it above that line, in order, leaving out lines already
// there. Asked when the user scrolls to the top of the paused log or chooses "Load Older".
class ScrollBack final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ScrollBack)

public:
    static constexpr int defaultPageSize = 500;

    ScrollBack(LogModel *model, LogFeed *feed, QObject *parent = nullptr);
    ~ScrollBack() override;

    void setPageSize(int lines) { m_pageSize = lines; }
    bool isBusy() const;
    // Nothing older than the oldest line shown is held by the gateway (as far as the last page
    // said).
    bool reachedStart() const;

public Q_SLOTS:
    void loadOlder();

Q_SIGNALS:
    // `count` lines went in above the oldest; `dropped` more did not fit in the buffer;
    // `atStart`: the gateway holds nothing older.
    void loaded(int count, int dropped, bool atStart);
    // Asked for older lines where there are none.
    void nothingOlder();
    void failed(const QString &reason);
    void busyChanged(bool busy);

private:
    void handlePage(const LogPage &page);
    // Where the page before the oldest line starts: that line's id, or, with no message line
    // shown (cleared, or all evicted), the last message the stream received, which then goes in
    // below the page; before any message, the last event's id.
    QString oldestId() const;

    LogModel *m_model;
    LogFeed *m_feed;
    HistoryFetcher *m_fetcher;
    QString m_asked;   // `before` of the request on its way
    QString m_startAt; // the oldest id when the gateway said nothing older is held
    bool m_startKnown = false;
    int m_pageSize = defaultPageSize;
};
