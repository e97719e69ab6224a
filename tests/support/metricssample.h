#pragma once

#include <QByteArray>
#include <QList>

// The sample of `series` (a name with its labels, as /metrics writes it) in a Prometheus text,
// or -1 when it is not there. For tests that read the gateway's /metrics.
inline double metricsSample(const QByteArray &metrics, const QByteArray &series)
{
    for (const QByteArray &line : metrics.split('\n'))
        if (line.startsWith(QByteArray(series + ' ')))
            return line.mid(series.size() + 1).toDouble();
    return -1;
}
