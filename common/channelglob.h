#pragma once

#include <QByteArrayView>

// Redis channel globs (the PSUBSCRIBE syntax: *, ?, [abc], [^a-z], \ escapes).
namespace ChannelGlob {

bool isPattern(QByteArrayView text);
// True when `channel` matches `pattern`, with Redis's stringmatchlen semantics.
bool matches(QByteArrayView pattern, QByteArrayView channel);
// True when every channel `inner` (a name or glob) can match is also matched by `outer`.
// Conservative: it may say no for exotic globs that are in fact covered, never yes wrongly.
bool covers(QByteArrayView outer, QByteArrayView inner);

} // namespace ChannelGlob
