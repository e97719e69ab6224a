#pragma once

#include <QJsonObject>
#include <QStringView>

#include <optional>

// Reads the throughput and cache figures vLLM logs every few seconds while it serves:
//   "Avg prompt throughput: 12.3 tokens/s, Avg generation throughput: 45.6 tokens/s, Running: 2
//    reqs, Swapped: 0 reqs, Pending: 0 reqs, GPU KV cache usage: 3.4%, CPU KV cache usage: 0.0%."
// (metrics.py, the V0 engine) or "Engine 000: Avg prompt throughput: …, Running: 2 reqs,
// Waiting: 0 reqs, GPU KV cache usage: 3.4%, Prefix cache hit rate: 56.7%" (loggers.py, V1).
// Each "Label: number unit" becomes a numeric member, named as the simulator's summaries name
// them where there is one (tokens_per_s, queue_depth, kv_cache_usage) and after the label
// otherwise; percentages become fractions (3.4% → 0.034). The README lists the mapping.
namespace VllmStats {

// The members for a message, or nullopt if it is not such a stats message (both average
// throughputs must be there).
std::optional<QJsonObject> parse(QStringView message);

// A vLLM log line "[(proc) ]LEVEL MM-DD HH:MM:SS [file.py:N] message" carrying stats: the record
// for logs:metrics with level, source, msg and the figures. Nullopt for any other line.
std::optional<QJsonObject> parseLine(QStringView line);

} // namespace VllmStats
