#include "gatewaymetrics.h"

#include "connectionguard.h"
#include "hub.h"
#include "prometheustext.h"
#include "redisfeed.h"

QByteArray GatewayMetrics::text(const Sources &in)
{
    PrometheusText m;
    m.family("llmstreamer_build_info", "gauge", "Version of the gateway.");
    m.sample("llmstreamer_build_info", {{"version", LLMSTREAMER_VERSION}}, 1);
    m.family("llmstreamer_transport_info", "gauge",
             "How the gateway reads Redis: pubsub or streams.");
    m.sample("llmstreamer_transport_info", {{"transport", in.hub.transportName()}}, 1);

    struct Counter
    {
        const char *name;
        const char *help;
        quint64 Hub::ChannelStats::*field;
    };
    const Counter perChannel[] = {
        {"llmstreamer_messages_received_total", "Messages received from Redis.",
         &Hub::ChannelStats::received},
        {"llmstreamer_messages_delivered_total",
         "Messages written to live clients (one per client).", &Hub::ChannelStats::delivered},
        {"llmstreamer_messages_dropped_total",
         "Messages not written because the client was cut loose for not reading.",
         &Hub::ChannelStats::dropped},
        {"llmstreamer_messages_replayed_total", "Messages replayed after Last-Event-ID.",
         &Hub::ChannelStats::replayed},
        {"llmstreamer_payload_bytes_received_total", "Payload bytes received from Redis.",
         &Hub::ChannelStats::bytes},
        {"llmstreamer_output_tokens_received_total",
         "gen_ai.usage.output_tokens summed over JSON payloads.", &Hub::ChannelStats::outputTokens},
    };
    for (const Counter &c : perChannel) {
        m.family(c.name, "counter", c.help);
        for (const Hub::ChannelStats &s : in.hub.channels())
            m.sample(c.name, {{"channel", s.name}}, double(s.*(c.field)));
    }
    m.family("llmstreamer_channel_rate", "gauge", "Messages per second over the last second.");
    for (const Hub::ChannelStats &s : in.hub.channels())
        m.sample("llmstreamer_channel_rate", {{"channel", s.name}}, s.rate);

    m.family("llmstreamer_clients", "gauge", "Open SSE streams.");
    m.sample("llmstreamer_clients", in.hub.clientCount());
    m.family("llmstreamer_clients_accepted_total", "counter", "SSE streams opened.");
    m.sample("llmstreamer_clients_accepted_total", double(in.hub.clientsAccepted()));
    m.family("llmstreamer_clients_dropped_total", "counter",
             "SSE streams cut loose because the client stopped reading.");
    m.sample("llmstreamer_clients_dropped_total", {{"reason", "slow"}},
             double(in.hub.clientsDroppedSlow()));
    m.family("llmstreamer_gaps_total", "counter", "Gap events announced.");
    m.sample("llmstreamer_gaps_total", {{"reason", "redis"}}, double(in.hub.gapsRedis()));
    m.sample("llmstreamer_gaps_total", {{"reason", "history"}}, double(in.hub.gapsHistory()));
    m.family("llmstreamer_invalid_utf8_payloads_total", "counter",
             "Payloads whose invalid UTF-8 bytes were replaced by U+FFFD.");
    m.sample("llmstreamer_invalid_utf8_payloads_total", double(in.hub.invalidUtf8Payloads()));
    m.family("llmstreamer_replay_events", "gauge", "Events held for replay.");
    m.sample("llmstreamer_replay_events", double(in.hub.ring().size()));
    m.family("llmstreamer_replay_bytes", "gauge", "Bytes of events held for replay.");
    m.sample("llmstreamer_replay_bytes", double(in.hub.ring().bytes()));
    m.family("llmstreamer_stream_replayed_total", "counter",
             "Entries replayed from the Redis stream (older than the replay ring) to resuming "
             "clients; 0 with the pub/sub transport.");
    m.sample("llmstreamer_stream_replayed_total", double(in.hub.replayedFromStream()));
    m.family("llmstreamer_redis_connected", "gauge", "1 while subscribed to Redis.");
    m.sample("llmstreamer_redis_connected", in.redis.isReady() ? 1 : 0);
    m.family("llmstreamer_redis_reconnects_total", "counter",
             "Connections to Redis re-established after a loss.");
    m.sample("llmstreamer_redis_reconnects_total", double(in.redis.reconnects()));

    m.family("llmstreamer_truncated_payloads_total", "counter",
             "Payloads cut to --max-payload-bytes.");
    m.sample("llmstreamer_truncated_payloads_total", double(in.hub.truncatedPayloads()));
    m.family("llmstreamer_limit_hits_total", "counter",
             "Requests refused or connections closed by a configured limit.");
    for (const char *limit : {"max_clients", "max_clients_per_address", "selection"})
        m.sample("llmstreamer_limit_hits_total", {{"limit", limit}},
                 double(in.limitHits.count(limit) ? in.limitHits.at(limit) : 0));
    // Counted by the ConnectionGuard, in front of Qt's parser.
    for (const char *limit : {"max_request_bytes", "request_body", "bad_request", "head_timeout",
                              "idle_timeout", "max_connections_per_address", "max_output_bytes"})
        m.sample("llmstreamer_limit_hits_total", {{"limit", limit}},
                 double(in.tcp ? in.tcp->limitHits(limit) : 0));
    m.family("llmstreamer_tls_handshake_failures_total", "counter",
             "TLS handshakes that failed (with --tls-cert; one that did not complete within "
             "--header-timeout counts as a head_timeout hit).");
    m.sample("llmstreamer_tls_handshake_failures_total",
             double(in.tcp ? in.tcp->limitHits("tls_handshake") : 0));
    m.family("llmstreamer_unsent_response_bytes", "gauge",
             "Response bytes waiting for clients, over connections that are not event streams.");
    m.sample("llmstreamer_unsent_response_bytes",
             double(in.tcp ? in.tcp->unsentResponseBytes() : 0));
    m.family("llmstreamer_sessions", "gauge", "Signed-in browser sessions.");
    m.sample("llmstreamer_sessions", double(in.sessions));
    m.family("llmstreamer_auth_failures_total", "counter",
             "Requests refused for a missing or invalid token (401) or a forbidden channel (403).");
    for (const char *reason : {"missing", "invalid", "forbidden"})
        m.sample("llmstreamer_auth_failures_total", {{"reason", reason}},
                 double(in.authFailures.count(reason) ? in.authFailures.at(reason) : 0));
    m.family("llmstreamer_connections", "gauge", "Open TCP connections (streams and others).");
    m.sample("llmstreamer_connections", double(in.tcp ? in.tcp->connections() : 0));
    return m.text();
}
