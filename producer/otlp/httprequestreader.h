#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QPair>

// Reads HTTP/1.1 requests with bodies from a connection's bytes, incrementally (RFC 9112): the
// request line and header fields, then a body of Content-Length bytes or in chunks
// (Transfer-Encoding: chunked, as Node's http client sends a body without a length). Strict where
// leniency lets two readers disagree on where a request ends: two Content-Lengths, one with
// Transfer-Encoding, obs-folded lines and a Transfer-Encoding other than chunked are refused.
// The body limit holds before a byte of a too large body is kept: a Content-Length above it is
// refused at once, chunks as soon as their sizes add up past it.
class HttpRequestReader final
{
public:
    enum class State {
        Head,     // reading the request line and fields
        Body,     // head complete (see headComplete()), reading the body
        Complete, // a whole request: method(), target(), field(), body()
        Failed    // status() and reason(); the connection cannot be read further
    };

    static constexpr qsizetype maxHeadBytes = 16 * 1024;
    static constexpr int maxFields = 100;

    explicit HttpRequestReader(qint64 maxBodyBytes) : m_maxBody(maxBodyBytes) {}

    // Reads from the front of `input` and removes what it used; stops after a complete request
    // (the rest of `input` is the next one's) or a failure.
    void read(QByteArray &input);
    // Starts over for the next request of the connection.
    void reset();

    State state() const { return m_state; }
    bool headComplete() const { return m_state == State::Body || m_state == State::Complete; }
    int status() const { return m_status; }
    QByteArray reason() const { return m_reason; }

    QByteArray method() const { return m_method; }
    QByteArray target() const { return m_target; }
    bool isHttp10() const { return m_http10; }
    // The value of the first field of that name (case-insensitive), whitespace trimmed; null if
    // there is none.
    QByteArray field(QByteArrayView name) const;
    // HTTP/1.0 without "Connection: keep-alive", or "Connection: close".
    bool wantsClose() const;
    QByteArray body() const { return m_body; }
    QByteArray takeBody() { return std::move(m_body); }

private:
    enum class Chunk { Size, Data, DataEnd, Trailer };

    void readHead(QByteArray &input);
    void readBody(QByteArray &input);
    void readChunked(QByteArray &input);
    bool parseHead(QByteArrayView head);
    void fail(int status, const char *reason);
    // A line ending in \n (or \r\n) at the front of `input`, without its end; takes it out.
    bool takeLine(QByteArray &input, qsizetype maxLength, QByteArray *line);

    qint64 m_maxBody;
    State m_state = State::Head;
    int m_status = 0;
    QByteArray m_reason;
    QByteArray m_method;
    QByteArray m_target;
    bool m_http10 = false;
    QList<QPair<QByteArray, QByteArray>> m_fields;
    bool m_chunked = false;
    qint64 m_remaining = 0; // of the Content-Length body or the current chunk
    Chunk m_chunk = Chunk::Size;
    qsizetype m_trailerBytes = 0;
    QByteArray m_body;
};
