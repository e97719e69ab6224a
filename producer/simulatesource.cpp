#include "simulatesource.h"

#include "redispublisher.h"

#include <algorithm>

namespace {
constexpr int batchWhenUnlimited = 500; // records per event-loop pass with rate 0
}

SimulateSource::SimulateSource(const LogSimulator::Config &config, const Settings &settings,
                               RedisPublisher *publisher, QObject *parent)
    : QObject(parent), m_simulator(config), m_settings(settings), m_publisher(publisher)
{
    m_tickTimer.setTimerType(Qt::PreciseTimer);
    m_tickTimer.setInterval(m_settings.rate > 0 ? std::clamp(int(1000.0 / m_settings.rate), 1, 50)
                                                : 0);
    connect(&m_tickTimer, &QTimer::timeout, this, &SimulateSource::tick);
    m_durationTimer.setSingleShot(true);
    m_durationTimer.setTimerType(Qt::PreciseTimer); // a coarse one may end 5% early
    connect(&m_durationTimer, &QTimer::timeout, this, &SimulateSource::stop);
    connect(m_publisher, &RedisPublisher::spaceAvailable, this, [this] {
        if (!m_finished && !m_tickTimer.isActive())
            m_tickTimer.start();
    });
}

void SimulateSource::start()
{
    m_clock.start();
    m_due = 1; // the first record right away
    if (m_settings.duration.count() > 0)
        m_durationTimer.start(m_settings.duration);
    m_tickTimer.start();
    tick();
}

void SimulateSource::stop()
{
    if (m_finished)
        return;
    m_finished = true;
    m_tickTimer.stop();
    m_durationTimer.stop();
    Q_EMIT finished();
}

bool SimulateSource::generateOne()
{
    if (m_settings.count > 0 && m_generated >= quint64(m_settings.count)) {
        stop();
        return false;
    }
    const LogSimulator::Record record = m_simulator.next(QDateTime::currentDateTimeUtc());
    m_publisher->publish(record.channel, record.json);
    ++m_generated;
    if (m_settings.count > 0 && m_generated >= quint64(m_settings.count)) {
        stop();
        return false;
    }
    return true;
}

void SimulateSource::tick()
{
    if (m_finished)
        return;
    if (m_settings.rate <= 0) {
        for (int i = 0; i < batchWhenUnlimited; ++i) {
            if (!m_publisher->hasRoom()) {
                m_tickTimer.stop(); // resumed by spaceAvailable()
                return;
            }
            if (!generateOne())
                return;
        }
        return;
    }
    const qint64 nowMs = m_clock.elapsed();
    m_due += double(nowMs - m_lastTickMs) * m_settings.rate / 1000.0;
    m_lastTickMs = nowMs;
    // After a stall (suspended laptop, slow machine) catch up by at most one second's worth.
    m_due = std::min(m_due, std::max(1.0, m_settings.rate));
    while (m_due >= 1.0) {
        m_due -= 1.0;
        if (!generateOne())
            return;
    }
}
