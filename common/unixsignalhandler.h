#pragma once

#include <QObject>

#include <initializer_list>

class QSocketNotifier;

// Turns Unix signals (SIGINT, SIGTERM, ...) into a Qt signal delivered in the event loop, through
// a self-pipe: the async-signal handler only write()s the signal number. One instance per
// process.
class UnixSignalHandler final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UnixSignalHandler)

public:
    explicit UnixSignalHandler(std::initializer_list<int> signalNumbers, QObject *parent = nullptr);
    ~UnixSignalHandler() override;

Q_SIGNALS:
    void signalReceived(int signal);

private:
    QSocketNotifier *m_notifier = nullptr;
};
