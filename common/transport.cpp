#include "transport.h"

QByteArray Transport::name() const
{
    return isStreams() ? QByteArrayLiteral("streams") : QByteArrayLiteral("pubsub");
}

ConfigOptions::Row Transport::kindRow(Transport *target, const QString &help)
{
    return {
        QStringLiteral("transport"),
        QStringLiteral("kind"),
        help,
        "LLMSTREAMER_TRANSPORT",
        QStringLiteral("pubsub"),
        [target](const QString &v) {
            if (v == QLatin1StringView("pubsub"))
                target->kind = Kind::PubSub;
            else if (v == QLatin1StringView("streams"))
                target->kind = Kind::Streams;
            else
                return QStringLiteral("\"%1\" is not a transport; use pubsub or streams").arg(v);
            return QString();
        }};
}

ConfigOptions::Row Transport::streamKeyRow(Transport *target, const QString &help)
{
    return {QStringLiteral("stream-key"),
            QStringLiteral("key"),
            help,
            "LLMSTREAMER_STREAM_KEY",
            QStringLiteral("llmstreamer:stream"),
            [target](const QString &v) {
                target->streamKey = v.toUtf8();
                return v.isEmpty() ? QStringLiteral("the key is empty") : QString();
            }};
}

ConfigOptions::Row Transport::maxEntriesRow(Transport *target, const QString &help)
{
    return {QStringLiteral("stream-max-entries"),
            QStringLiteral("n"),
            help + QStringLiteral(" (~317 B of Redis memory per 300-byte entry: 1000000 entries "
                                  "\u2248 320 MB); 0 = no limit"),
            "LLMSTREAMER_STREAM_MAX_ENTRIES",
            QStringLiteral("1000000"),
            ConfigOptions::integer(&target->streamMaxEntries, 0, 1'000'000'000'000,
                                   QStringLiteral("a number of entries"))};
}
