#pragma once

#include "redispublisher.h"

#include <QByteArrayList>
#include <QList>
#include <QObject>
#include <QPair>
#include <QSet>
#include <QString>
#include <QTimer>

#include <map>
#include <vector>

// Publishes numbered messages "<channel> <n>" (n from 0 on each channel) round-robin on the
// channels "<prefix>0" … through a RedisPublisher, `burst` at a time on a timer, and checks what
// arrived against what was published. For the tests of Redis Cluster (the cluster routing and
// the streams end to end), which link llmstreamer_producer; header-only, as the test support
// library does not.
class NumberedFeed
{
public:
    NumberedFeed(RedisPublisher *publisher, const QByteArray &prefix, int channels, int burst)
        : m_publisher(publisher), m_burst(burst)
    {
        for (int c = 0; c < channels; ++c)
            m_channels.append(prefix + QByteArray::number(c));
        QObject::connect(&m_timer, &QTimer::timeout, [this] {
            for (int i = 0; i < m_burst; ++i)
                publishOne();
        });
    }
    void start(int intervalMs = 5) { m_timer.start(intervalMs); }
    void stop() { m_timer.stop(); }
    void publishOne()
    {
        const QByteArray &channel = m_channels.at(int(m_total % quint64(m_channels.size())));
        m_publisher->publish(channel, channel + ' ' + QByteArray::number(m_next[channel]++));
        ++m_total;
    }
    quint64 published() const { return m_total; }
    const QByteArrayList &channels() const { return m_channels; }
    // Per channel: the next number it publishes.
    std::map<QByteArray, int> next() const { return m_next; }
    // Every message published, as its payload.
    QSet<QByteArray> all() const
    {
        QSet<QByteArray> out;
        for (const auto &[channel, next] : m_next)
            for (int n = 0; n < next; ++n)
                out.insert(channel + ' ' + QByteArray::number(n));
        return out;
    }

    struct Check
    {
        QString problem;    // empty: every number from `from` on is there, first arrivals in order
        int missing = 0;    // numbers below `from` that never arrived
        int duplicates = 0; // entries that repeat a number
    };
    // `entries` as (channel, payload); `from`: per channel, the first number that must have
    // arrived (0 when absent).
    Check check(const QList<QPair<QByteArray, QByteArray>> &entries,
                const std::map<QByteArray, int> &from = {}) const
    {
        Check result;
        std::map<QByteArray, QList<int>> got;
        for (const auto &[channel, data] : entries)
            got[channel].append(data.sliced(data.lastIndexOf(' ') + 1).toInt());
        for (const QByteArray &channel : m_channels) {
            const int published = m_next.count(channel) ? m_next.at(channel) : 0;
            const int required = from.count(channel) ? from.at(channel) : 0;
            std::vector<bool> seen(size_t(published), false);
            int last = -1;
            for (int n : got[channel]) {
                if (n < 0 || n >= published) {
                    result.problem = QStringLiteral("%1: %2 was never published")
                                         .arg(QString::fromUtf8(channel))
                                         .arg(n);
                    return result;
                }
                if (seen[size_t(n)]) {
                    ++result.duplicates;
                    continue;
                }
                if (n < last && result.problem.isEmpty())
                    result.problem = QStringLiteral("%1: %2 arrived after %3")
                                         .arg(QString::fromUtf8(channel))
                                         .arg(n)
                                         .arg(last);
                seen[size_t(n)] = true;
                last = n;
            }
            for (int n = 0; n < published; ++n) {
                if (seen[size_t(n)])
                    continue;
                if (n >= required && result.problem.isEmpty())
                    result.problem =
                        QStringLiteral("%1: %2 is missing").arg(QString::fromUtf8(channel)).arg(n);
                if (n < required)
                    ++result.missing;
            }
        }
        return result;
    }

private:
    RedisPublisher *m_publisher;
    int m_burst;
    QByteArrayList m_channels;
    std::map<QByteArray, int> m_next;
    quint64 m_total = 0;
    QTimer m_timer;
};
