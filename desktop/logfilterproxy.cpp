#include "logfilterproxy.h"

#include "logmodel.h"

#include <QLatin1StringView>

LogFilterProxy::LogFilterProxy(QObject *parent) : QSortFilterProxyModel(parent)
{
    // New rows are tested as they arrive; nothing is ever sorted (the log stays in order).
    setDynamicSortFilter(true);
}

void LogFilterProxy::setLogModel(LogModel *model)
{
    m_model = model;
    setSourceModel(model);
}

int LogFilterProxy::sourceRow(int proxyRow) const
{
    return mapToSource(index(proxyRow, 0)).row();
}

QString LogFilterProxy::setTextFilter(const QString &text, bool isRegex)
{
    if (text == m_text && isRegex == m_isRegex)
        return {};
    if (isRegex && !text.isEmpty()) {
        QRegularExpression regex(text, QRegularExpression::CaseInsensitiveOption |
                                           QRegularExpression::DontCaptureOption);
        if (!regex.isValid())
            return tr("invalid regular expression at character %1: %2")
                .arg(regex.patternErrorOffset())
                .arg(regex.errorString());
        regex.optimize();
        m_regex = regex;
    }
    m_text = text;
    m_isRegex = isRegex;
    bool ascii = true;
    for (const QChar c : text)
        ascii = ascii && c.unicode() < 0x80;
    m_asciiNeedle = ascii ? text.toLatin1() : QByteArray();
    invalidateFilter();
    return {};
}

void LogFilterProxy::setMinimumLevel(LogLevel level)
{
    if (level == m_minimumLevel)
        return;
    m_minimumLevel = level;
    invalidateFilter();
}

void LogFilterProxy::setChannels(const std::optional<QSet<QString>> &channels)
{
    if (channels == m_channels)
        return;
    m_channels = channels;
    invalidateFilter();
}

bool LogFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    if (sourceParent.isValid() || !m_model)
        return false;
    return accepts(m_model->record(sourceRow));
}

bool LogFilterProxy::accepts(const LogRecord &record) const
{
    if (record.isMarker())
        return true;
    if (m_channels && !m_channels->contains(record.channel()))
        return false;
    if (m_minimumLevel != LogLevel::None && record.level < m_minimumLevel)
        return false;
    return m_text.isEmpty() || matchesText(record);
}

bool LogFilterProxy::matchesText(const LogRecord &r) const
{
    const QString *labels[] = {nullptr, nullptr, nullptr, nullptr};
    if (r.labels)
        labels[0] = &r.labels->channel, labels[1] = &r.labels->service,
        labels[2] = &r.labels->model, labels[3] = &r.labels->errorType;
    if (m_isRegex) {
        if (m_regex.match(r.message()).hasMatch())
            return true;
        for (const QString *label : labels)
            if (label && !label->isEmpty() && m_regex.match(*label).hasMatch())
                return true;
        if (r.level != LogLevel::None && m_regex.match(LogLevels::name(r.level)).hasMatch())
            return true;
        // The whole payload too: request ids and fields without a column.
        return m_regex.match(QString::fromUtf8(r.payloadJson())).hasMatch();
    }
    for (const QString *label : labels)
        if (label && label->contains(m_text, Qt::CaseInsensitive))
            return true;
    if (r.level != LogLevel::None &&
        LogLevels::name(r.level).compare(m_text, Qt::CaseInsensitive) == 0)
        return true;
    if (!r.text.isEmpty() && r.text.contains(m_text, Qt::CaseInsensitive))
        return true;
    // The payload holds the message (unless it came from `text`) and every other field.
    const QByteArrayView payload = r.payloadJson();
    if (!m_asciiNeedle.isEmpty()) {
        // ASCII folds the same in Latin-1 and UTF-8, so the UTF-8 bytes can be searched as is.
        return QLatin1StringView(payload.data(), payload.size())
            .contains(QLatin1StringView(m_asciiNeedle), Qt::CaseInsensitive);
    }
    return QString::fromUtf8(payload).contains(m_text, Qt::CaseInsensitive);
}
