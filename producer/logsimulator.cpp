#include "logsimulator.h"

#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cmath>

namespace {

struct Model
{
    QLatin1StringView name;
    int weight;        // relative share of the traffic
    double msPerToken; // decode speed
    int contextWindow;
};

constexpr Model models[] = {
    {QLatin1StringView("meta-llama/Llama-3.1-8B-Instruct"), 40, 11.0, 131072},
    {QLatin1StringView("meta-llama/Llama-3.1-70B-Instruct"), 20, 38.0, 131072},
    {QLatin1StringView("mistralai/Mistral-7B-Instruct-v0.3"), 20, 10.0, 32768},
    {QLatin1StringView("Qwen/Qwen2.5-14B-Instruct"), 15, 17.0, 32768},
    {QLatin1StringView("google/gemma-2-9b-it"), 5, 13.0, 8192},
};

struct Line
{
    QLatin1StringView msg;
    QLatin1StringView errorType; // empty: none
};

// INFO: a request finished normally.
constexpr Line infoLines[] = {
    {QLatin1StringView("generation complete"), {}},
    {QLatin1StringView("generation complete"), {}},
    {QLatin1StringView("generation complete"), {}},
    {QLatin1StringView("stream finished, stop sequence reached"), {}},
    {QLatin1StringView("generation stopped at max_tokens"), {}},
    {QLatin1StringView("tool call emitted, awaiting tool result"), {}},
    {QLatin1StringView("request served from prefix cache"), {}},
};
// DEBUG: a step of a request still running (no output tokens yet).
constexpr Line debugLines[] = {
    {QLatin1StringView("request received"), {}},
    {QLatin1StringView("prompt tokenized"), {}},
    {QLatin1StringView("scheduled into decode batch"), {}},
    {QLatin1StringView("prefix cache hit for system prompt"), {}},
    {QLatin1StringView("sampling params: temperature=0.7 top_p=0.95"), {}},
};
constexpr Line warnLines[] = {
    {QLatin1StringView("prompt truncated to context window"), {}},
    {QLatin1StringView("rate limited by upstream, retrying"), QLatin1StringView("rate_limited")},
    {QLatin1StringView("time to first token above SLO"), {}},
    {QLatin1StringView("client disconnected before completion"),
     QLatin1StringView("client_disconnected")},
    {QLatin1StringView("KV cache nearly full, preempting sequence"), {}},
};
constexpr Line errorLines[] = {
    {QLatin1StringView("CUDA out of memory"), QLatin1StringView("OutOfMemoryError")},
    {QLatin1StringView("request timed out waiting for a batch slot"), QLatin1StringView("timeout")},
    {QLatin1StringView("upstream model server returned 503"),
     QLatin1StringView("upstream_unavailable")},
    {QLatin1StringView("prompt exceeds the model's context length"),
     QLatin1StringView("context_length_exceeded")},
    {QLatin1StringView("invalid JSON in tool call arguments"), QLatin1StringView("invalid_output")},
};

template <typename T, std::size_t N> const T &pick(QRandomGenerator &rng, const T (&items)[N])
{
    return items[rng.bounded(int(N))];
}

qint64 percentile(QList<qint64> values, double p)
{
    if (values.isEmpty())
        return 0;
    std::sort(values.begin(), values.end());
    const auto index = qsizetype(std::ceil(p * double(values.size()))) - 1;
    return values.at(std::clamp<qsizetype>(index, 0, values.size() - 1));
}

QString timestamp(const QDateTime &now)
{
    return now.toUTC().toString(Qt::ISODateWithMs);
}

const Model &pickModel(QRandomGenerator &rng)
{
    int total = 0;
    for (const Model &m : models)
        total += m.weight;
    int roll = rng.bounded(total);
    for (const Model &m : models) {
        if (roll < m.weight)
            return m;
        roll -= m.weight;
    }
    return models[0];
}

// Token counts are heavy-tailed: many short chats, a few long documents.
qint64 logUniform(QRandomGenerator &rng, double min, double max)
{
    const double u = rng.generateDouble();
    return qint64(std::exp(std::log(min) + u * (std::log(max) - std::log(min))));
}

} // namespace

LogSimulator::LogSimulator(const Config &config)
    : m_config(config), m_rng(config.seed),
      m_generationChannel(config.channelPrefix + ":generation"),
      m_errorsChannel(config.channelPrefix + ":errors"),
      m_metricsChannel(config.channelPrefix + ":metrics")
{
    m_config.metricsEvery = std::max(1, m_config.metricsEvery);
}

LogSimulator::Record LogSimulator::next(const QDateTime &now)
{
    if (!m_windowStart.isValid())
        m_windowStart = now;
    if (m_sinceMetrics >= m_config.metricsEvery) {
        m_sinceMetrics = 0;
        return metricsRecord(now);
    }
    ++m_sinceMetrics;
    return requestRecord(now);
}

LogSimulator::Record LogSimulator::requestRecord(const QDateTime &now)
{
    const Model &model = pickModel(m_rng);
    // Per mille: 3% ERROR, 5% WARN, 12% DEBUG, 80% INFO.
    const int roll = m_rng.bounded(1000);
    const QLatin1StringView level = roll < 30    ? QLatin1StringView("ERROR")
                                    : roll < 80  ? QLatin1StringView("WARN")
                                    : roll < 200 ? QLatin1StringView("DEBUG")
                                                 : QLatin1StringView("INFO");
    const Line &line = level == QLatin1StringView("ERROR")   ? pick(m_rng, errorLines)
                       : level == QLatin1StringView("WARN")  ? pick(m_rng, warnLines)
                       : level == QLatin1StringView("DEBUG") ? pick(m_rng, debugLines)
                                                             : pick(m_rng, infoLines);

    qint64 inputTokens = logUniform(m_rng, 12, 12000);
    if (line.msg == QLatin1StringView("prompt truncated to context window"))
        inputTokens = model.contextWindow;
    qint64 outputTokens = logUniform(m_rng, 1, 1500);
    const bool failed = level == QLatin1StringView("ERROR");
    if (failed && m_rng.bounded(2) == 0)
        outputTokens = 0; // failed before the first token
    const qint64 queueWait = m_rng.bounded(m_queueDepth * 15 + 1);
    const qint64 ttft = 15 + queueWait + qint64(double(inputTokens) * 0.08) + m_rng.bounded(40);
    const double jitter = 0.85 + 0.3 * m_rng.generateDouble();
    const qint64 duration = ttft + qint64(double(outputTokens) * model.msPerToken * jitter);

    QJsonObject o;
    o.insert(QLatin1StringView("ts"), timestamp(now));
    o.insert(QLatin1StringView("level"), level);
    o.insert(QLatin1StringView("service"), m_config.service);
    o.insert(QLatin1StringView("msg"), line.msg);
    o.insert(QLatin1StringView("request_id"),
             QStringLiteral("req-%1").arg(m_rng.generate64(), 16, 16, QLatin1Char('0')));
    o.insert(QLatin1StringView("gen_ai.request.model"), model.name);
    o.insert(QLatin1StringView("gen_ai.usage.input_tokens"), inputTokens);
    // A DEBUG record is a step of a request still running: it has no usage or timing yet, so a
    // consumer summing output tokens counts each request once.
    if (level != QLatin1StringView("DEBUG")) {
        o.insert(QLatin1StringView("gen_ai.usage.output_tokens"), outputTokens);
        o.insert(QLatin1StringView("duration_ms"), duration);
        if (outputTokens > 0)
            o.insert(QLatin1StringView("ttft_ms"), ttft);
        if (!line.errorType.isEmpty())
            o.insert(QLatin1StringView("error.type"), line.errorType);

        ++m_windowRequests;
        m_windowErrors += failed ? 1 : 0;
        m_windowInputTokens += inputTokens;
        m_windowOutputTokens += outputTokens;
        m_windowDurations.append(duration);
        if (outputTokens > 0)
            m_windowTtfts.append(ttft);
    }
    m_queueDepth = std::clamp(m_queueDepth + m_rng.bounded(3) - 1, 0, 64);

    const bool toErrors = failed || level == QLatin1StringView("WARN");
    return {toErrors ? m_errorsChannel : m_generationChannel,
            QJsonDocument(o).toJson(QJsonDocument::Compact)};
}

LogSimulator::Record LogSimulator::metricsRecord(const QDateTime &now)
{
    const double windowSeconds = double(m_windowStart.msecsTo(now)) / 1000.0;
    QJsonObject o;
    o.insert(QLatin1StringView("ts"), timestamp(now));
    o.insert(QLatin1StringView("level"), QLatin1StringView("INFO"));
    o.insert(QLatin1StringView("service"), m_config.service);
    o.insert(QLatin1StringView("msg"), QLatin1StringView("throughput summary"));
    o.insert(QLatin1StringView("window_s"), std::round(windowSeconds * 1000.0) / 1000.0);
    o.insert(QLatin1StringView("requests"), m_windowRequests);
    o.insert(QLatin1StringView("errors"), m_windowErrors);
    // Deliberately not gen_ai.usage.*: these tokens were already reported by the request records.
    o.insert(QLatin1StringView("input_tokens"), m_windowInputTokens);
    o.insert(QLatin1StringView("output_tokens"), m_windowOutputTokens);
    o.insert(QLatin1StringView("tokens_per_s"),
             windowSeconds > 0 ? std::round(double(m_windowOutputTokens) / windowSeconds * 10) / 10
                               : 0.0);
    o.insert(QLatin1StringView("latency_p50_ms"), percentile(m_windowDurations, 0.5));
    o.insert(QLatin1StringView("latency_p95_ms"), percentile(m_windowDurations, 0.95));
    o.insert(QLatin1StringView("ttft_p50_ms"), percentile(m_windowTtfts, 0.5));
    o.insert(QLatin1StringView("queue_depth"), m_queueDepth);
    o.insert(QLatin1StringView("kv_cache_usage"),
             std::round((0.35 + 0.6 * m_rng.generateDouble()) * 100) / 100);

    m_windowStart = now;
    m_windowRequests = 0;
    m_windowErrors = 0;
    m_windowInputTokens = 0;
    m_windowOutputTokens = 0;
    m_windowDurations.clear();
    m_windowTtfts.clear();
    return {m_metricsChannel, QJsonDocument(o).toJson(QJsonDocument::Compact)};
}
