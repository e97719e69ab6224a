#include "throughputchart.h"

#include <QEvent>
#include <QJsonObject>
#include <QLegendMarker>
#include <QLineSeries>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace {

// A round axis maximum at or above `v`: 1, 2, 5 × 10^n.
double niceCeiling(double v)
{
    if (v <= 1)
        return 1;
    const double magnitude = std::pow(10.0, std::floor(std::log10(v)));
    for (const double step : {1.0, 2.0, 2.5, 5.0, 10.0})
        if (step * magnitude >= v)
            return step * magnitude;
    return 10 * magnitude;
}

bool isDark(const QPalette &palette)
{
    return palette.color(QPalette::Window).lightness() < 128;
}

} // namespace

ThroughputChart::ThroughputChart(QWidget *parent)
    // Given its chart at construction: setChart() later would leave the default one behind.
    : QChartView(new QChart, parent), m_chart(chart()), m_x(new QValueAxis), m_y(new QValueAxis),
      m_yTokens(new QValueAxis)
{
    setRenderHint(QPainter::Antialiasing);
    setMinimumHeight(140);
    m_chart->setAnimationOptions(QChart::NoAnimation); // a new point every second: no tweening
    m_chart->setDropShadowEnabled(false);
    m_chart->setBackgroundRoundness(0);
    m_chart->setMargins(QMargins(4, 4, 4, 0));
    m_chart->legend()->setAlignment(Qt::AlignTop);
    m_chart->legend()->setShowToolTips(true);

    m_x->setRange(-windowSeconds, 0);
    m_x->setTickCount(7);
    m_x->setLabelFormat(QStringLiteral("%d s"));
    m_y->setRange(0, 1);
    m_y->setLabelFormat(QStringLiteral("%g"));
    m_y->setTitleText(tr("messages/s"));
    m_yTokens->setRange(0, 1);
    m_yTokens->setLabelFormat(QStringLiteral("%g"));
    m_yTokens->setTitleText(tr("tokens/s"));
    m_yTokens->setVisible(false);
    m_chart->addAxis(m_x, Qt::AlignBottom);
    m_chart->addAxis(m_y, Qt::AlignLeft);
    m_chart->addAxis(m_yTokens, Qt::AlignRight);

    m_total = addSeries(tr("total"), QColor(), 2.5, m_y);
    m_tokens =
        addSeries(tr("output tokens/s"), QColor(0x9c, 0x6a, 0xde), 1.5, m_yTokens, Qt::DashLine);
    m_tokens->setVisible(false);
    m_chart->legend()->markers(m_tokens).value(0)->setVisible(false);
    applyPalette();

    m_tick.setInterval(1000);
    connect(&m_tick, &QTimer::timeout, this, &ThroughputChart::refresh);
    m_tick.start();
}

ThroughputChart::~ThroughputChart() = default;

QLineSeries *ThroughputChart::addSeries(const QString &name, const QColor &color, qreal width,
                                        QValueAxis *axis, Qt::PenStyle style)
{
    auto *series = new QLineSeries(m_chart);
    series->setName(name);
    m_chart->addSeries(series);
    series->attachAxis(m_x);
    series->attachAxis(axis);
    QPen pen(color.isValid() ? color : palette().color(QPalette::WindowText));
    pen.setWidthF(width);
    pen.setStyle(style);
    series->setPen(pen);
    return series;
}

QColor ThroughputChart::channelColor(int index) const
{
    // Distinct hues that read on light and dark backgrounds.
    static const QColor light[] = {QColor(0x1f, 0x77, 0xb4), QColor(0xd6, 0x27, 0x28),
                                   QColor(0x2c, 0xa0, 0x2c), QColor(0xff, 0x7f, 0x0e),
                                   QColor(0x17, 0xbe, 0xcf), QColor(0x8c, 0x56, 0x4b),
                                   QColor(0xe3, 0x77, 0xc2), QColor(0xbc, 0xbd, 0x22)};
    static const QColor dark[] = {QColor(0x6c, 0xb4, 0xee), QColor(0xff, 0x7b, 0x72),
                                  QColor(0x7e, 0xe7, 0x87), QColor(0xff, 0xa6, 0x57),
                                  QColor(0x56, 0xd4, 0xdd), QColor(0xd2, 0xa8, 0x78),
                                  QColor(0xf7, 0x8c, 0xc8), QColor(0xe3, 0xd0, 0x4f)};
    return (isDark(palette()) ? dark : light)[index % maxChannelSeries];
}

void ThroughputChart::addStats(const QJsonObject &stats)
{
    Sample s;
    s.ts = stats.value(QLatin1StringView("ts")).toInteger();
    if (s.ts <= 0)
        return;
    s.total = stats.value(QLatin1StringView("rate")).toDouble();
    s.tokens = stats.value(QLatin1StringView("tokens_rate")).toDouble();
    const QJsonObject channels = stats.value(QLatin1StringView("channels")).toObject();
    for (auto it = channels.begin(); it != channels.end(); ++it) {
        const double rate = it.value().toObject().value(QLatin1StringView("rate")).toDouble();
        s.channels.insert(it.key(), rate);
        if (!m_channels.contains(it.key()) && m_channels.size() < maxChannelSeries) {
            // Qt Charts lays out legend labels (and their tooltips) as HTML: a channel name
            // is anyone's text, so it goes in escaped.
            QLineSeries *series =
                addSeries(it.key().toHtmlEscaped(), channelColor(int(m_channels.size())), 1.5, m_y);
            m_channels.insert(it.key(), series);
            m_channelOrder.append(it.key());
        }
    }
    if (s.tokens > 0 && !m_sawTokens) {
        m_sawTokens = true;
        m_tokens->setVisible(true);
        m_yTokens->setVisible(true);
        m_chart->legend()->markers(m_tokens).value(0)->setVisible(true);
    }
    // A gateway restart (or clock step) can send an older time: start the window over.
    if (!m_samples.empty() && s.ts <= m_samples.back().ts)
        m_samples.clear();
    m_samples.push_back(std::move(s));
    while (m_samples.front().ts < m_samples.back().ts - windowSeconds * 1000)
        m_samples.pop_front();
    m_sinceNewest.start();
}

void ThroughputChart::clear()
{
    m_samples.clear();
    refresh();
}

void ThroughputChart::refresh()
{
    // x = seconds before now, "now" being the newest sample's gateway time plus the local time
    // since it arrived, so a clock difference between gateway and desktop does not matter.
    const qint64 now =
        m_samples.empty()
            ? 0
            : m_samples.back().ts + (m_sinceNewest.isValid() ? m_sinceNewest.elapsed() : 0);
    const auto x = [now](const Sample &s) { return double(s.ts - now) / 1000.0; };

    QList<QPointF> total, tokens;
    total.reserve(qsizetype(m_samples.size()));
    double maxRate = 0, maxTokens = 0;
    for (const Sample &s : m_samples) {
        if (x(s) < -windowSeconds - 1)
            continue;
        total.append(QPointF(x(s), s.total));
        tokens.append(QPointF(x(s), s.tokens));
        maxRate = std::max(maxRate, s.total);
        maxTokens = std::max(maxTokens, s.tokens);
    }
    m_total->replace(total);
    if (m_sawTokens)
        m_tokens->replace(tokens);
    for (auto it = m_channels.cbegin(); it != m_channels.cend(); ++it) {
        QList<QPointF> points;
        points.reserve(total.size());
        for (const Sample &s : m_samples) {
            if (x(s) < -windowSeconds - 1)
                continue;
            const double rate = s.channels.value(it.key());
            points.append(QPointF(x(s), rate));
            maxRate = std::max(maxRate, rate);
        }
        it.value()->replace(points);
    }
    m_y->setRange(0, niceCeiling(maxRate * 1.1));
    if (m_sawTokens)
        m_yTokens->setRange(0, niceCeiling(maxTokens * 1.1));
}

void ThroughputChart::changeEvent(QEvent *event)
{
    QChartView::changeEvent(event);
    if (event->type() == QEvent::PaletteChange)
        applyPalette();
}

void ThroughputChart::applyPalette()
{
    // Follow the system palette instead of a built-in chart theme.
    const QPalette pal = palette();
    const QColor text = pal.color(QPalette::WindowText);
    QColor grid = text;
    grid.setAlphaF(0.12f);
    QColor axisLine = text;
    axisLine.setAlphaF(0.35f);
    m_chart->setBackgroundBrush(pal.brush(QPalette::Base));
    m_chart->setBackgroundPen(Qt::NoPen);
    m_chart->setPlotAreaBackgroundVisible(false);
    m_chart->legend()->setLabelColor(text);
    for (QValueAxis *axis : {m_x, m_y, m_yTokens}) {
        axis->setLabelsColor(text);
        axis->setTitleBrush(text);
        axis->setGridLineColor(grid);
        axis->setLinePenColor(axisLine);
        axis->setMinorGridLineVisible(false);
    }
    QPen totalPen = m_total->pen();
    totalPen.setColor(text);
    m_total->setPen(totalPen);
    int i = 0;
    for (const QString &name : std::as_const(m_channelOrder)) {
        QPen pen = m_channels.value(name)->pen();
        pen.setColor(channelColor(i++));
        m_channels.value(name)->setPen(pen);
    }
    setBackgroundBrush(pal.brush(QPalette::Base));
}
