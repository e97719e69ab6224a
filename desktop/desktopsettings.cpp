#include "desktopsettings.h"

#include <QSettings>

#include <algorithm>

namespace {
const QString urlKey = QStringLiteral("connection/url");
const QString tokenKey = QStringLiteral("connection/token");
const QString channelsKey = QStringLiteral("connection/channels");
const QString caFileKey = QStringLiteral("connection/caFile");
const QString bufferKey = QStringLiteral("view/bufferLines");
} // namespace

bool DesktopSettings::exist(const QSettings &store)
{
    return store.contains(urlKey);
}

DesktopSettings DesktopSettings::load(const QSettings &store)
{
    DesktopSettings s;
    s.gatewayUrl = store.value(urlKey, s.gatewayUrl).toString();
    s.token = store.value(tokenKey).toString();
    s.channels = store.value(channelsKey).toString();
    s.caFile = store.value(caFileKey).toString();
    bool ok = false;
    const qlonglong lines = store.value(bufferKey, s.bufferLines).toLongLong(&ok);
    if (ok)
        s.bufferLines = std::clamp<qsizetype>(lines, minBufferLines, maxBufferLines);
    return s;
}

void DesktopSettings::save(QSettings &store) const
{
    store.setValue(urlKey, gatewayUrl);
    if (token.isEmpty())
        store.remove(tokenKey);
    else
        store.setValue(tokenKey, token);
    store.setValue(channelsKey, channels);
    if (caFile.isEmpty())
        store.remove(caFileKey);
    else
        store.setValue(caFileKey, caFile);
    store.setValue(bufferKey, qlonglong(bufferLines));
}

QStringList DesktopSettings::channelList() const
{
    QStringList list;
    for (const QString &part : channels.split(u',', Qt::SkipEmptyParts)) {
        const QString entry = part.trimmed();
        if (!entry.isEmpty() && !list.contains(entry))
            list.append(entry);
    }
    return list;
}
