#include "history.h"

#include "channelglob.h"
#include "envelope.h"
#include "eventencoding.h"
#include "eventid.h"
#include "replayring.h"
#include "streamreader.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QPointer>
#include <QUrlQuery>
#include <QVarLengthArray>

#include <algorithm>

namespace {

// Entries per XREVRANGE of a history search: bounds what one reply holds.
constexpr int streamPageEntries = 128;

// The flags of a /regex/flags query: those of JavaScript's RegExp that mean something here
// (g and y do not; u is how Qt matches anyway).
std::optional<QRegularExpression::PatternOptions> regexOptions(QStringView flags)
{
    QRegularExpression::PatternOptions options = QRegularExpression::UseUnicodePropertiesOption;
    for (const QChar f : flags) {
        if (f == QLatin1Char('i'))
            options |= QRegularExpression::CaseInsensitiveOption;
        else if (f == QLatin1Char('m'))
            options |= QRegularExpression::MultilineOption;
        else if (f == QLatin1Char('s'))
            options |= QRegularExpression::DotMatchesEverythingOption;
        else if (f != QLatin1Char('g') && f != QLatin1Char('u') && f != QLatin1Char('y'))
            return std::nullopt;
    }
    return options;
}

} // namespace

std::optional<HistoryQuery> HistoryQuery::parse(const QUrlQuery &query, QString *error)
{
    HistoryQuery q;
    if (query.hasQueryItem(QStringLiteral("limit"))) {
        bool ok = false;
        q.m_limit = query.queryItemValue(QStringLiteral("limit")).toInt(&ok);
        if (!ok || q.m_limit < 1 || q.m_limit > maxLimit) {
            *error = QStringLiteral("limit= must be a number of events from 1 to %1").arg(maxLimit);
            return std::nullopt;
        }
    }
    q.m_before =
        query.queryItemValue(QStringLiteral("before"), QUrl::FullyDecoded).trimmed().toUtf8();
    const QString text = query.queryItemValue(QStringLiteral("q"), QUrl::FullyDecoded);
    // "/source/flags", as the dashboard's filter box reads it; anything else is plain text.
    const qsizetype close = text.lastIndexOf(QLatin1Char('/'));
    if (text.size() >= 2 && text.startsWith(QLatin1Char('/')) && close > 0) {
        const auto options = regexOptions(QStringView(text).sliced(close + 1));
        if (!options) {
            *error = QStringLiteral("q= regex flags may be i, m, s (and g, u, y, which change "
                                    "nothing here): \"%1\"")
                         .arg(text.sliced(close + 1));
            return std::nullopt;
        }
        q.m_regex = QRegularExpression(text.sliced(1, close - 1), *options);
        if (!q.m_regex.isValid()) {
            *error = QStringLiteral("q= is not a valid regex: %1 at offset %2")
                         .arg(q.m_regex.errorString())
                         .arg(q.m_regex.patternErrorOffset());
            return std::nullopt;
        }
        q.m_isRegex = true;
    } else {
        q.m_needle = text;
    }
    return q;
}

bool HistoryQuery::selects(QByteArrayView channel) const
{
    return m_selection.isEmpty() ||
           std::any_of(m_selection.begin(), m_selection.end(),
                       [&](const QByteArray &glob) { return ChannelGlob::matches(glob, channel); });
}

bool HistoryQuery::matchesText(QByteArrayView channel, QByteArrayView payload) const
{
    if (!hasText())
        return true;
    // What the dashboard's filter looks at too: the channel, then the payload's text.
    const QString hay = QString::fromUtf8(channel) + QLatin1Char(' ') + QString::fromUtf8(payload);
    if (!m_needle.isEmpty())
        return hay.contains(m_needle, Qt::CaseInsensitive);
    return m_regex.match(hay).hasMatch();
}

bool HistoryPage::examine(const QByteArray &id, QByteArrayView channel, QByteArrayView payload,
                          const std::function<QByteArray()> &envelope)
{
    if (m_stopped)
        return false;
    if (m_query.selects(channel) && m_query.matchesText(channel, payload)) {
        m_envelopes.push_back(envelope());
        if (qsizetype(m_envelopes.size()) >= m_query.limit()) {
            ++m_scanned;
            m_oldestExamined = id;
            m_stopped = "limit";
            return false;
        }
    }
    return skip(id);
}

bool HistoryPage::skip(const QByteArray &id)
{
    if (m_stopped)
        return false;
    ++m_scanned;
    m_oldestExamined = id;
    if (m_scanned >= HistoryQuery::scanLimit) {
        m_stopped = "scan-limit";
        return false;
    }
    return true;
}

HistoryAnswer HistoryPage::finish(bool reachedStart)
{
    const char *stopped = m_stopped ? m_stopped : reachedStart ? "start" : "scan-limit";
    const bool more = !(reachedStart && !m_stopped) && !m_oldestExamined.isEmpty();
    QByteArray body;
    qsizetype size = 128;
    for (const QByteArray &e : m_envelopes)
        size += e.size() + 1;
    body.reserve(size);
    body.append("{\"events\":[");
    for (auto it = m_envelopes.crbegin(); it != m_envelopes.crend(); ++it) {
        if (it != m_envelopes.crbegin())
            body.append(',');
        body.append(*it);
    }
    body.append("],\"before\":");
    if (more)
        body.append('"').append(m_oldestExamined).append('"'); // ids are [0-9s-] only
    else
        body.append("null");
    body.append(",\"scanned\":")
        .append(QByteArray::number(m_scanned))
        .append(",\"stopped\":\"")
        .append(stopped)
        .append("\",\"transport\":\"")
        .append(m_transport)
        .append("\"}");
    return {200, body};
}

namespace History {

QByteArray envelopeOfFrame(QByteArrayView frame)
{
    // "id: <id>\ndata: <json>\n\n", or one data line per line of the JSON.
    QByteArray json;
    qsizetype pos = 0;
    bool first = true;
    while (pos < frame.size()) {
        qsizetype end = frame.indexOf('\n', pos);
        if (end < 0)
            end = frame.size();
        const QByteArrayView line = frame.sliced(pos, end - pos);
        if (line.startsWith("data: ")) {
            if (!first)
                json.append('\n');
            json.append(line.sliced(6));
            first = false;
        }
        pos = end + 1;
    }
    return json;
}

HistoryAnswer fromRing(const ReplayRing &ring, qint64 boot, const HistoryQuery &query)
{
    qint64 from = ring.lastSeq();
    if (!query.before().isEmpty()) {
        const auto before = EventId::parse(query.before());
        if (!before || before->boot != boot)
            return {400, "before= is not an event id of this gateway (it restarted since, or "
                         "the id is of the streams transport): \"" +
                             query.before() + "\"\n"};
        from = std::min(from, before->seq - 1);
    }
    HistoryPage page(query, "pubsub");
    const qint64 first = ring.isEmpty() ? 1 : ring.firstSeq();
    qint64 seq = from;
    for (; seq >= first && !page.done(); --seq) {
        const ReplayRing::Entry *e = ring.find(seq);
        if (!e)
            break;
        const QByteArray id = EventId{boot, seq}.toByteArray();
        if (e->channel < 0) {
            page.skip(id); // a gap: not an event of any channel
            continue;
        }
        // Only a text search needs the payload itself (the envelope decoded); the envelope is
        // taken out of the frame once, for that and for the answer.
        QByteArray envelope;
        QByteArray payload;
        if (query.hasText() && query.selects(e->name)) {
            envelope = envelopeOfFrame(e->frame);
            if (const auto decoded = Envelope::decode(envelope)) {
                payload =
                    decoded->payload.isString()
                        ? decoded->payload.toString().toUtf8()
                        : QJsonDocument(decoded->payload.toObject()).toJson(QJsonDocument::Compact);
            }
        }
        page.examine(id, e->name, payload,
                     [&] { return envelope.isEmpty() ? envelopeOfFrame(e->frame) : envelope; });
    }
    return page.finish(seq < first);
}

} // namespace History

StreamHistorySearch::StreamHistorySearch(QList<StreamReader *> readers, HistoryQuery query,
                                         Allowed allowed, qint64 maxPayloadBytes, Done done,
                                         QObject *parent)
    : QObject(parent), m_readers(std::move(readers)), m_lanes(size_t(m_readers.size())),
      m_query(std::move(query)), m_page(m_query, "streams"), m_allowed(std::move(allowed)),
      m_maxPayloadBytes(maxPayloadBytes), m_done(std::move(done))
{}

StreamHistorySearch::~StreamHistorySearch() = default;

void StreamHistorySearch::start()
{
    const int partitions = int(m_readers.size());
    if (!m_query.before().isEmpty()) {
        int own = -1;
        const auto cursor = StreamCursor::parseEventId(m_query.before(), partitions, &own);
        if (!cursor) {
            finish(
                {400, "before= is not an event id of this stream (" +
                          (partitions == 1 ? QByteArray("s<ms>-<seq>")
                                           : "c1,<ms>-<seq>,... with " +
                                                 QByteArray::number(partitions) + " partitions") +
                          "): \"" + m_query.before() + "\"\n"});
            return;
        }
        // The event's own entry is left out; what the id covers of the other partitions was
        // read before it, so it is older in the reader's view: in.
        for (int p = 0; p < partitions; ++p) {
            const StreamId at = cursor->at(p);
            Lane &lane = m_lanes[size_t(p)];
            if (p == own) {
                lane.before = at.toEntryId();
            } else if (at == StreamId{}) {
                lane.exhausted = true;
            } else {
                lane.before = at.next().toEntryId(); // exclusive: `at` itself is in
            }
        }
    }
    walk();
}

void StreamHistorySearch::fetch(int partition)
{
    Lane &lane = m_lanes[size_t(partition)];
    lane.fetching = true;
    m_readers.at(partition)->fetchBefore(
        lane.before, streamPageEntries,
        [self = QPointer<StreamHistorySearch>(this), partition](const StreamPage &page) {
            if (self)
                self->take(partition, page);
        });
}

void StreamHistorySearch::take(int partition, const StreamPage &page)
{
    Lane &lane = m_lanes[size_t(partition)];
    lane.fetching = false;
    if (m_finished)
        return;
    if (!page.error.isEmpty()) {
        finish({503, "the history cannot be read now: " + page.error.toUtf8() + '\n'});
        return;
    }
    for (auto it = page.entries.crbegin(); it != page.entries.crend(); ++it)
        lane.entries.push_back(*it);
    lane.exhausted = page.reachedEnd || page.firstId.isEmpty();
    lane.before = page.firstId;
    walk();
}

void StreamHistorySearch::walk()
{
    const int partitions = int(m_lanes.size());
    QVarLengthArray<char, StreamId::maxEventIdLength> idBuf(
        StreamCursor::maxEventIdLength(partitions));
    while (!m_page.done()) {
        // Every partition with more to read needs its newest unexamined entry at hand.
        bool waiting = false;
        for (int p = 0; p < partitions; ++p) {
            Lane &lane = m_lanes[size_t(p)];
            if (lane.entries.empty() && !lane.exhausted) {
                if (!lane.fetching)
                    fetch(p);
                waiting = true;
            }
        }
        if (waiting)
            return;
        // The newest of them (ties between partitions: the higher partition first).
        int newest = -1;
        StreamId newestId;
        StreamCursor heads(partitions);
        for (int p = 0; p < partitions; ++p) {
            const Lane &lane = m_lanes[size_t(p)];
            if (lane.entries.empty())
                continue;
            const StreamId id =
                StreamId::parseEntryId(lane.entries.front().id).value_or(StreamId{});
            heads.set(p, id);
            if (newest < 0 || id >= newestId) {
                newest = p;
                newestId = id;
            }
        }
        if (newest < 0)
            break; // all read: the stream's start
        Lane &lane = m_lanes[size_t(newest)];
        const StreamEntry e = std::move(lane.entries.front());
        lane.entries.pop_front();
        // Where a reader that read everything in this order stands after this entry: the
        // others at their newest entry older than it.
        const QByteArray id(idBuf.data(), heads.writeEventId(idBuf.data(), newest));
        if (!m_allowed(e.channel)) {
            m_page.skip(id);
            continue;
        }
        m_page.examine(id, e.channel, e.data, [&] {
            QByteArray envelope;
            EventEncoding::appendEnvelope(envelope, id, e.channel, newestId.ms, e.data,
                                          m_maxPayloadBytes);
            return envelope;
        });
    }
    bool reachedStart = true;
    for (const Lane &lane : m_lanes)
        reachedStart = reachedStart && lane.exhausted && lane.entries.empty();
    finish(m_page.finish(reachedStart));
}

void StreamHistorySearch::finish(const HistoryAnswer &answer)
{
    if (m_finished)
        return;
    m_finished = true;
    const Done done = std::move(m_done);
    deleteLater();
    if (done)
        done(answer);
}
