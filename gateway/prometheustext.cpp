#include "prometheustext.h"

#include <QLocale>
#include <QString>

#include <cmath>

void PrometheusText::family(QByteArrayView name, QByteArrayView type, QByteArrayView help)
{
    m_out.append("# HELP ").append(name).append(' ');
    for (char c : help) {
        if (c == '\\')
            m_out.append("\\\\");
        else if (c == '\n')
            m_out.append("\\n");
        else
            m_out.append(c);
    }
    m_out.append("\n# TYPE ").append(name).append(' ').append(type).append('\n');
}

void PrometheusText::sample(QByteArrayView name, Labels labels, double value)
{
    m_out.append(name);
    if (labels.size() > 0) {
        m_out.append('{');
        bool first = true;
        for (const auto &[key, val] : labels) {
            if (!first)
                m_out.append(',');
            first = false;
            m_out.append(key).append("=\"").append(escapeLabelValue(val)).append('"');
        }
        m_out.append('}');
    }
    m_out.append(' ');
    if (std::isnan(value))
        m_out.append("NaN");
    else if (std::isinf(value))
        m_out.append(value > 0 ? "+Inf" : "-Inf");
    else if (value == std::floor(value) && std::fabs(value) < 9.0e15)
        m_out.append(QByteArray::number(static_cast<qint64>(value)));
    else
        m_out.append(QByteArray::number(value, 'g', QLocale::FloatingPointShortest)); // exact
    m_out.append('\n');
}

QByteArray PrometheusText::escapeLabelValue(QByteArrayView value)
{
    // Round-tripping through QString replaces invalid UTF-8 with U+FFFD.
    const QByteArray utf8 = QString::fromUtf8(value).toUtf8();
    QByteArray out;
    out.reserve(utf8.size());
    for (char c : utf8) {
        if (c == '\\')
            out.append("\\\\");
        else if (c == '"')
            out.append("\\\"");
        else if (c == '\n')
            out.append("\\n");
        else
            out.append(c);
    }
    return out;
}
