#pragma once

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QRandomGenerator>
#include <QString>

// Generates the log records of a busy LLM serving backend: one JSON object per record, with the
// OpenTelemetry GenAI fields the clients show as columns. Pure: the same config and the same
// timestamps give the same records, so it is tested without Redis or a clock.
//
// Channels (with the default prefix): logs:generation gets INFO and DEBUG request records,
// logs:errors the WARN and ERROR ones, logs:metrics a throughput/latency/queue summary every
// metricsEvery records.
class LogSimulator final
{
public:
    struct Config
    {
        QString service = QStringLiteral("llm-backend");
        QByteArray channelPrefix = "logs";
        quint32 seed = 1;
        int metricsEvery = 40; // records between two summaries (about every 2 s at 20 msgs/s)
    };
    struct Record
    {
        QByteArray channel;
        QByteArray json;
    };

    explicit LogSimulator(const Config &config);

    Record next(const QDateTime &now);

    QByteArray generationChannel() const { return m_generationChannel; }
    QByteArray errorsChannel() const { return m_errorsChannel; }
    QByteArray metricsChannel() const { return m_metricsChannel; }

private:
    Record requestRecord(const QDateTime &now);
    Record metricsRecord(const QDateTime &now);

    Config m_config;
    QRandomGenerator m_rng;
    QByteArray m_generationChannel;
    QByteArray m_errorsChannel;
    QByteArray m_metricsChannel;
    // Since the last summary.
    int m_sinceMetrics = 0;
    QDateTime m_windowStart;
    int m_windowRequests = 0;
    int m_windowErrors = 0;
    qint64 m_windowInputTokens = 0;
    qint64 m_windowOutputTokens = 0;
    QList<qint64> m_windowDurations;
    QList<qint64> m_windowTtfts;
    int m_queueDepth = 4; // a random walk: requests waiting for a batch slot
};
