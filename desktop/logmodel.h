#pragma once

#include "logrecord.h"

#include <QAbstractTableModel>
#include <QColor>
#include <QContiguousCache>
#include <QSet>
#include <QTimer>

#include <vector>

// The log lines, newest last, in a bounded ring buffer (like qBittorrent's log model): once it
// holds capacity() lines, each new one evicts the oldest, announced to views as a removal of the
// first rows followed by an insertion at the end. Records arriving through enqueue() are handed
// to views in batches at most ~30 times a second, so a flood of events never floods the views.
// Older lines from the gateway's history go in above the oldest (prepend()), into free room only:
// they never evict the newest.
class LogModel final : public QAbstractTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LogModel)

public:
    enum Column {
        TimeColumn,
        ChannelColumn,
        LevelColumn,
        ServiceColumn,
        MessageColumn,
        ModelColumn,
        InputTokensColumn,
        OutputTokensColumn,
        DurationColumn,
        TtftColumn,
        IdColumn, // the trace id, else the request id (LogRecordDecoder::linkedId)
        ColumnCount
    };
    enum Role {
        LevelRole = Qt::UserRole + 1, // int(LogLevel)
        KindRole,                     // int(LogRecord::Kind)
        ChannelRole,                  // QString
        TimestampRole,                // qint64 ms since the epoch
        RawRole,                      // QByteArray: the envelope or marker data as received
        LinkedIdRole,                 // QString: IdColumn's whole id, empty when there is none
    };

    static constexpr qsizetype defaultCapacity = 200'000;
    static constexpr int defaultFlushIntervalMs = 33;

    explicit LogModel(qsizetype capacity = defaultCapacity, QObject *parent = nullptr);
    ~LogModel() override;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

    // Row `row` (0 = oldest kept). The reference is valid until the model changes.
    const LogRecord &record(int row) const;
    qsizetype capacity() const { return m_records.capacity(); }
    // Drops the oldest lines if there are more than `capacity`.
    void setCapacity(qsizetype capacity);

    // Appends now, as one removal (if the buffer overflows) and one insertion.
    void append(std::vector<LogRecord> records);
    // Inserts `records` (oldest first) above the oldest line, as one insertion at row 0. Only as
    // many fit as the buffer has room for beside the lines kept and queued; the newest of
    // `records` (those next to the oldest line) are kept. Returns how many went in.
    int prepend(std::vector<LogRecord> records);
    // The id of the oldest message line (markers have none); empty when there is none.
    QString oldestMessageId() const;
    // The ids of the oldest `count` message lines.
    QSet<QString> oldestMessageIds(int count) const;
    // Queues a record for the next batch.
    void enqueue(LogRecord record);
    // Hands the queued records to the views now.
    void flush();
    qsizetype pendingCount() const { return qsizetype(m_pending.size()); }
    void setFlushInterval(int ms) { m_flushTimer.setInterval(ms); }
    void clear();

    // Lines ever appended / evicted to make room (clear() does not count as eviction).
    quint64 totalAppended() const { return m_totalAppended; }
    quint64 totalEvicted() const { return m_totalEvicted; }

    // Level and marker colours that read well on the current palette's base colour.
    void setDarkPalette(bool dark);

    static QString formatTime(qint64 msSinceEpoch);

Q_SIGNALS:
    // After each batch reached the views.
    void batchAppended(int count);

private:
    QVariant display(const LogRecord &r, int column) const;
    QColor levelColor(LogLevel level) const;

    QContiguousCache<LogRecord> m_records;
    std::vector<LogRecord> m_pending;
    QTimer m_flushTimer;
    quint64 m_totalAppended = 0;
    quint64 m_totalEvicted = 0;
    bool m_dark = false;
};
