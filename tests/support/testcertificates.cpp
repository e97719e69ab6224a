#include "testcertificates.h"

#include <QFile>
#include <QProcess>

bool TestCertificates::openssl(const QStringList &arguments)
{
    QProcess p;
    p.start(QStringLiteral("openssl"), arguments);
    p.closeWriteChannel();
    if (!p.waitForFinished(60000) || p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0) {
        m_error =
            QStringLiteral("openssl %1: %2")
                .arg(arguments.join(QLatin1Char(' ')), QString::fromUtf8(p.readAllStandardError()));
        return false;
    }
    return true;
}

bool TestCertificates::makeCertificate(const QString &name, const QString &ca,
                                       const QString &serial)
{
    QStringList arguments{QStringLiteral("req"),
                          QStringLiteral("-x509"),
                          QStringLiteral("-newkey"),
                          QStringLiteral("ec"),
                          QStringLiteral("-pkeyopt"),
                          QStringLiteral("ec_paramgen_curve:prime256v1"),
                          QStringLiteral("-nodes"),
                          QStringLiteral("-keyout"),
                          path(name + QStringLiteral(".key")),
                          QStringLiteral("-out"),
                          path(name + QStringLiteral(".pem")),
                          QStringLiteral("-days"),
                          QStringLiteral("2"),
                          QStringLiteral("-subj"),
                          QStringLiteral("/CN=") + name};
    if (!ca.isEmpty())
        arguments << QStringLiteral("-addext")
                  << QStringLiteral("subjectAltName=IP:127.0.0.1,DNS:localhost")
                  << QStringLiteral("-set_serial") << serial << QStringLiteral("-CA")
                  << path(ca + QStringLiteral(".pem")) << QStringLiteral("-CAkey")
                  << path(ca + QStringLiteral(".key"));
    return openssl(arguments);
}

bool TestCertificates::make()
{
    if (!m_dir.isValid()) {
        m_error = QStringLiteral("no temporary directory");
        return false;
    }
    QFile garbage(path(QStringLiteral("garbage.pem")));
    if (!garbage.open(QIODevice::WriteOnly) || garbage.write("not a certificate\n") < 0) {
        m_error = garbage.errorString();
        return false;
    }
    garbage.close();
    return makeCertificate(QStringLiteral("ca"), {}, {}) &&
           makeCertificate(QStringLiteral("otherca"), {}, {}) &&
           makeCertificate(QStringLiteral("gateway-one"), QStringLiteral("ca"),
                           QStringLiteral("0x1001")) &&
           makeCertificate(QStringLiteral("gateway-two"), QStringLiteral("ca"),
                           QStringLiteral("0x2002")) &&
           makeCertificate(QStringLiteral("gateway-other"), QStringLiteral("otherca"),
                           QStringLiteral("0x3003")) &&
           openssl({QStringLiteral("pkey"), QStringLiteral("-in"),
                    path(QStringLiteral("gateway-one.key")), QStringLiteral("-aes256"),
                    QStringLiteral("-passout"), QStringLiteral("pass:secret"),
                    QStringLiteral("-out"), path(QStringLiteral("encrypted.key"))});
}

QStringList TestCertificates::gatewayArguments(const QString &name) const
{
    return {QStringLiteral("--tls-cert"), path(name + QStringLiteral(".pem")),
            QStringLiteral("--tls-key"), path(name + QStringLiteral(".key"))};
}
