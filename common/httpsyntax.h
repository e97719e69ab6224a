#pragma once

#include <QByteArrayView>

// The pieces of HTTP's grammar (RFC 9110 5.6) that our own readers of request bytes share: the
// gateway's RequestHead (the request head) and TrustedProxies (Forwarded, X-Forwarded-For), and
// the OTLP receiver's HttpRequestReader.
namespace HttpSyntax {

// A character of a token (a method, a field name, a parameter name or value).
bool isTokenChar(char c);
bool isToken(QByteArrayView s);
// Optional whitespace: spaces and horizontal tabs.
inline bool isOws(char c)
{
    return c == ' ' || c == '\t';
}
QByteArrayView trimmedOws(QByteArrayView s);
bool equalsIgnoringCase(QByteArrayView a, QByteArrayView b);

} // namespace HttpSyntax
