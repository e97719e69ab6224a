#include "gzipinflater.h"
#include "httprequestreader.h"
#include "otlp/otlp.pb.h"
#include "otlpdecoder.h"
#include "otlpreceiver.h"
#include "rawhttp.h"
#include "redisconnection.h"
#include "redispublisher.h"
#include "testredis.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include <zlib.h>

#include <csignal>
#include <memory>

using namespace Qt::StringLiterals;
namespace pb = llmstreamer::otlp;

namespace {

constexpr int deliveryTimeoutMs = 20000;

// 2026-01-02T03:04:05.678Z
constexpr quint64 t0 = 1767323045678000000ULL;
const QByteArray traceHex = "5b8efff798038103d269b633813fc60c";
const QByteArray spanHex = "eee19b7ec3c1b174";
const QByteArray parentHex = "eee19b7ec3c1b173";
// What JSON must escape, and UTF-8 beyond ASCII.
const QString slowBody = u"slow \"request\" \\ line\nnext\x01 caf\u00e9 \U0001F600"_s;

QByteArray gzip(const QByteArray &data)
{
    z_stream s{};
    deflateInit2(&s, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY);
    QByteArray out(qsizetype(deflateBound(&s, uLong(data.size()))) + 64, Qt::Uninitialized);
    s.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(data.constData()));
    s.avail_in = uInt(data.size());
    s.next_out = reinterpret_cast<Bytef *>(out.data());
    s.avail_out = uInt(out.size());
    deflate(&s, Z_FINISH);
    out.truncate(qsizetype(s.total_out));
    deflateEnd(&s);
    return out;
}

QByteArray chunked(const QByteArray &body)
{
    QByteArray out;
    for (qsizetype at = 0; at < body.size(); at += 100)
        out += QByteArray::number(std::min<qsizetype>(100, body.size() - at), 16) + "\r\n" +
               body.mid(at, 100) + "\r\n";
    return out + "0\r\n\r\n";
}

struct Post
{
    QByteArray path = "/v1/logs";
    QByteArray contentType = "application/json";
    QByteArray body;
    bool gzip = false;
    bool chunked = false;
    QByteArray extraFields;
};

QByteArray requestBytes(const Post &post)
{
    const QByteArray body = post.gzip ? gzip(post.body) : post.body;
    QByteArray head = "POST " + post.path +
                      " HTTP/1.1\r\nHost: localhost\r\nContent-Type: " + post.contentType + "\r\n" +
                      post.extraFields;
    if (post.gzip)
        head += "Content-Encoding: gzip\r\n";
    if (post.chunked)
        return head + "Transfer-Encoding: chunked\r\n\r\n" + chunked(body);
    return head + "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body;
}

QByteArray bodyOf(const QByteArray &response)
{
    return response.mid(response.indexOf("\r\n\r\n") + 4);
}

// OTLP JSON helpers.
QJsonObject kv(const QString &key, const QJsonObject &value)
{
    return QJsonObject{{"key"_L1, key}, {"value"_L1, value}};
}
QJsonObject str(const QString &s)
{
    return QJsonObject{{"stringValue"_L1, s}};
}

// The same requests in both encodings, so both readers are held to one expectation.
pb::ExportLogsServiceRequest logsRequest()
{
    pb::ExportLogsServiceRequest request;
    pb::ResourceLogs *resourceLogs = request.add_resource_logs();
    auto *attr = resourceLogs->mutable_resource()->add_attributes();
    attr->set_key("service.name");
    attr->mutable_value()->set_string_value("chat-api");
    attr = resourceLogs->mutable_resource()->add_attributes();
    attr->set_key("host.name");
    attr->mutable_value()->set_string_value("gpu-7");
    pb::ScopeLogs *scopeLogs = resourceLogs->add_scope_logs();
    scopeLogs->mutable_scope()->set_name("my.logger");
    scopeLogs->mutable_scope()->set_version("1.2.3");
    attr = scopeLogs->mutable_scope()->add_attributes();
    attr->set_key("lib");
    attr->mutable_value()->set_bool_value(true);

    pb::LogRecord *r = scopeLogs->add_log_records();
    r->set_time_unix_nano(t0);
    r->set_observed_time_unix_nano(t0 + 5'000'000);
    r->set_severity_text("WARN");
    r->set_severity_number(13);
    r->mutable_body()->set_string_value(slowBody.toStdString());
    r->set_trace_id(QByteArray::fromHex(traceHex).toStdString());
    r->set_span_id(QByteArray::fromHex(spanHex).toStdString());
    attr = r->add_attributes();
    attr->set_key("gen_ai.request.model");
    attr->mutable_value()->set_string_value("llama-3-8b");
    attr = r->add_attributes();
    attr->set_key("gen_ai.usage.prompt_tokens");
    attr->mutable_value()->set_int_value(42);
    attr = r->add_attributes();
    attr->set_key("big");
    attr->mutable_value()->set_int_value(9007199254740993LL);
    attr = r->add_attributes();
    attr->set_key("ratio");
    attr->mutable_value()->set_double_value(0.5);
    attr = r->add_attributes();
    attr->set_key("tags");
    attr->mutable_value()->mutable_array_value()->add_values()->set_string_value("a");
    attr->mutable_value()->mutable_array_value()->add_values()->set_int_value(2);
    attr = r->add_attributes();
    attr->set_key("raw");
    attr->mutable_value()->set_bytes_value("\x01\x02");
    attr = r->add_attributes();
    attr->set_key("msg"); // one of the mapping's own names
    attr->mutable_value()->set_string_value("shadowed");

    r = scopeLogs->add_log_records(); // severity number only, observed time only, map body
    r->set_observed_time_unix_nano(t0);
    r->set_severity_number(17);
    auto *entry = r->mutable_body()->mutable_kvlist_value()->add_values();
    entry->set_key("event");
    entry->mutable_value()->set_string_value("done");
    return request;
}

QJsonObject logsRequestJson()
{
    const QJsonArray resourceAttributes{kv(u"service.name"_s, str(u"chat-api"_s)),
                                        kv(u"host.name"_s, str(u"gpu-7"_s))};
    const QJsonObject scope{
        {"name"_L1, "my.logger"_L1},
        {"version"_L1, "1.2.3"_L1},
        {"attributes"_L1, QJsonArray{kv(u"lib"_s, QJsonObject{{"boolValue"_L1, true}})}}};
    const QJsonObject first{
        {"timeUnixNano"_L1, QString::number(t0)},
        {"observedTimeUnixNano"_L1, QString::number(t0 + 5'000'000)},
        {"severityText"_L1, "WARN"_L1},
        {"severityNumber"_L1, 13},
        {"body"_L1, str(slowBody)},
        {"traceId"_L1, QString::fromLatin1(traceHex)},
        {"spanId"_L1, QString::fromLatin1(spanHex)},
        {"attributes"_L1,
         QJsonArray{
             kv(u"gen_ai.request.model"_s, str(u"llama-3-8b"_s)),
             kv(u"gen_ai.usage.prompt_tokens"_s, QJsonObject{{"intValue"_L1, 42}}),
             kv(u"big"_s, QJsonObject{{"intValue"_L1, "9007199254740993"_L1}}),
             kv(u"ratio"_s, QJsonObject{{"doubleValue"_L1, 0.5}}),
             kv(u"tags"_s,
                QJsonObject{
                    {"arrayValue"_L1,
                     QJsonObject{{"values"_L1, QJsonArray{str(u"a"_s), QJsonObject{{"intValue"_L1,
                                                                                    "2"_L1}}}}}}}),
             kv(u"raw"_s, QJsonObject{{"bytesValue"_L1, "AQI="_L1}}),
             kv(u"msg"_s, str(u"shadowed"_s))}}};
    const QJsonObject second{
        {"observedTimeUnixNano"_L1, QString::number(t0)},
        {"severityNumber"_L1, 17},
        {"body"_L1,
         QJsonObject{{"kvlistValue"_L1,
                      QJsonObject{{"values"_L1, QJsonArray{kv(u"event"_s, str(u"done"_s))}}}}}}};
    return QJsonObject{
        {"resourceLogs"_L1,
         QJsonArray{QJsonObject{
             {"resource"_L1, QJsonObject{{"attributes"_L1, resourceAttributes}}},
             {"scopeLogs"_L1,
              QJsonArray{QJsonObject{{"scope"_L1, scope},
                                     {"logRecords"_L1, QJsonArray{first, second}}}}}}}}};
}

QList<QJsonObject> expectedLogs()
{
    const QJsonObject common{{"service"_L1, "chat-api"_L1},
                             {"resource.host.name"_L1, "gpu-7"_L1},
                             {"scope.name"_L1, "my.logger"_L1},
                             {"scope.version"_L1, "1.2.3"_L1},
                             {"scope.lib"_L1, true}};
    QJsonObject first = common;
    first.insert("ts"_L1, "2026-01-02T03:04:05.678Z"_L1);
    first.insert("level"_L1, "WARN"_L1);
    first.insert("msg"_L1, slowBody);
    first.insert("trace_id"_L1, QString::fromLatin1(traceHex));
    first.insert("span_id"_L1, QString::fromLatin1(spanHex));
    first.insert("gen_ai.request.model"_L1, "llama-3-8b"_L1);
    first.insert("gen_ai.usage.input_tokens"_L1, 42); // from the older name
    first.insert("big"_L1, "9007199254740993"_L1);
    first.insert("ratio"_L1, 0.5);
    first.insert("tags"_L1, QJsonArray{"a"_L1, 2});
    first.insert("raw"_L1, "AQI="_L1);
    first.insert("attributes.msg"_L1, "shadowed"_L1);
    QJsonObject second = common;
    second.insert("ts"_L1, "2026-01-02T03:04:05.678Z"_L1);
    second.insert("level"_L1, "ERROR"_L1);
    second.insert("msg"_L1, R"({"event":"done"})"_L1);
    return {first, second};
}

pb::ExportTraceServiceRequest tracesRequest()
{
    pb::ExportTraceServiceRequest request;
    pb::ResourceSpans *resourceSpans = request.add_resource_spans();
    auto *attr = resourceSpans->mutable_resource()->add_attributes();
    attr->set_key("service.name");
    attr->mutable_value()->set_string_value("rag-worker");
    pb::ScopeSpans *scopeSpans = resourceSpans->add_scope_spans();
    auto addSpan = [&](const char *name, quint64 spanLow) {
        pb::Span *span = scopeSpans->add_spans();
        span->set_trace_id(QByteArray::fromHex(traceHex).toStdString());
        QByteArray id = QByteArray::fromHex(spanHex);
        id[7] = char(spanLow);
        span->set_span_id(id.toStdString());
        span->set_name(name);
        span->set_start_time_unix_nano(t0);
        span->set_end_time_unix_nano(t0 + 1'234'567'000);
        return span;
    };
    pb::Span *generation = addSpan("chat gpt-4o", 1);
    generation->set_kind(3);
    generation->set_parent_span_id(QByteArray::fromHex(parentHex).toStdString());
    const std::pair<const char *, const char *> strings[] = {
        {"gen_ai.request.model", "gpt-4o"}, {"gen_ai.response.model", "gpt-4o-2024-08-06"}};
    for (const auto &[k, v] : strings) {
        attr = generation->add_attributes();
        attr->set_key(k);
        attr->mutable_value()->set_string_value(v);
    }
    attr = generation->add_attributes();
    attr->set_key("gen_ai.usage.input_tokens");
    attr->mutable_value()->set_int_value(120);
    attr = generation->add_attributes();
    attr->set_key("gen_ai.usage.completion_tokens"); // the older name
    attr->mutable_value()->set_int_value(35);
    attr = generation->add_attributes();
    attr->set_key("gen_ai.server.time_to_first_token");
    attr->mutable_value()->set_double_value(0.25);

    pb::Span *failed = addSpan("embeddings", 2);
    failed->mutable_status()->set_code(2);
    failed->mutable_status()->set_message("upstream timed out");
    auto *event = failed->add_events();
    event->set_name("exception");
    attr = event->add_attributes();
    attr->set_key("exception.type");
    attr->mutable_value()->set_string_value("TimeoutError");

    addSpan("GET /health", 3); // neither: only with --all-spans
    return request;
}

QJsonObject tracesRequestJson()
{
    auto span = [](const QString &name, char spanLow) {
        QByteArray id = QByteArray::fromHex(spanHex);
        id[7] = spanLow;
        return QJsonObject{{"traceId"_L1, QString::fromLatin1(traceHex)},
                           {"spanId"_L1, QString::fromLatin1(id.toHex())},
                           {"name"_L1, name},
                           {"startTimeUnixNano"_L1, QString::number(t0)},
                           {"endTimeUnixNano"_L1, double(t0 + 1'234'567'000)}};
    };
    QJsonObject generation = span(u"chat gpt-4o"_s, 1);
    generation.insert("kind"_L1, 3);
    generation.insert("parentSpanId"_L1, QString::fromLatin1(parentHex));
    generation.insert(
        "attributes"_L1,
        QJsonArray{
            kv(u"gen_ai.request.model"_s, str(u"gpt-4o"_s)),
            kv(u"gen_ai.response.model"_s, str(u"gpt-4o-2024-08-06"_s)),
            kv(u"gen_ai.usage.input_tokens"_s, QJsonObject{{"intValue"_L1, "120"_L1}}),
            kv(u"gen_ai.usage.completion_tokens"_s, QJsonObject{{"intValue"_L1, 35}}),
            kv(u"gen_ai.server.time_to_first_token"_s, QJsonObject{{"doubleValue"_L1, 0.25}})});
    QJsonObject failed = span(u"embeddings"_s, 2);
    failed.insert("status"_L1,
                  QJsonObject{{"code"_L1, 2}, {"message"_L1, "upstream timed out"_L1}});
    failed.insert("events"_L1, QJsonArray{QJsonObject{
                                   {"name"_L1, "exception"_L1},
                                   {"attributes"_L1,
                                    QJsonArray{kv(u"exception.type"_s, str(u"TimeoutError"_s))}}}});
    return QJsonObject{
        {"resourceSpans"_L1,
         QJsonArray{QJsonObject{
             {"resource"_L1, QJsonObject{{"attributes"_L1, QJsonArray{kv(u"service.name"_s,
                                                                         str(u"rag-worker"_s))}}}},
             {"scopeSpans"_L1,
              QJsonArray{QJsonObject{
                  {"spans"_L1, QJsonArray{generation, failed, span(u"GET /health"_s, 3)}}}}}}}}};
}

// (channel, record) as published.
QList<QPair<QByteArray, QJsonObject>> expectedSpans(bool allSpans)
{
    const QByteArray traceId = traceHex;
    auto spanId = [](char low) {
        QByteArray id = QByteArray::fromHex(spanHex);
        id[7] = low;
        return QString::fromLatin1(id.toHex());
    };
    const QJsonObject generation{{"service"_L1, "rag-worker"_L1},
                                 {"ts"_L1, "2026-01-02T03:04:05.678Z"_L1},
                                 {"level"_L1, "INFO"_L1},
                                 {"msg"_L1, "chat gpt-4o"_L1},
                                 {"span.kind"_L1, "client"_L1},
                                 {"trace_id"_L1, QString::fromLatin1(traceId)},
                                 {"span_id"_L1, spanId(1)},
                                 {"parent_span_id"_L1, QString::fromLatin1(parentHex)},
                                 {"duration_ms"_L1, 1234.567},
                                 {"ttft_ms"_L1, 250},
                                 {"gen_ai.request.model"_L1, "gpt-4o"_L1},
                                 {"gen_ai.response.model"_L1, "gpt-4o-2024-08-06"_L1},
                                 {"gen_ai.usage.input_tokens"_L1, 120},
                                 {"gen_ai.usage.output_tokens"_L1, 35},
                                 {"gen_ai.server.time_to_first_token"_L1, 0.25}};
    const QJsonObject failed{{"service"_L1, "rag-worker"_L1},
                             {"ts"_L1, "2026-01-02T03:04:05.678Z"_L1},
                             {"level"_L1, "ERROR"_L1},
                             {"msg"_L1, "embeddings: upstream timed out"_L1},
                             {"status.message"_L1, "upstream timed out"_L1},
                             {"error.type"_L1, "TimeoutError"_L1},
                             {"trace_id"_L1, QString::fromLatin1(traceId)},
                             {"span_id"_L1, spanId(2)},
                             {"duration_ms"_L1, 1234.567}};
    QList<QPair<QByteArray, QJsonObject>> out{{"logs:generation", generation},
                                              {"logs:errors", failed}};
    if (allSpans)
        out.append({"logs:spans", QJsonObject{{"service"_L1, "rag-worker"_L1},
                                              {"ts"_L1, "2026-01-02T03:04:05.678Z"_L1},
                                              {"level"_L1, "INFO"_L1},
                                              {"msg"_L1, "GET /health"_L1},
                                              {"trace_id"_L1, QString::fromLatin1(traceId)},
                                              {"span_id"_L1, spanId(3)},
                                              {"duration_ms"_L1, 1234.567}}});
    return out;
}

QList<QPair<QByteArray, QJsonObject>> decoded(const QList<QPair<QByteArray, QByteArray>> &messages)
{
    QList<QPair<QByteArray, QJsonObject>> out;
    for (const auto &[channel, payload] : messages)
        out.append({channel, QJsonDocument::fromJson(payload).object()});
    return out;
}

QByteArray diff(const QList<QPair<QByteArray, QJsonObject>> &got,
                const QList<QPair<QByteArray, QJsonObject>> &want)
{
    QByteArray text;
    for (const auto &[c, o] : got)
        text += "got  " + c + ' ' + QJsonDocument(o).toJson(QJsonDocument::Compact) + '\n';
    for (const auto &[c, o] : want)
        text += "want " + c + ' ' + QJsonDocument(o).toJson(QJsonDocument::Compact) + '\n';
    return text;
}

qint64 rssKiB()
{
    QFile status(u"/proc/self/status"_s);
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : status.readAll().split('\n'))
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').first().toLongLong();
    return -1;
}

// A receiver publishing to the test's Redis.
struct Fixture
{
    Fixture(const TestRedis &redis, OtlpReceiver::Settings settings = {},
            RedisPublisher::Limits limits = {})
        : publisher(*RedisUrl::parse(redis.url()))
    {
        publisher.setLimits(limits);
        publisher.setOverflow(RedisPublisher::Overflow::Block);
        settings.address = QHostAddress::LocalHost;
        settings.port = 0;
        receiver = std::make_unique<OtlpReceiver>(settings, &publisher);
        publisher.start();
    }
    bool listen()
    {
        QString error;
        if (!receiver->listen(&error))
            qWarning("%s", qPrintable(error));
        return receiver->port() != 0;
    }
    QByteArray post(const Post &p) { return RawHttp::exchange(receiver->port(), requestBytes(p)); }

    RedisPublisher publisher;
    std::unique_ptr<OtlpReceiver> receiver;
};

const Post goodLogs{
    "/v1/logs",
    "application/json",
    R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"ok"}}]}]}]})",
    false,
    false,
    {}};

} // namespace

class tst_Otlp final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void logsMapping_data();
    void logsMapping();
    void tracesMapping_data();
    void tracesMapping();
    void partialSuccess_data();
    void partialSuccess();
    void hostileRequests_data();
    void hostileRequests();
    void oversizedBodiesAreRefusedBeforeTheyAreRead_data();
    void oversizedBodiesAreRefusedBeforeTheyAreRead();
    void manyEmptyRecordsStayBounded();
    void keepAlivePipeliningAndContinue();
    void tokenFile();
    void busyWhileRedisIsAwayThenNothingLost();
    void requestReaderInPieces();
    void recordsAreValidJson();
    void inflateStopsAtItsBound();

private:
    TestRedis m_redis;
};

void tst_Otlp::initTestCase()
{
    std::signal(SIGPIPE, SIG_IGN);
    QVERIFY2(m_redis.start(), qPrintable(m_redis.errorString()));
}

void tst_Otlp::init()
{
    if (m_redis.command({"PING"}) != "PONG")
        QVERIFY2(m_redis.start(), qPrintable(m_redis.errorString()));
}

void tst_Otlp::logsMapping_data()
{
    QTest::addColumn<bool>("protobuf");
    QTest::addColumn<bool>("gzip");
    QTest::addColumn<bool>("chunked");
    for (bool protobuf : {false, true})
        for (bool gzip : {false, true})
            for (bool chunked : {false, true})
                QTest::addRow("%s%s%s", protobuf ? "protobuf" : "json", gzip ? " gzip" : "",
                              chunked ? " chunked" : "")
                    << protobuf << gzip << chunked;
}

void tst_Otlp::logsMapping()
{
    QFETCH(bool, protobuf);
    QFETCH(bool, gzip);
    QFETCH(bool, chunked);
    TestSubscriber subscriber(m_redis.port(), "logs:*");
    QVERIFY(subscriber.waitSubscribed());
    Fixture f(m_redis);
    QVERIFY(f.listen());
    Post post;
    post.gzip = gzip;
    post.chunked = chunked;
    if (protobuf) {
        post.contentType = "application/x-protobuf";
        post.body = QByteArray::fromStdString(logsRequest().SerializeAsString());
    } else {
        post.body = QJsonDocument(logsRequestJson()).toJson();
    }
    const QByteArray response = f.post(post);
    QCOMPARE(RawHttp::statusOf(response), 200);
    QCOMPARE(RawHttp::headerOf(response, "Content-Type"),
             protobuf ? QByteArray("application/x-protobuf") : QByteArray("application/json"));
    if (protobuf) {
        pb::ExportLogsServiceResponse answer;
        QVERIFY(answer.ParseFromString(bodyOf(response).toStdString()));
        QVERIFY(!answer.has_partial_success());
    } else {
        QCOMPARE(bodyOf(response), QByteArray("{}"));
    }
    QTRY_COMPARE_WITH_TIMEOUT(subscriber.count(), 2, deliveryTimeoutMs);
    const QList<QJsonObject> want = expectedLogs();
    const auto got = decoded(subscriber.messages());
    const QList<QPair<QByteArray, QJsonObject>> wanted{{"logs:otel", want[0]},
                                                       {"logs:otel", want[1]}};
    QVERIFY2(got == wanted, diff(got, wanted).constData());
}

void tst_Otlp::tracesMapping_data()
{
    QTest::addColumn<bool>("protobuf");
    QTest::addColumn<bool>("allSpans");
    QTest::newRow("json") << false << false;
    QTest::newRow("protobuf") << true << false;
    QTest::newRow("json, all spans") << false << true;
    QTest::newRow("protobuf gzip, all spans") << true << true;
}

void tst_Otlp::tracesMapping()
{
    QFETCH(bool, protobuf);
    QFETCH(bool, allSpans);
    TestSubscriber subscriber(m_redis.port(), "logs:*");
    QVERIFY(subscriber.waitSubscribed());
    OtlpReceiver::Settings settings;
    settings.channels.allSpans = allSpans;
    Fixture f(m_redis, settings);
    QVERIFY(f.listen());
    Post post;
    post.path = "/v1/traces";
    post.gzip = allSpans;
    if (protobuf) {
        post.contentType = "application/x-protobuf";
        post.body = QByteArray::fromStdString(tracesRequest().SerializeAsString());
    } else {
        post.body = QJsonDocument(tracesRequestJson()).toJson();
    }
    const QByteArray response = f.post(post);
    QCOMPARE(RawHttp::statusOf(response), 200);
    const auto wanted = expectedSpans(allSpans);
    QTRY_COMPARE_WITH_TIMEOUT(subscriber.count(), wanted.size(), deliveryTimeoutMs);
    const auto got = decoded(subscriber.messages());
    QVERIFY2(got == wanted, diff(got, wanted).constData());
    QCOMPARE(f.receiver->counters().records, quint64(wanted.size()));
}

void tst_Otlp::partialSuccess_data()
{
    QTest::addColumn<bool>("protobuf");
    QTest::newRow("json") << false;
    QTest::newRow("protobuf") << true;
}

void tst_Otlp::partialSuccess()
{
    QFETCH(bool, protobuf);
    TestSubscriber subscriber(m_redis.port(), "logs:*");
    QVERIFY(subscriber.waitSubscribed());
    Fixture f(m_redis);
    QVERIFY(f.listen());
    Post post;
    if (protobuf) {
        pb::ExportLogsServiceRequest request = logsRequest();
        auto *records = request.mutable_resource_logs(0)->mutable_scope_logs(0);
        records->mutable_log_records(0)->set_trace_id("abc"); // 3 bytes, not 16
        post.contentType = "application/x-protobuf";
        post.body = QByteArray::fromStdString(request.SerializeAsString());
    } else {
        // A bad trace id, a time that is no number, and a body of the wrong type.
        post.body = R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[
            {"traceId":"xyz","body":{"stringValue":"a"}},
            {"timeUnixNano":"soon","body":{"stringValue":"b"}},
            {"body":{"stringValue":7}},
            {"body":{"stringValue":"kept"}}]}]}]})";
    }
    const QByteArray response = f.post(post);
    QCOMPARE(RawHttp::statusOf(response), 200);
    if (protobuf) {
        pb::ExportLogsServiceResponse answer;
        QVERIFY(answer.ParseFromString(bodyOf(response).toStdString()));
        QCOMPARE(answer.partial_success().rejected_log_records(), 1);
        QVERIFY2(QByteArray::fromStdString(answer.partial_success().error_message())
                     .contains("traceId is not 16 bytes"),
                 answer.partial_success().error_message().c_str());
    } else {
        const QJsonObject answer = QJsonDocument::fromJson(bodyOf(response)).object();
        const QJsonObject partial = answer.value("partialSuccess"_L1).toObject();
        QCOMPARE(partial.value("rejectedLogRecords"_L1).toString(), u"3"_s);
        QVERIFY2(partial.value("errorMessage"_L1).toString().contains("traceId"_L1),
                 qPrintable(partial.value("errorMessage"_L1).toString()));
    }
    QTRY_COMPARE_WITH_TIMEOUT(subscriber.count(), 1, deliveryTimeoutMs);
    QCOMPARE(f.receiver->counters().rejected, protobuf ? 1u : 3u);
}

void tst_Otlp::hostileRequests_data()
{
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("reason"); // a part of the error body

    auto post = [](const QByteArray &path, const QByteArray &type, const QByteArray &body,
                   const QByteArray &extra = {}) {
        Post p;
        p.path = path;
        p.contentType = type;
        p.body = body;
        p.extraFields = extra;
        return requestBytes(p);
    };
    const QByteArray proto = QByteArray::fromStdString(logsRequest().SerializeAsString());
    const QByteArray json = "application/json";
    const QByteArray protobuf = "application/x-protobuf";
    QTest::newRow("truncated protobuf")
        << post("/v1/logs", protobuf, proto.first(proto.size() - 7)) << 400
        << QByteArray("not a protobuf ExportLogsServiceRequest");
    QTest::newRow("garbage protobuf")
        << post("/v1/traces", protobuf, QByteArray(300, '\xff')) << 400
        << QByteArray("not a protobuf ExportTraceServiceRequest");
    pb::ExportLogsServiceRequest deep; // a body of arrays in arrays, 150 deep
    pb::AnyValue *value =
        deep.add_resource_logs()->add_scope_logs()->add_log_records()->mutable_body();
    for (int i = 0; i < 150; ++i)
        value = value->mutable_array_value()->add_values();
    value->set_string_value("bottom");
    QTest::newRow("deeply nested protobuf")
        << post("/v1/logs", protobuf, QByteArray::fromStdString(deep.SerializeAsString())) << 200
        << QByteArray("a log record is not valid protobuf"); // rejected alone
    QTest::newRow("not JSON") << post("/v1/logs", json, "{\"resourceLogs\": [") << 400
                              << QByteArray("the body is not JSON");
    QTest::newRow("deeply nested JSON")
        << post("/v1/logs", json, QByteArray(100'000, '[') + QByteArray(100'000, ']')) << 400
        << QByteArray("the body is not JSON");
    QByteArray deepValue = R"({"stringValue":"x"})";
    for (int i = 0; i < 600; ++i)
        deepValue = R"({"arrayValue":{"values":[)" + deepValue + "]}}";
    QTest::newRow("deeply nested AnyValue")
        << post("/v1/logs", json,
                R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":)" + deepValue + "}]}]}]}")
        << 400 << QByteArray("the body is not JSON");
    QTest::newRow("JSON array") << post("/v1/logs", json, "[]") << 400
                                << QByteArray("not a JSON object");
    QTest::newRow("wrong type") << post("/v1/logs", json, R"({"resourceLogs":"all"})") << 400
                                << QByteArray("resourceLogs is not an array");
    QTest::newRow("wrong type deeper")
        << post("/v1/traces", json, R"({"resourceSpans":[{"scopeSpans":[{"spans":{}}]}]})") << 400
        << QByteArray("spans is not an array");
    QTest::newRow("wrong content type")
        << post("/v1/logs", "text/plain", "hello") << 415 << QByteArray("Content-Type must be");
    QTest::newRow("grpc") << post("/v1/logs", "application/grpc", "x") << 415
                          << QByteArray("gRPC is not served");
    QTest::newRow("brotli") << post("/v1/logs", json, "{}", "Content-Encoding: br\r\n") << 415
                            << QByteArray("Content-Encoding br is not supported");
    QTest::newRow("not gzip") << post("/v1/logs", json, "{}", "Content-Encoding: gzip\r\n") << 400
                              << QByteArray("not valid gzip");
    // 64 MiB of zeros in 64 KiB of gzip; --max-body is 1 MiB here.
    QTest::newRow("gzip bomb") << post("/v1/logs", json, gzip(QByteArray(64 * 1024 * 1024, '\0')),
                                       "Content-Encoding: gzip\r\n")
                               << 413 << QByteArray("inflates to more than --max-body");
    QTest::newRow("metrics") << post("/v1/metrics", protobuf, proto) << 404
                             << QByteArray("serves POST /v1/logs");
    QTest::newRow("GET") << QByteArray("GET /v1/logs HTTP/1.1\r\nHost: x\r\n\r\n") << 405
                         << QByteArray("use POST");
    QTest::newRow("two lengths")
        << QByteArray("POST /v1/logs HTTP/1.1\r\nContent-Type: application/json\r\n"
                      "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}")
        << 400 << QByteArray("two different Content-Lengths");
    QTest::newRow("chunked and length")
        << QByteArray("POST /v1/logs HTTP/1.1\r\nContent-Type: application/json\r\n"
                      "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}")
        << 400 << QByteArray("Transfer-Encoding together with Content-Length");
    QTest::newRow("bad chunk size")
        << QByteArray("POST /v1/logs HTTP/1.1\r\nContent-Type: application/json\r\n"
                      "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n")
        << 400 << QByteArray("malformed chunk size");
    QTest::newRow("HTTP/2 preface")
        << QByteArray("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") << 505 << QByteArray("only HTTP/1.1");
}

void tst_Otlp::hostileRequests()
{
    QFETCH(QByteArray, request);
    QFETCH(int, status);
    QFETCH(QByteArray, reason);
    OtlpReceiver::Settings settings;
    settings.maxBodyBytes = 1024 * 1024;
    Fixture f(m_redis, settings);
    QVERIFY(f.listen());
    const QByteArray response = RawHttp::exchange(f.receiver->port(), request);
    QCOMPARE(RawHttp::statusOf(response), status);
    QVERIFY2(bodyOf(response).contains(reason), response.constData());
    // It keeps serving.
    QCOMPARE(RawHttp::statusOf(f.post(goodLogs)), 200);
}

void tst_Otlp::oversizedBodiesAreRefusedBeforeTheyAreRead_data()
{
    QTest::addColumn<bool>("chunked");
    QTest::newRow("Content-Length") << false;
    QTest::newRow("chunked") << true;
}

void tst_Otlp::oversizedBodiesAreRefusedBeforeTheyAreRead()
{
    QFETCH(bool, chunked);
    OtlpReceiver::Settings settings;
    settings.maxBodyBytes = 1024 * 1024;
    Fixture f(m_redis, settings);
    QVERIFY(f.listen());
    const qint64 rssBefore = rssKiB();
    qint64 rssMax = rssBefore;

    // A 100 MB body, written as long as the receiver reads it.
    constexpr qint64 total = 100LL * 1000 * 1000;
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, f.receiver->port());
    QVERIFY(socket.waitForConnected(5000));
    socket.write("POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n" +
                 (chunked ? QByteArray("Transfer-Encoding: chunked\r\n\r\n")
                          : "Content-Length: " + QByteArray::number(total) + "\r\n\r\n"));
    const QByteArray piece(64 * 1024, 'x');
    const QByteArray chunk = QByteArray::number(piece.size(), 16) + "\r\n" + piece + "\r\n";
    qint64 written = 0;
    QByteArray response;
    QVERIFY(QTest::qWaitFor(
        [&] {
            response += socket.readAll();
            rssMax = std::max(rssMax, rssKiB());
            if (socket.state() != QAbstractSocket::ConnectedState || response.contains("\r\n\r\n"))
                return true;
            while (written < total && socket.bytesToWrite() < 1024 * 1024) {
                socket.write(chunked ? chunk : piece);
                written += piece.size();
            }
            return false;
        },
        60000));
    QVERIFY(QTest::qWaitFor(
        [&] {
            response += socket.readAll();
            return socket.state() == QAbstractSocket::UnconnectedState;
        },
        10000)); // the receiver closes the connection
    QCOMPARE(RawHttp::statusOf(response), 413);
    QVERIFY2(bodyOf(response).contains("--max-body"), response.constData());
    QCOMPARE(RawHttp::headerOf(response, "Connection"), QByteArray("close"));
    // Refused after at most --max-body (plus what was on the way), not after 100 MB.
    QVERIFY2(written < 16 * 1024 * 1024, QByteArray::number(written).constData());
    // The test process (receiver included) never held the body.
    QVERIFY2(rssMax - rssBefore < 40 * 1024, QByteArray::number(rssMax - rssBefore).constData());
    QCOMPARE(RawHttp::statusOf(f.post(goodLogs)), 200);
}

void tst_Otlp::manyEmptyRecordsStayBounded()
{
    // ~520,000 empty log records (2 bytes each) in a 1 MiB body: they would make 520,000
    // records; the receiver stops at 4 x --max-body of records and answers 413.
    auto lengthDelimited = [](char tag, const QByteArray &content) -> QByteArray {
        QByteArray out(1, tag);
        for (quint64 n = quint64(content.size());; n >>= 7) {
            out += char(n < 0x80 ? n : (n & 0x7f) | 0x80);
            if (n < 0x80)
                break;
        }
        out += content;
        return out;
    };
    QByteArray records;
    for (int i = 0; i < 520'000; ++i)
        records += QByteArrayView("\x12\x00", 2);
    const QByteArray body =
        lengthDelimited('\x0a', lengthDelimited('\x12', records)); // resource_logs { scope_logs }
    QVERIFY(body.size() < 1024 * 1024);

    OtlpReceiver::Settings settings;
    settings.maxBodyBytes = 1024 * 1024;
    Fixture f(m_redis, settings);
    QVERIFY(f.listen());
    Post post;
    post.contentType = "application/x-protobuf";
    post.body = body;
    const QByteArray response = f.post(post);
    QCOMPARE(RawHttp::statusOf(response), 413);
    QVERIFY2(bodyOf(response).contains("the records of this request would take more than"),
             response.constData());
    QCOMPARE(f.publisher.pending(), 0);
    QCOMPARE(RawHttp::statusOf(f.post(goodLogs)), 200);
}

void tst_Otlp::keepAlivePipeliningAndContinue()
{
    Fixture f(m_redis);
    QVERIFY(f.listen());
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, f.receiver->port());
    QVERIFY(socket.waitForConnected(5000));
    // A refused request without a body, two good ones, all in one write; then one that waits for
    // 100 Continue. The refusal does not end the connection: nothing of it was left unread.
    socket.write("GET /v1/logs HTTP/1.1\r\nHost: x\r\n\r\n" + requestBytes(goodLogs) +
                 requestBytes(goodLogs));
    QByteArray got;
    QVERIFY(QTest::qWaitFor(
        [&] {
            got += socket.readAll();
            return got.count("HTTP/1.1 200 OK\r\n") == 2 && got.endsWith("{}");
        },
        5000));
    QVERIFY2(got.startsWith("HTTP/1.1 405 Method Not Allowed\r\n"), got.constData());
    QVERIFY(!got.contains("Connection: close"));
    got.clear();
    socket.write("POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 "Expect: 100-continue\r\nContent-Length: " +
                 QByteArray::number(goodLogs.body.size()) + "\r\n\r\n");
    QVERIFY(QTest::qWaitFor(
        [&] {
            got += socket.readAll();
            return got.contains("\r\n\r\n");
        },
        5000));
    QCOMPARE(got, QByteArray("HTTP/1.1 100 Continue\r\n\r\n"));
    got.clear();
    socket.write(goodLogs.body);
    QVERIFY(QTest::qWaitFor(
        [&] {
            got += socket.readAll();
            return got.endsWith("{}");
        },
        5000));
    QCOMPARE(RawHttp::statusOf(got), 200);
    QCOMPARE(socket.state(), QAbstractSocket::ConnectedState);
    QCOMPARE(f.receiver->counters().requests, 3u);
}

void tst_Otlp::tokenFile()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(u"tokens"_s);
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("# who may publish where\n"
               "exporter-0123456789 logs:*\n"
               "logs-only-0123456789 logs:otel\n");
    file.close();
    OtlpReceiver::Settings settings;
    settings.tokenFile = path;
    Fixture f(m_redis, settings);
    QVERIFY(f.listen());

    Post post = goodLogs;
    QByteArray response = f.post(post);
    QCOMPARE(RawHttp::statusOf(response), 401);
    QCOMPARE(RawHttp::headerOf(response, "WWW-Authenticate"),
             QByteArray("Bearer realm=\"llmstreamer\""));
    post.extraFields = "Authorization: Bearer exporter-0123456780\r\n";
    QCOMPARE(RawHttp::statusOf(f.post(post)), 401);
    post.extraFields = "Authorization: Bearer exporter-0123456789\r\n";
    QCOMPARE(RawHttp::statusOf(f.post(post)), 200);
    post.extraFields = "Authorization: Bearer logs-only-0123456789\r\n";
    QCOMPARE(RawHttp::statusOf(f.post(post)), 200);
    post.path = "/v1/traces";
    post.body = "{}";
    response = f.post(post);
    QCOMPARE(RawHttp::statusOf(response), 403);
    QVERIFY2(bodyOf(response).contains("may not publish to logs:generation"), response.constData());

    // A token file without tokens, or missing, is refused at start.
    OtlpReceiver::Settings missing;
    missing.tokenFile = dir.filePath(u"nope"_s);
    Fixture g(m_redis, missing);
    QString error;
    QVERIFY(!g.receiver->listen(&error));
    QVERIFY2(error.contains("cannot use the token file"_L1), qPrintable(error));
}

void tst_Otlp::busyWhileRedisIsAwayThenNothingLost()
{
    RedisPublisher::Limits limits;
    limits.maxMessages = 100;
    Fixture f(m_redis, {}, limits);
    QVERIFY(f.listen());
    QTRY_VERIFY_WITH_TIMEOUT(f.publisher.isConnected(), deliveryTimeoutMs);
    f.publisher.connection()->stop(); // Redis away (held back from reconnecting)
    QTRY_VERIFY_WITH_TIMEOUT(!f.publisher.isConnected(), deliveryTimeoutMs);

    // Batches of 30 records, numbered, until the receiver says it is busy.
    int accepted = 0;
    QByteArray response;
    for (int batch = 0; batch < 20; ++batch) {
        QJsonArray records;
        for (int i = 0; i < 30; ++i)
            records.append(QJsonObject{{"body"_L1, str(QString::number(batch * 30 + i))}});
        Post post;
        post.body =
            QJsonDocument(
                QJsonObject{
                    {"resourceLogs"_L1,
                     QJsonArray{QJsonObject{
                         {"scopeLogs"_L1, QJsonArray{QJsonObject{{"logRecords"_L1, records}}}}}}}})
                .toJson(QJsonDocument::Compact);
        response = f.post(post);
        if (RawHttp::statusOf(response) != 200)
            break;
        accepted += 30;
    }
    QCOMPARE(RawHttp::statusOf(response), 503);
    QCOMPARE(RawHttp::headerOf(response, "Retry-After"), QByteArray("1"));
    QVERIFY2(bodyOf(response).contains("retry later"), response.constData());
    QCOMPARE(accepted, 120); // 4 batches pass 100 (Block accepts the one that fills it)
    QCOMPARE(f.publisher.pending(), 120);

    TestSubscriber subscriber(m_redis.port(), "logs:*");
    QVERIFY(subscriber.waitSubscribed());
    f.publisher.connection()->start();
    QTRY_COMPARE_WITH_TIMEOUT(subscriber.count(), 120, deliveryTimeoutMs);
    QStringList msgs;
    for (const auto &[channel, payload] : subscriber.messages())
        msgs.append(QJsonDocument::fromJson(payload).object().value("msg"_L1).toString());
    for (int i = 0; i < 120; ++i)
        QCOMPARE(msgs.value(i), QString::number(i));
    QCOMPARE(RawHttp::statusOf(f.post(goodLogs)), 200);
    QCOMPARE(f.receiver->counters().busy, 1u);
}

void tst_Otlp::requestReaderInPieces()
{
    // One byte at a time: the same request as in one piece.
    const QByteArray bytes = requestBytes(Post{"/v1/logs?x=1", "application/json",
                                               QByteArray(5000, 'a'), false, true, "X-A:  b \r\n"});
    HttpRequestReader reader(1 << 20);
    QByteArray input;
    for (char c : bytes) {
        QVERIFY(reader.state() != HttpRequestReader::State::Complete);
        input.append(c);
        reader.read(input);
        QVERIFY(reader.state() != HttpRequestReader::State::Failed);
    }
    QCOMPARE(reader.state(), HttpRequestReader::State::Complete);
    QCOMPARE(reader.target(), QByteArray("/v1/logs?x=1"));
    QCOMPARE(reader.field("x-a"), QByteArray("b"));
    QCOMPARE(reader.body(), QByteArray(5000, 'a'));
    QVERIFY(input.isEmpty());
}

void tst_Otlp::recordsAreValidJson()
{
    // Every control character, a lone surrogate, and text beyond the BMP, through the decoder
    // alone (pure): the payload must read back as the same strings, U+FFFD for the surrogate.
    QString text;
    for (char16_t c = 0; c < 0x20; ++c)
        text += QChar(c);
    text += u"\"\\/\u00e9\u20ac"_s + QChar(0xd800) + u"x\U0001F600"_s;
    pb::ExportLogsServiceRequest request;
    auto *scope = request.add_resource_logs()->add_scope_logs();
    auto *record = scope->add_log_records();
    record->mutable_body()->set_string_value("ok");
    auto *attr = record->add_attributes();
    attr->set_key("k\"ey");
    attr->mutable_value()->set_double_value(1e300);
    QJsonObject body{
        {"resourceLogs"_L1,
         QJsonArray{QJsonObject{
             {"scopeLogs"_L1,
              QJsonArray{QJsonObject{
                  {"logRecords"_L1, QJsonArray{QJsonObject{{"body"_L1, str(text)}}}}}}}}}}};
    const OtlpDecoder::Result json = OtlpDecoder::decode(
        OtlpDecoder::Signal::Logs, OtlpDecoder::Encoding::Json, QJsonDocument(body).toJson(), {});
    QCOMPARE(json.records.size(), size_t(1));
    QJsonParseError error;
    const QJsonObject decoded = QJsonDocument::fromJson(json.records[0].payload, &error).object();
    QCOMPARE(error.error, QJsonParseError::NoError);
    QString want = text;
    want[want.indexOf(QChar(0xd800))] = QChar(0xfffd);
    QCOMPARE(decoded.value("msg"_L1).toString(), want);

    const OtlpDecoder::Result proto =
        OtlpDecoder::decode(OtlpDecoder::Signal::Logs, OtlpDecoder::Encoding::Protobuf,
                            QByteArray::fromStdString(request.SerializeAsString()), {});
    QCOMPARE(proto.records.size(), size_t(1));
    const QJsonObject fromProto = QJsonDocument::fromJson(proto.records[0].payload).object();
    QCOMPARE(fromProto.value("k\"ey"_L1).toDouble(), 1e300);
}

void tst_Otlp::inflateStopsAtItsBound()
{
    const QByteArray data(1'000'000, 'z');
    const QByteArray compressed = gzip(data);
    auto ok = GzipInflater::inflate(compressed, 1'000'000);
    QCOMPARE(ok.status, GzipInflater::Result::Status::Ok);
    QCOMPARE(ok.data, data);
    auto big = GzipInflater::inflate(compressed, 999'999);
    QCOMPARE(big.status, GzipInflater::Result::Status::TooLarge);
    QVERIFY(big.data.isEmpty());
    auto two = GzipInflater::inflate(QByteArray(gzip("ab") + gzip("cd")), 100); // two members
    QCOMPARE(two.data, QByteArray("abcd"));
    auto cut = GzipInflater::inflate(compressed.first(compressed.size() - 9), 1'000'000);
    QCOMPARE(cut.status, GzipInflater::Result::Status::Corrupt);
    QVERIFY(!cut.error.isEmpty());
}

QTEST_GUILESS_MAIN(tst_Otlp)
#include "tst_otlp.moc"
