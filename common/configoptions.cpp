#include "configoptions.h"

#include "configvalue.h"

#include <QCommandLineParser>

#include <algorithm>
#include <cmath>

namespace {

const QString helpName = QStringLiteral("help");
const QString versionName = QStringLiteral("version");

// "Redis to subscribe to [REDIS_URL, default redis://127.0.0.1:6379]."
QString describe(const ConfigOptions::Row &row)
{
    QString text = row.help;
    QStringList bracket;
    if (row.environment)
        bracket << QLatin1String(row.environment);
    if (!row.defaultText.isEmpty())
        bracket << QStringLiteral("default ") + row.defaultText;
    if (!bracket.isEmpty())
        text += QStringLiteral(" [") + bracket.join(QStringLiteral(", ")) + QLatin1Char(']');
    return text + QLatin1Char('.');
}

void addStandardOptions(QCommandLineParser &parser)
{
    parser.addOption(QCommandLineOption(QStringList{QStringLiteral("h"), helpName},
                                        QStringLiteral("Show this help.")));
    parser.addOption(QCommandLineOption(QStringList{QStringLiteral("v"), versionName},
                                        QStringLiteral("Show the version.")));
}

// "simulate, pipe or follow"
QString alternatives(const QStringList &names)
{
    if (names.size() < 2)
        return names.join(QString());
    return names.first(names.size() - 1).join(QStringLiteral(", ")) + QStringLiteral(" or ") +
           names.last();
}

} // namespace

ConfigOptions &ConfigOptions::add(Command command)
{
    auto options = std::make_unique<ConfigOptions>(command.description);
    options->m_command = command.name;
    ConfigOptions &table = *options;
    m_commands.push_back(Subcommand{std::move(command), std::move(options)});
    return table;
}

ConfigOptions::Outcome ConfigOptions::parse(const QStringList &arguments,
                                            const QStringList &environment, QString *output) const
{
    QCommandLineParser first;
    first.setApplicationDescription(helpDescription());
    addStandardOptions(first);
    addTo(first);
    if (m_commands.empty()) {
        if (!first.parse(arguments))
            return refuse(first.errorText(), output);
        return conclude(first, nullptr, nullptr, environment, output);
    }

    QStringList names;
    for (const Subcommand &sub : m_commands)
        names << sub.command.name;
    first.addPositionalArgument(QStringLiteral("command"), alternatives(names) + QLatin1Char('.'),
                                QStringLiteral("<command> [options]"));
    // Everything after the command is the command's, parsed below.
    first.setOptionsAfterPositionalArgumentsMode(QCommandLineParser::ParseAsPositionalArguments);
    if (!first.parse(arguments))
        return refuse(first.errorText(), output);
    const QStringList positional = first.positionalArguments();
    if (positional.isEmpty()) {
        if (first.isSet(helpName)) {
            *output = first.helpText();
            return Outcome::Help;
        }
        if (first.isSet(versionName))
            return Outcome::Version;
        return refuse(QStringLiteral("no command given; use ") + alternatives(names), output);
    }
    const auto sub = std::find_if(m_commands.begin(), m_commands.end(), [&](const Subcommand &s) {
        return s.command.name == positional.first();
    });
    if (sub == m_commands.end())
        return refuse(QStringLiteral("unknown command \"%1\"; use %2")
                          .arg(positional.first(), alternatives(names)),
                      output);

    QCommandLineParser second;
    second.setApplicationDescription(
        sub->options->m_description +
        (m_notes.isEmpty() ? QString() : QStringLiteral("\n\n") + m_notes));
    addStandardOptions(second);
    addTo(second); // the program's options may also follow the command
    second.addPositionalArgument(sub->command.name, QStringLiteral("The command."));
    sub->options->addTo(second);
    if (!second.parse(QStringList{arguments.value(0)} + positional.mid(1)))
        return refuse(second.errorText(), output);
    return conclude(second, &first, &*sub, environment, output);
}

// What is left once the command line parsed: extra arguments, --help, --version, the values.
ConfigOptions::Outcome ConfigOptions::conclude(const QCommandLineParser &parser,
                                               const QCommandLineParser *beforeCommand,
                                               const Subcommand *command,
                                               const QStringList &environment,
                                               QString *output) const
{
    const ConfigOptions &last = command ? *command->options : *this;
    const QStringList positional = parser.positionalArguments();
    if (const QString why = last.unexpected(positional); !why.isEmpty())
        return refuse(why, output);
    auto given = [&](const QString &name) {
        return parser.isSet(name) || (beforeCommand && beforeCommand->isSet(name));
    };
    if (given(helpName)) {
        *output = parser.helpText();
        return Outcome::Help;
    }
    if (given(versionName))
        return Outcome::Version;

    if (command && command->command.selected)
        command->command.selected();
    // A program option given after the command wins over one given before it.
    std::vector<const QCommandLineParser *> parsers{&parser};
    if (beforeCommand)
        parsers.push_back(beforeCommand);
    QString why = apply(parsers, command ? QStringList() : positional, environment);
    if (why.isEmpty() && command)
        why = command->options->apply({&parser}, positional, environment);
    if (!why.isEmpty())
        return refuse(why, output);
    return Outcome::Parsed;
}

QString ConfigOptions::helpDescription() const
{
    QString text = m_description;
    if (!m_commands.empty()) {
        text += QStringLiteral("\n\nCommands:\n");
        for (const Subcommand &sub : m_commands) {
            QString head = QStringLiteral("  ") + sub.command.name;
            if (!sub.command.synopsis.isEmpty())
                head += QLatin1Char(' ') + sub.command.synopsis;
            // Summaries line up in one column, under a head too long to leave two spaces.
            constexpr qsizetype column = 22;
            text += head.size() <= column - 2 ? head.leftJustified(column)
                                              : head + QLatin1Char('\n') + QString(column, u' ');
            text += sub.command.summary + QStringLiteral(".\n");
        }
        text += QStringLiteral("\nRun '%1<command> --help' for the options of a command.")
                    .arg(m_program.isEmpty() ? QString() : m_program + QLatin1Char(' '));
    }
    if (!m_notes.isEmpty())
        text += QStringLiteral("\n\n") + m_notes;
    return text;
}

void ConfigOptions::addTo(QCommandLineParser &parser) const
{
    for (const Row &row : m_rows) {
        switch (row.kind) {
        case Kind::Value:
            parser.addOption(QCommandLineOption(row.name, describe(row), row.valueName));
            break;
        case Kind::Switch:
            parser.addOption(QCommandLineOption(row.name, describe(row)));
            break;
        case Kind::Positional:
            parser.addPositionalArgument(
                row.name, describe(row),
                row.required ? row.name : QLatin1Char('[') + row.name + QLatin1Char(']'));
            break;
        }
    }
}

QString ConfigOptions::unexpected(const QStringList &positional) const
{
    const auto expected = std::count_if(
        m_rows.begin(), m_rows.end(), [](const Row &row) { return row.kind == Kind::Positional; });
    if (positional.size() <= expected)
        return {};
    const QString &extra = positional.at(expected);
    if (m_command.isEmpty())
        return QStringLiteral("unexpected argument: ") + extra;
    return QStringLiteral("%1: unexpected argument \"%2\"").arg(m_command, extra);
}

QString ConfigOptions::apply(const std::vector<const QCommandLineParser *> &parsers,
                             const QStringList &positional, const QStringList &environment) const
{
    qsizetype nextPositional = 0;
    for (const Row &row : m_rows) {
        std::optional<QString> value;
        QString origin;
        if (row.kind == Kind::Positional) {
            value = nextPositional < positional.size()
                        ? std::optional<QString>(positional.at(nextPositional))
                        : std::nullopt;
            ++nextPositional;
            origin = row.name;
        } else if (const auto given = std::find_if(
                       parsers.begin(), parsers.end(),
                       [&](const QCommandLineParser *p) { return p->isSet(row.name); });
                   given != parsers.end()) {
            value = row.kind == Kind::Switch ? QString() : (*given)->value(row.name);
            origin = QStringLiteral("--") + row.name;
        } else if (row.environment && row.kind == Kind::Value) {
            value = ConfigValue::fromEnvironment(environment, QLatin1StringView(row.environment));
            origin = QLatin1String(row.environment);
        }
        if (row.required && (!value || value->isEmpty()))
            return missing(row);
        if (!value)
            continue;
        if (const QString why = row.apply(*value); !why.isEmpty())
            return origin + QStringLiteral(": ") + why;
    }
    return {};
}

QString ConfigOptions::missing(const Row &row) const
{
    const QString example =
        row.example.isEmpty() ? QString() : QStringLiteral(" e.g. ") + row.example;
    if (row.kind == Kind::Positional)
        return (m_command.isEmpty() ? QString() : m_command + QStringLiteral(": ")) +
               QStringLiteral("which ") + row.name + QLatin1Char('?') + example;
    return (m_command.isEmpty() ? QStringLiteral("missing")
                                : m_command + QStringLiteral(" needs")) +
           QStringLiteral(" --") + row.name + QLatin1Char(' ') + row.valueName.toUpper() +
           (example.isEmpty() ? QString() : QLatin1Char(',') + example);
}

ConfigOptions::Outcome ConfigOptions::refuse(const QString &reason, QString *output) const
{
    *output = m_program.isEmpty()
                  ? reason + QStringLiteral("\nTry --help.\n")
                  : QStringLiteral("%1: %2\nTry '%1 --help'.\n").arg(m_program, reason);
    return Outcome::Refused;
}

QString ConfigOptions::outOfRange(const QString &value, const QString &what, const QString &min,
                                  const QString &max)
{
    return QStringLiteral("\"%1\" is not %2 (%3-%4)").arg(value, what, min, max);
}

std::function<QString(const QString &)> ConfigOptions::real(double *target, double min, double max,
                                                            const QString &what)
{
    return [=](const QString &v) -> QString {
        const auto n = parseReal(v, min, max);
        if (!n)
            return outOfRange(v, what, QString::number(min, 'g', 16),
                              QString::number(max, 'g', 16));
        *target = *n;
        return {};
    };
}

std::function<QString(const QString &)> ConfigOptions::enable(bool *target)
{
    return [=](const QString &) {
        *target = true;
        return QString();
    };
}

std::optional<qint64> ConfigOptions::parseInteger(const QString &text, qint64 min, qint64 max)
{
    bool ok = false;
    const qint64 n = text.trimmed().toLongLong(&ok);
    if (!ok || n < min || n > max)
        return std::nullopt;
    return n;
}

std::optional<double> ConfigOptions::parseReal(const QString &text, double min, double max)
{
    bool ok = false;
    const double n = text.trimmed().toDouble(&ok);
    if (!ok || !std::isfinite(n) || n < min || n > max)
        return std::nullopt;
    return n;
}

std::optional<qint64> ConfigOptions::parseSize(const QString &text, qint64 min, qint64 max)
{
    const auto n = ConfigValue::parseSize(text);
    if (!n || *n < min || *n > max)
        return std::nullopt;
    return n;
}
