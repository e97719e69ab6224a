// DesktopSettings (QSettings round trip, first start), the command line that overrides them,
// and the settings dialog's checks.
#include "commandline.h"
#include "desktopsettings.h"
#include "settingsdialog.h"

#include <QDialogButtonBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTest>

class tst_DesktopSettings : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void roundTrip();
    void firstStart();
    void badStoredValuesAreClamped();
    void channelList_data();
    void channelList();
    void commandLine_data();
    void commandLine();
    void dialog();

private:
    QTemporaryDir m_dir;
};

void tst_DesktopSettings::roundTrip()
{
    QSettings store(m_dir.filePath(QStringLiteral("round.ini")), QSettings::IniFormat);
    DesktopSettings s;
    s.gatewayUrl = QStringLiteral("http://gw:9000");
    s.token = QStringLiteral("tok");
    s.channels = QStringLiteral("logs:errors, logs:gen*");
    s.caFile = QStringLiteral("/etc/llmstreamer/ca.pem");
    s.bufferLines = 50'000;
    s.save(store);
    QCOMPARE(DesktopSettings::load(store), s);
    s.token.clear();
    s.caFile.clear();
    s.save(store);
    QVERIFY(!store.contains(QStringLiteral("connection/token"))); // not kept as an empty value
    QVERIFY(!store.contains(QStringLiteral("connection/caFile")));
    QCOMPARE(DesktopSettings::load(store), s);
}

void tst_DesktopSettings::firstStart()
{
    QSettings store(m_dir.filePath(QStringLiteral("first.ini")), QSettings::IniFormat);
    QVERIFY(!DesktopSettings::exist(store));
    QCOMPARE(DesktopSettings::load(store), DesktopSettings{});
    DesktopSettings{}.save(store);
    QVERIFY(DesktopSettings::exist(store));
}

void tst_DesktopSettings::badStoredValuesAreClamped()
{
    QSettings store(m_dir.filePath(QStringLiteral("bad.ini")), QSettings::IniFormat);
    store.setValue(QStringLiteral("view/bufferLines"), 5);
    QCOMPARE(DesktopSettings::load(store).bufferLines, DesktopSettings::minBufferLines);
    store.setValue(QStringLiteral("view/bufferLines"), QStringLiteral("lots"));
    QCOMPARE(DesktopSettings::load(store).bufferLines, DesktopSettings{}.bufferLines);
}

void tst_DesktopSettings::channelList_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QStringList>("list");
    QTest::newRow("empty") << QString() << QStringList();
    QTest::newRow("spaces and empties")
        << QStringLiteral(" a, ,b ,,a ") << QStringList{QStringLiteral("a"), QStringLiteral("b")};
    QTest::newRow("globs") << QStringLiteral("logs:*") << QStringList{QStringLiteral("logs:*")};
}

void tst_DesktopSettings::channelList()
{
    QFETCH(QString, text);
    QFETCH(QStringList, list);
    DesktopSettings s;
    s.channels = text;
    QCOMPARE(s.channelList(), list);
}

void tst_DesktopSettings::commandLine_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QStringList>("env");
    QTest::addColumn<QString>("url");
    QTest::addColumn<QString>("token");
    QTest::addColumn<QString>("channels");
    QTest::addColumn<QString>("error");

    const QString saved = QStringLiteral("http://saved:1");
    QTest::newRow("nothing: saved settings")
        << QStringList{} << QStringList{} << saved << QStringLiteral("saved-token") << QString()
        << QString();
    QTest::newRow("all three") << QStringList{QStringLiteral("--url"),
                                              QStringLiteral("gw:8000"),
                                              QStringLiteral("--token"),
                                              QStringLiteral("t1"),
                                              QStringLiteral("--channels"),
                                              QStringLiteral("logs:errors")}
                               << QStringList{} << QStringLiteral("gw:8000") << QStringLiteral("t1")
                               << QStringLiteral("logs:errors") << QString();
    QTest::newRow("CA file") << QStringList{QStringLiteral("--ca-file"),
                                            QStringLiteral("/tmp/ca.pem")}
                             << QStringList{} << saved << QStringLiteral("saved-token") << QString()
                             << QString();
    QTest::newRow("= form") << QStringList{QStringLiteral("--url=http://x:1")} << QStringList{}
                            << QStringLiteral("http://x:1") << QStringLiteral("saved-token")
                            << QString() << QString();
    QTest::newRow("token from the environment")
        << QStringList{} << QStringList{QStringLiteral("LLMSTREAMER_TOKEN=env-token")} << saved
        << QStringLiteral("env-token") << QString() << QString();
    QTest::newRow("flag beats environment")
        << QStringList{QStringLiteral("--token"), QStringLiteral("flag")}
        << QStringList{QStringLiteral("LLMSTREAMER_TOKEN=env-token")} << saved
        << QStringLiteral("flag") << QString() << QString();
    QTest::newRow("bad URL") << QStringList{QStringLiteral("--url"), QStringLiteral("ftp://x")}
                             << QStringList{} << QString() << QString() << QString()
                             << QStringLiteral("--url: the gateway URL must start with http://");
    QTest::newRow("unknown option")
        << QStringList{QStringLiteral("--bogus")} << QStringList{} << QString() << QString()
        << QString() << QStringLiteral("Unknown option 'bogus'");
    QTest::newRow("stray argument")
        << QStringList{QStringLiteral("http://x")} << QStringList{} << QString() << QString()
        << QString() << QStringLiteral("unexpected argument \"http://x\"");
    QTest::newRow("missing value")
        << QStringList{QStringLiteral("--url")} << QStringList{} << QString() << QString()
        << QString() << QStringLiteral("Missing value after '--url'");
}

void tst_DesktopSettings::commandLine()
{
    QFETCH(QStringList, args);
    QFETCH(QStringList, env);
    QFETCH(QString, url);
    QFETCH(QString, token);
    QFETCH(QString, channels);
    QFETCH(QString, error);

    const CommandLine cli =
        CommandLine::parse(QStringList{QStringLiteral("llmstreamer-desktop")} + args, env);
    if (!error.isEmpty()) {
        QVERIFY2(cli.error.contains(error), qPrintable(cli.error));
        return;
    }
    QCOMPARE(cli.error, QString());
    DesktopSettings s;
    s.gatewayUrl = QStringLiteral("http://saved:1");
    s.token = QStringLiteral("saved-token");
    cli.applyTo(s);
    QCOMPARE(s.gatewayUrl, url);
    QCOMPARE(s.token, token);
    QCOMPARE(s.channels, channels);
    QCOMPARE(s.caFile, args.contains(QLatin1StringView("--ca-file")) ? args.last() : QString());
    QCOMPARE(cli.overridesUrl(), args.join(u' ').contains(QLatin1StringView("--url")));
}

void tst_DesktopSettings::dialog()
{
    // --help and --version are recognised (the program prints and exits).
    const CommandLine help =
        CommandLine::parse({QStringLiteral("x"), QStringLiteral("--help")}, {});
    QVERIFY(help.help && help.error.isEmpty());
    QVERIFY(help.helpText.contains(QLatin1StringView("--channels")));
    QVERIFY(help.helpText.contains(QLatin1StringView("--ca-file")));
    QVERIFY(CommandLine::parse({QStringLiteral("x"), QStringLiteral("--version")}, {}).version);

    DesktopSettings s;
    s.token = QStringLiteral("abc");
    SettingsDialog dialog(
        s, QStringLiteral("/home/me/.config/LLM Streamer/llmstreamer-desktop.conf"), true);
    QCOMPARE(dialog.settings(), s);
    auto *warning = dialog.findChild<QLabel *>(QStringLiteral("tokenWarning"));
    QVERIFY(warning->text().contains(QLatin1StringView("stored unencrypted in /home/me/.config")));
    QCOMPARE(dialog.tokenEdit()->echoMode(), QLineEdit::Password);
    auto *ok = dialog.findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok);

    dialog.urlEdit()->setText(QStringLiteral("ftp://nope"));
    QVERIFY(!ok->isEnabled());
    QVERIFY(dialog.validationError().contains(QLatin1StringView("http://")));
    QVERIFY(!dialog.findChild<QLabel *>(QStringLiteral("urlError"))->isHidden());
    dialog.urlEdit()->clear();
    QTest::keyClicks(dialog.urlEdit(), QStringLiteral("gw.internal:8000"));
    QVERIFY(ok->isEnabled());
    QVERIFY(dialog.findChild<QLabel *>(QStringLiteral("urlError"))->isHidden());
    dialog.channelsEdit()->setText(QStringLiteral(" logs:errors "));
    dialog.bufferEdit()->setValue(123'000);
    dialog.caFileEdit()->setText(QStringLiteral(" /etc/ca.pem "));
    const DesktopSettings edited = dialog.settings();
    QCOMPARE(edited.gatewayUrl, QStringLiteral("gw.internal:8000"));
    QCOMPARE(edited.channels, QStringLiteral("logs:errors"));
    QCOMPARE(edited.bufferLines, 123'000);
    QCOMPARE(edited.caFile, QStringLiteral("/etc/ca.pem"));
    QCOMPARE(edited.token, QStringLiteral("abc"));
}

QTEST_MAIN(tst_DesktopSettings)
#include "tst_desktopsettings.moc"
