#include "commandline.h"

#include "configvalue.h"
#include "desktopsettings.h"
#include "gatewayurl.h"

#include <QCommandLineParser>
#include <QCoreApplication>

CommandLine CommandLine::parse(const QStringList &arguments, const QStringList &environment)
{
    CommandLine result;
    QCommandLineParser parser;
    parser.setApplicationDescription(QCoreApplication::translate(
        "CommandLine", "Watch the live logs of your LLM backends, streamed by an "
                       "LLM Streamer gateway."));
    const QCommandLineOption helpOption = parser.addHelpOption();
    const QCommandLineOption versionOption = parser.addVersionOption();
    const QCommandLineOption urlOption(
        QStringLiteral("url"),
        QCoreApplication::translate("CommandLine",
                                    "The gateway's address, e.g. http://127.0.0.1:8000."),
        QStringLiteral("URL"));
    const QCommandLineOption tokenOption(
        QStringLiteral("token"),
        QCoreApplication::translate("CommandLine",
                                    "Access token sent as \"Authorization: Bearer\" (or set "
                                    "LLMSTREAMER_TOKEN, which other users cannot see in the "
                                    "process list)."),
        QStringLiteral("TOKEN"));
    const QCommandLineOption channelsOption(
        QStringLiteral("channels"),
        QCoreApplication::translate("CommandLine",
                                    "Comma-separated channel names or globs to show, e.g. "
                                    "'logs:errors,logs:gen*' (default: all)."),
        QStringLiteral("LIST"));
    const QCommandLineOption caFileOption(
        QStringLiteral("ca-file"),
        QCoreApplication::translate("CommandLine",
                                    "PEM file of the CA that signed an https:// gateway's "
                                    "certificate, trusted besides the system's CAs."),
        QStringLiteral("FILE"));
    parser.addOptions({urlOption, tokenOption, channelsOption, caFileOption});
    result.helpText = parser.helpText();

    if (!parser.parse(arguments)) {
        result.error = parser.errorText();
        return result;
    }
    if (!parser.positionalArguments().isEmpty()) {
        result.error = QCoreApplication::translate("CommandLine", "unexpected argument \"%1\"")
                           .arg(parser.positionalArguments().constFirst());
        return result;
    }
    result.help = parser.isSet(helpOption);
    result.version = parser.isSet(versionOption);
    if (parser.isSet(urlOption)) {
        QString why;
        if (!GatewayUrl::parse(parser.value(urlOption), &why)) {
            result.error = QStringLiteral("--url: ") + why;
            return result;
        }
        result.url = parser.value(urlOption);
    }
    if (parser.isSet(tokenOption))
        result.token = parser.value(tokenOption);
    else if (const auto env =
                 ConfigValue::fromEnvironment(environment, QLatin1StringView("LLMSTREAMER_TOKEN")))
        result.token = *env;
    if (parser.isSet(channelsOption))
        result.channels = parser.value(channelsOption);
    if (parser.isSet(caFileOption))
        result.caFile = parser.value(caFileOption);
    return result;
}

void CommandLine::applyTo(DesktopSettings &settings) const
{
    if (url)
        settings.gatewayUrl = *url;
    if (token)
        settings.token = *token;
    if (channels)
        settings.channels = *channels;
    if (caFile)
        settings.caFile = *caFile;
}
