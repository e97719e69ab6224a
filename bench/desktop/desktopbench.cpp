// Pushes events through the desktop monitor's data path, as the gateway would send them:
// SSE frames in network-sized chunks -> SseParser -> LogRecordDecoder -> LogModel (a bounded ring,
// appended in batches like the window's 30 Hz flush), optionally behind the LogFilterProxy the
// window uses. Prints events/s and memory. Not a test: no pass/fail, numbers for the README.
//
//   llmstreamer-desktop-bench [--events 1000000] [--capacity 200000] [--proxy]
//
// With --window RATE it instead runs the real MainWindow (offscreen unless a display is set)
// against a local SSE server sending RATE events/s for --seconds, and reports how many it took
// in and how long the event loop was ever blocked (what a person would feel as a freeze).
//
//   llmstreamer-desktop-bench --window 50000 [--seconds 10]
#include "envelope.h"
#include "logfilterproxy.h"
#include "logmodel.h"
#include "logrecorddecoder.h"
#include "logsimulator.h"
#include "mainwindow.h"
#include "sseencoder.h"
#include "sseparser.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDateTime>
#include <QElapsedTimer>
#include <QFile>
#include <QLocale>
#include <QTcpServer>
#include <QTcpSocket>
#include <QThread>
#include <QTimer>

#include <algorithm>
#include <cstdio>
#include <memory>

namespace {

// VmRSS and VmHWM (peak) in MiB from /proc (Linux); -1 elsewhere.
std::pair<double, double> memoryMiB()
{
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return {-1, -1};
    double rss = -1, hwm = -1;
    for (const QByteArray &line : status.readAll().split('\n')) {
        const auto kib = [&] { return line.simplified().split(' ').value(1).toDouble() / 1024; };
        if (line.startsWith("VmRSS:"))
            rss = kib();
        else if (line.startsWith("VmHWM:"))
            hwm = kib();
    }
    return {rss, hwm};
}

QString number(double v, int decimals = 0)
{
    return QLocale(QLocale::English).toString(v, 'f', decimals);
}

// SSE frames of simulated LLM traffic, as the gateway would send them.
QByteArray simulatedFrames(int count)
{
    LogSimulator simulator(LogSimulator::Config{});
    QByteArray frames;
    const qint64 boot = QDateTime::currentMSecsSinceEpoch();
    QDateTime now = QDateTime::currentDateTimeUtc();
    for (int i = 0; i < count; ++i) {
        now = now.addMSecs(3);
        const LogSimulator::Record record = simulator.next(now);
        const QByteArray id = QByteArray::number(boot) + '-' + QByteArray::number(i + 1);
        frames += SseEncoder::event(
            id, {}, Envelope::encode(id, record.channel, boot + i, record.json).json);
    }
    return frames;
}

// Serves /events from its own thread at a fixed rate, cycling through `frames`.
class PacedSseServer final : public QObject
{
public:
    PacedSseServer(QByteArray frames, double rate) : m_frames(std::move(frames)), m_rate(rate)
    {
        for (qsizetype at = 0; (at = m_frames.indexOf("\n\n", at)) >= 0; at += 2)
            m_ends.append(at + 2);
    }
    bool listen()
    {
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            QTcpSocket *socket = m_server.nextPendingConnection();
            if (m_socket) { // only one stream; /api/channels and the like are not served
                socket->write("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
                              "Connection: close\r\n\r\n");
                socket->disconnectFromHost();
                return;
            }
            m_socket = socket;
            connect(m_socket, &QTcpSocket::readyRead, this, [this] {
                m_socket->readAll();
                if (m_started)
                    return;
                m_started = true;
                m_socket->write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                                "Cache-Control: no-cache\r\nConnection: close\r\n\r\n");
                m_clock.start();
                m_tick.start(5);
            });
        });
        connect(&m_tick, &QTimer::timeout, this, [this] { pump(); });
        return m_server.listen(QHostAddress::LocalHost, 0);
    }
    quint16 port() const { return m_server.serverPort(); }
    qint64 sent() const { return m_sent; }

private:
    void pump()
    {
        // At most 50 ms worth per pass: if this thread was not scheduled for a while, the time
        // lost is not made up in a burst (less is offered instead, and the report says so).
        qint64 due = qint64(m_rate * double(m_clock.nsecsElapsed()) / 1e9) - m_sent - m_skipped;
        if (const qint64 cap = qint64(m_rate / 20) + 1; due > cap) {
            m_skipped += due - cap;
            due = cap;
        }
        // A client that does not keep up is not buried: at most ~1 s of backlog in the socket.
        if (due <= 0 || m_socket->bytesToWrite() > qint64(m_rate) * 450)
            return;
        QByteArray out;
        for (qint64 i = 0; i < due; ++i) {
            const qsizetype n = m_sent % m_ends.size();
            const qsizetype from = n == 0 ? 0 : m_ends[n - 1];
            out.append(m_frames.constData() + from, m_ends[n] - from);
            ++m_sent;
        }
        m_socket->write(out);
    }

    // Children of this, so that moveToThread() takes them along.
    QTcpServer m_server{this};
    QTcpSocket *m_socket = nullptr;
    QTimer m_tick{this};
    QElapsedTimer m_clock;
    QByteArray m_frames;
    QList<qsizetype> m_ends;
    double m_rate;
    qint64 m_sent = 0;
    qint64 m_skipped = 0;
    bool m_started = false;
};

int runWindow(QApplication &app, double rate, int seconds)
{
    QThread serverThread;
    auto *server = new PacedSseServer(simulatedFrames(10'000), rate);
    server->moveToThread(&serverThread);
    serverThread.start();
    bool listening = false;
    QMetaObject::invokeMethod(
        server, [&] { listening = server->listen(); }, Qt::BlockingQueuedConnection);
    if (!listening)
        return 1;

    DesktopSettings settings;
    settings.gatewayUrl = QStringLiteral("http://127.0.0.1:%1").arg(server->port());
    MainWindow window(settings);
    window.resize(1280, 800);
    window.show();
    window.start();

    // The event loop's responsiveness: gaps between ticks of a 5 ms timer.
    QElapsedTimer sinceTick;
    QList<qint64> gaps;
    QTimer probe;
    probe.setTimerType(Qt::PreciseTimer);
    QObject::connect(&probe, &QTimer::timeout, &app, [&] {
        if (sinceTick.isValid())
            gaps.append(sinceTick.nsecsElapsed() / 1000);
        sinceTick.start();
    });
    probe.start(5);
    int batches = 0;
    QObject::connect(window.model(), &LogModel::batchAppended, &app, [&] { ++batches; });
    QElapsedTimer clock;
    clock.start();
    QTimer::singleShot(seconds * 1000, &app, &QCoreApplication::quit);
    app.exec();
    const double elapsed = clock.nsecsElapsed() / 1e9;

    qint64 sent = 0;
    QMetaObject::invokeMethod(
        server, [&] { sent = server->sent(); }, Qt::BlockingQueuedConnection);
    QMetaObject::invokeMethod(
        server, [server] { delete server; }, Qt::BlockingQueuedConnection);
    serverThread.quit();
    serverThread.wait();

    std::sort(gaps.begin(), gaps.end());
    const auto percentile = [&](double p) {
        return gaps.isEmpty() ? 0.0 : gaps[qsizetype(p * double(gaps.size() - 1))] / 1000.0;
    };
    const auto [rss, hwm] = memoryMiB();
    std::printf("llmstreamer-desktop-bench --window: the MainWindow (%s platform) fed %s "
                "events/s over a local SSE socket for %.0f s\n",
                qPrintable(QGuiApplication::platformName()), qPrintable(number(rate)), elapsed);
    std::printf("  offered %s events, received %s (%s events/s); %s lines kept\n",
                qPrintable(number(double(sent))), qPrintable(number(double(window.received()))),
                qPrintable(number(double(window.received()) / elapsed)),
                qPrintable(number(window.model()->rowCount())));
    std::printf("  view updates: %.1f per second\n", batches / elapsed);
    std::printf("  event loop (5 ms probe timer): median gap %.1f ms, p99 %.1f ms, max %.1f ms\n",
                percentile(0.5), percentile(0.99), percentile(1.0));
    if (rss >= 0)
        std::printf("  memory: RSS %.1f MiB, peak RSS %.1f MiB\n", rss, hwm);
    return 0;
}

} // namespace

int main(int argc, char **argv)
{
    // Widgets only for --window (offscreen unless the caller chose a platform): the data-path
    // figures should not include a GUI's memory.
    bool window = false;
    for (int i = 1; i < argc; ++i)
        window = window || QByteArrayView(argv[i]).startsWith("--window");
    if (window && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM") &&
        qEnvironmentVariableIsEmpty("DISPLAY") && qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    const std::unique_ptr<QCoreApplication> application =
        window ? std::make_unique<QApplication>(argc, argv)
               : std::make_unique<QCoreApplication>(argc, argv);
    QCoreApplication &app = *application;
    QCoreApplication::setOrganizationName(QStringLiteral("llmstreamer-bench"));
    QCommandLineParser cli;
    cli.setApplicationDescription(
        QStringLiteral("Benchmark of llmstreamer-desktop's parser and log model."));
    cli.addHelpOption();
    const QCommandLineOption eventsOption(QStringLiteral("events"),
                                          QStringLiteral("Events to push (default 1000000)."),
                                          QStringLiteral("N"), QStringLiteral("1000000"));
    const QCommandLineOption capacityOption(
        QStringLiteral("capacity"), QStringLiteral("Lines the model keeps (default 200000)."),
        QStringLiteral("N"), QString::number(LogModel::defaultCapacity));
    const QCommandLineOption proxyOption(
        QStringLiteral("proxy"),
        QStringLiteral("Put the window's filter proxy (no filter set) on top of the model."));
    const QCommandLineOption windowOption(
        QStringLiteral("window"),
        QStringLiteral("Run the real window against a local SSE server sending RATE events/s."),
        QStringLiteral("RATE"));
    const QCommandLineOption secondsOption(QStringLiteral("seconds"),
                                           QStringLiteral("Duration of --window (default 10)."),
                                           QStringLiteral("S"), QStringLiteral("10"));
    cli.addOptions({eventsOption, capacityOption, proxyOption, windowOption, secondsOption});
    cli.process(app);
    if (cli.isSet(windowOption))
        return runWindow(static_cast<QApplication &>(app), cli.value(windowOption).toDouble(),
                         cli.value(secondsOption).toInt());
    const qint64 total = cli.value(eventsOption).toLongLong();
    const qsizetype capacity = cli.value(capacityOption).toLongLong();

    const auto [rss0, hwm0] = memoryMiB();

    // 10,000 distinct frames of simulated LLM traffic (the producer's own generator), cycled:
    // generating them is the gateway's work, not the client's, so it happens before the clock.
    constexpr int distinct = 10'000;
    const QByteArray frames = simulatedFrames(distinct);
    const double frameBytes = double(frames.size()) / distinct;

    LogModel model(capacity);
    LogFilterProxy proxy;
    if (cli.isSet(proxyOption))
        proxy.setLogModel(&model);
    LogRecordDecoder decoder;
    std::vector<LogRecord> batch;
    // The window flushes ~30 times a second; at 50,000 events/s that is ~1,700 per batch.
    constexpr size_t batchSize = 1700;
    qint64 received = 0;
    SseParser parser([&](const SseEvent &event) {
        if (auto record = decoder.decode(event)) {
            batch.push_back(std::move(*record));
            if (batch.size() == batchSize) {
                model.append(std::move(batch));
                batch = {};
            }
        }
        ++received;
    });

    constexpr qsizetype chunk = 16 * 1024; // a typical socket read
    QElapsedTimer clock;
    clock.start();
    qint64 bytes = 0;
    while (received < total) {
        for (qsizetype at = 0; at < frames.size() && received < total; at += chunk) {
            const QByteArrayView piece =
                QByteArrayView(frames).sliced(at).first(std::min(chunk, frames.size() - at));
            parser.feed(piece);
            bytes += piece.size();
        }
    }
    model.append(std::move(batch));
    const double seconds = clock.nsecsElapsed() / 1e9;
    const auto [rss, hwm] = memoryMiB();

    std::printf("llmstreamer-desktop-bench: %s events (%s distinct simulated LLM records, "
                "%s B per SSE frame) through SseParser + LogRecordDecoder + LogModel%s\n",
                qPrintable(number(double(received))), qPrintable(number(distinct)),
                qPrintable(number(frameBytes)), cli.isSet(proxyOption) ? " + LogFilterProxy" : "");
    std::printf("  throughput: %s events/s (%s MB/s of stream), %.2f s\n",
                qPrintable(number(received / seconds)),
                qPrintable(number(bytes / seconds / 1e6, 1)), seconds);
    std::printf("  decoded by the field scanner: %s, by QJsonDocument (fallback): %s\n",
                qPrintable(number(double(decoder.scanned()))),
                qPrintable(number(double(decoder.parsed()))));
    std::printf("  retained lines: %s (capacity %s), evicted %s\n",
                qPrintable(number(model.rowCount())), qPrintable(number(double(capacity))),
                qPrintable(number(double(model.totalEvicted()))));
    if (rss >= 0)
        std::printf("  memory: RSS %.1f MiB, peak RSS %.1f MiB (before: %.1f MiB; the %.1f MiB "
                    "of prepared input included)\n",
                    rss, hwm, rss0, frames.size() / 1048576.0);
    Q_UNUSED(hwm0);
    return 0;
}
