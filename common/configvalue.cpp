#include "configvalue.h"

#include <limits>
#include <utility>

namespace ConfigValue {

std::optional<qint64> parseSize(const QString &input)
{
    static const std::pair<QLatin1StringView, qint64> units[] = {
        {QLatin1StringView("kib"), 1024},
        {QLatin1StringView("kb"), 1024},
        {QLatin1StringView("k"), 1024},
        {QLatin1StringView("mib"), 1024 * 1024},
        {QLatin1StringView("mb"), 1024 * 1024},
        {QLatin1StringView("m"), 1024 * 1024},
        {QLatin1StringView("gib"), 1024LL * 1024 * 1024},
        {QLatin1StringView("gb"), 1024LL * 1024 * 1024},
        {QLatin1StringView("g"), 1024LL * 1024 * 1024},
        {QLatin1StringView("b"), 1},
    };
    QString text = input.trimmed().toLower();
    qint64 factor = 1;
    for (const auto &[suffix, unit] : units) {
        if (text.endsWith(suffix)) {
            text.chop(suffix.size());
            factor = unit;
            break;
        }
    }
    bool ok = false;
    const qint64 n = text.trimmed().toLongLong(&ok);
    if (!ok || n < 0 || n > std::numeric_limits<qint64>::max() / factor)
        return std::nullopt;
    return n * factor;
}

std::optional<QString> fromEnvironment(const QStringList &environment, QLatin1StringView name)
{
    const QString prefix = name + QLatin1Char('=');
    for (const QString &entry : environment)
        if (entry.startsWith(prefix) && entry.size() > prefix.size())
            return entry.mid(prefix.size());
    return std::nullopt;
}

} // namespace ConfigValue
