#include "configoptions.h"

#include "configvalue.h"

#include <QCommandLineParser>

ConfigOptions::Outcome ConfigOptions::parse(const QStringList &arguments,
                                            const QStringList &environment, QString *output)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(m_description);
    const QCommandLineOption help(QStringList{QStringLiteral("h"), QStringLiteral("help")},
                                  QStringLiteral("Show this help."));
    const QCommandLineOption version(QStringList{QStringLiteral("v"), QStringLiteral("version")},
                                     QStringLiteral("Show the version."));
    parser.addOptions({help, version});
    std::vector<QCommandLineOption> options;
    for (const Row &row : m_rows) {
        QString text = row.help;
        if (row.environment || !row.defaultText.isEmpty()) {
            QStringList bracket;
            if (row.environment)
                bracket << QLatin1String(row.environment);
            if (!row.defaultText.isEmpty())
                bracket << QStringLiteral("default ") + row.defaultText;
            text += QStringLiteral(" [") + bracket.join(QStringLiteral(", ")) + QLatin1Char(']');
        }
        options.emplace_back(row.name, text + QLatin1Char('.'), row.valueName);
        parser.addOption(options.back());
    }

    auto refuse = [&](const QString &message) {
        *output = message + QStringLiteral("\nTry --help.\n");
        return Outcome::Refused;
    };
    if (!parser.parse(arguments))
        return refuse(parser.errorText());
    if (!parser.positionalArguments().isEmpty())
        return refuse(
            QStringLiteral("unexpected argument: %1").arg(parser.positionalArguments().first()));
    if (parser.isSet(help)) {
        *output = parser.helpText();
        return Outcome::Help;
    }
    if (parser.isSet(version))
        return Outcome::Version;

    for (size_t i = 0; i < m_rows.size(); ++i) {
        const Row &row = m_rows[i];
        std::optional<QString> value;
        QString origin;
        if (parser.isSet(options[i])) {
            value = parser.value(options[i]);
            origin = QStringLiteral("--") + row.name;
        } else if (row.environment) {
            value = ConfigValue::fromEnvironment(environment, QLatin1StringView(row.environment));
            origin = QLatin1String(row.environment);
        }
        if (!value)
            continue;
        if (const QString why = row.apply(*value); !why.isEmpty())
            return refuse(origin + QStringLiteral(": ") + why);
    }
    return Outcome::Parsed;
}

std::function<QString(const QString &)> ConfigOptions::size(qint64 *target, qint64 min, qint64 max,
                                                            const QString &what)
{
    return [=](const QString &v) -> QString {
        const auto n = ConfigValue::parseSize(v);
        if (!n || *n < min || *n > max)
            return QStringLiteral("\"%1\" is not %2").arg(v, what);
        *target = *n;
        return {};
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
