#pragma once

#include <QByteArray>
#include <QByteArrayList>
#include <QByteArrayView>

// A strict reader of one HTTP/1.x request head (RFC 9110/9112), run on the raw bytes before Qt
// HttpServer 6.4 parses them. Qt's parser is lenient where leniency lets a request be smuggled:
// it drops every header field of a head with more than 100 of them, takes the first of two
// Content-Lengths, reads "5x" as a length, accepts obs-folded lines and CL together with TE. The
// gateway lets Qt see a head only after this reader accepted it, so both agree on where a request
// ends; anything ambiguous is refused (and the connection closed).
//
// The gateway takes no request bodies, so a head that announces one is refused too (413).
struct RequestHead
{
    enum class State { Incomplete, Complete, Refused };

    // Qt's header parser gives up past 100 fields; stay below so it never silently drops them.
    static constexpr int maxFields = 100;

    State state = State::Incomplete;
    // Bytes of `buffer` the head takes, empty lines before it included (Complete only).
    qsizetype length = 0;
    // The status and reason of a refusal: 400, 413, 431 or 505.
    int status = 0;
    QByteArray reason;
    // The client wants the connection closed after the response: HTTP/1.0 without keep-alive,
    // or "Connection: close".
    bool close = false;
    bool http10 = false;
    // The values of its Forwarded and X-Forwarded-For field lines, in order (Complete only): the
    // client a trusted proxy forwarded the request for (TrustedProxies).
    QByteArrayList forwarded;
    QByteArrayList forwardedFor;

    // Reads the head at the start of `buffer`. A head longer than `maxBytes` (request line and
    // fields, complete or not) is refused with 431.
    static RequestHead parse(QByteArrayView buffer, qsizetype maxBytes);
};
