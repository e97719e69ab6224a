#include "vllmstats.h"

#include "fieldmap.h"

#include <QRegularExpression>

#include <cmath>

namespace {

struct Figure
{
    QLatin1StringView label; // as vLLM writes it, compared without case
    QLatin1StringView member;
};

// Named after LogSimulator's summaries where one means the same.
constexpr Figure figures[] = {
    {QLatin1StringView("Avg prompt throughput"), QLatin1StringView("prompt_tokens_per_s")},
    {QLatin1StringView("Avg generation throughput"), QLatin1StringView("tokens_per_s")},
    {QLatin1StringView("Running"), QLatin1StringView("running_requests")},
    {QLatin1StringView("Swapped"), QLatin1StringView("swapped_requests")},
    {QLatin1StringView("Pending"), QLatin1StringView("queue_depth")},
    {QLatin1StringView("Waiting"), QLatin1StringView("queue_depth")},
    {QLatin1StringView("GPU KV cache usage"), QLatin1StringView("kv_cache_usage")},
    {QLatin1StringView("CPU KV cache usage"), QLatin1StringView("cpu_kv_cache_usage")},
    {QLatin1StringView("Prefix cache hit rate"), QLatin1StringView("prefix_cache_hit_rate")},
    {QLatin1StringView("GPU prefix cache hit rate"), QLatin1StringView("prefix_cache_hit_rate")},
    {QLatin1StringView("CPU prefix cache hit rate"),
     QLatin1StringView("cpu_prefix_cache_hit_rate")},
};

// "Some label (x)" → "some_label_x".
QString memberFor(QStringView label)
{
    for (const Figure &f : figures)
        if (label.compare(f.label, Qt::CaseInsensitive) == 0)
            return f.member;
    QString out;
    for (const QChar c : label) {
        if (c.isLetterOrNumber() && c.unicode() < 0x80)
            out.append(c.toLower());
        else if (!out.isEmpty() && !out.endsWith(QLatin1Char('_')))
            out.append(QLatin1Char('_'));
    }
    while (out.endsWith(QLatin1Char('_')))
        out.chop(1);
    return out;
}

} // namespace

std::optional<QJsonObject> VllmStats::parse(QStringView message)
{
    if (!message.contains(QLatin1StringView("throughput:"), Qt::CaseInsensitive))
        return std::nullopt;
    // "Label: 12.3 tokens/s" or "Label: 3.4%", the unit optional.
    static const QRegularExpression figure(QStringLiteral(
        R"(^\s*([A-Za-z][A-Za-z0-9 ()/_-]{0,63}):\s*(-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)\s*(%?)[^,]*$)"));
    static const QRegularExpression engine(QStringLiteral(R"(^\s*Engine\s+([0-9]{1,6}):\s*)"));
    QJsonObject out;
    QStringView rest = message.trimmed();
    if (rest.endsWith(QLatin1Char('.')))
        rest.chop(1);
    if (const auto m = engine.match(rest); m.hasMatch()) {
        out.insert(QLatin1StringView("engine"), m.capturedView(1).toInt());
        rest = rest.sliced(m.capturedLength(0));
    }
    for (const QStringView part : rest.tokenize(QLatin1Char(','))) {
        const auto m = figure.match(part);
        if (!m.hasMatch())
            continue;
        const QString member = memberFor(m.capturedView(1).trimmed());
        if (member.isEmpty())
            continue;
        double value = m.capturedView(2).toDouble();
        if (!m.capturedView(3).isEmpty())
            value = std::round(value * 1e4) / 1e6; // a percentage with up to 4 decimals
        if (!std::isfinite(value))
            continue;
        out.insert(member, value == std::floor(value) && std::fabs(value) < 1e15
                               ? QJsonValue(qint64(value))
                               : QJsonValue(value));
    }
    if (!out.contains(QLatin1StringView("prompt_tokens_per_s")) ||
        !out.contains(QLatin1StringView("tokens_per_s")))
        return std::nullopt;
    return out;
}

std::optional<QJsonObject> VllmStats::parseLine(QStringView line)
{
    if (!line.contains(QLatin1StringView("throughput:"), Qt::CaseInsensitive))
        return std::nullopt;
    // vLLM's formatter: "%(levelname)s %(asctime)s [%(filename)s:%(lineno)d] %(message)s" with
    // asctime "%m-%d %H:%M:%S" (older releases without the brackets), and in V1 a "(EngineCore_0
    // pid=1234) " prefix for lines from another process.
    static const QRegularExpression prefix(QStringLiteral(
        R"(^(?:\(([^)]{1,100})\)\s+)?([A-Z]{4,8})\s+([0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?)\s+\[?([^\s\]]{1,200}:[0-9]{1,9})\]\s?)"));
    const auto m = prefix.match(line);
    if (!m.hasMatch())
        return std::nullopt;
    const QStringView message = line.sliced(m.capturedLength(0));
    auto stats = parse(message);
    if (!stats)
        return std::nullopt;
    const QJsonValue level = FieldMap::levelValue(m.capturedView(2).toString());
    if (!level.isUndefined())
        stats->insert(QLatin1StringView("level"), level);
    stats->insert(QLatin1StringView("source"), m.capturedView(4).toString());
    if (m.hasCaptured(1))
        stats->insert(QLatin1StringView("process"), m.capturedView(1).toString());
    stats->insert(QLatin1StringView("msg"), message.trimmed().toString());
    return stats;
}
