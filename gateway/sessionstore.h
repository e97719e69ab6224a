#pragma once

#include <QByteArray>
#include <QHash>
#include <QList>

#include <functional>

// Browser sessions: the random id a "?token=" sign-in gets in its cookie, mapped to the token.
// Bounded three ways, so that no token holder can sign everyone else out and nothing grows
// without bound: at most `maxPerToken` sessions per token (a new one evicts that token's
// oldest), at most `maxTotal` in all (the oldest overall goes), and each expires `lifetimeMs`
// after it was made. Kept in memory: a gateway restart signs everyone out.
class SessionStore final
{
public:
    SessionStore(int maxPerToken, int maxTotal, qint64 lifetimeMs);

    // A new session for `token`; returns its id (192 random bits, hex).
    QByteArray create(const QByteArray &token, qint64 nowMs);
    // The token of session `id`, or empty when there is none or it expired.
    QByteArray tokenOf(const QByteArray &id, qint64 nowMs);
    // Ends every session whose token `revoked` says is gone (the token file was reloaded).
    int removeWhere(const std::function<bool(const QByteArray &token)> &revoked);

    qsizetype size() const { return m_sessions.size(); }
    qint64 lifetimeMs() const { return m_lifetimeMs; }

private:
    struct Session
    {
        QByteArray token;
        qint64 expiresMs = 0;
    };
    void remove(const QByteArray &id);
    void expire(qint64 nowMs);

    int m_maxPerToken;
    int m_maxTotal;
    qint64 m_lifetimeMs;
    QHash<QByteArray, Session> m_sessions;
    QList<QByteArray> m_order;                      // ids, oldest first
    QHash<QByteArray, QList<QByteArray>> m_byToken; // token -> its ids, oldest first
};
