#include "transport.h"

#include <zlib.h>

#include <algorithm>

QByteArray Transport::name() const
{
    return isStreams() ? QByteArrayLiteral("streams") : QByteArrayLiteral("pubsub");
}

QByteArray Transport::partitionKey(int partition) const
{
    if (streamPartitions <= 1)
        return streamKey;
    return streamKey + ":{" + QByteArray::number(partition) + '}';
}

int Transport::partitionOf(QByteArrayView channel) const
{
    if (streamPartitions <= 1)
        return 0;
    // zlib's CRC-32 (hand-writing one would only risk disagreeing with other producers).
    const uLong crc = crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef *>(channel.data()),
                            uInt(channel.size()));
    return int(crc % uLong(streamPartitions));
}

qint64 Transport::partitionMaxEntries() const
{
    if (streamMaxEntries <= 0)
        return 0;
    return std::max<qint64>(1, streamMaxEntries / std::max(1, streamPartitions));
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

ConfigOptions::Row Transport::partitionsRow(Transport *target)
{
    return {QStringLiteral("stream-partitions"),
            QStringLiteral("n"),
            QStringLiteral("streams: spread the stream over n keys <stream-key>:{0}..{n-1}, one "
                           "hash slot each, so that a Redis Cluster's masters share the load; a "
                           "channel always goes to the same partition (CRC-32 of its name mod n). "
                           "Producers and gateways must agree; 1 = the one key <stream-key>"),
            "LLMSTREAMER_STREAM_PARTITIONS",
            QStringLiteral("1"),
            ConfigOptions::integer(&target->streamPartitions, 1, maxStreamPartitions,
                                   QStringLiteral("a number of partitions"))};
}
