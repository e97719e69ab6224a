#pragma once

#include "configoptions.h"

#include <QByteArray>
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
    qint64 streamMaxEntries = 1'000'000;

    bool isStreams() const { return kind == Kind::Streams; }
    // "pubsub" or "streams", as the option takes it and /metrics and stats report it.
    QByteArray name() const;

    // --transport (LLMSTREAMER_TRANSPORT) and --stream-key (LLMSTREAMER_STREAM_KEY), with
    // `help` saying what each choice means for the program.
    static ConfigOptions::Row kindRow(Transport *target, const QString &help);
    static ConfigOptions::Row streamKeyRow(Transport *target, const QString &help);
    // --stream-max-entries (LLMSTREAMER_STREAM_MAX_ENTRIES); `help` says who trims, and how.
    static ConfigOptions::Row maxEntriesRow(Transport *target, const QString &help);
};
