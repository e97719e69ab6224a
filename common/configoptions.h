#pragma once

#include <QString>
#include <QStringList>

#include <functional>
#include <memory>
#include <optional>
#include <vector>

class QCommandLineParser;

// A program's options as one table of rows (flag, environment variable, default, help, and what
// a value does), from which the command-line parser, the --help text and every error message are
// built, so the three cannot drift apart. A value comes from the flag if given (even empty),
// else from the environment variable unless it is empty, else the default stands.
//
// A program may have commands (`producer pipe --channel c`): each is a table of its own, added
// with add(Command); the program's rows may then be given before or after the command, and the
// last one given wins.
class ConfigOptions final
{
public:
    enum class Kind {
        Value,      // --name <valueName>
        Switch,     // --name alone; `apply` gets an empty value when it is given
        Positional, // an argument in its place, shown as `name`; in a program with commands,
                    // only a command's rows may be positional
    };

    struct Row
    {
        QString name = {};                 // the flag without "--"
        QString valueName = {};            // shown in --help as <valueName>
        QString help = {};                 // what it does, one or two sentences, no trailing period
        const char *environment = nullptr; // not for switches and positional arguments
        QString defaultText = {};          // shown in --help; empty: none
        // Takes a value; returns why it is refused (e.g. "\"x\" is not a port number"), or empty.
        std::function<QString(const QString &value)> apply = {};
        Kind kind = Kind::Value;
        // Absent or empty is refused: "pipe needs --channel NAME, e.g. <example>", or for a
        // positional argument "follow: which FILE? e.g. <example>". Not for switches.
        bool required = false;
        QString example = {};
    };

    struct Command
    {
        QString name = {};        // e.g. "pipe"
        QString synopsis = {};    // its arguments in the list of commands, e.g. "--channel C"
        QString summary = {};     // its line in that list, no trailing period
        QString description = {}; // the start of its --help
        std::function<void()> selected = {}; // called before any row applies, e.g. for defaults
    };

    enum class Outcome { Parsed, Help, Version, Refused };

    explicit ConfigOptions(QString description) : m_description(std::move(description)) {}

    // With a name, errors read "<program>: <reason>\nTry '<program> --help'." rather than
    // "<reason>\nTry --help.", and the list of commands says how to get a command's help.
    void setProgram(QString program) { m_program = std::move(program); }
    // A paragraph ending the help of the program and of each command (e.g. a guarantee).
    void setNotes(QString notes) { m_notes = std::move(notes); }

    void add(Row row) { m_rows.push_back(std::move(row)); }
    // Returns the command's own table, for its rows.
    ConfigOptions &add(Command command);

    // Parses `arguments` (arguments[0] is the program) and `environment` ("NAME=value"), applying
    // the rows in table order (the program's before the command's). On Help, `output` is the help
    // text; on Refused, the reason, naming the flag or variable it came from and saying to try
    // --help. --help wins over --version and over bad values, not over unknown options or extra
    // arguments.
    Outcome parse(const QStringList &arguments, const QStringList &environment,
                  QString *output) const;

    // Helpers for `apply`: an integer or a number in [min, max] ("\"v\" is not <what>
    // (min-max)"), a size like 64K ("\"v\" is not <what>", e.g. "a size from 1K to 64K"), a
    // switch that sets a flag, and a value of a type with its own parser.
    template <typename T>
    static std::function<QString(const QString &)> integer(T *target, qint64 min, qint64 max,
                                                           const QString &what)
    {
        return [=](const QString &v) -> QString {
            const auto n = parseInteger(v, min, max);
            if (!n)
                return outOfRange(v, what, QString::number(min), QString::number(max));
            *target = static_cast<T>(*n);
            return {};
        };
    }
    static std::function<QString(const QString &)> real(double *target, double min, double max,
                                                        const QString &what);
    template <typename T>
    static std::function<QString(const QString &)> size(T *target, qint64 min, qint64 max,
                                                        const QString &what)
    {
        return [=](const QString &v) -> QString {
            const auto n = parseSize(v, min, max);
            if (!n)
                return QStringLiteral("\"%1\" is not %2").arg(v, what);
            *target = static_cast<T>(*n);
            return {};
        };
    }
    static std::function<QString(const QString &)> enable(bool *target);
    // A value read by a parser that says why it refuses one, e.g. RedisUrl::parse:
    // std::optional<T> parse(const QString &text, QString *why).
    template <typename T, typename Parse>
    static std::function<QString(const QString &)> parsed(T *target, Parse parse)
    {
        return [=](const QString &v) -> QString {
            QString why;
            auto value = parse(v, &why);
            if (!value)
                return why.isEmpty() ? QStringLiteral("\"%1\" is not valid").arg(v) : why;
            *target = std::move(*value);
            return {};
        };
    }
    // For rows whose message the helpers above do not fit; nullopt when outside [min, max].
    static std::optional<qint64> parseInteger(const QString &text, qint64 min, qint64 max);
    static std::optional<double> parseReal(const QString &text, double min, double max);
    static std::optional<qint64> parseSize(const QString &text, qint64 min, qint64 max);

    // Writes a refusal as parse() does ("<program>: <reason>" and where to find help); for checks
    // made after parse() that span several options.
    Outcome refuse(const QString &reason, QString *output) const;

private:
    struct Subcommand
    {
        Command command;
        std::unique_ptr<ConfigOptions> options;
    };

    static QString outOfRange(const QString &value, const QString &what, const QString &min,
                              const QString &max);

    Outcome conclude(const QCommandLineParser &parser, const QCommandLineParser *beforeCommand,
                     const Subcommand *command, const QStringList &environment,
                     QString *output) const;
    QString helpDescription() const;
    void addTo(QCommandLineParser &parser) const;
    QString unexpected(const QStringList &positional) const;
    QString apply(const std::vector<const QCommandLineParser *> &parsers,
                  const QStringList &positional, const QStringList &environment) const;
    QString missing(const Row &row) const;

    QString m_description;
    QString m_program;
    QString m_notes;
    QString m_command; // set on a command's table: its name
    std::vector<Row> m_rows;
    std::vector<Subcommand> m_commands;
};
