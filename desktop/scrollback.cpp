#include "scrollback.h"

#include "desktoplogging.h"
#include "historyfetcher.h"
#include "logfeed.h"
#include "logmodel.h"

ScrollBack::ScrollBack(LogModel *model, LogFeed *feed, QObject *parent)
    : QObject(parent), m_model(model), m_feed(feed), m_fetcher(feed->olderLines())
{
    connect(m_fetcher, &HistoryFetcher::pageFetched, this, &ScrollBack::handlePage);
    connect(m_fetcher, &HistoryFetcher::fetchFailed, this, &ScrollBack::failed);
    connect(m_fetcher, &HistoryFetcher::busyChanged, this, &ScrollBack::busyChanged);
}

ScrollBack::~ScrollBack() = default;

bool ScrollBack::isBusy() const
{
    return m_fetcher->isBusy();
}

bool ScrollBack::reachedStart() const
{
    return m_startKnown && m_startAt == oldestId();
}

QString ScrollBack::oldestId() const
{
    if (QString oldest = m_model->oldestMessageId(); !oldest.isEmpty())
        return oldest;
    // Not the newest page: in streams mode it may hold entries the stream has yet to deliver,
    // which would then come twice.
    if (QString last = m_feed->lastMessage().id(); !last.isEmpty())
        return last;
    return QString::fromUtf8(m_feed->connection()->lastEventId());
}

void ScrollBack::loadOlder()
{
    m_model->flush(); // queued lines count as shown
    if (reachedStart()) {
        Q_EMIT nothingOlder();
        return;
    }
    const QString before = oldestId();
    // Scrolling keeps asking for the same page while it is on its way; a new oldest line (the
    // log was cleared, or lines were evicted) supersedes it.
    if (isBusy() && m_asked == before)
        return;
    m_asked = before;
    m_fetcher->fetch({before, QString(), m_pageSize});
}

void ScrollBack::handlePage(const LogPage &page)
{
    m_model->flush();
    if (page.request.before != oldestId()) {
        // Lines were evicted or cleared while it was on its way: it would not meet the top.
        Q_EMIT failed(tr("the log changed while older lines were loading; try again"));
        return;
    }
    std::vector<LogRecord> lines(page.records);
    // A cleared log: the page ends just before the last message received, which goes below it.
    if (m_model->oldestMessageId().isEmpty() && !page.request.before.isEmpty() &&
        m_feed->lastMessage().id() == page.request.before)
        lines.push_back(m_feed->lastMessage());
    QSet<QString> shown = m_model->oldestMessageIds(int(lines.size()) + 1);
    std::vector<LogRecord> older;
    older.reserve(lines.size());
    for (const LogRecord &record : lines) {
        const QString id = record.id();
        if (id.isEmpty() || !shown.contains(id)) {
            shown.insert(id);
            older.push_back(record);
        }
    }
    const int wanted = int(older.size());
    const int count = m_model->prepend(std::move(older));
    const bool atStart = page.reachedStart();
    if (atStart) {
        m_startKnown = true;
        m_startAt = oldestId();
    }
    qCInfo(lcDesktopUi, "scroll-back: %d older lines before %s%s", count,
           qUtf8Printable(page.request.before), atStart ? ", nothing older held" : "");
    if (count == 0 && wanted == 0 && atStart)
        Q_EMIT nothingOlder();
    else
        Q_EMIT loaded(count, wanted - count, atStart);
}
