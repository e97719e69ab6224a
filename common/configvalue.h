#pragma once

#include <QLatin1StringView>
#include <QString>
#include <QStringList>

#include <optional>

// Small parsers shared by the programs' option handling (flags > environment > defaults).
namespace ConfigValue {

// "8388608", "64K", "8M", "1G" (also "KB"/"KiB", "B", any case); anything else is refused
// rather than read as a number of bytes. Negative sizes and overflow are refused.
std::optional<qint64> parseSize(const QString &text);

// The value of NAME in an environment given as "NAME=value" entries; nullopt when it is absent
// or empty.
std::optional<QString> fromEnvironment(const QStringList &environment, QLatin1StringView name);

} // namespace ConfigValue
