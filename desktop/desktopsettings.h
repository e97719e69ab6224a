#pragma once

#include <QString>
#include <QStringList>

class QSettings;

// What the user configures: where the gateway is and what to show. Persisted with QSettings;
// the command line can override each value for one run without saving it.
struct DesktopSettings
{
    QString gatewayUrl = QStringLiteral("http://127.0.0.1:8000");
    QString token;    // sent as "Authorization: Bearer"; stored in plain text
    QString channels; // comma-separated names or globs; empty: every channel
    QString caFile;   // PEM CA certificates trusted for an https:// gateway besides the system's
    qsizetype bufferLines = 200'000;

    static constexpr qsizetype minBufferLines = 1'000;
    static constexpr qsizetype maxBufferLines = 5'000'000;

    // False until the settings were saved once: the first start shows the dialog.
    static bool exist(const QSettings &store);
    static DesktopSettings load(const QSettings &store);
    void save(QSettings &store) const;

    QStringList channelList() const;

    friend bool operator==(const DesktopSettings &, const DesktopSettings &) = default;
};
