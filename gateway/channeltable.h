#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QHash>

#include <vector>

// Per-channel counters of the messages the gateway received, and their rates. Channels are
// tracked one by one up to a limit, the rest share aggregate rows, so a producer inventing
// channel names cannot grow memory, /metrics or the stats event without bound (the stats event
// goes to every client once a second).
class ChannelTable final
{
public:
    // Counters of one channel; rates are per second over the last tick().
    struct Row
    {
        QByteArray name;
        quint64 received = 0;
        quint64 delivered = 0;
        quint64 dropped = 0;
        quint64 replayed = 0;
        quint64 bytes = 0;
        quint64 outputTokens = 0;
        qint64 lastTs = 0;
        double rate = 0;
        double tokenRate = 0;
        quint64 receivedAtTick = 0;
        quint64 tokensAtTick = 0;
        bool aggregate = false; // "(other)" or "(long names)": many channels, not one
    };

    // Channels tracked one by one, at most this many and with names of at most this many bytes
    // (and this many in all); the rest share the rows "(other)" and "(long names)".
    static constexpr int maxTrackedChannels = 1000;
    static constexpr qsizetype maxTrackedNameBytes = 256;
    static constexpr qsizetype maxTrackedNameTotal = 64 * 1024;

    // Counts a message of channel `name`; returns the index of the row that counted it.
    int count(QByteArrayView name, qint64 payloadBytes, qint64 outputTokens, qint64 ts);
    // The row counting channel `name`, made if needed.
    int indexOf(QByteArrayView name);

    Row &operator[](int index) { return m_rows[size_t(index)]; }
    const Row &operator[](int index) const { return m_rows[size_t(index)]; }
    const std::vector<Row> &rows() const { return m_rows; }

    // Totals over all rows.
    quint64 received() const { return m_received; }
    double rate() const { return m_rate; }
    double tokenRate() const { return m_tokenRate; }

    // Computes the rates over the `seconds` since the previous call.
    void tick(double seconds);

private:
    int lookup(QByteArrayView name);
    int aggregateRow(const QByteArray &name, const char *why);

    std::vector<Row> m_rows;
    QHash<QByteArray, int> m_index;
    int m_last = -1; // the index indexOf() found last
    qsizetype m_nameBytes = 0;
    quint64 m_received = 0;
    quint64 m_receivedAtTick = 0;
    double m_rate = 0;
    double m_tokenRate = 0;
};
