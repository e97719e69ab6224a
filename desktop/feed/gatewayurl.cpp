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

QUrl history(const QUrl &base, const QStringList &channels, const QString &before, int limit,
             const QString &query)
{
    // Built by hand: QUrlQuery would read a "%41" typed in a search as an escape and leave "+"
    // for a server that may take it for a space.
    QByteArrayList items;
    const auto add = [&items](const char *key, const QString &value, const QByteArray &keep = {}) {
        items.append(QByteArray(key) + '=' + QUrl::toPercentEncoding(value, keep));
    };
    if (!channels.isEmpty())
        add("channels", channels.join(u','), ":,*"); // readable in logs, as in events()
    if (!before.isEmpty())
        add("before", before);
    add("limit", QString::number(limit));
    if (!query.isEmpty())
        add("q", query);
    QUrl url = withPath(base, QLatin1StringView("/api/history"));
    url.setQuery(QString::fromLatin1(items.join('&')), QUrl::StrictMode);
    return url;
}

} // namespace GatewayUrl
