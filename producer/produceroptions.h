#pragma once

#include "linebuffer.h"
#include "lineparser.h"
#include "otlpreceiver.h"
#include "redisurl.h"
#include "transport.h"

#include <QByteArray>
#include <QString>
#include <QStringList>

#include <optional>

// Everything llmstreamer-producer can be told: a global part and one subcommand (simulate, pipe,
// follow, otlp). Flags win over environment variables (REDIS_URL, LLMSTREAMER_TRANSPORT, ...),
// which win over the defaults below.
struct ProducerOptions
{
    enum class Mode { Simulate, Pipe, Follow, Otlp };

    Mode mode = Mode::Simulate;
    RedisUrl redis;
    Transport transport; // LLMSTREAMER_TRANSPORT, LLMSTREAMER_STREAM_KEY
    // streams only
    qsizetype bufferMessages = 100'000;
    qint64 bufferBytes = 64LL * 1024 * 1024;

    // simulate
    double rate = 20;      // records per second; 0: as fast as Redis takes them
    qint64 count = 0;      // 0: no limit
    qint64 durationMs = 0; // 0: no limit
    quint32 seed = 0;
    bool seedSet = false; // otherwise a random seed
    QString service;      // default <hostname>-<pid>
    QByteArray channelPrefix = "logs";

    // pipe, follow
    QByteArray channel;
    LineParser::Format format = LineParser::Format::Auto; // LLMSTREAMER_FORMAT
    QByteArray metricsChannel = QByteArray(LineParser::defaultMetricsChannel.data(),
                                           LineParser::defaultMetricsChannel.size());
    qsizetype maxLineBytes = LineBuffer::defaultMaxLineBytes; // LLMSTREAMER_MAX_LINE_BYTES
    QString file;
    bool fromStart = false;
    bool trustPath = false; // follow a FILE that now leads elsewhere or has another owner

    // otlp
    OtlpReceiver::Settings otlp;

    // Parses the command line (arguments[0] is the program) and `environment` (as from
    // QProcess::systemEnvironment()). On --help/--version it sets `output` and `exitCode` 0; on
    // bad usage `output` names the option and `exitCode` is 2. Returns nullopt in both cases.
    static std::optional<ProducerOptions> fromArguments(const QStringList &arguments,
                                                        const QStringList &environment,
                                                        QString *output, int *exitCode);
};
