// Fuzzes REDIS_URL parsing (common/redisurl.h). parse() must never crash; a parsed URL is in
// range; and the password must never leak: toDisplayString() does not depend on it at all, and an
// error message does not quote it. A plain URL survives parse(toDisplayString()).

#include "fuzzsupport.h"

#include "redisurl.h"

#include <QUrl>

namespace {

// Characters that mean the same before and after QUrl's decoding and our display string.
bool isPlain(const QString &s, bool slashes = false)
{
    for (QChar c : s)
        if (!(c.isLetterOrNumber() && c.unicode() < 0x80) && c != u'.' && c != u'-' && c != u'_' &&
            !(slashes && c == u'/'))
            return false;
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QString text = QString::fromUtf8(FuzzSupport::view(data, size));
    QString error;
    const auto url = RedisUrl::parse(text, &error);
    if (!url) {
        FUZZ_CHECK(!error.isEmpty());
        // What QUrl itself takes as the password; short ones occur in any text by chance.
        QUrl qurl(text.trimmed());
        const QString password = qurl.password(QUrl::FullyDecoded);
        if (password.size() >= 6 && error.contains(password)) {
            // Only fine if the message quotes another part of the URL holding the same characters.
            const QString rest = qurl.scheme() + u' ' + qurl.host(QUrl::FullyDecoded) + u' ' +
                                 qurl.path(QUrl::FullyDecoded) + u' ' +
                                 qurl.query(QUrl::FullyDecoded) + u' ' +
                                 qurl.fragment(QUrl::FullyDecoded);
            // Or the message's own words hold them ("expected redis://" vs password "redis:"):
            // then the same text with another password of the same length gets the same words.
            const QString encoded = qurl.password(QUrl::FullyEncoded);
            const qsizetype at = text.indexOf(u':' + encoded + u'@');
            bool ownWords = false;
            if (at >= 0 && !encoded.isEmpty()) {
                QString other = text;
                const QChar fill = encoded.contains(u'Q') ? u'Z' : u'Q';
                other.replace(at + 1, encoded.size(), QString(encoded.size(), fill));
                QString otherError;
                (void)RedisUrl::parse(other, &otherError);
                ownWords = otherError.contains(password);
            }
            FUZZ_CHECK(rest.contains(password) || ownWords);
        }
        return 0;
    }

    FUZZ_CHECK(url->db >= 0);
    if (url->isUnixSocket()) {
        FUZZ_CHECK(!url->socketPath.isEmpty());
    } else {
        FUZZ_CHECK(!url->host.isEmpty());
        FUZZ_CHECK(url->port > 0);
    }

    const QString display = url->toDisplayString();
    FUZZ_CHECK(!display.isEmpty());
    if (!url->password.isEmpty()) {
        FUZZ_CHECK(display.contains(QLatin1String(":***@")));
        RedisUrl other = *url;
        other.password = url->password + QStringLiteral("x");
        FUZZ_CHECK(other.toDisplayString() == display);
    }

    bool plainNodes = true;
    for (const RedisUrl::Node &node : url->moreNodes) {
        FUZZ_CHECK(!node.host.isEmpty() && node.port > 0);
        plainNodes = plainNodes && isPlain(node.host);
    }
    if (isPlain(url->host) && plainNodes && isPlain(url->username) &&
        isPlain(url->socketPath, true) && url->password.isEmpty()) {
        const auto again = RedisUrl::parse(display);
        FUZZ_CHECK(again);
        FUZZ_CHECK(again->host == url->host || url->isUnixSocket());
        FUZZ_CHECK(again->port == url->port || url->isUnixSocket());
        FUZZ_CHECK(again->socketPath == url->socketPath);
        FUZZ_CHECK(again->username == url->username);
        FUZZ_CHECK(again->db == url->db);
        FUZZ_CHECK(again->tls == url->tls);
        FUZZ_CHECK(again->moreNodes == url->moreNodes);
        FUZZ_CHECK(again->toDisplayString() == display);
    }
    return 0;
}
