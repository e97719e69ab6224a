#include "gateway.h"
#include "unixsignalhandler.h"

#include <QCoreApplication>
#include <QProcessEnvironment>
#include <QTimer>

#include <csignal>
#include <cstdio>

#include <malloc.h>

int main(int argc, char *argv[])
{
    // Every message passes through buffers of its own size (hiredis' reply, the SSE frame): with
    // 64 KiB log lines glibc hands that memory back to the kernel and faults it in again, message
    // after message (bench scenario e: 1.36 -> 1.12 CPU-s for 20,000 x 64 KiB). Keep up to 32 MiB
    // of freed heap and serve blocks below 4 MiB from it; the replay ring bounds what is live.
    mallopt(M_TRIM_THRESHOLD, 32 * 1024 * 1024);
    mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("llmstreamer-gateway"));
    QCoreApplication::setApplicationVersion(QStringLiteral(LLMSTREAMER_VERSION));

    QString output;
    int exitCode = 0;
    const auto config = GatewayConfig::fromArguments(
        QCoreApplication::arguments(), QProcessEnvironment::systemEnvironment().toStringList(),
        &output, &exitCode);
    if (!config) {
        std::fputs(qPrintable(output), exitCode == 0 ? stdout : stderr);
        return exitCode;
    }

    Gateway gateway(*config);
    QString error;
    if (!gateway.start(&error)) {
        std::fprintf(stderr, "llmstreamer-gateway: %s\n", qPrintable(error));
        return 1;
    }
    std::printf("llmstreamer-gateway %s listening on %s (dashboard: %s/)\n"
                "  redis: %s, channels: %s\n",
                LLMSTREAMER_VERSION, qPrintable(gateway.baseUrl()), qPrintable(gateway.baseUrl()),
                qPrintable(config->redis.toDisplayString()),
                config->channels.join(", ").constData());
    const bool loopback =
        config->bind == QHostAddress::LocalHost || config->bind == QHostAddress::LocalHostIPv6;
    if (config->access.isEnabled())
        std::printf("  access: %lld token(s); every route but /healthz needs one\n",
                    static_cast<long long>(config->access.size()));
    else
        std::printf("  access: unauthenticated (no --token-file): anyone who can reach %s can "
                    "read every channel%s\n",
                    qPrintable(gateway.baseUrl()), loopback ? "" : " (not only loopback!)");
    if (!config->trustedProxies.isEmpty())
        std::printf("  client addresses: as forwarded by the trusted proxies %s\n",
                    qPrintable(config->trustedProxies.toString()));
    if (gateway.isTls())
        std::printf("  tls: %s\n", qPrintable(gateway.tlsSummary()));
    else if (!loopback)
        std::printf("  warning: plain HTTP on a non-loopback address: tokens, cookies and logs "
                    "cross the network in clear text; give --tls-cert and --tls-key, or put the "
                    "gateway behind a TLS-terminating proxy\n");
    std::fflush(stdout);

    UnixSignalHandler signals({SIGINT, SIGTERM, SIGHUP});
    QObject::connect(&signals, &UnixSignalHandler::signalReceived, &app, [&](int sig) {
        if (sig == SIGHUP) {
            // Each of what SIGHUP reloads, or that there is nothing to.
            QString message;
            if (!config->tokenFile.isEmpty() || !gateway.isTls()) {
                gateway.reloadTokens(&message);
                std::fprintf(stderr, "llmstreamer-gateway: SIGHUP: %s\n", qPrintable(message));
            }
            if (gateway.isTls()) {
                gateway.reloadTls(&message);
                std::fprintf(stderr, "llmstreamer-gateway: SIGHUP: %s\n", qPrintable(message));
            }
            return;
        }
        std::fprintf(stderr, "llmstreamer-gateway: %s, shutting down\n",
                     sig == SIGINT ? "SIGINT" : "SIGTERM");
        gateway.shutdown();
        // One more event-loop pass lets the closing frames reach the sockets.
        QTimer::singleShot(100, qApp, [] { QCoreApplication::exit(0); });
    });
    return app.exec();
}
