#pragma once

#include "logpage.h"

#include <QObject>
#include <QString>

class HistoryFetcher;

// One search of the gateway's history (GET /api/history?q=): the newest matches first, then,
// on searchOlder(), the page before where the last one stopped. The gateway examines a bounded
// number of entries per request, so a page may stop short ("scan-limit") with matches still
// further back: scanned() says how far the search has looked so far.
class HistorySearch final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HistorySearch)

public:
    static constexpr int defaultPageSize = 200;

    explicit HistorySearch(QObject *parent = nullptr);
    ~HistorySearch() override;

    // Where the requests go; LogFeed points it at the feed's gateway, token and channels.
    HistoryFetcher *fetcher() const { return m_fetcher; }

    // The filter box's text as the gateway's q=: a regular expression as /…/i (the filter box
    // matches case-insensitively too), unless it is written as /…/flags already.
    static QString queryFor(const QString &filterText, bool isRegex);

    // Starts over with the newest matches of `query`.
    void start(const QString &query);
    // The next older page; does nothing when nothing older is held or a page is on its way.
    void searchOlder();
    void cancel();
    void setPageSize(int limit) { m_pageSize = limit; }

    QString query() const { return m_query; }
    bool isActive() const { return m_active; }
    bool isBusy() const;
    int found() const { return m_found; }
    qint64 scanned() const { return m_scanned; } // entries examined by every page so far
    // The last page's "stopped": "limit", "scan-limit" or "start"; empty before the first.
    QString stopped() const { return m_stopped; }
    bool canSearchOlder() const { return m_active && !m_before.isEmpty(); }
    // The reason the last request failed; empty after a page arrived.
    QString error() const { return m_error; }

Q_SIGNALS:
    // A page of matches, oldest first; the newest page of a search has an empty request.before.
    void pageFound(const LogPage &page);
    // Any of the state above changed (busy included).
    void changed();

private:
    void handlePage(const LogPage &page);
    void handleFailed(const QString &reason);

    HistoryFetcher *m_fetcher;
    QString m_query;
    QString m_before; // for the next older page
    QString m_stopped;
    QString m_error;
    qint64 m_scanned = 0;
    int m_found = 0;
    int m_pageSize = defaultPageSize;
    bool m_active = false;
    bool m_waiting = false; // a request of this search is on its way
};
