#include "accesspolicy.h"

#include "channelglob.h"

#include <QFile>

#include <algorithm>

namespace {

bool isSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

// Equal in time that depends only on the lengths, never on where the first difference is.
bool constantTimeEquals(QByteArrayView a, QByteArrayView b)
{
    const qsizetype n = std::max(a.size(), b.size());
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    for (qsizetype i = 0; i < n; ++i) {
        const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
        const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
        diff |= x ^ y;
    }
    return diff == 0;
}

} // namespace

std::optional<AccessPolicy> AccessPolicy::parse(QByteArrayView text, QString *error)
{
    AccessPolicy policy;
    int lineNo = 0;
    auto fail = [&](const QString &why) -> std::optional<AccessPolicy> {
        if (error)
            *error = QStringLiteral("line %1: %2").arg(lineNo).arg(why);
        return std::nullopt;
    };
    for (QByteArrayView rest = text; !rest.isEmpty();) {
        ++lineNo;
        const qsizetype nl = rest.indexOf('\n');
        QByteArrayView line = nl < 0 ? rest : rest.first(nl);
        rest = nl < 0 ? QByteArrayView() : rest.sliced(nl + 1);
        if (const qsizetype hash = line.indexOf('#'); hash >= 0)
            line = line.first(hash);
        // Split on whitespace and commas.
        QByteArrayList fields;
        qsizetype i = 0;
        while (i < line.size()) {
            while (i < line.size() && (isSpace(line[i]) || line[i] == ','))
                ++i;
            const qsizetype start = i;
            while (i < line.size() && !isSpace(line[i]) && line[i] != ',')
                ++i;
            if (i > start)
                fields.append(line.sliced(start, i - start).toByteArray());
        }
        if (fields.isEmpty())
            continue;
        const QByteArray &token = fields.first();
        if (token.size() < minTokenLength)
            return fail(QStringLiteral("token shorter than %1 characters").arg(minTokenLength));
        for (char c : token)
            if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e)
                return fail(QStringLiteral("a token may only contain printable ASCII"));
        if (fields.size() < 2)
            return fail(QStringLiteral("token without channels; write e.g. \"<token> logs:*\""));
        for (const Grant &g : policy.m_grants)
            if (g.token == token)
                return fail(QStringLiteral("token repeated from line %1").arg(g.line));
        Grant grant{token, {}, false, lineNo};
        for (qsizetype f = 1; f < fields.size(); ++f) {
            const QByteArray &field = fields[f];
            for (char c : field)
                if (static_cast<unsigned char>(c) < 0x20)
                    return fail(QStringLiteral("control character in a channel"));
            if (field == "+metrics")
                grant.metrics = true;
            else if (field.startsWith('+'))
                // Not quoted: a message never repeats what the file holds (tokens are secrets).
                return fail(QStringLiteral("a word starting with '+' is a grant, and the only "
                                           "one is +metrics"));
            else if (!grant.channels.contains(field))
                grant.channels.append(field);
        }
        policy.m_grants.push_back(std::move(grant));
    }
    if (policy.m_grants.empty()) {
        if (error)
            *error = QStringLiteral("no tokens in the file");
        return std::nullopt;
    }
    return policy;
}

std::optional<AccessPolicy> AccessPolicy::load(const QString &path, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        if (error)
            *error = QStringLiteral("cannot read %1: %2").arg(path, file.errorString());
        return std::nullopt;
    }
    QString why;
    auto policy = parse(file.readAll(), &why);
    if (!policy && error)
        *error = QStringLiteral("%1: %2").arg(path, why);
    return policy;
}

const AccessPolicy::Grant *AccessPolicy::authenticate(QByteArrayView token) const
{
    const Grant *found = nullptr;
    // Every token is compared, whatever matched earlier.
    for (const Grant &g : m_grants)
        if (constantTimeEquals(g.token, token) && !found)
            found = &g;
    return token.isEmpty() ? nullptr : found;
}

bool AccessPolicy::permitsChannel(const Grant &grant, QByteArrayView name)
{
    return std::any_of(grant.channels.begin(), grant.channels.end(),
                       [&](const QByteArray &c) { return ChannelGlob::matches(c, name); });
}

bool AccessPolicy::permits(const Grant &grant, QByteArrayView selection)
{
    return std::any_of(grant.channels.begin(), grant.channels.end(),
                       [&](const QByteArray &c) { return ChannelGlob::covers(c, selection); });
}
