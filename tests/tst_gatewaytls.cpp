// The gateway serving HTTPS (--tls-cert, --tls-key), as a process of its own, with certificates
// made by openssl at test time: curl streaming /events with the test CA and refusing a server
// signed by another CA, bad certificates and keys refused at start with the reason, a handshake
// that never completes closed by the head timeout, pipelining and /api/history over TLS,
// the certificate reloaded on SIGHUP under a live stream, and the Secure cookie and HSTS over
// TLS only.
#include "metricssample.h"
#include "testcertificates.h"
#include "testredis.h"

#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QTemporaryFile>
#include <QTest>

#include <csignal>
#include <memory>

namespace {

constexpr int hang = 60000; // a bound that only catches a hang
const QByteArray channel = "logs:tls";

// Runs a program to its end; its exit code, or -1 if it did not finish.
int run(const QString &program, const QStringList &arguments, QByteArray *out = nullptr,
        QByteArray *err = nullptr)
{
    QProcess p;
    p.start(program, arguments);
    if (!p.waitForFinished(hang) || p.exitStatus() != QProcess::NormalExit)
        return -1;
    if (out)
        *out = p.readAllStandardOutput();
    if (err)
        *err = p.readAllStandardError();
    return p.exitCode();
}

// llmstreamer-gateway as a process of its own (signals, exit codes, its stderr).
class GatewayProcess final
{
public:
    ~GatewayProcess()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill();
            m_process.waitForFinished(hang);
        }
    }

    // Starts it and waits for its "listening on" line; false with what it said if it stopped.
    bool start(const QStringList &arguments)
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("QT_LOGGING_RULES"), QStringLiteral("llmstreamer.*.info=false"));
        m_process.setProcessEnvironment(env);
        m_process.start(QStringLiteral(LLMSTREAMER_GATEWAY_EXECUTABLE),
                        QStringList{QStringLiteral("--port"), QStringLiteral("0")} + arguments);
        static const QRegularExpression listening(
            QStringLiteral("listening on (https?)://127\\.0\\.0\\.1:(\\d+)"));
        QRegularExpressionMatch m;
        const bool ended = QTest::qWaitFor(
            [&] {
                m_out += m_process.readAllStandardOutput();
                m = listening.match(QString::fromUtf8(m_out));
                return m.hasMatch() || m_process.state() == QProcess::NotRunning;
            },
            hang);
        if (!ended || !m.hasMatch())
            return false;
        m_scheme = m.captured(1);
        m_port = quint16(m.captured(2).toUInt());
        return true;
    }
    // Its exit code once it stopped by itself, or -1.
    int exitCode()
    {
        if (m_process.state() != QProcess::NotRunning && !m_process.waitForFinished(hang))
            return -1;
        m_err += m_process.readAllStandardError();
        return m_process.exitCode();
    }
    QByteArray stderrText()
    {
        m_err += m_process.readAllStandardError();
        return m_err;
    }
    QByteArray stdoutText()
    {
        m_out += m_process.readAllStandardOutput();
        return m_out;
    }
    void signal(int sig) { ::kill(pid_t(m_process.processId()), sig); }
    bool isRunning() const { return m_process.state() != QProcess::NotRunning; }
    quint16 port() const { return m_port; }
    QString url(const QString &target, const QString &host = QStringLiteral("127.0.0.1")) const
    {
        return QStringLiteral("%1://%2:%3%4").arg(m_scheme, host).arg(m_port).arg(target);
    }

private:
    QProcess m_process;
    QByteArray m_out;
    QByteArray m_err;
    QString m_scheme;
    quint16 m_port = 0;
};

// curl (the real binary) running in the background, e.g. reading an event stream. Its output
// goes to a file: through a pipe that the test drains only while its event loop runs, curl
// would look like a client that stops reading.
class Curl final
{
public:
    explicit Curl(const QStringList &arguments)
    {
        m_output.open();
        m_process.setStandardOutputFile(m_output.fileName());
        m_process.start(QStringLiteral("curl"), QStringList{QStringLiteral("-sS")} + arguments);
    }
    ~Curl()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill();
            m_process.waitForFinished(hang);
        }
    }
    QByteArray out()
    {
        QFile file(m_output.fileName());
        return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
    }
    QByteArray err() { return m_process.readAllStandardError(); }
    bool isRunning() const { return m_process.state() != QProcess::NotRunning; }

private:
    QTemporaryFile m_output;
    QProcess m_process;
};

} // namespace

class TestGatewayTls : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void refusesUnusableCertificate_data();
    void refusesUnusableCertificate();
    void streamsOverHttps();
    void refusesWrongCaAndPlainHttp();
    void boundsHandshakeByHeadTimeout();
    void pipelinesAndHistoryOverTls();
    void dropsSlowClientOverTls();
    void reloadsCertificateOnSighup();
    void secureCookieAndHstsOnlyOverTls_data();
    void secureCookieAndHstsOnlyOverTls();

private:
    QString file(const QString &name) const { return m_certificates.path(name); }
    QStringList tlsArgs(const QString &name) const
    {
        return QStringList{QStringLiteral("--redis-url"), m_redis.url()} +
               m_certificates.gatewayArguments(name);
    }
    // A response head and body over TLS through curl, trusting the test CA.
    int curl(const QStringList &arguments, QByteArray *out, QByteArray *err = nullptr)
    {
        return run(
            QStringLiteral("curl"),
            QStringList{QStringLiteral("-sS"), QStringLiteral("--max-time"), QStringLiteral("30")} +
                arguments,
            out, err);
    }

    TestCertificates m_certificates;
    TestRedis m_redis;
};

void TestGatewayTls::initTestCase()
{
    QVERIFY2(m_redis.start(), qPrintable(m_redis.errorString()));
    QVERIFY2(m_certificates.make(), qPrintable(m_certificates.errorString()));
}

void TestGatewayTls::refusesUnusableCertificate_data()
{
    QTest::addColumn<QString>("cert");
    QTest::addColumn<QString>("key");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QString>("reason");
    QTest::newRow("missing certificate")
        << "missing.pem"
        << "gateway-one.key" << 1 << "cannot read the certificate file";
    QTest::newRow("not a certificate")
        << "garbage.pem"
        << "gateway-one.key" << 1 << "garbage.pem holds no PEM certificate";
    QTest::newRow("missing key") << "gateway-one.pem"
                                 << "missing.key" << 1 << "cannot read the private key file";
    QTest::newRow("not a key") << "gateway-one.pem"
                               << "garbage.pem" << 1 << "garbage.pem holds no PEM private key";
    QTest::newRow("another certificate's key")
        << "gateway-one.pem"
        << "gateway-two.key" << 1 << "gateway-two.key does not belong to the certificate";
    QTest::newRow("encrypted key") << "gateway-one.pem"
                                   << "encrypted.key" << 1 << "encrypted.key is encrypted";
    QTest::newRow("certificate without key") << "gateway-one.pem"
                                             << "" << 2 << "--tls-cert needs --tls-key";
    QTest::newRow("key without certificate")
        << ""
        << "gateway-one.key" << 2 << "--tls-key needs --tls-cert";
}

void TestGatewayTls::refusesUnusableCertificate()
{
    QFETCH(QString, cert);
    QFETCH(QString, key);
    QFETCH(int, exitCode);
    QFETCH(QString, reason);
    QStringList arguments{QStringLiteral("--redis-url"), m_redis.url()};
    if (!cert.isEmpty())
        arguments << QStringLiteral("--tls-cert") << file(cert);
    if (!key.isEmpty())
        arguments << QStringLiteral("--tls-key") << file(key);
    GatewayProcess gateway;
    QVERIFY2(!gateway.start(arguments), "a gateway started with an unusable certificate or key");
    QCOMPARE(gateway.exitCode(), exitCode);
    const QByteArray err = gateway.stderrText();
    QVERIFY2(err.contains(reason.toUtf8()), err.constData());
}

void TestGatewayTls::streamsOverHttps()
{
    GatewayProcess gateway;
    QVERIFY2(gateway.start(tlsArgs(QStringLiteral("gateway-one"))),
             gateway.stderrText().constData());
    QVERIFY2(gateway.stdoutText().contains("tls: gateway-one, serial 10:01"),
             gateway.stdoutText().constData());
    // By address and by name: the certificate holds both.
    for (const QString &host : {QStringLiteral("127.0.0.1"), QStringLiteral("localhost")}) {
        Curl stream({QStringLiteral("-N"), QStringLiteral("--cacert"),
                     file(QStringLiteral("ca.pem")),
                     gateway.url(QStringLiteral("/events?channels=logs:*"), host)});
        // Published until the stream shows it: the stream may still be opening.
        const QByteArray line = "over TLS to " + host.toUtf8();
        QVERIFY2(QTest::qWaitFor(
                     [&] {
                         if (!stream.out().contains(line))
                             m_redis.publish(channel, line);
                         return stream.out().contains(line) || !stream.isRunning();
                     },
                     hang),
                 stream.out().constData());
        QVERIFY2(stream.out().contains(line), QByteArray(stream.out() + stream.err()).constData());
        QVERIFY(stream.out().startsWith("retry: "));
    }
    QVERIFY(gateway.isRunning());
}

void TestGatewayTls::refusesWrongCaAndPlainHttp()
{
    GatewayProcess gateway;
    QVERIFY(gateway.start(tlsArgs(QStringLiteral("gateway-other"))));
    QByteArray out, err;
    // Signed by a CA curl was not told to trust.
    const int code = curl({QStringLiteral("--cacert"), file(QStringLiteral("ca.pem")),
                           gateway.url(QStringLiteral("/healthz"))},
                          &out, &err);
    QCOMPARE(code, 60); // CURLE_PEER_FAILED_VERIFICATION
    QVERIFY2(err.contains("certificate"), err.constData());
    QVERIFY(out.isEmpty());
    // With the right CA it works.
    QCOMPARE(curl({QStringLiteral("--cacert"), file(QStringLiteral("otherca.pem")),
                   gateway.url(QStringLiteral("/healthz"))},
                  &out),
             0);
    QCOMPARE(out, QByteArray("ok\n"));
    // Plain HTTP to the HTTPS port: no answer in clear text, and the gateway goes on.
    const QString plain = gateway.url(QStringLiteral("/healthz"))
                              .replace(QStringLiteral("https:"), QStringLiteral("http:"));
    QVERIFY(curl({plain}, &out) != 0);
    QVERIFY(!out.contains("ok"));
    QVERIFY(curl({QStringLiteral("--cacert"), file(QStringLiteral("otherca.pem")),
                  gateway.url(QStringLiteral("/metrics"))},
                 &out) == 0);
    QVERIFY2(metricsSample(out, "llmstreamer_tls_handshake_failures_total") >= 2, out.constData());
    // Nothing is left of the failed handshakes: the only connection is the one asking.
    QTRY_VERIFY_WITH_TIMEOUT(curl({QStringLiteral("--cacert"), file(QStringLiteral("otherca.pem")),
                                   gateway.url(QStringLiteral("/metrics"))},
                                  &out) == 0 &&
                                 metricsSample(out, "llmstreamer_connections") == 1,
                             hang);
    QVERIFY(gateway.isRunning());
}

void TestGatewayTls::boundsHandshakeByHeadTimeout()
{
    GatewayProcess gateway;
    QVERIFY(gateway.start(tlsArgs(QStringLiteral("gateway-one")) +
                          QStringList{QStringLiteral("--header-timeout"), QStringLiteral("1"),
                                      QStringLiteral("--idle-timeout"), QStringLiteral("3600")}));
    // Connects and never says hello; and one that starts a ClientHello and never finishes it.
    QTcpSocket silent, partial;
    silent.connectToHost(QHostAddress::LocalHost, gateway.port());
    partial.connectToHost(QHostAddress::LocalHost, gateway.port());
    QVERIFY(silent.waitForConnected(hang));
    QVERIFY(partial.waitForConnected(hang));
    partial.write(QByteArray::fromHex("160301020001"));
    QTRY_VERIFY_WITH_TIMEOUT(silent.state() == QAbstractSocket::UnconnectedState &&
                                 partial.state() == QAbstractSocket::UnconnectedState,
                             hang);
    QByteArray metrics;
    QCOMPARE(curl({QStringLiteral("--cacert"), file(QStringLiteral("ca.pem")),
                   gateway.url(QStringLiteral("/metrics"))},
                  &metrics),
             0);
    QCOMPARE(metricsSample(metrics, "llmstreamer_limit_hits_total{limit=\"head_timeout\"}"), 2.0);
    QCOMPARE(metricsSample(metrics, "llmstreamer_limit_hits_total{limit=\"idle_timeout\"}"), 0.0);
}

void TestGatewayTls::pipelinesAndHistoryOverTls()
{
    // The streams transport answers /api/history from Redis later: the requests after it wait.
    GatewayProcess gateway;
    QVERIFY(gateway.start(tlsArgs(QStringLiteral("gateway-one")) +
                          QStringList{QStringLiteral("--transport"), QStringLiteral("streams"),
                                      QStringLiteral("--stream-key"),
                                      QStringLiteral("llmstreamer:tls")}));
    for (int i = 0; i < 3; ++i)
        m_redis.command({"XADD", "llmstreamer:tls", "*", "channel", channel, "data",
                         "history line " + QByteArray::number(i)});
    QSslSocket socket;
    QSslConfiguration conf = socket.sslConfiguration();
    conf.setCaCertificates(QSslCertificate::fromPath(file(QStringLiteral("ca.pem"))));
    socket.setSslConfiguration(conf);
    socket.connectToHostEncrypted(QStringLiteral("localhost"), gateway.port());
    QVERIFY2(socket.waitForEncrypted(hang), qPrintable(socket.errorString()));
    // Three requests in one write.
    socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                 "GET /api/history?channels=logs:*&limit=10 HTTP/1.1\r\nHost: x\r\n\r\n"
                 "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
    QByteArray in;
    QVERIFY(QTest::qWaitFor(
        [&] {
            in += socket.readAll();
            return in.count("HTTP/1.1 ") >= 3 || socket.state() != QAbstractSocket::ConnectedState;
        },
        hang));
    in += socket.readAll();
    QCOMPARE(in.count("HTTP/1.1 200"), 3);
    const qsizetype ok = in.indexOf("\r\n\r\nok\n");
    const qsizetype history = in.indexOf("history line 2");
    const qsizetype ready = in.indexOf("\"ready\"");
    QVERIFY2(ok > 0 && history > ok && ready > history, in.constData());
    QVERIFY(in.contains("Strict-Transport-Security: max-age=31536000"));

    // A refused head is answered by the gate, over TLS too, and the connection closed after it.
    in.clear();
    socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n");
    QVERIFY(QTest::qWaitFor(
        [&] {
            in += socket.readAll();
            return socket.state() == QAbstractSocket::UnconnectedState;
        },
        hang));
    in += socket.readAll();
    QVERIFY2(in.startsWith("HTTP/1.1 400 Bad Request\r\n"), in.constData());
    QVERIFY(in.contains("Connection: close"));
}

void TestGatewayTls::dropsSlowClientOverTls()
{
    GatewayProcess gateway;
    QVERIFY(
        gateway.start(tlsArgs(QStringLiteral("gateway-one")) +
                      QStringList{QStringLiteral("--max-client-buffer"), QStringLiteral("512K")}));
    // Reads its response head and then nothing: a 1-byte read buffer stops Qt from draining the
    // kernel's socket buffer for it. What the gateway holds for it is encrypted bytes.
    QSslSocket slow;
    QSslConfiguration conf = slow.sslConfiguration();
    conf.setCaCertificates(QSslCertificate::fromPath(file(QStringLiteral("ca.pem"))));
    slow.setSslConfiguration(conf);
    slow.connectToHostEncrypted(QStringLiteral("localhost"), gateway.port());
    QVERIFY2(slow.waitForEncrypted(hang), qPrintable(slow.errorString()));
    slow.setReadBufferSize(1);
    slow.write("GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
    Curl good({QStringLiteral("-N"), QStringLiteral("--cacert"), file(QStringLiteral("ca.pem")),
               gateway.url(QStringLiteral("/events"))});
    auto metric = [&](const QByteArray &series) {
        QByteArray metrics;
        curl({QStringLiteral("--cacert"), file(QStringLiteral("ca.pem")),
              gateway.url(QStringLiteral("/metrics"))},
             &metrics);
        return metricsSample(metrics, series);
    };
    QTRY_COMPARE_WITH_TIMEOUT(metric("llmstreamer_clients"), 2.0, hang);

    const QByteArray chunk(64 * 1024, 'p');
    const int n = 400; // 25 MiB: more than the kernel buffers plus the cap
    for (int i = 0; i < n; ++i) {
        m_redis.publish(channel, QByteArray::number(i) + ':' + chunk);
        if (i % 20 == 0)
            QCoreApplication::processEvents();
    }
    const QByteArray last = QByteArray::number(n - 1) + ':';
    QTRY_VERIFY2_WITH_TIMEOUT(good.out().contains(last),
                              qPrintable(QStringLiteral("%1 bytes, %2 streams, %3 dropped")
                                             .arg(good.out().size())
                                             .arg(metric("llmstreamer_clients"))
                                             .arg(metric("llmstreamer_clients_dropped_total{"
                                                         "reason=\"slow\"}"))),
                              hang);
    QTRY_COMPARE_WITH_TIMEOUT(metric("llmstreamer_clients"), 1.0, hang);
    QCOMPARE(metric("llmstreamer_clients_dropped_total{reason=\"slow\"}"), 1.0);
    QVERIFY(!good.out().contains("event: gap"));
    // Every line, in order (one pass over the 25 MiB).
    const QByteArray out = good.out();
    qsizetype at = 0;
    for (int i = 0; i < n && at >= 0; ++i)
        at = out.indexOf(QByteArray(QByteArray::number(i) + ":pppp"), at);
    QVERIFY(at > 0);
}

void TestGatewayTls::reloadsCertificateOnSighup()
{
    // The gateway reads its files from here; they are replaced as a rotation would.
    const QString cert = file(QStringLiteral("live.pem")), key = file(QStringLiteral("live.key"));
    QFile::remove(cert);
    QFile::remove(key);
    QVERIFY(QFile::copy(file(QStringLiteral("gateway-one.pem")), cert));
    QVERIFY(QFile::copy(file(QStringLiteral("gateway-one.key")), key));
    GatewayProcess gateway;
    QVERIFY(gateway.start({QStringLiteral("--redis-url"), m_redis.url(),
                           QStringLiteral("--tls-cert"), cert, QStringLiteral("--tls-key"), key}));
    auto subjectOfNewConnection = [&] {
        QByteArray out, err;
        curl({QStringLiteral("-v"), QStringLiteral("--cacert"), file(QStringLiteral("ca.pem")),
              gateway.url(QStringLiteral("/healthz"))},
             &out, &err);
        static const QRegularExpression subject(QStringLiteral("subject: (CN *= *[^\\n]+)"));
        return subject.match(QString::fromUtf8(err)).captured(1).remove(QLatin1Char(' '));
    };
    QCOMPARE(subjectOfNewConnection(), QStringLiteral("CN=gateway-one"));

    Curl stream({QStringLiteral("-N"), QStringLiteral("--cacert"), file(QStringLiteral("ca.pem")),
                 gateway.url(QStringLiteral("/events?channels=logs:*"))});
    auto published = [&](const QByteArray &line) {
        return QTest::qWaitFor(
                   [&] {
                       if (!stream.out().contains(line))
                           m_redis.publish(channel, line);
                       return stream.out().contains(line) || !stream.isRunning();
                   },
                   hang) &&
               stream.out().contains(line);
    };
    QVERIFY(published("before the rotation"));

    for (const char *suffix : {".pem", ".key"}) {
        const QString target = suffix == QByteArrayView(".pem") ? cert : key;
        QVERIFY(QFile::remove(target));
        QVERIFY(QFile::copy(file(QStringLiteral("gateway-two") + QLatin1String(suffix)), target));
    }
    gateway.signal(SIGHUP);
    QTRY_VERIFY_WITH_TIMEOUT(gateway.stderrText().contains("SIGHUP: certificate reloaded: "
                                                           "gateway-two, serial 20:02"),
                             hang);
    // The open stream goes on; a new connection gets the new certificate.
    QVERIFY2(published("after the rotation"), stream.out().constData());
    QCOMPARE(subjectOfNewConnection(), QStringLiteral("CN=gateway-two"));

    // A broken file is not taken: the certificate in use stays, and the log says why.
    QVERIFY(QFile::remove(key));
    QVERIFY(QFile::copy(file(QStringLiteral("gateway-one.key")), key));
    gateway.signal(SIGHUP);
    const QByteArray refused = "SIGHUP: certificate not reloaded, the old one stays: the private "
                               "key in " +
                               key.toUtf8() + " does not belong";
    QTRY_VERIFY_WITH_TIMEOUT(gateway.stderrText().contains(refused), hang);
    QCOMPARE(subjectOfNewConnection(), QStringLiteral("CN=gateway-two"));
    QVERIFY(published("after the failed reload"));
    QVERIFY(gateway.isRunning());
}

void TestGatewayTls::secureCookieAndHstsOnlyOverTls_data()
{
    QTest::addColumn<bool>("tls");
    QTest::newRow("https") << true;
    QTest::newRow("http") << false;
}

void TestGatewayTls::secureCookieAndHstsOnlyOverTls()
{
    QFETCH(bool, tls);
    QFile tokens(file(QStringLiteral("tokens")));
    QVERIFY(tokens.open(QIODevice::WriteOnly));
    tokens.write("a-long-enough-token logs:*\n");
    tokens.close();
    QStringList arguments{QStringLiteral("--redis-url"), m_redis.url(),
                          QStringLiteral("--token-file"), tokens.fileName()};
    if (tls)
        arguments = tlsArgs(QStringLiteral("gateway-one")) +
                    QStringList{QStringLiteral("--token-file"), tokens.fileName()};
    GatewayProcess gateway;
    QVERIFY(gateway.start(arguments));
    QByteArray head;
    QCOMPARE(curl({QStringLiteral("-D"), QStringLiteral("-"), QStringLiteral("-o"),
                   QStringLiteral("/dev/null"), QStringLiteral("--cacert"),
                   file(QStringLiteral("ca.pem")),
                   gateway.url(QStringLiteral("/?token=a-long-enough-token"))},
                  &head),
             0);
    static const QRegularExpression cookie(QStringLiteral("(?i)set-cookie: ([^\\r\\n]*)"));
    const QString setCookie = cookie.match(QString::fromUtf8(head)).captured(1);
    QVERIFY2(setCookie.startsWith(QLatin1String("llmstreamer_session=")), head.constData());
    QCOMPARE(setCookie.endsWith(QLatin1String("; Secure")), tls);
    QCOMPARE(head.toLower().contains("strict-transport-security: max-age=31536000"), tls);
    // The event stream's head too.
    Curl stream({QStringLiteral("-N"), QStringLiteral("-D"), QStringLiteral("-"),
                 QStringLiteral("--cacert"), file(QStringLiteral("ca.pem")), QStringLiteral("-H"),
                 QStringLiteral("Authorization: Bearer a-long-enough-token"),
                 gateway.url(QStringLiteral("/events"))});
    QTRY_VERIFY_WITH_TIMEOUT(stream.out().contains("retry: "), hang);
    QCOMPARE(stream.out().toLower().contains("strict-transport-security: max-age=31536000"), tls);
}

QTEST_GUILESS_MAIN(TestGatewayTls)
#include "tst_gatewaytls.moc"
