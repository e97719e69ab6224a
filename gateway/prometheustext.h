#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include <initializer_list>
#include <utility>

// Builds a Prometheus text exposition (format 0.0.4): HELP/TYPE headers once per family,
// label values escaped (backslash, quote, newline) and made valid UTF-8.
class PrometheusText final
{
public:
    using Labels = std::initializer_list<std::pair<QByteArrayView, QByteArrayView>>;

    // Starts a metric family; `type` is "counter" or "gauge".
    void family(QByteArrayView name, QByteArrayView type, QByteArrayView help);
    void sample(QByteArrayView name, Labels labels, double value);
    void sample(QByteArrayView name, double value) { sample(name, {}, value); }

    QByteArray text() const { return m_out; }

    static QByteArray escapeLabelValue(QByteArrayView value);

private:
    QByteArray m_out;
};
