#pragma once

#include <QChartView>
#include <QElapsedTimer>
#include <QHash>
#include <QList>
#include <QString>
#include <QTimer>

#include <deque>

class QJsonObject;
class QLineSeries;
class QValueAxis;

// Messages per second over the last two minutes, per channel and in total, with output tokens
// per second on a second axis once records carry token counts. Fed by the gateway's once-a-second
// `stats` events, so it shows the producers' true rate whatever the log view filters or pauses.
// Redrawn once a second with one replace() per series (as Qt's dynamicspline example does).
class ThroughputChart final : public QChartView
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ThroughputChart)

public:
    static constexpr int windowSeconds = 120;
    static constexpr int maxChannelSeries = 8;

    explicit ThroughputChart(QWidget *parent = nullptr);
    ~ThroughputChart() override;

    // One `stats` event: {"ts", "rate", "tokens_rate", "channels": {name: {"rate", ...}}}.
    void addStats(const QJsonObject &stats);
    void clear();
    // Rebuilds the series from the samples now (the timer does it every second).
    void refresh();

    int sampleCount() const { return int(m_samples.size()); }
    QLineSeries *totalSeries() const { return m_total; }
    QLineSeries *tokensSeries() const { return m_tokens; }
    QLineSeries *channelSeries(const QString &channel) const { return m_channels.value(channel); }
    QStringList channelNames() const { return m_channelOrder; }

protected:
    void changeEvent(QEvent *event) override;

private:
    struct Sample
    {
        qint64 ts = 0; // gateway time, ms
        double total = 0;
        double tokens = 0;
        QHash<QString, double> channels;
    };

    QLineSeries *addSeries(const QString &name, const QColor &color, qreal width, QValueAxis *axis,
                           Qt::PenStyle style = Qt::SolidLine);
    void applyPalette();
    QColor channelColor(int index) const;

    QChart *m_chart;
    QValueAxis *m_x;
    QValueAxis *m_y;
    QValueAxis *m_yTokens;
    QLineSeries *m_total;
    QLineSeries *m_tokens;
    QHash<QString, QLineSeries *> m_channels;
    QStringList m_channelOrder;
    std::deque<Sample> m_samples;
    QElapsedTimer m_sinceNewest; // local time since the newest sample arrived
    QTimer m_tick;
    bool m_sawTokens = false;
};
