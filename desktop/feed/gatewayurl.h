#pragma once

#include <QString>
#include <QStringList>
#include <QUrl>

#include <optional>

// The gateway's address as people type it ("localhost:8000", "http://host:8000/", a URL ending
// in /events) and the URLs of its endpoints.
namespace GatewayUrl {

// An http(s) base URL without query, fragment or trailing slash, or nullopt with `error` saying
// what is wrong with the text.
std::optional<QUrl> parse(const QString &text, QString *error);
// <base>/events, with ?channels=a,b when `channels` is not empty.
QUrl events(const QUrl &base, const QStringList &channels);
// <base>/api/channels
QUrl channelsApi(const QUrl &base);
// <base>/api/history?channels=&before=&limit=&q= (empty ones left out), every value
// percent-encoded whole: a search for "a+b" or "100%" reaches the gateway as typed.
QUrl history(const QUrl &base, const QStringList &channels, const QString &before, int limit,
             const QString &query);

} // namespace GatewayUrl
