#pragma once

#include "logrecord.h"

#include <QRegularExpression>
#include <QSet>
#include <QSortFilterProxyModel>
#include <QString>

#include <optional>

class LogModel;

// The filtered view of a LogModel: text (case-insensitive, in the columns and the whole payload)
// or a regular expression, a minimum level, and a set of channels. Marker lines (gaps, notices)
// always pass: they are about the stream, not about one channel.
class LogFilterProxy final : public QSortFilterProxyModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LogFilterProxy)

public:
    explicit LogFilterProxy(QObject *parent = nullptr);

    void setLogModel(LogModel *model);

    // Returns an empty string, or why the pattern is not a valid regular expression (the filter
    // then keeps its previous text).
    QString setTextFilter(const QString &text, bool isRegex);
    QString textFilter() const { return m_text; }
    void setMinimumLevel(LogLevel level);
    // nullopt: every channel.
    void setChannels(const std::optional<QSet<QString>> &channels);
    const std::optional<QSet<QString>> &channels() const { return m_channels; }

    bool isFiltering() const
    {
        return !m_text.isEmpty() || m_minimumLevel != LogLevel::None || m_channels.has_value();
    }
    // The source row of a proxy row.
    int sourceRow(int proxyRow) const;

    // The record test itself, usable without a model.
    bool accepts(const LogRecord &record) const;

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    bool matchesText(const LogRecord &record) const;

    LogModel *m_model = nullptr;
    QString m_text;
    bool m_isRegex = false;
    QRegularExpression m_regex;
    QByteArray m_asciiNeedle; // set when the text is ASCII: then the raw bytes are searched
    LogLevel m_minimumLevel = LogLevel::None;
    std::optional<QSet<QString>> m_channels;
};
