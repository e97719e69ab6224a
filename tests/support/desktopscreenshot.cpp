// Takes the README's screenshot of llmstreamer-desktop: a private redis-server, the gateway and
// two simulating producers in-process (the second one for part of the time, so the chart has a
// shape), the real MainWindow, and QWidget::grab() after a while. Not a test. Run it under Xvfb
// (QT_QPA_PLATFORM=xcb) for native font rendering:
//
//   llmstreamer-desktop-screenshot docs/desktop.png [--seconds 75] [--dark]
#include "gateway.h"
#include "logfilterproxy.h"
#include "logmodel.h"
#include "logview.h"
#include "mainwindow.h"
#include "producerapp.h"
#include "redissubscriber.h"
#include "testredis.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QPalette>
#include <QSettings>
#include <QStyleFactory>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <cstdio>
#include <memory>

namespace {

std::unique_ptr<ProducerApp> producer(const TestRedis &redis, double rate, quint32 seed,
                                      const QString &service)
{
    ProducerOptions options;
    options.mode = ProducerOptions::Mode::Simulate;
    options.redis = *RedisUrl::parse(redis.url());
    options.rate = rate;
    options.seed = seed;
    options.seedSet = true;
    options.service = service;
    auto app = std::make_unique<ProducerApp>(options);
    app->start();
    return app;
}

QPalette darkPalette()
{
    QPalette p;
    const QColor window(0x2b, 0x2d, 0x30), base(0x1e, 0x1f, 0x22), text(0xdf, 0xe1, 0xe5);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, QColor(0x25, 0x27, 0x2a));
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, window);
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::ToolTipBase, QColor(0x3c, 0x3f, 0x41));
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::PlaceholderText, QColor(0x8c, 0x8f, 0x94));
    p.setColor(QPalette::Highlight, QColor(0x2f, 0x65, 0xca));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Mid, QColor(0x3c, 0x3f, 0x41));
    return p;
}

} // namespace

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    QCommandLineParser cli;
    cli.addHelpOption();
    cli.addPositionalArgument(QStringLiteral("output"), QStringLiteral("PNG file to write"));
    const QCommandLineOption secondsOption(QStringLiteral("seconds"),
                                           QStringLiteral("Traffic before the grab."),
                                           QStringLiteral("S"), QStringLiteral("75"));
    const QCommandLineOption darkOption(QStringLiteral("dark"), QStringLiteral("Dark palette."));
    cli.addOptions({secondsOption, darkOption});
    cli.process(app);
    if (cli.positionalArguments().size() != 1)
        cli.showHelp(2);
    const QString output = cli.positionalArguments().constFirst();
    const int seconds = cli.value(secondsOption).toInt();

    QTemporaryDir settingsDir;
    QCoreApplication::setOrganizationName(QStringLiteral("llmstreamer-screenshot"));
    QCoreApplication::setApplicationName(QStringLiteral("llmstreamer-desktop"));
    QCoreApplication::setApplicationVersion(QStringLiteral(LLMSTREAMER_VERSION));
    QSettings::setDefaultFormat(QSettings::IniFormat);
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, settingsDir.path());
    if (cli.isSet(darkOption)) {
        QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
        QApplication::setPalette(darkPalette());
    }

    TestRedis redis;
    if (!redis.start()) {
        std::fprintf(stderr, "redis-server: %s\n", qPrintable(redis.errorString()));
        return 1;
    }
    GatewayConfig config;
    config.port = 0;
    config.redis = *RedisUrl::parse(redis.url());
    Gateway gateway(config);
    QString error;
    if (!gateway.start(&error) ||
        !QTest::qWaitFor([&] { return gateway.subscriber()->isSubscribed(); }, 10000)) {
        std::fprintf(stderr, "gateway: %s\n", qPrintable(error));
        return 1;
    }

    DesktopSettings settings;
    settings.gatewayUrl = gateway.baseUrl();
    MainWindow window(settings);
    window.resize(1360, 820);
    window.show();
    window.start();

    auto steady = producer(redis, 45, 11, QStringLiteral("vllm-a100-0"));
    std::unique_ptr<ProducerApp> burst;
    QTimer::singleShot(seconds * 1000 / 4, &app,
                       [&] { burst = producer(redis, 90, 23, QStringLiteral("vllm-a100-1")); });
    QTimer::singleShot(seconds * 1000 * 3 / 5, &app, [&] { burst.reset(); });
    QTimer::singleShot(seconds * 1000, &app, [&] {
        // Show a request's payload in the side panel: the newest error, selected, then live.
        LogModel *model = window.model();
        model->flush();
        for (int row = model->rowCount() - 1; row >= 0; --row) {
            if (model->record(row).level == LogLevel::Error) {
                const QModelIndex index = window.proxy()->mapFromSource(model->index(row, 0));
                window.logView()->setCurrentIndex(index);
                break;
            }
        }
        window.logView()->clearSelection();
        window.logView()->goLive();
        QTimer::singleShot(400, &app, [&] {
            const bool ok = window.grab().save(output);
            std::printf("%s %s\n", ok ? "wrote" : "could not write", qPrintable(output));
            app.exit(ok ? 0 : 1);
        });
    });
    return app.exec();
}
