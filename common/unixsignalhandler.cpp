#include "unixsignalhandler.h"

#include <QSocketNotifier>

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <unistd.h>

namespace {

int pipeFds[2] = {-1, -1};

extern "C" void writeSignalToPipe(int sig)
{
    const int saved = errno;
    const unsigned char byte = static_cast<unsigned char>(sig);
    [[maybe_unused]] const auto n = ::write(pipeFds[1], &byte, 1);
    errno = saved;
}

} // namespace

UnixSignalHandler::UnixSignalHandler(std::initializer_list<int> signalNumbers, QObject *parent)
    : QObject(parent)
{
    if (pipeFds[0] < 0) {
        if (::pipe2(pipeFds, O_CLOEXEC | O_NONBLOCK) != 0)
            return;
    }
    m_notifier = new QSocketNotifier(pipeFds[0], QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, [this] {
        unsigned char byte = 0;
        while (::read(pipeFds[0], &byte, 1) == 1)
            Q_EMIT signalReceived(int(byte));
    });
    struct sigaction sa = {};
    sa.sa_handler = writeSignalToPipe;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (int sig : signalNumbers)
        ::sigaction(sig, &sa, nullptr);
}

UnixSignalHandler::~UnixSignalHandler() = default;
