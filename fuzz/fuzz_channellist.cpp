// Fuzzes normalizeChannelList() (gateway/gatewayconfig.h), which turns "--channels a, b,,c" into
// what the gateway subscribes to. The kept entries are trimmed, non-empty, unique and in input
// order; none covers another (else Redis would deliver a message twice); nothing is lost: every
// channel a dropped entry matches is matched by a kept one; and normalising again changes nothing.

#include "fuzzsupport.h"

#include "channelglob.h"
#include "gatewayconfig.h"

#include <QStringList>

#include <algorithm>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView input = FuzzSupport::view(data, size);
    // Quadratic in the entries by design (an operator's list, a few dozen at most); past that
    // libFuzzer would only spend its time on long lists.
    if (input.count(',') > 256)
        return 0;
    const QString text = QString::fromUtf8(input);
    const QByteArrayList kept = normalizeChannelList(text);

    QByteArrayList entries; // what the function splits the text into
    for (const QString &part : text.split(QLatin1Char(','), Qt::SkipEmptyParts))
        if (const QByteArray e = part.trimmed().toUtf8(); !e.isEmpty())
            entries.append(e);

    qsizetype from = 0;
    for (qsizetype i = 0; i < kept.size(); ++i) {
        const QByteArray &k = kept[i];
        FUZZ_CHECK(!k.isEmpty() && !k.contains(','));
        FUZZ_CHECK(QString::fromUtf8(k).trimmed().toUtf8() == k);
        FUZZ_CHECK(kept.indexOf(k) == i);
        from = entries.indexOf(k, from); // a subsequence of the input
        FUZZ_CHECK(from >= 0);
        for (qsizetype j = 0; j < kept.size(); ++j)
            FUZZ_CHECK(i == j || !ChannelGlob::covers(kept[j], k));
    }

    FuzzSupport::Rng rng(input);
    for (const QByteArray &e : std::as_const(entries)) {
        if (kept.contains(e))
            continue;
        QByteArrayList names = FuzzSupport::globSamples(e, rng, 4);
        names.append(e);
        for (const QByteArray &name : std::as_const(names)) {
            if (!ChannelGlob::matches(e, name))
                continue;
            FUZZ_CHECK(std::any_of(kept.begin(), kept.end(), [&](const QByteArray &k) {
                return ChannelGlob::matches(k, name);
            }));
        }
    }

    FUZZ_CHECK(normalizeChannelList(QString::fromUtf8(kept.join(','))) == kept);
    return 0;
}
