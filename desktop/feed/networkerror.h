#pragma once

#include <QList>
#include <QString>
#include <QUrl>

class QNetworkAccessManager;
class QNetworkReply;
class QSslError;

// A request to the gateway that failed below HTTP, in plain words, the same for every request the
// monitor makes.
namespace NetworkError {

// "host:port" of the gateway at `base`, the port spelled out.
QString hostAndPort(const QUrl &base);
// Why `reply` failed, for the gateway at `base` ("connection refused by h:1; is the gateway
// running there?"); for a certificate that is not trusted, what is wrong with it as
// watchCertificates() noted.
QString describe(const QNetworkReply *reply, const QUrl &base);
// Notes on each reply of `network` what is wrong with the gateway's certificate, if anything,
// for describe(). The errors are never ignored: such a reply fails.
void watchCertificates(QNetworkAccessManager *network);
// What is wrong with the certificate of the gateway at `base`, in plain words ("the gateway's
// certificate is not signed by a trusted CA (issued by X); ...").
QString describeCertificate(const QList<QSslError> &errors, const QUrl &base);
// What the gateway said in an error answer's body, to append to a sentence: ": <the text on one
// line, cut after 300 characters>", or empty for an empty body.
QString gatewaySaid(const QByteArray &body);

} // namespace NetworkError
