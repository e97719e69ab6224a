#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

// Inflates a gzip body (Content-Encoding: gzip; several members one after the other, as RFC 1952
// allows) with zlib, stopping as soon as the output would pass a bound: a few kilobytes of a
// "gzip bomb" inflate to gigabytes, so the bound is on what comes out, checked while it comes.
namespace GzipInflater {

struct Result
{
    enum class Status { Ok, Corrupt, TooLarge };
    Status status = Status::Ok;
    QByteArray data;
    QString error; // Corrupt: what zlib said
};

Result inflate(QByteArrayView gzip, qint64 maxBytes);

} // namespace GzipInflater
