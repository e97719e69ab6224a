#include "producerapp.h"
#include "produceroptions.h"
#include "unixsignalhandler.h"

#include <QCoreApplication>
#include <QProcess>

#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    // Started with stdin closed, the first file Qt opens would become fd 0 and `pipe` would read
    // it: hold the slot with /dev/null and let `pipe` report the closed input instead.
    const bool stdinClosed = ::fcntl(STDIN_FILENO, F_GETFD) < 0;
    if (stdinClosed)
        ::open("/dev/null", O_RDONLY | O_CLOEXEC);

    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("llmstreamer-producer"));
    QCoreApplication::setApplicationVersion(QStringLiteral(LLMSTREAMER_VERSION));

    QString output;
    int exitCode = 0;
    const auto options = ProducerOptions::fromArguments(
        QCoreApplication::arguments(), QProcess::systemEnvironment(), &output, &exitCode);
    if (!options) {
        std::fputs(qUtf8Printable(output), exitCode == 0 ? stdout : stderr);
        return exitCode;
    }

    // hiredis writes to its socket with write(): a server closing the connection must not kill us.
    std::signal(SIGPIPE, SIG_IGN);

    ProducerApp producer(*options, stdinClosed ? -1 : STDIN_FILENO);
    UnixSignalHandler signalHandler({SIGINT, SIGTERM});
    QObject::connect(&signalHandler, &UnixSignalHandler::signalReceived, &producer,
                     &ProducerApp::requestStop);
    // Queued: the producer may finish inside start(), before exec() runs.
    QObject::connect(&producer, &ProducerApp::finished, &app, &QCoreApplication::exit,
                     Qt::QueuedConnection);
    producer.start();
    return app.exec();
}
