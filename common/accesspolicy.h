#pragma once

#include <QByteArray>
#include <QByteArrayList>
#include <QByteArrayView>
#include <QString>

#include <optional>
#include <vector>

// Who may read what: the tokens of a token file, each with the channel names/globs it may read.
// An empty policy (no token file) lets everyone read everything the allowlist carries. The
// gateway reads with it; llmstreamer-producer otlp takes the same file, where a token's channels
// are those it may publish to.
//
// File format, one token per line; '#' starts a comment:
//     <token>  <channel or glob | +grant>[, <channel or glob | +grant>...]
// e.g. "s3cr3t-alice-0b8f  logs:* +metrics" or "ci-bot-77d1  logs:metrics logs:errors". A word
// starting with '+' is a grant beyond channels; the only one is "+metrics" (may read /metrics,
// which names every channel and counter). A line needs at least one channel or grant.
class AccessPolicy final
{
public:
    struct Grant
    {
        QByteArray token;
        QByteArrayList channels;
        bool metrics = false;
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
    // Whether `grant` may read the channel literally named `name` (its globs matched against
    // the name, never the name taken as a glob).
    static bool permitsChannel(const Grant &grant, QByteArrayView name);

private:
    std::vector<Grant> m_grants;
};
