#include "configoptions.h"

#include <QTest>

// The table itself, apart from the programs that use it: how rows, switches, positional
// arguments and commands turn into values, help and errors (the programs' own tests check their
// rows: tst_gatewayconfig, tst_produceroptions).
class tst_ConfigOptions : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parses_data();
    void parses();
    void refuses_data();
    void refuses();
    void help_data();
    void help();
    void commandList();
    void helpers_data();
    void helpers();
};

namespace {

using Row = ConfigOptions::Row;
using Kind = ConfigOptions::Kind;

// What a parse left, as one line the data tables compare.
struct Settings
{
    qint64 port = 8000;
    bool verbose = false;
    QString source;
    QString target;
    QString command;
    QString file;
    QString channel;
    double rate = 1;
    bool fast = false;

    QString summary() const
    {
        QString s = QStringLiteral("port=%1").arg(port);
        if (verbose)
            s += QStringLiteral(" verbose");
        if (!source.isEmpty())
            s += QStringLiteral(" source=") + source;
        if (!target.isEmpty())
            s += QStringLiteral(" target=") + target;
        if (!command.isEmpty())
            s += QStringLiteral(" command=") + command;
        if (!file.isEmpty())
            s += QStringLiteral(" file=") + file;
        if (!channel.isEmpty())
            s += QStringLiteral(" channel=") + channel;
        if (rate != 1)
            s += QStringLiteral(" rate=%1").arg(rate);
        if (fast)
            s += QStringLiteral(" fast");
        return s;
    }
};

Row portRow(Settings *s)
{
    return Row{QStringLiteral("port"),
               QStringLiteral("port"),
               QStringLiteral("TCP port"),
               "PORT",
               QStringLiteral("8000"),
               ConfigOptions::integer(&s->port, 0, 65535, QStringLiteral("a port"))};
}

// A program without commands: prog [--port P] [--verbose] SOURCE [TARGET].
void buildPlain(ConfigOptions &options, Settings *s)
{
    options.add(portRow(s));
    options.add(Row{.name = QStringLiteral("verbose"),
                    .help = QStringLiteral("Say more"),
                    .apply = ConfigOptions::enable(&s->verbose),
                    .kind = Kind::Switch});
    options.add(Row{.name = QStringLiteral("SOURCE"),
                    .help = QStringLiteral("What to read"),
                    .apply =
                        [s](const QString &v) {
                            s->source = v;
                            return QString();
                        },
                    .kind = Kind::Positional,
                    .required = true,
                    .example = QStringLiteral("prog in.txt")});
    options.add(Row{.name = QStringLiteral("TARGET"),
                    .help = QStringLiteral("Where to write"),
                    .apply =
                        [s](const QString &v) {
                            s->target = v;
                            return v == QLatin1String("-") ? QStringLiteral("not stdout")
                                                           : QString();
                        },
                    .kind = Kind::Positional});
}

// A program with commands: prog [--port P] run FILE --channel C [--rate R] [--fast], prog list.
void buildCommands(ConfigOptions &options, Settings *s)
{
    options.setProgram(QStringLiteral("prog"));
    options.setNotes(QStringLiteral("Notes for every help."));
    options.add(portRow(s));
    ConfigOptions &run = options.add(ConfigOptions::Command{
        QStringLiteral("run"), QStringLiteral("FILE --channel C"),
        QStringLiteral("Run FILE into channel C"), QStringLiteral("Runs a file."),
        [s] { s->command = QStringLiteral("run"); }});
    run.add(Row{.name = QStringLiteral("FILE"),
                .help = QStringLiteral("The file to run"),
                .apply =
                    [s](const QString &v) {
                        s->file = v;
                        return QString();
                    },
                .kind = Kind::Positional,
                .required = true,
                .example = QStringLiteral("run app.log --channel c")});
    run.add(Row{.name = QStringLiteral("channel"),
                .valueName = QStringLiteral("name"),
                .help = QStringLiteral("Where to publish"),
                .environment = "CHANNEL",
                .apply =
                    [s](const QString &v) {
                        s->channel = v;
                        return QString();
                    },
                .required = true,
                .example = QStringLiteral("--channel logs:app")});
    run.add(Row{.name = QStringLiteral("rate"),
                .valueName = QStringLiteral("n"),
                .help = QStringLiteral("Runs per second"),
                .defaultText = QStringLiteral("1"),
                .apply = ConfigOptions::real(&s->rate, 0, 1000, QStringLiteral("a rate"))});
    run.add(Row{.name = QStringLiteral("fast"),
                .help = QStringLiteral("Skip the checks"),
                .apply = ConfigOptions::enable(&s->fast),
                .kind = Kind::Switch});
    options.add(ConfigOptions::Command{
        QStringLiteral("list"), QString(), QStringLiteral("List what ran"),
        QStringLiteral("Lists runs."), [s] { s->command = QStringLiteral("list"); }});
}

QStringList split(const char *text)
{
    return QString::fromUtf8(text).split(QLatin1Char(' '), Qt::SkipEmptyParts);
}

struct Result
{
    ConfigOptions::Outcome outcome;
    QString output;
    Settings settings;
};

Result parse(bool commands, const QStringList &args, const QStringList &env)
{
    Result r{};
    ConfigOptions options(QStringLiteral("Does things."));
    if (commands)
        buildCommands(options, &r.settings);
    else
        buildPlain(options, &r.settings);
    r.outcome = options.parse(QStringList{QStringLiteral("prog")} + args, env, &r.output);
    return r;
}

} // namespace

void tst_ConfigOptions::parses_data()
{
    QTest::addColumn<bool>("commands");
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QStringList>("env");
    QTest::addColumn<QString>("summary");

    const auto row = [](const char *name, bool commands, const char *args, const QStringList &env,
                        const char *summary) {
        QTest::newRow(name) << commands << split(args) << env << QString::fromUtf8(summary);
    };
    const QStringList none;
    row("defaults", false, "in", none, "port=8000 source=in");
    row("flag", false, "--port 1 in", none, "port=1 source=in");
    row("environment", false, "in", {QStringLiteral("PORT=2")}, "port=2 source=in");
    row("flag beats environment", false, "--port=3 in", {QStringLiteral("PORT=x")},
        "port=3 source=in");
    row("empty environment is unset", false, "in", {QStringLiteral("PORT=")},
        "port=8000 source=in");
    row("last flag wins", false, "--port 1 --port 4 in", none, "port=4 source=in");
    row("switch", false, "in --verbose", none, "port=8000 verbose source=in");
    row("optional positional", false, "in out", none, "port=8000 source=in target=out");
    row("after --", false, "-- --in", none, "port=8000 source=--in");

    row("command", true, "run f --channel c", none, "port=8000 command=run file=f channel=c");
    row("command without rows", true, "list", none, "port=8000 command=list");
    row("program option before the command", true, "--port 5 list", none, "port=5 command=list");
    row("program option after the command", true, "list --port 6", none, "port=6 command=list");
    row("after the command wins", true, "--port 5 list --port 6", none, "port=6 command=list");
    row("after the command wins, even a bad one before", true, "--port x list --port 6", none,
        "port=6 command=list");
    row("command row from the environment", true, "run f", {QStringLiteral("CHANNEL=e")},
        "port=8000 command=run file=f channel=e");
    row("command options in any order", true, "run --fast --rate 0.5 --channel c f", none,
        "port=8000 command=run file=f channel=c rate=0.5 fast");
    row("options of the program are its own", true, "--port 7 run f --channel c --port 8", none,
        "port=8 command=run file=f channel=c");
}

void tst_ConfigOptions::parses()
{
    QFETCH(bool, commands);
    QFETCH(QStringList, args);
    QFETCH(QStringList, env);
    QFETCH(QString, summary);

    const Result r = parse(commands, args, env);
    QVERIFY2(r.outcome == ConfigOptions::Outcome::Parsed, qPrintable(r.output));
    QCOMPARE(r.settings.summary(), summary);
}

void tst_ConfigOptions::refuses_data()
{
    QTest::addColumn<bool>("commands");
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QStringList>("env");
    QTest::addColumn<QString>("output"); // all of it

    const auto row = [](const char *name, bool commands, const char *args, const QStringList &env,
                        const char *output) {
        QTest::newRow(name) << commands << split(args) << env << QString::fromUtf8(output);
    };
    const QStringList none;
    row("bad flag", false, "--port x in", none,
        "--port: \"x\" is not a port (0-65535)\nTry --help.\n");
    row("bad environment", false, "in", {QStringLiteral("PORT=70000")},
        "PORT: \"70000\" is not a port (0-65535)\nTry --help.\n");
    row("empty flag is a value", false, "--port= in", {QStringLiteral("PORT=1")},
        "--port: \"\" is not a port (0-65535)\nTry --help.\n");
    row("a value like a placeholder", false, "--port %3 in", none,
        "--port: \"%3\" is not a port (0-65535)\nTry --help.\n");
    row("unknown option", false, "--nope in", none, "Unknown option 'nope'.\nTry --help.\n");
    row("switch with a value", false, "--verbose=1 in", none,
        "Unexpected value after '--verbose'.\nTry --help.\n");
    row("missing positional", false, "--verbose", none,
        "which SOURCE? e.g. prog in.txt\nTry --help.\n");
    row("extra positional", false, "a b c", none, "unexpected argument: c\nTry --help.\n");
    row("extra positional beats --help", false, "a b c --help", none,
        "unexpected argument: c\nTry --help.\n");
    row("bad positional", false, "in -", none, "TARGET: not stdout\nTry --help.\n");
    row("rows in table order", false, "--port x", none,
        "--port: \"x\" is not a port (0-65535)\nTry --help.\n");

    row("no command", true, "--port 1", none,
        "prog: no command given; use run or list\nTry 'prog --help'.\n");
    row("unknown command", true, "walk", none,
        "prog: unknown command \"walk\"; use run or list\nTry 'prog --help'.\n");
    row("unknown command beats --help", true, "--help walk", none,
        "prog: unknown command \"walk\"; use run or list\nTry 'prog --help'.\n");
    row("option of another command", true, "list --fast", none,
        "prog: Unknown option 'fast'.\nTry 'prog --help'.\n");
    row("command option before the command", true, "--fast run f --channel c", none,
        "prog: Unknown option 'fast'.\nTry 'prog --help'.\n");
    row("missing value", true, "run f --channel", none,
        "prog: Missing value after '--channel'.\nTry 'prog --help'.\n");
    row("required option", true, "run f", none,
        "prog: run needs --channel NAME, e.g. --channel logs:app\nTry 'prog --help'.\n");
    row("required option empty", true, "run f --channel=", {QStringLiteral("CHANNEL=e")},
        "prog: run needs --channel NAME, e.g. --channel logs:app\nTry 'prog --help'.\n");
    row("required positional", true, "run --channel c", none,
        "prog: run: which FILE? e.g. run app.log --channel c\nTry 'prog --help'.\n");
    row("extra argument", true, "list x", none,
        "prog: list: unexpected argument \"x\"\nTry 'prog --help'.\n");
    row("bad command value", true, "run f --channel c --rate 1001", none,
        "prog: --rate: \"1001\" is not a rate (0-1000)\nTry 'prog --help'.\n");
    row("program rows first", true, "run --rate x", {QStringLiteral("PORT=x")},
        "prog: PORT: \"x\" is not a port (0-65535)\nTry 'prog --help'.\n");
    row("command rows in table order", true, "run --rate x", none,
        "prog: run: which FILE? e.g. run app.log --channel c\nTry 'prog --help'.\n");
}

void tst_ConfigOptions::refuses()
{
    QFETCH(bool, commands);
    QFETCH(QStringList, args);
    QFETCH(QStringList, env);
    QFETCH(QString, output);

    const Result r = parse(commands, args, env);
    QCOMPARE(r.outcome, ConfigOptions::Outcome::Refused);
    QCOMPARE(r.output, output);
}

void tst_ConfigOptions::help_data()
{
    QTest::addColumn<bool>("commands");
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("outcome");
    QTest::addColumn<QStringList>("contains");
    QTest::addColumn<QStringList>("lacks");

    const auto help = int(ConfigOptions::Outcome::Help);
    const auto version = int(ConfigOptions::Outcome::Version);
    const auto list = [](std::initializer_list<const char *> items) {
        QStringList l;
        for (const char *item : items)
            l << QString::fromUtf8(item);
        return l;
    };
    QTest::newRow("plain") << false << split("--help") << help
                           << list({"Does things.", "[options] SOURCE [TARGET]", "-h, --help",
                                    "-v, --version", "--port <port>",
                                    "TCP port [PORT, default "
                                    "8000].",
                                    "--verbose ", "Say more.", "What to read."})
                           << list({"Commands:", "<verbose>"});
    QTest::newRow("help beats bad values and missing arguments")
        << false << split("--port x -h") << help << list({"--port <port>"}) << QStringList();
    QTest::newRow("help beats version")
        << false << split("--version --help") << help << list({"--port <port>"}) << QStringList();
    QTest::newRow("version") << false << split("-v") << version << QStringList() << QStringList();

    QTest::newRow("program") << true << split("--help") << help
                             << list({"Does things.\n\nCommands:\n",
                                      "[options] <command> [options]", "--port <port>",
                                      "run or list.",
                                      "Run 'prog <command> --help' for the options of a command.",
                                      "Notes for every help."})
                             << list({"--channel <name>", "--fast"});
    QTest::newRow("command") << true << split("run --help") << help
                             << list({"[options] run FILE", "Runs a file.\n\nNotes for every help.",
                                      "--port <port>", "--channel <name>",
                                      "Where to publish [CHANNEL].", "--rate <n>", "[default 1].",
                                      "--fast ", "The command.", "The file to run."})
                             << list({"Commands:", "Lists runs."});
    QTest::newRow("--help before the command")
        << true << split("--help list") << help << list({"Lists runs.", "--port <port>"})
        << list({"--channel"});
    QTest::newRow("command version")
        << true << split("list --version") << version << QStringList() << QStringList();
    QTest::newRow("version without a command")
        << true << split("--version") << version << QStringList() << QStringList();
}

void tst_ConfigOptions::help()
{
    QFETCH(bool, commands);
    QFETCH(QStringList, args);
    QFETCH(int, outcome);
    QFETCH(QStringList, contains);
    QFETCH(QStringList, lacks);

    const Result r = parse(commands, args, {QStringLiteral("PORT=x")});
    QCOMPARE(int(r.outcome), outcome);
    for (const QString &text : std::as_const(contains))
        QVERIFY2(r.output.contains(text), qPrintable(text + QStringLiteral(" in:\n") + r.output));
    for (const QString &text : std::as_const(lacks))
        QVERIFY2(!r.output.contains(text), qPrintable(text + QStringLiteral(" in:\n") + r.output));
}

// The list of commands in the program's help lines its summaries up in one column.
void tst_ConfigOptions::commandList()
{
    ConfigOptions options(QStringLiteral("Does things."));
    const auto add = [&](const char *name, const char *synopsis, const char *summary) {
        options.add(ConfigOptions::Command{QString::fromUtf8(name), QString::fromUtf8(synopsis),
                                           QString::fromUtf8(summary)});
    };
    add("short", "", "One");
    add("medium", "--to C", "Two");
    add("edge", "--to CHANNELS", "Three"); // just leaves two spaces
    add("long", "FILE --to C", "Four");
    add("longer", "FILE --to CH", "Five"); // one character too long
    QString output;
    QCOMPARE(options.parse({QStringLiteral("prog"), QStringLiteral("-h")}, {}, &output),
             ConfigOptions::Outcome::Help);
    QVERIFY2(
        output.contains(QLatin1String("Does things.\n\n"
                                      "Commands:\n"
                                      "  short               One.\n"
                                      "  medium --to C       Two.\n"
                                      "  edge --to CHANNELS  Three.\n"
                                      "  long FILE --to C    Four.\n"
                                      "  longer FILE --to CH\n"
                                      "                      Five.\n"
                                      "\n"
                                      "Run '<command> --help' for the options of a command.\n")),
        qPrintable(output));
    QVERIFY2(output.contains(QLatin1String("short, medium, edge, long or longer.")),
             qPrintable(output));
}

void tst_ConfigOptions::helpers_data()
{
    QTest::addColumn<QString>("helper");
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("result"); // the value set, or the reason

    const auto row = [](const char *helper, const char *input, const char *result) {
        QTest::addRow("%s %s", helper, input)
            << QString::fromUtf8(helper) << QString::fromUtf8(input) << QString::fromUtf8(result);
    };
    row("integer", "5", "5");
    row("integer", " 7 ", "7");
    row("integer", "0", "\"0\" is not a count (1-10)");
    row("integer", "11", "\"11\" is not a count (1-10)");
    row("integer", "1.5", "\"1.5\" is not a count (1-10)");
    row("integer", "", "\"\" is not a count (1-10)");
    row("real", "0.25", "0.25");
    row("real", "10000000", "1e+07");
    row("real", "-1", "\"-1\" is not a rate (0-10000000)");
    row("real", "10000001", "\"10000001\" is not a rate (0-10000000)");
    row("real", "nan", "\"nan\" is not a rate (0-10000000)");
    row("real", "inf", "\"inf\" is not a rate (0-10000000)");
    row("real", "fast", "\"fast\" is not a rate (0-10000000)");
    row("size", "1K", "1024");
    row("size", "64K", "65536");
    row("size", "1023", "\"1023\" is not a size from 1K to 64K");
    row("size", "65K", "\"65K\" is not a size from 1K to 64K");
    row("size", "lots", "\"lots\" is not a size from 1K to 64K");
    row("enable", "", "true");
    row("parsed", "ok", "ok");
    row("parsed", "bad", "bad is refused");
    row("parsed", "silent", "\"silent\" is not valid");
}

void tst_ConfigOptions::helpers()
{
    QFETCH(QString, helper);
    QFETCH(QString, input);
    QFETCH(QString, result);

    int count = 0;
    double rate = 0;
    qsizetype size = 0;
    bool on = false;
    QString text;
    std::function<QString(const QString &)> apply;
    std::function<QString()> value;
    if (helper == QLatin1String("integer")) {
        apply = ConfigOptions::integer(&count, 1, 10, QStringLiteral("a count"));
        value = [&] { return QString::number(count); };
    } else if (helper == QLatin1String("real")) {
        apply = ConfigOptions::real(&rate, 0, 10'000'000, QStringLiteral("a rate"));
        value = [&] { return QString::number(rate); };
    } else if (helper == QLatin1String("size")) {
        apply =
            ConfigOptions::size(&size, 1024, 64 * 1024, QStringLiteral("a size from 1K to 64K"));
        value = [&] { return QString::number(size); };
    } else if (helper == QLatin1String("parsed")) {
        apply = ConfigOptions::parsed(&text, [](const QString &v, QString *why) {
            if (v == QLatin1String("bad"))
                *why = QStringLiteral("bad is refused");
            return v == QLatin1String("ok") ? std::optional<QString>(v) : std::nullopt;
        });
        value = [&] { return text; };
    } else {
        apply = ConfigOptions::enable(&on);
        value = [&] { return on ? QStringLiteral("true") : QStringLiteral("false"); };
    }
    const QString why = apply(input);
    QCOMPARE(why.isEmpty() ? value() : why, result);
}

QTEST_GUILESS_MAIN(tst_ConfigOptions)
#include "tst_configoptions.moc"
