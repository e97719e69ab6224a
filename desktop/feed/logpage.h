#pragma once

#include "logrecord.h"

#include <QByteArray>
#include <QString>

#include <optional>
#include <vector>

class LogRecordDecoder;

// What to ask GET /api/history for. The gateway URL, token and channels are the feed's.
struct HistoryRequest
{
    QString before; // an event id: the page just before it; empty: the newest page
    QString query;  // plain text or /regex/flags; empty: every line
    int limit = 100;
};

// One answer of GET /api/history: the envelopes decoded into log lines, oldest first, and where
// the next older page starts. (The gateway's HistoryPage writes it; the tests link both.)
struct LogPage
{
    HistoryRequest request; // what was asked
    std::vector<LogRecord> records;
    QString before;  // pass as `before` for the next older page; empty: nothing older is held
    QString stopped; // "limit", "scan-limit" or "start"
    qint64 scanned = 0;
    QString transport; // "pubsub" or "streams"

    bool reachedStart() const { return before.isEmpty(); }
    // The gateway examined its maximum for one request without filling the page (a search):
    // asking again with `before` searches further back.
    bool scanLimited() const { return stopped == QLatin1StringView("scan-limit"); }

    // Reads the 200 answer's body; nullopt with `error` in plain words when it is not one. The
    // envelopes keep the gateway's bytes, as a live event's data does, so a line reads the same
    // whether it came live or from the history.
    static std::optional<LogPage> parse(const QByteArray &body, LogRecordDecoder &decoder,
                                        QString *error);
};
