// Fuzzes the token file parser (common/accesspolicy.h). Tokens are secrets: an error message
// names the line, never the token. A parsed policy authenticates each of its tokens (and nothing
// one byte off), and a grant permits each channel it lists; "+metrics" is a grant, not a
// channel.

#include "fuzzsupport.h"

#include "accesspolicy.h"
#include "channelglob.h"

#include <algorithm>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView input = FuzzSupport::view(data, size);
    QString error;
    const auto policy = AccessPolicy::parse(input, &error);

    // The first word of each line, as the file format defines tokens.
    QByteArrayList tokens;
    for (QByteArray line : input.toByteArray().split('\n')) {
        if (const qsizetype hash = line.indexOf('#'); hash >= 0)
            line.truncate(hash);
        line.replace(',', ' ');
        const QByteArrayList words = line.simplified().split(' ');
        if (!words.value(0).isEmpty())
            tokens.append(words.value(0));
    }

    if (!policy) {
        FUZZ_CHECK(!error.isEmpty());
        // Message texts hold no digit inside a run of 8+ non-space characters, so a token with
        // a digit in it appears in one only if the parser quoted it.
        for (const QByteArray &token : std::as_const(tokens))
            if (token.size() >= AccessPolicy::minTokenLength &&
                std::any_of(token.begin(), token.end(),
                            [](char c) { return c >= '0' && c <= '9'; }))
                FUZZ_CHECK(!error.contains(QString::fromLatin1(token)));
        return 0;
    }

    FUZZ_CHECK(policy->isEnabled());
    FUZZ_CHECK(policy->size() == tokens.size());
    FUZZ_CHECK(!policy->authenticate(QByteArrayView()));
    for (const QByteArray &token : std::as_const(tokens)) {
        const AccessPolicy::Grant *grant = policy->authenticate(token);
        FUZZ_CHECK(grant && grant->token == token);
        FUZZ_CHECK(!grant->channels.isEmpty() || grant->metrics);
        for (const QByteArray &channel : grant->channels) {
            FUZZ_CHECK(!channel.isEmpty() && !channel.startsWith('+'));
            FUZZ_CHECK(AccessPolicy::permits(*grant, channel));
            // A plain name is read literally: the grant's glob list covers it.
            if (!ChannelGlob::isPattern(channel))
                FUZZ_CHECK(AccessPolicy::permitsChannel(*grant, channel));
        }
        QByteArray near = token;
        near[near.size() - 1] = char(near.back() ^ 1);
        const AccessPolicy::Grant *other = policy->authenticate(near);
        FUZZ_CHECK(!other || other->token == near);
    }
    return 0;
}
