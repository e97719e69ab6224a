// OTLP/HTTP load for llmstreamer-producer otlp (bench/otlp.sh runs it): sends the same export
// request of N log records (protobuf or JSON, as the OpenTelemetry SDKs batch them) over C
// keep-alive connections, each sending its next request when the last one was answered, until
// `--batches` were accepted; then waits until Redis has received every record (INFO
// commandstats: PUBLISH or XADD calls) and prints records/s into Redis and the receiver's peak
// RSS (VmHWM of --pid).
//
//   llmstreamer-otlp-bench --url http://127.0.0.1:4318 --redis-port 6379 --pid PID
//       [--format protobuf|json] [--records 512] [--batches 400] [--connections 4]
#include "otlp/otlp.pb.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>
#include <QThread>
#include <QTimer>
#include <QUrl>

#include <hiredis/hiredis.h>

#include <cstdio>
#include <memory>
#include <vector>

namespace pb = llmstreamer::otlp;
using namespace Qt::StringLiterals;

namespace {

constexpr quint64 t0 = 1767323045678000000ULL;

// A record like an instrumented LLM server's: a message, a level, ids, a few gen_ai attributes.
QByteArray protobufBatch(int records)
{
    pb::ExportLogsServiceRequest request;
    pb::ResourceLogs *resourceLogs = request.add_resource_logs();
    const std::pair<const char *, const char *> resource[] = {
        {"service.name", "chat-api"}, {"service.version", "1.4.2"}, {"host.name", "gpu-node-7"}};
    for (const auto &[k, v] : resource) {
        pb::KeyValue *kv = resourceLogs->mutable_resource()->add_attributes();
        kv->set_key(k);
        kv->mutable_value()->set_string_value(v);
    }
    pb::ScopeLogs *scope = resourceLogs->add_scope_logs();
    scope->mutable_scope()->set_name("chat.server");
    for (int i = 0; i < records; ++i) {
        pb::LogRecord *r = scope->add_log_records();
        r->set_time_unix_nano(t0 + quint64(i) * 1000);
        r->set_severity_number(9);
        r->set_severity_text("INFO");
        r->mutable_body()->set_string_value(
            "chat completion finished: 512 prompt tokens, 128 completion tokens, request " +
            std::to_string(i));
        r->set_trace_id(std::string(16, char(1 + i % 200)));
        r->set_span_id(std::string(8, char(1 + i % 100)));
        pb::KeyValue *kv = r->add_attributes();
        kv->set_key("gen_ai.request.model");
        kv->mutable_value()->set_string_value("llama-3.1-8b-instruct");
        kv = r->add_attributes();
        kv->set_key("gen_ai.usage.input_tokens");
        kv->mutable_value()->set_int_value(512);
        kv = r->add_attributes();
        kv->set_key("gen_ai.usage.output_tokens");
        kv->mutable_value()->set_int_value(128);
        kv = r->add_attributes();
        kv->set_key("request_id");
        kv->mutable_value()->set_string_value("req-" + std::to_string(i));
    }
    return QByteArray::fromStdString(request.SerializeAsString());
}

// The same batch in OTLP's JSON mapping.
QByteArray jsonBatch(int records)
{
    auto kv = [](const QString &key, const QJsonObject &value) {
        return QJsonObject{{"key"_L1, key}, {"value"_L1, value}};
    };
    auto str = [](const QString &s) { return QJsonObject{{"stringValue"_L1, s}}; };
    QJsonArray logRecords;
    for (int i = 0; i < records; ++i) {
        logRecords.append(QJsonObject{
            {"timeUnixNano"_L1, QString::number(t0 + quint64(i) * 1000)},
            {"severityNumber"_L1, 9},
            {"severityText"_L1, "INFO"_L1},
            {"body"_L1, str(u"chat completion finished: 512 prompt tokens, 128 completion "
                            "tokens, request %1"_s.arg(i))},
            {"traceId"_L1, QString::fromLatin1(QByteArray(16, char(1 + i % 200)).toHex())},
            {"spanId"_L1, QString::fromLatin1(QByteArray(8, char(1 + i % 100)).toHex())},
            {"attributes"_L1,
             QJsonArray{kv(u"gen_ai.request.model"_s, str(u"llama-3.1-8b-instruct"_s)),
                        kv(u"gen_ai.usage.input_tokens"_s, QJsonObject{{"intValue"_L1, "512"_L1}}),
                        kv(u"gen_ai.usage.output_tokens"_s, QJsonObject{{"intValue"_L1, "128"_L1}}),
                        kv(u"request_id"_s, str(u"req-%1"_s.arg(i)))}}});
    }
    const QJsonObject request{
        {"resourceLogs"_L1,
         QJsonArray{QJsonObject{
             {"resource"_L1,
              QJsonObject{{"attributes"_L1, QJsonArray{kv(u"service.name"_s, str(u"chat-api"_s)),
                                                       kv(u"service.version"_s, str(u"1.4.2"_s)),
                                                       kv(u"host.name"_s, str(u"gpu-node-7"_s))}}}},
             {"scopeLogs"_L1,
              QJsonArray{QJsonObject{{"scope"_L1, QJsonObject{{"name"_L1, "chat.server"_L1}}},
                                     {"logRecords"_L1, logRecords}}}}}}}};
    return QJsonDocument(request).toJson(QJsonDocument::Compact);
}

// Calls of PUBLISH and XADD Redis has executed so far.
long long redisWrites(redisContext *c)
{
    auto *reply = static_cast<redisReply *>(redisCommand(c, "INFO commandstats"));
    if (!reply || reply->type != REDIS_REPLY_STRING) {
        std::fprintf(stderr, "llmstreamer-otlp-bench: INFO commandstats failed\n");
        std::exit(1);
    }
    long long total = 0;
    for (const QByteArray &line : QByteArray(reply->str, qsizetype(reply->len)).split('\n'))
        if (line.startsWith("cmdstat_publish:") || line.startsWith("cmdstat_xadd:"))
            total += line.mid(line.indexOf("calls=") + 6).split(',').first().toLongLong();
    freeReplyObject(reply);
    return total;
}

qint64 peakRssKiB(qint64 pid)
{
    QFile status(u"/proc/%1/status"_s.arg(pid));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : status.readAll().split('\n'))
        if (line.startsWith("VmHWM:"))
            return line.mid(6).trimmed().split(' ').first().toLongLong();
    return -1;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addHelpOption();
    const QCommandLineOption urlOption(u"url"_s, u"The receiver"_s, u"url"_s,
                                       u"http://127.0.0.1:4318"_s);
    const QCommandLineOption redisOption(u"redis-port"_s, u"Redis on 127.0.0.1"_s, u"port"_s,
                                         u"6379"_s);
    const QCommandLineOption pidOption(u"pid"_s, u"The receiver's process"_s, u"pid"_s);
    const QCommandLineOption formatOption(u"format"_s, u"protobuf or json"_s, u"format"_s,
                                          u"protobuf"_s);
    const QCommandLineOption recordsOption(u"records"_s, u"Records per request"_s, u"n"_s,
                                           u"512"_s);
    const QCommandLineOption batchesOption(u"batches"_s, u"Requests to send"_s, u"n"_s, u"400"_s);
    const QCommandLineOption connectionsOption(u"connections"_s, u"Connections"_s, u"n"_s, u"4"_s);
    parser.addOptions({urlOption, redisOption, pidOption, formatOption, recordsOption,
                       batchesOption, connectionsOption});
    parser.process(app);

    const QUrl url(parser.value(urlOption));
    const bool json = parser.value(formatOption) == "json"_L1;
    const int records = parser.value(recordsOption).toInt();
    const int batches = parser.value(batchesOption).toInt();
    const int connections = parser.value(connectionsOption).toInt();
    const QByteArray body = json ? jsonBatch(records) : protobufBatch(records);
    const QByteArray request = "POST /v1/logs HTTP/1.1\r\nHost: bench\r\nContent-Type: " +
                               QByteArray(json ? "application/json" : "application/x-protobuf") +
                               "\r\nContent-Length: " + QByteArray::number(body.size()) +
                               "\r\n\r\n" + body;

    redisContext *redis = redisConnect("127.0.0.1", parser.value(redisOption).toInt());
    if (!redis || redis->err) {
        std::fprintf(stderr, "llmstreamer-otlp-bench: cannot reach Redis\n");
        return 1;
    }
    const long long writesBefore = redisWrites(redis);

    int sent = 0;
    int accepted = 0;
    int busy = 0;
    QElapsedTimer clock;
    std::vector<std::unique_ptr<QTcpSocket>> sockets;
    std::vector<QByteArray> inputs(static_cast<size_t>(connections));
    auto sendNext = [&](QTcpSocket *s) {
        if (sent >= batches + busy)
            return;
        ++sent;
        s->write(request);
    };
    for (int i = 0; i < connections; ++i) {
        auto socket = std::make_unique<QTcpSocket>();
        QTcpSocket *s = socket.get();
        QByteArray *input = &inputs[size_t(i)];
        QObject::connect(s, &QTcpSocket::readyRead, s, [&, s, input] {
            *input += s->readAll();
            // Responses have a Content-Length; bodies are small.
            for (;;) {
                const qsizetype headEnd = input->indexOf("\r\n\r\n");
                if (headEnd < 0)
                    return;
                const qsizetype at = input->indexOf("Content-Length: ");
                const qsizetype length =
                    input->mid(at + 16, input->indexOf('\r', at) - at - 16).toLongLong();
                if (input->size() < headEnd + 4 + length)
                    return;
                const bool ok = input->startsWith("HTTP/1.1 200");
                if (!ok && !input->startsWith("HTTP/1.1 503")) {
                    std::fprintf(stderr, "llmstreamer-otlp-bench: %s\n", input->constData());
                    std::exit(1);
                }
                ok ? ++accepted : ++busy;
                input->remove(0, headEnd + 4 + length);
                if (accepted == batches)
                    app.quit();
                else
                    sendNext(s);
            }
        });
        s->connectToHost(url.host(), quint16(url.port(4318)));
        if (!s->waitForConnected(5000)) {
            std::fprintf(stderr, "llmstreamer-otlp-bench: cannot connect to %s\n",
                         qPrintable(url.toString()));
            return 1;
        }
        sockets.push_back(std::move(socket));
    }
    clock.start();
    for (auto &s : sockets)
        sendNext(s.get());
    app.exec();
    const qint64 acceptedMs = clock.elapsed();
    const long long want = writesBefore + (long long)batches * records;
    while (redisWrites(redis) < want)
        QThread::msleep(5);
    const qint64 intoRedisMs = clock.elapsed();
    redisFree(redis);

    const double total = double(batches) * records;
    std::printf("%s: %d requests of %d records (%lld bytes each), %d connections\n",
                json ? "json" : "protobuf", batches, records, (long long)body.size(), connections);
    std::printf("  accepted:    %.0f records/s (%.2f s)%s\n", total * 1000.0 / acceptedMs,
                acceptedMs / 1000.0, busy ? qPrintable(u", %1 answers 503"_s.arg(busy)) : "");
    std::printf("  into Redis:  %.0f records/s (%.2f s)\n", total * 1000.0 / intoRedisMs,
                intoRedisMs / 1000.0);
    if (parser.isSet(pidOption))
        std::printf("  receiver peak RSS: %.1f MiB\n",
                    peakRssKiB(parser.value(pidOption).toLongLong()) / 1024.0);
    return 0;
}
