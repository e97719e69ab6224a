#include "redisconnection.h"

#include "clusterslots.h"
#include "redistls.h"
#include "replyarena.h"

#include <QFile>
#include <QHostAddress>
#include <QHostInfo>
#include <QLoggingCategory>
#include <QSocketNotifier>

#include <algorithm>
#include <cerrno>
#include <csignal>

#include <mutex>
#include <unistd.h>
#include <utility>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

Q_LOGGING_CATEGORY(lcRedis, "llmstreamer.redis")

using namespace std::chrono_literals;

// Exported by libhiredis (0.14 and later) and what redisAsyncHandleRead() calls after reading,
// but left out of async.h: hands every complete reply in the reader to its callback.
extern "C" void redisProcessCallbacks(redisAsyncContext *ac);

namespace {
constexpr std::chrono::milliseconds minBackoff = 100ms;
constexpr std::chrono::milliseconds maxBackoff = 2000ms;
constexpr std::size_t readBufferSize = 256 * 1024;
constexpr ssize_t readSliceSize = 4096;
} // namespace

// What hiredis's event hooks get (ac->ev.data) instead of the connection: a context can outlive
// our interest in it (hiredis frees one that disconnected, or that was freed inside its own
// callback, when it is ready to), and its replies' memory must live exactly as long as it does.
// Freed by evCleanup(), which hiredis calls right before it frees the context.
struct RedisConnection::ContextHooks
{
    RedisConnection *owner = nullptr; // null once the connection let go of the context
    redisAsyncContext *ac = nullptr;
    ReplyArena replies;
};

RedisConnection::RedisConnection(const RedisUrl &url, QObject *parent)
    : QObject(parent), m_url(url), m_nodes(url.nodes())
{
    // hiredis 0.14 writes with plain write(): a server closing mid-write would raise SIGPIPE and
    // kill the process. Qt's own sockets already send with MSG_NOSIGNAL.
    static std::once_flag ignoreSigpipe;
    std::call_once(ignoreSigpipe, [] { std::signal(SIGPIPE, SIG_IGN); });
    m_retryTimer.setSingleShot(true);
    connect(&m_retryTimer, &QTimer::timeout, this, &RedisConnection::attempt);
    m_connectTimer.setSingleShot(true);
    connect(&m_connectTimer, &QTimer::timeout, this, [this] {
        fail(QStringLiteral("no answer within %1 ms").arg(m_connectTimeout.count()));
    });
}

RedisConnection::~RedisConnection()
{
    stop();
}

void RedisConnection::start()
{
    if (m_state != State::Stopped)
        return;
    m_backoff = minBackoff;
    attempt();
}

void RedisConnection::stop()
{
    m_state = State::Stopped;
    m_askNext = false;
    m_retryTimer.stop();
    m_connectTimer.stop();
    if (m_lookupId >= 0) {
        QHostInfo::abortHostLookup(m_lookupId);
        m_lookupId = -1;
    }
    if (m_ctx) {
        redisAsyncContext *ac = m_ctx;
        detachContext();
        ac->onDisconnect = nullptr; // nothing to report: we asked for it
        redisAsyncFree(ac);
    }
    if (m_tls)
        m_tls->stop();
}

void RedisConnection::attempt()
{
    ++m_attempt;
    m_state = State::Connecting;
    m_wasReady = false;
    m_pendingHandshake = 0;
    m_connectTimer.start(m_connectTimeout);
    if (m_url.tls) {
        // hiredis connects to the bridge once the TLS handshake is done. The files are read
        // again for every attempt: a renewed certificate is picked up on the next reconnect.
        QString why;
        const auto config = RedisTls::configuration(m_url, &why);
        if (!config) {
            fail(why);
            return;
        }
        if (!m_tls) {
            m_tls = new RedisTlsBridge(this);
            connect(m_tls, &RedisTlsBridge::ready, this, [this] {
                if (m_state == State::Connecting)
                    connectTo(QString());
            });
            connect(m_tls, &RedisTlsBridge::failed, this, [this](const QString &reason) {
                if (m_state == State::Connecting)
                    fail(reason);
            });
            // Said before hiredis sees the bridge's socket close: the reason it reports then.
            connect(m_tls, &RedisTlsBridge::closed, this,
                    [this](const QString &reason) { m_tlsEndReason = reason; });
        }
        m_tlsEndReason.clear();
        m_tls->start(node().host, node().port, *config);
        return;
    }
    if (m_url.isUnixSocket()) {
        connectTo(QString());
        return;
    }
    QHostAddress literal;
    if (literal.setAddress(node().host)) {
        connectTo(literal.toString());
        return;
    }
    // hiredis resolves names with a blocking getaddrinfo(); resolve them off the event loop.
    m_lookupId = QHostInfo::lookupHost(node().host, this, &RedisConnection::handleResolved);
}

void RedisConnection::handleResolved(const QHostInfo &info)
{
    m_lookupId = -1;
    if (m_state != State::Connecting)
        return;
    if (info.error() != QHostInfo::NoError || info.addresses().isEmpty()) {
        fail(QStringLiteral("cannot resolve host %1: %2").arg(node().host, info.errorString()));
        return;
    }
    connectTo(info.addresses().constFirst().toString());
}

void RedisConnection::connectTo(const QString &host)
{
    m_peerAddress = host;
    redisAsyncContext *ac =
        m_url.tls              ? redisAsyncConnectUnix(QFile::encodeName(m_tls->socketPath()))
        : m_url.isUnixSocket() ? redisAsyncConnectUnix(QFile::encodeName(m_url.socketPath))
                               : redisAsyncConnect(host.toLatin1().constData(), node().port);
    if (!ac) {
        fail(QStringLiteral("out of memory"));
        return;
    }
    if (ac->err) {
        const QString error = QString::fromLocal8Bit(ac->errstr);
        redisAsyncFree(ac);
        fail(error);
        return;
    }
    m_ctx = ac;
    ac->data = this;
    m_hooks = new ContextHooks{this, ac, {}};
    if (ac->c.reader)
        m_hooks->replies.attach(ac->c.reader);
    if (!m_url.isUnixSocket() && !m_url.tls) // the bridge's TLS socket has keep-alive on
        redisEnableKeepAlive(&ac->c);
    // hiredis frees its read buffer whenever it runs empty with more than 16 KiB spare, so
    // with large messages it is freed and regrown (16, 32, 64, 128 KiB...) for every one: heap
    // churn that fragments the memory the replay ring lives in (twice the ring's bytes in RSS
    // with 64 KiB messages). Keep up to 1 MiB of it.
    if (ac->c.reader)
        ac->c.reader->maxbuf = 1024 * 1024;

    m_readNotifier = new QSocketNotifier(ac->c.fd, QSocketNotifier::Read, this);
    m_readNotifier->setEnabled(false);
    connect(m_readNotifier, &QSocketNotifier::activated, this, [this, ac] {
        readSocket(ac);
        Q_EMIT readDrained();
    });
    m_writeNotifier = new QSocketNotifier(ac->c.fd, QSocketNotifier::Write, this);
    connect(m_writeNotifier, &QSocketNotifier::activated, this, [this] {
        if (m_ctx)
            redisAsyncHandleWrite(m_ctx);
    });

    ac->ev.data = m_hooks;
    ac->ev.addRead = &RedisConnection::evAddRead;
    ac->ev.delRead = &RedisConnection::evDelRead;
    ac->ev.addWrite = &RedisConnection::evAddWrite;
    ac->ev.delWrite = &RedisConnection::evDelWrite;
    ac->ev.cleanup = &RedisConnection::evCleanup;
    redisAsyncSetConnectCallback(ac, &RedisConnection::onConnect);
    redisAsyncSetDisconnectCallback(ac, &RedisConnection::onDisconnect);
    // hiredis learns that a non-blocking connect() finished from the first writability.
    m_writeNotifier->setEnabled(true);
}

void RedisConnection::readSocket(redisAsyncContext *ac)
{
    if (!(ac->c.flags & REDIS_CONNECTED) || ac->c.err) {
        redisAsyncHandleRead(ac); // finishes the connect, or reports the error
        return;
    }
    // One read() of up to 256 KiB per wake-up, then hiredis parses it. hiredis's own read is
    // 16 KiB at a time, which cost a 64 KiB message eight system calls (reads, and FIONREAD to
    // know whether to go on); 256 KiB per wake-up still leaves the clients' flushes their turn
    // under a firehose.
    if (m_readBuffer.size() < readBufferSize)
        m_readBuffer.resize(readBufferSize);
    ssize_t got;
    do {
        got = ::read(ac->c.fd, m_readBuffer.data(), m_readBuffer.size());
    } while (got < 0 && errno == EINTR);
    if (got <= 0) {
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        // End of stream or an error: hiredis reads again, sees it, and disconnects the way it
        // always does (the disconnect callback reports why).
        redisAsyncHandleRead(ac);
        return;
    }
    // Fed in small slices, each parsed before the next: hiredis moves the unparsed rest of its
    // buffer to the front after every reply, so the fewer bytes it holds beyond the reply it
    // just handed out, the less it copies.
    for (ssize_t at = 0; at < got && m_ctx == ac;) {
        const ssize_t slice = std::min<ssize_t>(got - at, readSliceSize);
        if (redisReaderFeed(ac->c.reader, m_readBuffer.data() + at, size_t(slice)) != REDIS_OK) {
            // A protocol error: redisProcessCallbacks() finds it and disconnects.
            at = got;
        } else {
            at += slice;
        }
        redisProcessCallbacks(ac);
    }
}

void RedisConnection::onConnect(const redisAsyncContext *ac, int status)
{
    auto *self = static_cast<RedisConnection *>(ac->data);
    if (!self)
        return;
    if (status != REDIS_OK) {
        // hiredis frees the context right after this callback returns.
        const QString error = QString::fromLocal8Bit(ac->errstr);
        self->detachContext();
        self->fail(error);
        return;
    }
    self->handleTcpConnected();
}

void RedisConnection::handleTcpConnected()
{
    if (!m_url.password.isEmpty()) {
        const QByteArray user = m_url.username.toUtf8();
        const QByteArray pass = m_url.password.toUtf8();
        if (m_url.username.isEmpty())
            redisAsyncCommand(m_ctx, &RedisConnection::onHandshakeReply, this, "AUTH %b",
                              pass.constData(), size_t(pass.size()));
        else
            redisAsyncCommand(m_ctx, &RedisConnection::onHandshakeReply, this, "AUTH %b %b",
                              user.constData(), size_t(user.size()), pass.constData(),
                              size_t(pass.size()));
        ++m_pendingHandshake;
    }
    if (m_url.db != 0) {
        redisAsyncCommand(m_ctx, &RedisConnection::onHandshakeReply, this, "SELECT %d", m_url.db);
        ++m_pendingHandshake;
    }
    // A cluster's nodes, to move to when this one fails; not waited for, and an error (no
    // cluster, an ACL without CLUSTER) is nothing to report.
    redisAsyncCommand(m_ctx, &RedisConnection::onClusterNodes, this, "CLUSTER NODES");
    if (std::exchange(m_askNext, false)) {
        // Last: ASKING lets exactly the next command in, the caller's first after ready().
        // No routing now: the slot map still names the node that sent us here.
        redisAsyncCommand(m_ctx, &RedisConnection::onHandshakeReply, this, "ASKING");
        ++m_pendingHandshake;
    } else if (!m_routeKey.isEmpty() && !m_url.isUnixSocket()) {
        // Answered with an error when the node is not in cluster mode (or the ACL has no
        // CLUSTER): then any node will do.
        redisAsyncCommand(m_ctx, &RedisConnection::onClusterSlots, this, "CLUSTER SLOTS");
        ++m_pendingHandshake;
    }
    if (m_pendingHandshake == 0)
        becomeReady();
}

void RedisConnection::onHandshakeReply(redisAsyncContext *, void *r, void *privdata)
{
    auto *self = static_cast<RedisConnection *>(privdata);
    const auto *reply = static_cast<const redisReply *>(r);
    if (!reply)
        return; // the connection is going away; onDisconnect reports why
    if (reply->type == REDIS_REPLY_ERROR)
        self->handleHandshakeReply(false, QString::fromUtf8(reply->str, qsizetype(reply->len)));
    else
        self->handleHandshakeReply(true, {});
}

QString RedisConnection::where() const
{
    const QString url = m_url.toDisplayString();
    return m_nodes.size() > 1 ? QStringLiteral("%1 (node %2)").arg(url, nodeAddress()) : url;
}

void RedisConnection::onClusterNodes(redisAsyncContext *, void *r, void *privdata)
{
    const auto *reply = static_cast<const redisReply *>(r);
    if (!reply || reply->type != REDIS_REPLY_STRING)
        return;
    auto *self = static_cast<RedisConnection *>(privdata);
    for (const RedisUrl::Node &node :
         parseClusterNodes(QByteArrayView(reply->str, qsizetype(reply->len)))) {
        if (!self->m_nodes.contains(node)) {
            self->m_nodes.append(node);
            qCInfo(lcRedis, "cluster node %s:%u will be tried when the others fail",
                   qUtf8Printable(node.host), unsigned(node.port));
        }
    }
}

void RedisConnection::onClusterSlots(redisAsyncContext *, void *r, void *privdata)
{
    const auto *reply = static_cast<const redisReply *>(r);
    if (!reply)
        return; // the connection is going away; onDisconnect reports why
    static_cast<RedisConnection *>(privdata)->handleClusterSlots(reply);
}

void RedisConnection::handleClusterSlots(const redisReply *reply)
{
    if (m_state != State::Connecting)
        return;
    if (const auto slots = ClusterSlots::fromReply(reply, node().host)) {
        const quint16 slot = keySlot(m_routeKey);
        // A slot no master serves: stay; commands get CLUSTERDOWN, which followRedirect() takes.
        if (const auto master = slots->master(slot); master && !isCurrentNode(*master)) {
            moveTo(*master,
                   QStringLiteral("slot %1 (key %2) is served by %3:%4")
                       .arg(slot)
                       .arg(QString::fromUtf8(m_routeKey), master->host)
                       .arg(master->port),
                   false);
            return;
        }
    }
    if (--m_pendingHandshake == 0)
        becomeReady();
}

bool RedisConnection::isCurrentNode(const RedisUrl::Node &other) const
{
    return other.port == node().port &&
           (other.host == node().host || (!m_peerAddress.isEmpty() && other.host == m_peerAddress));
}

quint16 RedisConnection::keySlot(QByteArrayView key)
{
    return ClusterSlots::keySlot(key);
}

bool RedisConnection::followRedirect(QByteArrayView error)
{
    const auto redirect = ClusterSlots::parseRedirect(error, node().host);
    if (!redirect)
        return false;
    if (m_state != State::Ready)
        return true; // already being replaced
    // Redis's own words (a slot and an address, or why the cluster is down), no secrets.
    const QString reason = QString::fromUtf8(error.first(std::min<qsizetype>(error.size(), 200)));
    using Kind = ClusterSlots::Redirect::Kind;
    if ((redirect->kind == Kind::Moved || redirect->kind == Kind::Ask) && !m_url.isUnixSocket())
        moveTo(redirect->node, reason, redirect->kind == Kind::Ask);
    else
        endAttempt(reason, m_node, redirectDelay(false), true);
    return true;
}

std::chrono::milliseconds RedisConnection::redirectDelay(bool immediate)
{
    const bool quick =
        m_lastRedirect.isValid() && m_lastRedirect.elapsed() < (m_redirectDelay + 1000ms).count();
    m_redirectDelay = quick       ? std::clamp(m_redirectDelay * 2, minBackoff, maxBackoff)
                      : immediate ? 0ms
                                  : minBackoff;
    m_lastRedirect.start();
    return m_redirectDelay;
}

void RedisConnection::moveTo(const RedisUrl::Node &target, const QString &reason, bool ask)
{
    qsizetype index = m_nodes.indexOf(target);
    if (index < 0) {
        m_nodes.append(target);
        index = m_nodes.size() - 1;
    }
    endAttempt(reason, int(index), redirectDelay(true), true);
    m_askNext = ask;
}

QList<RedisUrl::Node> RedisConnection::parseClusterNodes(QByteArrayView text)
{
    // "<id> <ip:port@cport[,hostname]> <flags> <master> <ping> <pong> <epoch> <link> <slots>..."
    QList<RedisUrl::Node> nodes;
    for (const QByteArray &line : text.toByteArray().split('\n')) {
        const QList<QByteArray> fields = line.trimmed().split(' ');
        if (fields.size() < 3)
            continue;
        const QByteArray &flags = fields[2];
        if (flags.contains("fail") || flags.contains("noaddr") || flags.contains("handshake"))
            continue;
        QByteArrayView address = fields[1];
        if (const qsizetype at = address.indexOf('@'); at >= 0)
            address = address.first(at);
        const qsizetype colon = address.lastIndexOf(':');
        if (colon <= 0)
            continue;
        bool ok = false;
        const uint port = address.sliced(colon + 1).toUInt(&ok);
        if (!ok || port == 0 || port > 65535)
            continue;
        nodes.append({QString::fromLatin1(address.first(colon)), quint16(port)});
    }
    return nodes;
}

void RedisConnection::handleHandshakeReply(bool ok, const QString &error)
{
    if (m_state != State::Connecting)
        return;
    if (!ok) {
        if (error.startsWith(QLatin1String("WRONGPASS")) || error.contains(QLatin1String("AUTH")))
            fail(QStringLiteral("authentication failed (%1); check the password in the Redis URL")
                     .arg(error));
        else if (error.contains(QLatin1String("SELECT is not allowed in cluster mode")))
            fail(QStringLiteral("%1; a Redis Cluster has only database 0: remove /%2 from the "
                                "Redis URL")
                     .arg(error)
                     .arg(m_url.db));
        else
            fail(error);
        return;
    }
    if (--m_pendingHandshake == 0)
        becomeReady();
}

void RedisConnection::becomeReady()
{
    m_connectTimer.stop();
    m_state = State::Ready;
    m_wasReady = true;
    if (m_everReady)
        ++m_reconnects;
    m_everReady = true;
    m_backoff = minBackoff;
    m_lastError.clear();
    qCInfo(lcRedis, "connected to %s", qUtf8Printable(where()));
    // Not emitted from inside hiredis's connect callback: a slot that stopped us there would
    // free the context under hiredis's feet.
    QMetaObject::invokeMethod(
        this,
        [this, attempt = m_attempt] {
            if (m_state == State::Ready && m_attempt == attempt)
                Q_EMIT ready();
        },
        Qt::QueuedConnection);
}

void RedisConnection::onDisconnect(const redisAsyncContext *ac, int status)
{
    auto *self = static_cast<RedisConnection *>(ac->data);
    if (!self)
        return;
    QString error = status == REDIS_OK ? QStringLiteral("connection closed")
                                       : QString::fromLocal8Bit(ac->errstr);
    // Over TLS hiredis only sees the bridge close; why the TLS connection ended says more
    // (Redis refusing a client certificate after a TLS 1.3 handshake, say).
    if (!self->m_tlsEndReason.isEmpty())
        error = QStringLiteral("TLS: %1").arg(std::exchange(self->m_tlsEndReason, QString()));
    // hiredis frees the context after this returns.
    self->detachContext();
    self->fail(error);
}

void RedisConnection::fail(const QString &reason)
{
    if (m_state == State::Stopped || m_state == State::WaitingToRetry)
        return;
    // The next attempt goes to the next node (a cluster's other nodes, or the other seeds).
    const auto delay = m_backoff;
    m_backoff = std::min(m_backoff * 2, maxBackoff);
    endAttempt(reason, (m_node + 1) % int(m_nodes.size()), delay, false);
}

void RedisConnection::endAttempt(const QString &reason, int nextNode,
                                 std::chrono::milliseconds delay, bool redirected)
{
    if (m_state == State::Stopped || m_state == State::WaitingToRetry)
        return;
    const bool wasReady = m_state == State::Ready;
    m_state = State::WaitingToRetry;
    m_connectTimer.stop();
    if (m_lookupId >= 0) {
        QHostInfo::abortHostLookup(m_lookupId);
        m_lookupId = -1;
    }
    m_lastError = reason;
    if (m_ctx) {
        // Still attached: we gave up on it (timeout, failed AUTH). Free it outside any hiredis
        // callback; a context freed from inside one is freed by hiredis on return.
        redisAsyncContext *ac = m_ctx;
        detachContext();
        ac->onDisconnect = nullptr;
        redisAsyncFree(ac);
    }
    if (m_tls)
        m_tls->stop();
    const QString failedAt = where();
    m_node = nextNode;
    m_askNext = false;
    m_retryTimer.start(delay);
    if (redirected) {
        qCInfo(lcRedis, "leaving %s: %s; going to %s", qUtf8Printable(failedAt),
               qUtf8Printable(reason), qUtf8Printable(nodeAddress()));
        // Moving before becoming ready is the handshake's own business: nothing to report.
        if (wasReady)
            Q_EMIT connectionLost(reason);
        return;
    }
    if (wasReady) {
        qCWarning(lcRedis, "lost connection to %s: %s; reconnecting", qUtf8Printable(failedAt),
                  qUtf8Printable(reason));
        Q_EMIT connectionLost(reason);
    } else {
        qCWarning(lcRedis, "cannot reach Redis at %s: %s; retrying in %lld ms",
                  qUtf8Printable(failedAt), qUtf8Printable(reason),
                  static_cast<long long>(delay.count()));
        Q_EMIT connectFailed(reason);
    }
}

void RedisConnection::detachContext()
{
    if (m_ctx) {
        m_hooks->owner = nullptr; // no more notifier hooks for a context we let go of
        m_hooks = nullptr;
        m_ctx = nullptr;
    }
    // We may be inside one of these notifiers' activated() slot: delete them later.
    for (QSocketNotifier *n : {m_readNotifier, m_writeNotifier}) {
        if (n) {
            n->setEnabled(false);
            n->deleteLater();
        }
    }
    m_readNotifier = nullptr;
    m_writeNotifier = nullptr;
}

void RedisConnection::evAddRead(void *hooks)
{
    if (auto *c = static_cast<ContextHooks *>(hooks)->owner; c && c->m_readNotifier)
        c->m_readNotifier->setEnabled(true);
}

void RedisConnection::evDelRead(void *hooks)
{
    if (auto *c = static_cast<ContextHooks *>(hooks)->owner; c && c->m_readNotifier)
        c->m_readNotifier->setEnabled(false);
}

void RedisConnection::flushWrites()
{
    if (!m_ctx || !(m_ctx->c.flags & REDIS_CONNECTED) || m_ctx->c.err)
        return;
    int done = 0;
    if (redisBufferWrite(&m_ctx->c, &done) == REDIS_OK && done)
        evDelWrite(m_hooks);
}

void RedisConnection::evAddWrite(void *hooks)
{
    if (auto *c = static_cast<ContextHooks *>(hooks)->owner; c && c->m_writeNotifier)
        c->m_writeNotifier->setEnabled(true);
}

void RedisConnection::evDelWrite(void *hooks)
{
    if (auto *c = static_cast<ContextHooks *>(hooks)->owner; c && c->m_writeNotifier)
        c->m_writeNotifier->setEnabled(false);
}

void RedisConnection::evCleanup(void *hooks)
{
    auto *h = static_cast<ContextHooks *>(hooks);
    if (h->owner)
        h->owner->detachContext();
    // hiredis frees the reader next, and with it a reply it was still reading: that one's
    // memory is the arena's, which goes now.
    h->replies.release(h->ac->c.reader);
    delete h;
}
