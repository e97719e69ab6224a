#include "gateway.h"
#include "unixsignalhandler.h"

#include <QCoreApplication>
#include <QProcessEnvironment>
#include <QTimer>

#include <csignal>
#include <cstdio>

int main(int argc, char *argv[])
{
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
    if (config->bind != QHostAddress::LocalHost && config->bind != QHostAddress::LocalHostIPv6)
        std::printf("  warning: listening beyond loopback without authentication; put it behind a "
                    "TLS-terminating proxy\n");
    std::fflush(stdout);

    UnixSignalHandler signals({SIGINT, SIGTERM});
    QObject::connect(&signals, &UnixSignalHandler::signalReceived, &app, [&gateway](int sig) {
        std::fprintf(stderr, "llmstreamer-gateway: %s, shutting down\n",
                     sig == SIGINT ? "SIGINT" : "SIGTERM");
        gateway.shutdown();
        // One more event-loop pass lets the closing frames reach the sockets.
        QTimer::singleShot(100, qApp, [] { QCoreApplication::exit(0); });
    });
    return app.exec();
}
