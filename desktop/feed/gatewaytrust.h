#pragma once

#include <QString>

// Which certificate authorities the monitor trusts for an https:// gateway: the system's, and
// those of a CA file for a gateway whose certificate a private CA signed. Applies to every
// connection the monitor opens from then on (the stream, /api/channels, /api/history).
namespace GatewayTrust {

// Trusts the PEM certificates in `caFile` besides the system's; empty: the system's only. False
// with `error` in plain words when the file is unreadable or holds no certificate (the trust
// then stays as it was).
bool setCaFile(const QString &caFile, QString *error);

} // namespace GatewayTrust
