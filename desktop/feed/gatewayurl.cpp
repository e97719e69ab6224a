#include "gatewayurl.h"

#include <QCoreApplication>
#include <QUrlQuery>

namespace GatewayUrl {

namespace {

QUrl withPath(const QUrl &base, QLatin1StringView path)
{
    QUrl url = base;
    url.setPath(base.path() + path);
    return url;
}

} // namespace

std::optional<QUrl> parse(const QString &input, QString *error)
{
    const QString text = input.trimmed();
    if (text.isEmpty()) {
        *error = QCoreApplication::translate(
            "GatewayUrl", "no gateway URL; enter one like http://127.0.0.1:8000");
        return std::nullopt;
    }
    // "host:port" and "host" mean http://; QUrl would read "localhost:8000" as scheme + path.
    const bool hasScheme = text.contains(QLatin1StringView("://"));
    QUrl url(hasScheme ? text : QStringLiteral("http://") + text, QUrl::StrictMode);
    const QString scheme = url.scheme().toLower();
    if (!url.isValid() || url.host().isEmpty()) {
        *error = QCoreApplication::translate("GatewayUrl",
                                             "\"%1\" is not a valid gateway URL; enter one like "
                                             "http://127.0.0.1:8000")
                     .arg(text);
        return std::nullopt;
    }
    if (scheme != QLatin1StringView("http") && scheme != QLatin1StringView("https")) {
        *error = QCoreApplication::translate("GatewayUrl",
                                             "the gateway URL must start with http:// or https://, "
                                             "not %1://")
                     .arg(url.scheme());
        return std::nullopt;
    }
    url.setScheme(scheme);
    url.setQuery(QString());
    url.setFragment(QString());
    QString path = url.path();
    while (path.endsWith(u'/'))
        path.chop(1);
    if (path.endsWith(QLatin1StringView("/events")))
        path.chop(7);
    url.setPath(path);
    return url;
}

QUrl events(const QUrl &base, const QStringList &channels)
{
    QUrl url = withPath(base, QLatin1StringView("/events"));
    if (!channels.isEmpty()) {
        QUrlQuery query;
        query.addQueryItem(QStringLiteral("channels"), channels.join(u','));
        url.setQuery(query);
    }
    return url;
}

QUrl channelsApi(const QUrl &base)
{
    return withPath(base, QLatin1StringView("/api/channels"));
}

} // namespace GatewayUrl
