#pragma once

#include "logsimulator.h"

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

#include <chrono>

class RedisPublisher;

// Drives a LogSimulator at a steady rate (or as fast as the publisher takes records, with rate 0)
// until a count or a duration is reached, whichever comes first.
class SimulateSource final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SimulateSource)

public:
    struct Settings
    {
        double rate = 20;                      // records per second; 0: as fast as possible
        qint64 count = 0;                      // 0: no limit
        std::chrono::milliseconds duration{0}; // 0: no limit
    };

    SimulateSource(const LogSimulator::Config &config, const Settings &settings,
                   RedisPublisher *publisher, QObject *parent = nullptr);

    void start();
    void stop();

    quint64 generated() const { return m_generated; }
    bool isFinished() const { return m_finished; }

Q_SIGNALS:
    // The count or duration was reached; the records may not be acknowledged yet.
    void finished();

private:
    void tick();
    bool generateOne();

    LogSimulator m_simulator;
    Settings m_settings;
    RedisPublisher *m_publisher;
    QTimer m_tickTimer;
    QTimer m_durationTimer;
    QElapsedTimer m_clock;
    qint64 m_lastTickMs = 0;
    double m_due = 0; // records owed to the schedule
    quint64 m_generated = 0;
    bool m_finished = false;
};
