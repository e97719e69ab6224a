#include "sessionstore.h"

#include <QRandomGenerator>

SessionStore::SessionStore(int maxPerToken, int maxTotal, qint64 lifetimeMs)
    : m_maxPerToken(maxPerToken), m_maxTotal(maxTotal), m_lifetimeMs(lifetimeMs)
{}

QByteArray SessionStore::create(const QByteArray &token, qint64 nowMs)
{
    expire(nowMs);
    while (m_byToken.value(token).size() >= m_maxPerToken)
        remove(m_byToken.value(token).constFirst());
    while (!m_order.isEmpty() && m_order.size() >= m_maxTotal)
        remove(QByteArray(m_order.constFirst())); // a copy: remove() edits m_order
    QByteArray id;
    for (int i = 0; i < 3; ++i)
        id += QByteArray::number(QRandomGenerator::system()->generate64(), 16)
                  .rightJustified(16, '0');
    m_sessions.insert(id, Session{token, nowMs + m_lifetimeMs});
    m_order.append(id);
    m_byToken[token].append(id);
    return id;
}

QByteArray SessionStore::tokenOf(const QByteArray &id, qint64 nowMs)
{
    const auto it = m_sessions.constFind(id);
    if (it == m_sessions.constEnd())
        return {};
    if (it->expiresMs <= nowMs) {
        remove(id);
        return {};
    }
    return it->token;
}

int SessionStore::removeWhere(const std::function<bool(const QByteArray &token)> &revoked)
{
    QList<QByteArray> ids;
    for (auto it = m_sessions.cbegin(); it != m_sessions.cend(); ++it)
        if (revoked(it->token))
            ids.append(it.key());
    for (const QByteArray &id : std::as_const(ids))
        remove(id);
    return int(ids.size());
}

void SessionStore::remove(const QByteArray &id)
{
    const auto it = m_sessions.find(id);
    if (it == m_sessions.end())
        return;
    const QByteArray token = it->token;
    m_sessions.erase(it);
    m_order.removeOne(id);
    if (auto own = m_byToken.find(token); own != m_byToken.end()) {
        own->removeOne(id);
        if (own->isEmpty())
            m_byToken.erase(own);
    }
}

void SessionStore::expire(qint64 nowMs)
{
    // Sessions expire in the order they were made.
    while (!m_order.isEmpty()) {
        const QByteArray oldest = m_order.constFirst();
        const auto it = m_sessions.constFind(oldest);
        if (it != m_sessions.constEnd() && it->expiresMs > nowMs)
            break;
        remove(oldest);
        m_order.removeOne(oldest); // in case it was only in the order
    }
}
