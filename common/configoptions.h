#pragma once

#include <QString>
#include <QStringList>

#include <functional>
#include <optional>
#include <vector>

// A program's options as one table of rows (flag, environment variable, default, help, and what
// a value does), from which the command-line parser, the --help text and every error message are
// built, so the three cannot drift apart. A value comes from the flag if given (even empty),
// else from the environment variable unless it is empty, else the default stands.
class ConfigOptions final
{
public:
    struct Row
    {
        QString name;      // the flag without "--"
        QString valueName; // shown in --help as <valueName>
        QString help;      // what it does, one or two sentences, no trailing period
        const char *environment = nullptr;
        QString defaultText; // shown in --help; empty: none
        // Takes a value; returns why it is refused (e.g. "\"x\" is not a port number"), or empty.
        std::function<QString(const QString &value)> apply;
    };

    enum class Outcome { Parsed, Help, Version, Refused };

    explicit ConfigOptions(QString description) : m_description(std::move(description)) {}
    void add(Row row) { m_rows.push_back(std::move(row)); }

    // Parses `arguments` (arguments[0] is the program) and `environment` ("NAME=value"), applying
    // the rows in table order. On Help, `output` is the help text; on Refused, the reason, naming
    // the flag or variable it came from and ending with "Try --help.".
    Outcome parse(const QStringList &arguments, const QStringList &environment, QString *output);

    // Value helpers for rows: an integer in [min, max] ("\"v\" is not <what> (min-max)") and a
    // size like 64K ("\"v\" is not <what>", e.g. "a size from 1K to 64K").
    template <typename T>
    static std::function<QString(const QString &)> integer(T *target, qint64 min, qint64 max,
                                                           const QString &what)
    {
        return [=](const QString &v) -> QString {
            const auto n = parseInteger(v, min, max);
            if (!n)
                return QStringLiteral("\"%1\" is not %2 (%3-%4)").arg(v, what).arg(min).arg(max);
            *target = static_cast<T>(*n);
            return {};
        };
    }
    static std::function<QString(const QString &)> size(qint64 *target, qint64 min, qint64 max,
                                                        const QString &what);

private:
    static std::optional<qint64> parseInteger(const QString &text, qint64 min, qint64 max);

    QString m_description;
    std::vector<Row> m_rows;
};
