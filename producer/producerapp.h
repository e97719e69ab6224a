#pragma once

#include "produceroptions.h"

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

#include <chrono>

class FileFollower;
class OtlpReceiver;
class PipeSource;
class RedisPublisher;
class SimulateSource;

// The producer program: builds the publisher and the source the options ask for, and ends with
// a summary once the source is done and everything was acknowledged (or, after a stop request,
// once a grace period ran out). Messages for the user go to stderr.
class ProducerApp final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ProducerApp)

public:
    // inputFd is what `pipe` reads (stdin by default).
    explicit ProducerApp(const ProducerOptions &options, int inputFd = 0,
                         QObject *parent = nullptr);
    ~ProducerApp() override;

    void start();
    // SIGINT/SIGTERM: stop reading or generating and wait up to the grace period for Redis to
    // acknowledge what is buffered. A second request stops waiting.
    void requestStop();
    void setGracePeriod(std::chrono::milliseconds grace) { m_gracePeriod = grace; }

    RedisPublisher *publisher() const { return m_publisher; }
    // In otlp mode, once started.
    OtlpReceiver *otlpReceiver() const { return m_otlp; }
    // "published N, dropped N, pending N, resent N, reconnects N, elapsed S s", with
    // "truncated N" before "elapsed" if lines were cut to --max-line-bytes.
    QString summary() const;

Q_SIGNALS:
    // 0: done, everything acknowledged; 1: input error, or messages left unacknowledged or
    // refused by Redis.
    void finished(int exitCode);

private:
    void handleSourceFinished();
    void handleLinesTruncated(quint64 total, qint64 lineBytes);
    void waitForAcknowledgements();
    void finish();
    void stopSource();

    ProducerOptions m_options;
    int m_inputFd;
    RedisPublisher *m_publisher;
    SimulateSource *m_simulate = nullptr;
    PipeSource *m_pipe = nullptr;
    FileFollower *m_follow = nullptr;
    OtlpReceiver *m_otlp = nullptr;
    QElapsedTimer m_elapsed;
    QTimer m_graceTimer;
    std::chrono::milliseconds m_gracePeriod{5000};
    quint64 m_truncatedLines = 0;
    bool m_waiting = false;
    bool m_stopRequested = false;
    bool m_finished = false;
    bool m_listenFailed = false; // otlp: the address was taken, or the token file unusable
};
