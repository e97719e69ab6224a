#pragma once

#include "configoptions.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

// How log lines travel through Redis, the same choice for every program of a deployment:
// pub/sub channels (anything that can PUBLISH is a producer, nothing is kept), or one Redis
// Stream whose entries have the fields `channel` and `data` (kept, readable by any gateway
// later). The option rows live here so that gateway and producer spell them alike.
struct Transport
{
    enum class Kind { PubSub, Streams };

    Kind kind = Kind::PubSub;
    QByteArray streamKey = "llmstreamer:stream";
    // Streams: about how many entries the stream keeps (trimmed with MAXLEN ~); 0: no limit.
    // With partitions, each keeps its share (streamMaxEntries / streamPartitions).
    qint64 streamMaxEntries = 1'000'000;
    // Streams: the stream is spread over this many keys, "<streamKey>:{0}" ... (one Redis Cluster
    // hash slot each, so the partitions can live on different masters); a channel's entries all
    // go to one partition (partitionOf), which keeps their order. 1: the one key streamKey.
    int streamPartitions = 1;
    static constexpr int maxStreamPartitions = 64;

    bool isStreams() const { return kind == Kind::Streams; }
    // "pubsub" or "streams", as the option takes it and /metrics and stats report it.
    QByteArray name() const;

    // The key of partition `partition` (0 <= partition < streamPartitions): streamKey itself
    // without partitions, else "<streamKey>:{<partition>}".
    QByteArray partitionKey(int partition) const;
    // The partition a channel's entries go to: CRC-32 (IEEE 802.3, as zlib's crc32() and
    // Python's zlib.crc32() compute it) of the channel name's bytes, modulo streamPartitions.
    // Part of the wire format: anything that XADDs for LLM Streamer must agree (test vectors in
    // tests/tst_transport.cpp and the README).
    int partitionOf(QByteArrayView channel) const;
    // Each partition's share of streamMaxEntries (0: no limit).
    qint64 partitionMaxEntries() const;

    // --transport (LLMSTREAMER_TRANSPORT) and --stream-key (LLMSTREAMER_STREAM_KEY), with
    // `help` saying what each choice means for the program.
    static ConfigOptions::Row kindRow(Transport *target, const QString &help);
    static ConfigOptions::Row streamKeyRow(Transport *target, const QString &help);
    // --stream-max-entries (LLMSTREAMER_STREAM_MAX_ENTRIES); `help` says who trims, and how.
    static ConfigOptions::Row maxEntriesRow(Transport *target, const QString &help);
    // --stream-partitions (LLMSTREAMER_STREAM_PARTITIONS).
    static ConfigOptions::Row partitionsRow(Transport *target);
};
