#pragma once

#include <QByteArray>
#include <QByteArrayList>
#include <QByteArrayView>
#include <QList>
#include <QObject>
#include <QRegularExpression>
#include <QString>

#include "streampage.h"

#include <deque>
#include <functional>
#include <optional>
#include <vector>

class QUrlQuery;
class ReplayRing;
class StreamReader;

// What GET /api/history?channels=&before=&limit=&q= asks for: a page of the events before an id
// (the newest without one), of the selected channels, optionally only those whose text matches
// `q` (plain text in any case, or /regex/flags). The channel selection is checked and set by
// the server, as for /events.
class HistoryQuery
{
public:
    static constexpr int defaultLimit = 100;
    static constexpr int maxLimit = 1000;
    // Entries examined per request at most: a search through a long history answers with where
    // it stopped, and the client asks again from there.
    static constexpr int scanLimit = 10'000;

    // Reads limit, before and q; nullopt with the reason when one is malformed.
    static std::optional<HistoryQuery> parse(const QUrlQuery &query, QString *error);

    int limit() const { return m_limit; }
    const QByteArray &before() const { return m_before; }
    bool hasText() const { return !m_needle.isEmpty() || m_isRegex; }
    void setSelection(QByteArrayList selection) { m_selection = std::move(selection); }
    // Whether an event of `channel` with `payload` belongs in the answer.
    bool selects(QByteArrayView channel) const;
    bool matchesText(QByteArrayView channel, QByteArrayView payload) const;

private:
    int m_limit = defaultLimit;
    QByteArray m_before;
    QString m_needle;
    QRegularExpression m_regex;
    bool m_isRegex = false;
    QByteArrayList m_selection; // empty: every channel
};

// The answer to one /api/history request.
struct HistoryAnswer
{
    int status = 200;
    QByteArray body; // JSON for 200, else the reason as text
};

// Collects an answer newest first, as the history is read, and writes it oldest first:
// {"events":[envelopes],"before":id|null,"scanned":n,"stopped":"limit"|"scan-limit"|"start",
//  "transport":"pubsub"|"streams"}.
class HistoryPage
{
public:
    HistoryPage(const HistoryQuery &query, const char *transport)
        : m_query(query), m_transport(transport)
    {}

    // Examines one event, `envelope` made only if it is taken (it is a callback because making
    // it costs more than deciding). Returns false once the page is done (full, or the scan
    // limit reached); `id` is then where the next page starts.
    bool examine(const QByteArray &id, QByteArrayView channel, QByteArrayView payload,
                 const std::function<QByteArray()> &envelope);
    // Counts an entry that was looked at but is no event for anyone (a gap, an entry outside
    // the allowlist); false once the scan limit is reached.
    bool skip(const QByteArray &id);
    bool done() const { return m_stopped != nullptr; }
    // The answer; `reachedStart`: nothing older than what was examined is held.
    HistoryAnswer finish(bool reachedStart);

private:
    const HistoryQuery &m_query;
    const char *m_transport;
    std::vector<QByteArray> m_envelopes; // newest first
    QByteArray m_oldestExamined;
    int m_scanned = 0;
    const char *m_stopped = nullptr;
};

namespace History {

// The page of the pub/sub transport, from the gateway's ring (`boot`: the ids' first part).
HistoryAnswer fromRing(const ReplayRing &ring, qint64 boot, const HistoryQuery &query);

// The envelope carried by an SSE frame of the ring ("id: …\ndata: …\n\n", maybe several data
// lines).
QByteArray envelopeOfFrame(QByteArrayView frame);

} // namespace History

// Answers one /api/history request of the streams transport from Redis, XREVRANGE page by page,
// until the page is full, the scan limit is reached or the stream's start. With several
// partitions, their pages are merged newest first by entry id (then partition), and each
// event's id is the position of a reader that read them all in that order (its own partition
// marked), so `before=` with it goes on exactly there; `before=` with a live event's id leaves
// that entry out and keeps the others that id covers. Deletes itself once it has called `done`
// (from the event loop).
class StreamHistorySearch final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(StreamHistorySearch)

public:
    using Done = std::function<void(const HistoryAnswer &)>;
    using Allowed = std::function<bool(QByteArrayView channel)>;

    // One reader per partition, in partition order.
    StreamHistorySearch(QList<StreamReader *> readers, HistoryQuery query, Allowed allowed,
                        qint64 maxPayloadBytes, Done done, QObject *parent = nullptr);
    ~StreamHistorySearch() override;

    void start();

private:
    struct Lane
    {
        std::deque<StreamEntry> entries; // read, not yet examined; newest first
        QByteArray before;               // where the next page ends (exclusive); empty: newest
        bool exhausted = false;          // nothing older left to read
        bool fetching = false;
    };
    void fetch(int partition);
    void take(int partition, const StreamPage &page);
    // Examines entries, newest first, while every partition with more to read has some read.
    void walk();
    void finish(const HistoryAnswer &answer);

    QList<StreamReader *> m_readers;
    std::vector<Lane> m_lanes;
    HistoryQuery m_query;
    HistoryPage m_page;
    Allowed m_allowed;
    qint64 m_maxPayloadBytes;
    Done m_done;
    bool m_finished = false;
};
