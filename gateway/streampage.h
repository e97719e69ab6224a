#pragma once

#include <QByteArray>
#include <QList>
#include <QString>

// An entry of the stream as StreamReader's range reads hand it out.
struct StreamEntry
{
    QByteArray id;
    QByteArray channel;
    QByteArray data;
};

// One page of a StreamReader range read (fetchRange, fetchFrom, fetchBefore, fetchNewest), or
// the answer of fetchRemovedAfter.
struct StreamPage
{
    QList<StreamEntry> entries; // in id order; entries without `channel` or `data` left out
    // The ids of the oldest and the newest entry Redis returned, left-out ones included (a
    // forward read goes on after lastId, a backward one before firstId). Empty when nothing
    // came back.
    QByteArray firstId;
    QByteArray lastId;
    bool reachedEnd = false; // fewer entries than asked for: none further in that direction
    // fetchRemovedAfter: entries after the position were trimmed or deleted (also when the
    // stream is gone).
    bool removedAfter = false;
    QString error; // the page could not be read (entries is empty then)
};
