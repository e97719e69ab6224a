#pragma once

#include <QByteArray>
#include <QByteArrayList>
#include <QByteArrayView>
#include <QString>

#include <optional>
#include <vector>

// Who may read what: the tokens of a token file, each with the channel names/globs it may read.
// An empty policy (no token file) lets everyone read everything the allowlist carries.
//
// File format, one token per line; '#' starts a comment:
//     <token>  <channel or glob>[, <channel or glob>...]
// e.g. "s3cr3t-alice-0b8f  logs:*" or "ci-bot-77d1  logs:metrics logs:errors".
class AccessPolicy final
{
public:
    struct Grant
    {
        QByteArray token;
        QByteArrayList channels;
        int line = 0;
    };

    static constexpr int minTokenLength = 8;

    static std::optional<AccessPolicy> parse(QByteArrayView text, QString *error);
    static std::optional<AccessPolicy> load(const QString &path, QString *error);

    bool isEnabled() const { return !m_grants.empty(); }
    qsizetype size() const { return qsizetype(m_grants.size()); }

    // The grant whose token equals `token`, compared in constant time with every token (so the
    // time taken says nothing about how much of a token was right); null if none.
    const Grant *authenticate(QByteArrayView token) const;
    // Whether `grant` may read every channel `selection` (a name or glob) can match.
    static bool permits(const Grant &grant, QByteArrayView selection);

private:
    std::vector<Grant> m_grants;
};
