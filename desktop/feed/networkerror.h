#pragma once

#include <QString>
#include <QUrl>

class QNetworkReply;

// A request to the gateway that failed below HTTP, in plain words, the same for every request the
// monitor makes.
namespace NetworkError {

// "host:port" of the gateway at `base`, the port spelled out.
QString hostAndPort(const QUrl &base);
// Why `reply` failed, for the gateway at `base` ("connection refused by h:1; is the gateway
// running there?").
QString describe(const QNetworkReply *reply, const QUrl &base);
// What the gateway said in an error answer's body, to append to a sentence: ": <the text on one
// line, cut after 300 characters>", or empty for an empty body.
QString gatewaySaid(const QByteArray &body);

} // namespace NetworkError
