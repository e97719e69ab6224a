#include "historysearch.h"

#include "historyfetcher.h"

#include <QRegularExpression>

HistorySearch::HistorySearch(QObject *parent) : QObject(parent), m_fetcher(new HistoryFetcher(this))
{
    connect(m_fetcher, &HistoryFetcher::pageFetched, this, &HistorySearch::handlePage);
    connect(m_fetcher, &HistoryFetcher::fetchFailed, this, &HistorySearch::handleFailed);
    connect(m_fetcher, &HistoryFetcher::busyChanged, this, [this](bool busy) {
        if (!busy && m_waiting && m_active) {
            // Cancelled from outside: the feed moved to another gateway or other channels.
            m_waiting = false;
            m_error = tr("the search was interrupted because the gateway or the channels "
                         "changed; search again");
        }
        Q_EMIT changed();
    });
}

HistorySearch::~HistorySearch() = default;

QString HistorySearch::queryFor(const QString &filterText, bool isRegex)
{
    if (!isRegex || filterText.isEmpty())
        return filterText;
    static const QRegularExpression written(QStringLiteral("^/.*/[ims]*$"),
                                            QRegularExpression::DotMatchesEverythingOption);
    if (filterText.size() > 1 && written.match(filterText).hasMatch())
        return filterText;
    return u'/' + filterText + QStringLiteral("/i");
}

bool HistorySearch::isBusy() const
{
    return m_fetcher->isBusy();
}

void HistorySearch::start(const QString &query)
{
    m_query = query;
    m_before.clear();
    m_stopped.clear();
    m_error.clear();
    m_scanned = 0;
    m_found = 0;
    m_active = true;
    m_waiting = true;
    m_fetcher->fetch({QString(), query, m_pageSize});
    Q_EMIT changed();
}

void HistorySearch::searchOlder()
{
    if (!canSearchOlder() || isBusy())
        return;
    m_error.clear();
    m_waiting = true;
    m_fetcher->fetch({m_before, m_query, m_pageSize});
    Q_EMIT changed();
}

void HistorySearch::cancel()
{
    m_active = false;
    m_waiting = false;
    m_fetcher->cancel();
    Q_EMIT changed();
}

void HistorySearch::handlePage(const LogPage &page)
{
    if (!m_active || page.request.query != m_query)
        return;
    m_waiting = false;
    m_before = page.before;
    m_stopped = page.stopped;
    m_scanned += page.scanned;
    m_found += int(page.records.size());
    Q_EMIT pageFound(page);
    Q_EMIT changed();
}

void HistorySearch::handleFailed(const QString &reason)
{
    if (!m_active)
        return;
    m_waiting = false;
    m_error = reason;
    Q_EMIT changed();
}
