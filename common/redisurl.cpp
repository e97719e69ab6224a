#include "redisurl.h"

#include "redistls.h"

#include <QUrl>
#include <QUrlQuery>

namespace {

std::optional<int> parseDb(const QString &text, QString *error)
{
    bool ok = false;
    const int db = text.toInt(&ok);
    if (!ok || db < 0) {
        if (error)
            *error = QStringLiteral("database must be a number >= 0, got \"%1\"").arg(text);
        return std::nullopt;
    }
    return db;
}

} // namespace

std::optional<RedisUrl> RedisUrl::parse(const QString &text, QString *error)
{
    auto fail = [&](const QString &why) -> std::optional<RedisUrl> {
        if (error)
            *error = why;
        return std::nullopt;
    };
    const QString trimmed = text.trimmed();
    if (trimmed.isEmpty())
        return fail(QStringLiteral("empty Redis URL; expected redis://host:port"));
    // Several nodes: commas after the credentials (a password may hold one) separate host:port
    // pairs; a path (the database) after the last one is the whole URL's.
    if (const qsizetype comma =
            trimmed.indexOf(QLatin1Char(','), trimmed.lastIndexOf(QLatin1Char('@')) + 1);
        comma >= 0) {
        QStringList more = trimmed.mid(comma + 1).split(QLatin1Char(','));
        QString first = trimmed.left(comma);
        const qsizetype lastScheme = more.last().indexOf(QLatin1String("://"));
        if (const qsizetype slash =
                more.last().indexOf(QLatin1Char('/'), lastScheme < 0 ? 0 : lastScheme + 3);
            slash >= 0) {
            first += more.last().mid(slash);
            more.last().truncate(slash);
        }
        auto result = parse(first, error);
        if (!result)
            return std::nullopt;
        if (result->isUnixSocket())
            return fail(QStringLiteral("a unix:// URL names one socket; list nodes with redis://"));
        for (qsizetype i = 0; i < more.size(); ++i) {
            QString node = more[i].trimmed();
            // "h2:7001", or the same with the first one's scheme in front.
            for (const QLatin1StringView scheme :
                 {QLatin1StringView("redis://"), QLatin1StringView("rediss://")})
                if (node.startsWith(scheme) && (scheme.size() == 9) == result->tls)
                    node = node.mid(scheme.size());
            const QUrl url(QStringLiteral("redis://") + node, QUrl::StrictMode);
            if (node.isEmpty() || !url.isValid() || url.host().isEmpty() ||
                !url.userInfo().isEmpty() || !url.path().isEmpty() || url.port(6379) <= 0)
                // Not quoted: whatever it holds, a message about the URL never shows its text
                // beyond what parse() of one URL would.
                return fail(QStringLiteral("node %1 of the list is not host:port").arg(i + 2));
            result->moreNodes.append({url.host(), quint16(url.port(6379))});
        }
        return result;
    }
    const QUrl url(trimmed, QUrl::StrictMode);
    if (!url.isValid()) {
        // QUrl::errorString() quotes the whole URL ("; source was ..."), password included.
        QString why = url.errorString();
        if (const qsizetype source = why.indexOf(QLatin1String("; source was")); source >= 0)
            why.truncate(source);
        return fail(QStringLiteral("not a valid URL: %1").arg(why));
    }

    RedisUrl result;
    const QString scheme = url.scheme().toLower();
    result.username = url.userName(QUrl::FullyDecoded);
    result.password = url.password(QUrl::FullyDecoded);
    if (scheme == QLatin1String("unix")) {
        result.socketPath = url.path(QUrl::FullyDecoded);
        // "unix://tmp/redis.sock" would silently mean /redis.sock on host "tmp".
        if (!url.host().isEmpty() && url.host() != QLatin1String("localhost"))
            return fail(QStringLiteral("unix:// URL with a host; write the socket path after "
                                       "three slashes: unix:///path/to/redis.sock"));
        if (result.socketPath.isEmpty())
            return fail(QStringLiteral("unix:// URL without a socket path"));
        // "unix:redis.sock" would depend on the working directory (/ under systemd).
        if (!result.socketPath.startsWith(QLatin1Char('/')))
            return fail(QStringLiteral("unix socket path is not absolute; write unix:///path/to/"
                                       "redis.sock"));
        const QString db = QUrlQuery(url).queryItemValue(QStringLiteral("db"));
        if (!db.isEmpty()) {
            const auto n = parseDb(db, error);
            if (!n)
                return std::nullopt;
            result.db = *n;
        }
        return result;
    }
    if (scheme != QLatin1String("redis") && scheme != QLatin1String("rediss"))
        return fail(
            QStringLiteral("unsupported scheme \"%1\"; expected redis://, rediss:// or unix://")
                .arg(url.scheme()));
    result.tls = scheme == QLatin1String("rediss");
    if (url.host().isEmpty())
        return fail(QStringLiteral("missing host; expected redis://host:port"));
    result.host = url.host();
    const int port = url.port(6379);
    if (port <= 0 || port > 65535)
        return fail(QStringLiteral("port out of range: %1").arg(port));
    result.port = quint16(port);
    QString path = url.path(QUrl::FullyDecoded);
    if (path.startsWith(QLatin1Char('/')))
        path.remove(0, 1);
    if (!path.isEmpty()) {
        const auto n = parseDb(path, error);
        if (!n)
            return std::nullopt;
        result.db = *n;
    }
    return result;
}

QString RedisUrl::toDisplayString() const
{
    QString auth;
    if (!password.isEmpty())
        auth = username + QStringLiteral(":***@");
    else if (!username.isEmpty())
        auth = username + QLatin1Char('@');
    if (isUnixSocket())
        return QStringLiteral("unix://") + auth + socketPath +
               (db ? QStringLiteral("?db=%1").arg(db) : QString());
    QStringList hostPorts;
    for (const Node &node : nodes()) {
        const QString hostPart = node.host.contains(QLatin1Char(':'))
                                     ? QLatin1Char('[') + node.host + QLatin1Char(']')
                                     : node.host;
        hostPorts.append(hostPart + QLatin1Char(':') + QString::number(node.port));
    }
    return (tls ? QStringLiteral("rediss://") : QStringLiteral("redis://")) + auth +
           hostPorts.join(QLatin1Char(',')) + (db ? QStringLiteral("/%1").arg(db) : QString());
}

QList<RedisUrl::Node> RedisUrl::nodes() const
{
    return QList<Node>{{host, port}} + moreNodes;
}

ConfigOptions::Row RedisUrl::optionRow(RedisUrl *target, const QString &use)
{
    return {QStringLiteral("redis-url"),
            QStringLiteral("url"),
            QStringLiteral("Redis to %1: redis://[[user]:password@]host[:port][/db], rediss:// "
                           "for TLS, or unix:///path")
                .arg(use),
            "REDIS_URL",
            QStringLiteral("redis://127.0.0.1:6379"),
            [target](const QString &value) -> QString {
                QString why;
                auto parsed = RedisUrl::parse(value, &why);
                if (!parsed)
                    return why;
                // The TLS files have options of their own, which may come first.
                parsed->tlsCaFile = target->tlsCaFile;
                parsed->tlsCertFile = target->tlsCertFile;
                parsed->tlsKeyFile = target->tlsKeyFile;
                *target = std::move(*parsed);
                return {};
            }};
}

QList<ConfigOptions::Row> RedisUrl::tlsOptionRows(RedisUrl *target)
{
    auto file = [](QString *field) {
        return [field](const QString &value) -> QString {
            *field = value;
            return {};
        };
    };
    return {
        {QStringLiteral("redis-ca"), QStringLiteral("file"),
         QStringLiteral("CA certificates (PEM) that sign Redis's certificate, for rediss:// "
                        "(default: the system's)"),
         "LLMSTREAMER_REDIS_CA", QString(), file(&target->tlsCaFile)},
        {QStringLiteral("redis-cert"), QStringLiteral("file"),
         QStringLiteral("Client certificate (PEM) for a Redis that asks for one "
                        "(tls-auth-clients); needs --redis-key"),
         "LLMSTREAMER_REDIS_CERT", QString(), file(&target->tlsCertFile)},
        {QStringLiteral("redis-key"), QStringLiteral("file"),
         QStringLiteral("Private key (PEM, unencrypted) of --redis-cert"), "LLMSTREAMER_REDIS_KEY",
         QString(), file(&target->tlsKeyFile)},
    };
}

QString RedisUrl::tlsProblem() const
{
    QString why;
    return RedisTls::configuration(*this, &why) ? QString() : why;
}
