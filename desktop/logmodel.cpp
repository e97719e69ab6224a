#include "logmodel.h"

#include "logrecorddecoder.h"
#include "plaintooltip.h"

#include <QDateTime>
#include <QFont>

#include <algorithm>

LogModel::LogModel(qsizetype capacity, QObject *parent) : QAbstractTableModel(parent)
{
    m_records.setCapacity(std::max<qsizetype>(1, capacity));
    m_flushTimer.setSingleShot(true);
    m_flushTimer.setInterval(defaultFlushIntervalMs);
    connect(&m_flushTimer, &QTimer::timeout, this, &LogModel::flush);
}

LogModel::~LogModel() = default;

int LogModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_records.count());
}

int LogModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

const LogRecord &LogModel::record(int row) const
{
    return m_records.at(m_records.firstIndex() + row);
}

QString LogModel::formatTime(qint64 msSinceEpoch)
{
    return QDateTime::fromMSecsSinceEpoch(msSinceEpoch).toString(QStringLiteral("HH:mm:ss.zzz"));
}

QVariant LogModel::display(const LogRecord &r, int column) const
{
    const auto count = [](qint32 v) { return v < 0 ? QVariant() : QVariant(QString::number(v)); };
    const auto ms = [](float v) {
        return std::isnan(v) ? QVariant() : QVariant(QString::number(qRound64(v)) + u" ms");
    };
    switch (column) {
    case TimeColumn:
        return formatTime(r.ts);
    case ChannelColumn:
        return r.channel();
    case LevelColumn:
        if (r.kind == LogRecord::Kind::Gap)
            return QStringLiteral("GAP");
        if (r.kind == LogRecord::Kind::Notice)
            return QStringLiteral("NOTE");
        return LogLevels::name(r.level);
    case ServiceColumn:
        return r.service();
    case MessageColumn:
        return r.message();
    case ModelColumn: {
        // "meta-llama/Llama-3.1-8B-Instruct" reads as its last part; the tooltip has it whole.
        const QString model = r.model();
        const qsizetype slash = model.lastIndexOf(u'/');
        return slash >= 0 && slash + 1 < model.size() ? model.sliced(slash + 1) : model;
    }
    case InputTokensColumn:
        return count(r.inputTokens);
    case OutputTokensColumn:
        return count(r.outputTokens);
    case DurationColumn:
        return ms(r.durationMs);
    case TtftColumn:
        return ms(r.ttftMs);
    case IdColumn: {
        // 32 hex digits of a trace id read as their first 8, as the dashboard's chip shows them.
        const auto id = LogRecordDecoder::linkedId(r);
        if (!id)
            return {};
        return id->value.size() > 10 ? id->value.first(8) + QChar(0x2026) : id->value;
    }
    default:
        return {};
    }
}

QColor LogModel::levelColor(LogLevel level) const
{
    switch (level) {
    case LogLevel::Fatal:
        return m_dark ? QColor(0xff, 0x5c, 0x8a) : QColor(0xad, 0x14, 0x57);
    case LogLevel::Error:
        return m_dark ? QColor(0xff, 0x6b, 0x6b) : QColor(0xc6, 0x28, 0x28);
    case LogLevel::Warn:
        return m_dark ? QColor(0xff, 0xb7, 0x4d) : QColor(0xa8, 0x5d, 0x00);
    case LogLevel::Info:
        return m_dark ? QColor(0x64, 0xb5, 0xf6) : QColor(0x15, 0x65, 0xc0);
    case LogLevel::Debug:
    case LogLevel::Trace:
        return m_dark ? QColor(0x9e, 0x9e, 0x9e) : QColor(0x75, 0x75, 0x75);
    case LogLevel::None:
        break;
    }
    return {};
}

QVariant LogModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const LogRecord &r = record(index.row());
    const int column = index.column();
    switch (role) {
    case Qt::DisplayRole:
        return display(r, column);
    case Qt::ToolTipRole:
        if (column == MessageColumn) {
            const QString m = r.message();
            return PlainToolTip::fromText(m.size() > 300 ? m.first(300) + QChar(0x2026) : m);
        }
        if (column == TimeColumn)
            return QDateTime::fromMSecsSinceEpoch(r.ts).toString(Qt::ISODateWithMs);
        if (column == ModelColumn)
            return PlainToolTip::fromText(r.model());
        if (column == ServiceColumn)
            return PlainToolTip::fromText(r.service());
        if (column == IdColumn) {
            if (const auto id = LogRecordDecoder::linkedId(r))
                return PlainToolTip::fromText(id->field + u' ' + id->value + u'\n' +
                                              tr("Click to show only the lines of this id"));
        }
        return {};
    case Qt::ForegroundRole:
        if (r.isMarker())
            return m_dark ? QColor(0xff, 0xd8, 0x66) : QColor(0x7a, 0x4f, 0x00);
        if (column == LevelColumn)
            return levelColor(r.level);
        if (r.level >= LogLevel::Error && column == MessageColumn)
            return levelColor(r.level);
        return {};
    case Qt::BackgroundRole:
        if (r.isMarker())
            return m_dark ? QColor(0x4a, 0x3f, 0x1a) : QColor(0xff, 0xf4, 0xce);
        return {};
    case Qt::FontRole:
        if (column == LevelColumn || r.isMarker()) {
            QFont font;
            font.setBold(true);
            return font;
        }
        return {};
    case Qt::TextAlignmentRole:
        if (column >= InputTokensColumn && column <= TtftColumn)
            return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
        return QVariant::fromValue(Qt::AlignLeft | Qt::AlignVCenter);
    case LevelRole:
        return int(r.level);
    case KindRole:
        return int(r.kind);
    case ChannelRole:
        return r.channel();
    case TimestampRole:
        return r.ts;
    case RawRole:
        return r.raw;
    case LinkedIdRole: {
        const auto id = LogRecordDecoder::linkedId(r);
        return id ? id->value : QString();
    }
    default:
        return {};
    }
}

QVariant LogModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::DisplayRole) {
        switch (section) {
        case TimeColumn:
            return tr("Time");
        case ChannelColumn:
            return tr("Channel");
        case LevelColumn:
            return tr("Level");
        case ServiceColumn:
            return tr("Service");
        case MessageColumn:
            return tr("Message");
        case ModelColumn:
            return tr("Model");
        case InputTokensColumn:
            return tr("In");
        case OutputTokensColumn:
            return tr("Out");
        case DurationColumn:
            return tr("Duration");
        case TtftColumn:
            return tr("TTFT");
        case IdColumn:
            return tr("Trace/request");
        default:
            return {};
        }
    }
    if (role == Qt::ToolTipRole) {
        switch (section) {
        case TimeColumn:
            return tr("When the gateway received the message (local time)");
        case InputTokensColumn:
            return tr("Input tokens (gen_ai.usage.input_tokens)");
        case OutputTokensColumn:
            return tr("Output tokens (gen_ai.usage.output_tokens)");
        case DurationColumn:
            return tr("Request duration (duration_ms)");
        case TtftColumn:
            return tr("Time to first token (ttft_ms)");
        case ModelColumn:
            return tr("gen_ai.request.model");
        case IdColumn:
            return tr("trace_id, else request_id; a click shows only the lines of that id");
        default:
            return {};
        }
    }
    if (role == Qt::TextAlignmentRole && section >= InputTokensColumn && section <= TtftColumn)
        return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
    return {};
}

void LogModel::setCapacity(qsizetype capacity)
{
    capacity = std::max<qsizetype>(1, capacity);
    if (capacity == m_records.capacity())
        return;
    if (const qsizetype excess = m_records.count() - capacity; excess > 0) {
        beginRemoveRows({}, 0, int(excess - 1));
        for (qsizetype i = 0; i < excess; ++i)
            m_records.removeFirst();
        m_totalEvicted += quint64(excess);
        endRemoveRows();
    }
    m_records.setCapacity(capacity);
    m_records.normalizeIndexes();
}

void LogModel::append(std::vector<LogRecord> records)
{
    if (records.empty())
        return;
    const qsizetype capacity = m_records.capacity();
    auto first = records.begin();
    if (qsizetype(records.size()) > capacity) {
        // Only the newest `capacity` can be kept; the others are evicted before anyone saw them.
        const qsizetype skipped = qsizetype(records.size()) - capacity;
        first += skipped;
        m_totalAppended += quint64(skipped);
        m_totalEvicted += quint64(skipped);
    }
    const qsizetype incoming = records.end() - first;
    if (const qsizetype overflow = m_records.count() + incoming - capacity; overflow > 0) {
        beginRemoveRows({}, 0, int(overflow - 1));
        for (qsizetype i = 0; i < overflow; ++i)
            m_records.removeFirst();
        m_totalEvicted += quint64(overflow);
        endRemoveRows();
    }
    const int row = int(m_records.count());
    beginInsertRows({}, row, int(row + incoming - 1));
    for (auto it = first; it != records.end(); ++it)
        m_records.append(std::move(*it));
    m_totalAppended += quint64(incoming);
    // Positions only grow; keep them small so they never overflow in a long session. Before
    // endInsertRows(): the views read the new rows from inside it.
    if (m_records.areIndexesValid() == false)
        m_records.normalizeIndexes();
    endInsertRows();
    Q_EMIT batchAppended(int(incoming));
}

int LogModel::prepend(std::vector<LogRecord> records)
{
    const qsizetype room = m_records.capacity() - m_records.count() - pendingCount();
    const qsizetype incoming = std::min<qsizetype>(qsizetype(records.size()), room);
    if (incoming <= 0)
        return 0;
    beginInsertRows({}, 0, int(incoming - 1));
    // Newest first, each above the one before; the oldest of `records` that did not fit stay out.
    for (auto it = records.rbegin(); it != records.rbegin() + incoming; ++it)
        m_records.prepend(std::move(*it));
    // Prepending below index 0 leaves the indexes invalid: QContiguousCache::at() would then
    // read outside its buffer. Valid again before endInsertRows(), whose receivers read the rows.
    if (!m_records.areIndexesValid())
        m_records.normalizeIndexes();
    endInsertRows();
    return int(incoming);
}

QString LogModel::oldestMessageId() const
{
    for (qsizetype i = m_records.firstIndex(); i <= m_records.lastIndex(); ++i)
        if (m_records.at(i).kind == LogRecord::Kind::Message)
            return m_records.at(i).id();
    return {};
}

QSet<QString> LogModel::oldestMessageIds(int count) const
{
    QSet<QString> ids;
    for (qsizetype i = m_records.firstIndex(); i <= m_records.lastIndex() && ids.size() < count;
         ++i) {
        if (m_records.at(i).kind == LogRecord::Kind::Message)
            ids.insert(m_records.at(i).id());
    }
    return ids;
}

void LogModel::enqueue(LogRecord record)
{
    m_pending.push_back(std::move(record));
    // Whatever the views do not take in time would be evicted anyway: keep the queue bounded
    // (trimmed in steps, so erasing from the front stays cheap).
    const auto capacity = size_t(m_records.capacity());
    if (m_pending.size() > capacity + capacity / 4) {
        const auto excess = m_pending.size() - capacity;
        m_pending.erase(m_pending.begin(), m_pending.begin() + qsizetype(excess));
        m_totalAppended += excess;
        m_totalEvicted += excess;
    }
    if (!m_flushTimer.isActive())
        m_flushTimer.start();
}

void LogModel::flush()
{
    m_flushTimer.stop();
    std::vector<LogRecord> batch;
    batch.swap(m_pending);
    append(std::move(batch));
}

void LogModel::clear()
{
    beginResetModel();
    const qsizetype capacity = m_records.capacity();
    m_records.clear();
    m_records.setCapacity(capacity);
    m_pending.clear();
    m_flushTimer.stop();
    endResetModel();
}

void LogModel::setDarkPalette(bool dark)
{
    if (dark == m_dark)
        return;
    m_dark = dark;
    if (!m_records.isEmpty())
        Q_EMIT dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1),
                           {Qt::ForegroundRole, Qt::BackgroundRole});
}
