// llmstreamer-desktop: the Qt Widgets monitor. Everything lives in the llmstreamer_desktop
// library; this only reads the command line and the settings and shows the window.
#include "commandline.h"
#include "desktopsettings.h"
#include "mainwindow.h"

#include <QApplication>
#include <QMessageBox>
#include <QProcess>
#include <QSettings>

#include <cstdio>

int main(int argc, char *argv[])
{
    QApplication app(argc, argv);
    QCoreApplication::setOrganizationName(QStringLiteral("LLM Streamer"));
    QCoreApplication::setApplicationName(QStringLiteral("llmstreamer-desktop"));
    QCoreApplication::setApplicationVersion(QStringLiteral(LLMSTREAMER_VERSION));
    QGuiApplication::setApplicationDisplayName(QStringLiteral("LLM Streamer"));
    // The .desktop file's name (resources/desktop), so Wayland and the taskbar match them up.
    QGuiApplication::setDesktopFileName(QStringLiteral("io.github.llmstreamer.Desktop"));
    QApplication::setWindowIcon(MainWindow::applicationIcon());

    const CommandLine cli = CommandLine::parse(app.arguments(), QProcess::systemEnvironment());
    if (!cli.error.isEmpty()) {
        const QString text = cli.error + QStringLiteral("\nTry llmstreamer-desktop --help.");
        std::fprintf(stderr, "llmstreamer-desktop: %s\n", qPrintable(text));
#ifdef Q_OS_WIN
        // A GUI program there has no console to print to (as QCommandLineParser does it).
        QMessageBox::critical(nullptr, QStringLiteral("LLM Streamer"), text);
#endif
        return 2;
    }
    if (cli.help) {
        std::fputs(qPrintable(cli.helpText), stdout);
        return 0;
    }
    if (cli.version) {
        std::printf("llmstreamer-desktop %s\n", LLMSTREAMER_VERSION);
        return 0;
    }

    QSettings store;
    const bool firstStart = !DesktopSettings::exist(store) && !cli.overridesUrl();
    DesktopSettings settings = DesktopSettings::load(store);
    cli.applyTo(settings);

    MainWindow window(settings);
    window.show();
    if (firstStart)
        window.showSettings();
    if (window.connection()->state() == SseConnection::State::Idle)
        window.start();
    return app.exec();
}
