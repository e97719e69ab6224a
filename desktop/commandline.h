#pragma once

#include <QString>
#include <QStringList>

#include <optional>

struct DesktopSettings;

// llmstreamer-desktop's command line: --url, --token, --channels, --ca-file override the saved
// settings
// for this run (LLMSTREAMER_TOKEN too, which keeps the token out of the process list).
struct CommandLine
{
    std::optional<QString> url;
    std::optional<QString> token;
    std::optional<QString> channels;
    std::optional<QString> caFile;
    bool help = false;
    bool version = false;
    QString helpText;
    QString error; // set when the arguments are wrong

    // arguments()[0] is the program; `environment` as from QProcess::systemEnvironment().
    static CommandLine parse(const QStringList &arguments, const QStringList &environment);
    // True when the command line names the gateway, so the first-start dialog is not needed.
    bool overridesUrl() const { return url.has_value(); }
    void applyTo(DesktopSettings &settings) const;
};
