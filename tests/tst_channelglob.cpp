// Unit tests of channel globs: matching as Redis's stringmatchlen does, and the "covers" relation
// used to normalize allowlists. The expectations of tests/fixtures/channelglob.json were checked
// against redis-server 7.0.15 with SET and KEYS (except "*" on the empty name: KEYS lists every
// key for a lone "*" without matching).
#include "channelglob.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

class tst_ChannelGlob : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void matches_data();
    void matches();
    void pathologicalPattern();
    void isPattern_data();
    void isPattern();
    void covers_data();
    void covers();
    void coversImpliesMatches();
};

void tst_ChannelGlob::matches_data()
{
    QTest::addColumn<QByteArray>("pattern");
    QTest::addColumn<QByteArray>("channel");
    QTest::addColumn<bool>("expected");

    // One table for the gateway and the dashboard (tests/js/glob.test.mjs reads it too), so that a
    // glob selects the same channels in both.
    QFile file(QStringLiteral(LLMSTREAMER_CHANNELGLOB_FIXTURE));
    QVERIFY2(file.open(QIODevice::ReadOnly), qPrintable(file.errorString()));
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &error);
    QVERIFY2(doc.isArray(), qPrintable(error.errorString()));
    const QJsonArray rows = doc.array();
    QVERIFY(rows.size() > 100);
    for (qsizetype i = 0; i < rows.size(); ++i) {
        const QJsonObject row = rows.at(i).toObject();
        const QJsonValue glob = row.value(QLatin1String("glob"));
        const QJsonValue name = row.value(QLatin1String("name"));
        const QJsonValue match = row.value(QLatin1String("match"));
        QVERIFY2(glob.isString() && name.isString() && match.isBool(),
                 qPrintable(
                     QStringLiteral("row %1: needs glob, name (strings) and match (bool)").arg(i)));
        const QByteArray pattern = glob.toString().toUtf8();
        const QByteArray channel = name.toString().toUtf8();
        QTest::addRow("%d: \"%s\" ~ \"%s\"", int(i), pattern.constData(), channel.constData())
            << pattern << channel << match.toBool();
    }
}

void tst_ChannelGlob::matches()
{
    QFETCH(QByteArray, pattern);
    QFETCH(QByteArray, channel);
    QFETCH(bool, expected);

    QCOMPARE(ChannelGlob::matches(pattern, channel), expected);
}

void tst_ChannelGlob::pathologicalPattern()
{
    // Exponential for naive backtracking; must finish at once here.
    const QByteArray pattern = "*a*a*a*a*a*a*a*a*a*a*b";
    const QByteArray subject(10 * 1024, 'a');
    QVERIFY(!ChannelGlob::matches(pattern, subject));
    QVERIFY(ChannelGlob::matches(pattern, QByteArray(subject + 'b')));
    QVERIFY(!ChannelGlob::matches(QByteArray(QByteArray("*a").repeated(200) + 'b'), subject));
    QVERIFY(!ChannelGlob::covers(pattern, QByteArray(QByteArray("a").repeated(2000) + "*c")));
}

void tst_ChannelGlob::isPattern_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<bool>("expected");

    QTest::newRow("name") << QByteArray("logs:errors") << false;
    QTest::newRow("empty") << QByteArray() << false;
    QTest::newRow("dash and colon") << QByteArray("a-b:c.d_e/f") << false;
    QTest::newRow("closing bracket alone") << QByteArray("a]") << false;
    QTest::newRow("caret alone") << QByteArray("a^") << false;
    QTest::newRow("star") << QByteArray("logs:*") << true;
    QTest::newRow("question") << QByteArray("logs:?") << true;
    QTest::newRow("class") << QByteArray("logs:[ab]") << true;
    QTest::newRow("opening bracket alone") << QByteArray("a[") << true;
    // A backslash changes what the name matches, so it must go to PSUBSCRIBE.
    QTest::newRow("escape") << QByteArray("a\\b") << true;
}

void tst_ChannelGlob::isPattern()
{
    QFETCH(QByteArray, text);
    QFETCH(bool, expected);

    QCOMPARE(ChannelGlob::isPattern(text), expected);
}

void tst_ChannelGlob::covers_data()
{
    QTest::addColumn<QByteArray>("outer");
    QTest::addColumn<QByteArray>("inner");
    QTest::addColumn<bool>("expected");

    const auto row = [](const char *name, const QByteArray &o, const QByteArray &i, bool c) {
        QTest::newRow(name) << o << i << c;
    };
    row("glob covers name", "logs:*", "logs:errors", true);
    row("glob covers narrower glob", "logs:*", "logs:e*", true);
    row("glob covers question", "logs:*", "logs:?", true);
    row("glob covers class", "logs:*", "logs:[ab]", true);
    row("glob covers itself", "logs:*", "logs:*", true);
    row("glob does not cover other name", "logs:*", "other", false);
    row("glob does not cover star", "logs:*", "*", false);
    row("glob does not cover shorter prefix", "logs:*", "log*", false);
    row("glob does not cover its prefix", "logs:*", "logs", false);
    row("star covers name", "*", "logs:errors", true);
    row("star covers glob", "*", "logs:*", true);
    row("star covers star", "*", "*", true);
    row("star covers escape", "*", "a\\*", true);
    row("double star covers star", "**", "*", true);
    row("star covers double star", "*", "**", true);
    row("question does not cover star", "logs:?", "logs:*", false);
    row("question covers name", "logs:?", "logs:a", true);
    row("question does not cover longer name", "logs:?", "logs:ab", false);
    row("question covers class", "logs:?", "logs:[ab]", true);
    row("question covers question", "logs:?", "logs:?", true);
    row("name covers itself", "logs:errors", "logs:errors", true);
    row("name does not cover other name", "logs:errors", "logs:error", false);
    row("name does not cover glob", "logs:a", "logs:*", false);
    row("name does not cover question", "logs:a", "logs:?", false);
    row("name covers one-byte class", "logs:a", "logs:[a]", true);
    row("name does not cover two-byte class", "logs:a", "logs:[ab]", false);
    row("escaped star does not cover a glob", "logs:\\*", "logs:*x", false);
    row("escaped star does not cover star", "a\\*", "a*", false);
    row("glob covers escaped name", "a*", "a\\*", true);
    row("escaped name covers itself", "a\\*", "a\\*", true);
    // Classes.
    row("class covers member", "logs:[ab]", "logs:a", true);
    row("class does not cover non-member", "logs:[ab]", "logs:c", false);
    row("class covers itself", "logs:[ab]", "logs:[ab]", true);
    row("class covers reordered class", "logs:[ab]", "logs:[ba]", true);
    row("class covers subset", "logs:[a-z]", "logs:[b-d]", true);
    row("class does not cover superset", "logs:[b-d]", "logs:[a-z]", false);
    row("range covers member", "logs:[a-z]", "logs:q", true);
    row("negated class covers member", "logs:[^x]", "logs:a", true);
    row("negated class does not cover excluded", "logs:[^x]", "logs:x", false);
    row("negated class covers disjoint class", "logs:[^x]", "logs:[ab]", true);
    row("class does not cover question", "logs:[ab]", "logs:?", false);
    row("negated empty class covers question", "logs:[^]", "logs:?", true);
    row("class does not cover star", "logs:[ab]", "logs:*", false);
    row("star then class", "*[0-9]", "logs:[1-3]", true);
    // The empty channel name: only the empty glob matches it.
    row("star does not cover empty", "*", "", false);
    row("empty covers empty", "", "", true);
    row("empty does not cover name", "", "a", false);
}

void tst_ChannelGlob::covers()
{
    QFETCH(QByteArray, outer);
    QFETCH(QByteArray, inner);
    QFETCH(bool, expected);

    QCOMPARE(ChannelGlob::covers(outer, inner), expected);
}

void tst_ChannelGlob::coversImpliesMatches()
{
    // Soundness over a corpus: whenever covers(o, i), every channel i matches, o matches.
    const QByteArrayList globs{
        "",     "*",    "**",    "?",     "a",    "ab",   "a*",     "*a",       "a?",  "?b",
        "[ab]", "[^a]", "[a-c]", "[b-]]", "a\\*", "a[*]", "*[ab]*", "[ab][ab]", "a*b", "*?*",
        "[^]",  "\\?",  "?*",    "*b*",   "[a-]", "a\\",  "[]",     "]*",
    };
    QByteArrayList channels{""};
    const QByteArray alphabet = "ab]*?\\-";
    for (int len = 1; len <= 3; ++len) {
        const QByteArrayList shorter = channels;
        for (const QByteArray &c : shorter)
            if (c.size() == len - 1)
                for (char x : alphabet)
                    channels.append(c + x);
    }
    int covered = 0;
    for (const QByteArray &o : globs) {
        for (const QByteArray &i : globs) {
            if (!ChannelGlob::covers(o, i))
                continue;
            ++covered;
            for (const QByteArray &c : std::as_const(channels)) {
                if (ChannelGlob::matches(i, c) && !ChannelGlob::matches(o, c))
                    QFAIL(qPrintable(QStringLiteral("covers(\"%1\", \"%2\") but \"%3\" matches "
                                                    "only the inner glob")
                                         .arg(QString::fromUtf8(o), QString::fromUtf8(i),
                                              QString::fromUtf8(c))));
            }
        }
    }
    QVERIFY(covered > globs.size()); // more than each glob covering itself
}

QTEST_GUILESS_MAIN(tst_ChannelGlob)
#include "tst_channelglob.moc"
