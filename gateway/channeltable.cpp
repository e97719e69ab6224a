#include "channeltable.h"

#include <QLoggingCategory>

#include <algorithm>

// The table is part of the hub: same category.
Q_LOGGING_CATEGORY(lcChannelTable, "llmstreamer.hub")

int ChannelTable::count(QByteArrayView name, qint64 payloadBytes, qint64 outputTokens, qint64 ts)
{
    const int index = indexOf(name);
    Row &row = m_rows[size_t(index)];
    ++row.received;
    ++m_received;
    row.bytes += quint64(std::max<qint64>(payloadBytes, 0));
    row.outputTokens += quint64(std::max<qint64>(outputTokens, 0));
    row.lastTs = ts;
    return index;
}

int ChannelTable::indexOf(QByteArrayView name)
{
    // Producers publish bursts on one channel: the last answer saves a hash (SipHash in Qt 6)
    // and an allocation per message.
    if (m_last >= 0 && m_rows[size_t(m_last)].name == name)
        return m_last;
    m_last = lookup(name);
    return m_last;
}

int ChannelTable::lookup(QByteArrayView name)
{
    if (name.size() > maxTrackedNameBytes)
        return aggregateRow(QByteArrayLiteral("(long names)"),
                            "channel names longer than 256 bytes");
    const QByteArray key = name.toByteArray();
    if (const auto it = m_index.constFind(key); it != m_index.constEnd())
        return *it;
    if (m_rows.size() >= size_t(maxTrackedChannels) ||
        m_nameBytes + key.size() > maxTrackedNameTotal)
        return aggregateRow(QByteArrayLiteral("(other)"),
                            "more than 1000 channels, or 64 KiB of channel names");
    m_nameBytes += key.size();
    m_rows.push_back(Row{key});
    m_index.insert(key, int(m_rows.size() - 1));
    return int(m_rows.size() - 1);
}

int ChannelTable::aggregateRow(const QByteArray &name, const char *why)
{
    // Created once, and said so once.
    if (const auto it = m_index.constFind(name); it != m_index.constEnd())
        return *it;
    Row row{name};
    row.aggregate = true;
    m_rows.push_back(row);
    m_index.insert(name, int(m_rows.size() - 1));
    qCWarning(lcChannelTable, "%s seen; counting them as %s", why, name.constData());
    return int(m_rows.size() - 1);
}

void ChannelTable::tick(double seconds)
{
    double tokenRate = 0;
    for (Row &s : m_rows) {
        s.rate = double(s.received - s.receivedAtTick) / seconds;
        s.tokenRate = double(s.outputTokens - s.tokensAtTick) / seconds;
        s.receivedAtTick = s.received;
        s.tokensAtTick = s.outputTokens;
        tokenRate += s.tokenRate;
    }
    m_rate = double(m_received - m_receivedAtTick) / seconds;
    m_receivedAtTick = m_received;
    m_tokenRate = tokenRate;
}
