// LogModel: the bounded ring buffer of log lines, checked by QAbstractItemModelTester while it
// fills, wraps around at capacity, takes older lines above the oldest, and is batched, resized
// and cleared.
#include "logmodel.h"
#include "logrecorddecoder.h"

#include <QAbstractItemModelTester>
#include <QColor>
#include <QFont>
#include <QSignalSpy>
#include <QTest>
#include <QTextDocument>

namespace {

LogRecord line(int n, LogLevel level = LogLevel::Info)
{
    LogRecord r;
    r.text = QString::number(n);
    r.level = level;
    r.ts = 1700000000000 + n;
    r.setLabels(QStringLiteral("logs:test"));
    return r;
}

std::vector<LogRecord> lines(int from, int count)
{
    std::vector<LogRecord> v;
    for (int i = from; i < from + count; ++i)
        v.push_back(line(i));
    return v;
}

QStringList messages(const LogModel &model)
{
    QStringList out;
    for (int row = 0; row < model.rowCount(); ++row)
        out.append(model.index(row, LogModel::MessageColumn).data().toString());
    return out;
}

QStringList range(int from, int to)
{
    QStringList out;
    for (int i = from; i <= to; ++i)
        out.append(QString::number(i));
    return out;
}

using Ranges = QList<QPair<int, int>>;

// What a tooltip shows: Qt renders it as rich text when it might be, as ours always are.
QString shownAsToolTip(const QString &toolTip)
{
    if (!Qt::mightBeRichText(toolTip))
        return toolTip;
    QTextDocument document;
    document.setHtml(toolTip);
    return document.toPlainText();
}

} // namespace

class tst_LogModel : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void wrapAround_data();
    void wrapAround();
    void enqueueHandsOverInBatches();
    void pendingQueueIsBounded();
    void prependIntoFreeRoom_data();
    void prependIntoFreeRoom();
    void prependedLinesAreEvictedFirst();
    void oldestMessageIds();
    void idColumn();
    void setCapacity();
    void clear();
    void display();
    void toolTipsShowTextLiterally_data();
    void toolTipsShowTextLiterally();
    void colours();
};

void tst_LogModel::wrapAround_data()
{
    QTest::addColumn<int>("capacity");
    QTest::addColumn<QList<int>>("batches");
    QTest::addColumn<QStringList>("kept");
    // (first, last) of each rowsRemoved / rowsInserted, in order.
    QTest::addColumn<Ranges>("removed");
    QTest::addColumn<Ranges>("inserted");

    QTest::newRow("below capacity")
        << 10 << QList<int>{3, 4} << range(0, 6) << Ranges{} << Ranges{{0, 2}, {3, 6}};
    QTest::newRow("exactly full") << 10 << QList<int>{10} << range(0, 9) << Ranges{}
                                  << Ranges{{0, 9}};
    QTest::newRow("wraps") << 10 << QList<int>{8, 4, 4} << range(6, 15) << Ranges{{0, 1}, {0, 3}}
                           << Ranges{{0, 7}, {6, 9}, {6, 9}};
    QTest::newRow("one at a time")
        << 3 << QList<int>{1, 1, 1, 1, 1} << range(2, 4) << Ranges{{0, 0}, {0, 0}}
        << Ranges{{0, 0}, {1, 1}, {2, 2}, {2, 2}, {2, 2}};
    QTest::newRow("batch larger than capacity")
        << 10 << QList<int>{5, 25} << range(20, 29) << Ranges{{0, 4}} << Ranges{{0, 4}, {0, 9}};
    QTest::newRow("capacity 1") << 1 << QList<int>{2, 1} << range(2, 2) << Ranges{{0, 0}}
                                << Ranges{{0, 0}, {0, 0}};
}

void tst_LogModel::wrapAround()
{
    QFETCH(int, capacity);
    QFETCH(QList<int>, batches);
    QFETCH(QStringList, kept);
    QFETCH(Ranges, removed);
    QFETCH(Ranges, inserted);

    LogModel model(capacity);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    Ranges removals, insertions;
    connect(&model, &QAbstractItemModel::rowsRemoved, this,
            [&](const QModelIndex &, int first, int last) {
                removals.append({first, last});
            });
    connect(&model, &QAbstractItemModel::rowsInserted, this,
            [&](const QModelIndex &, int first, int last) {
                insertions.append({first, last});
            });
    int next = 0;
    quint64 total = 0;
    for (const int n : batches) {
        model.append(lines(next, n));
        next += n;
        total += quint64(n);
    }
    QCOMPARE(messages(model), kept);
    QCOMPARE(removals, removed);
    QCOMPARE(insertions, inserted);
    QCOMPARE(model.totalAppended(), total);
    QCOMPARE(model.totalEvicted(), total - quint64(kept.size()));
    QCOMPARE(model.record(0).text, kept.constFirst());
}

void tst_LogModel::enqueueHandsOverInBatches()
{
    LogModel model(1000);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy batches(&model, &LogModel::batchAppended);
    for (int i = 0; i < 500; ++i)
        model.enqueue(line(i));
    // Nothing reaches the views synchronously...
    QCOMPARE(model.rowCount(), 0);
    QCOMPARE(model.pendingCount(), 500);
    // ...but all of it in one insertion at the next flush (~33 ms).
    QVERIFY(batches.wait(1000));
    QCOMPARE(inserted.size(), 1);
    QCOMPARE(batches.at(0).at(0).toInt(), 500);
    QCOMPARE(model.rowCount(), 500);
    QCOMPARE(model.pendingCount(), 0);

    // A steady trickle is also grouped: far fewer view updates than lines.
    QElapsedTimer clock;
    clock.start();
    int sent = 0;
    while (clock.elapsed() < 400) {
        model.enqueue(line(1000 + sent++));
        QCoreApplication::processEvents();
    }
    model.flush();
    QCOMPARE(model.totalAppended(), quint64(500 + sent));
    QVERIFY2(batches.size() <= 1 + 400 / LogModel::defaultFlushIntervalMs + 2,
             qPrintable(QStringLiteral("%1 batches for %2 lines").arg(batches.size()).arg(sent)));
}

void tst_LogModel::pendingQueueIsBounded()
{
    LogModel model(10);
    for (int i = 0; i < 100; ++i)
        model.enqueue(line(i));
    QVERIFY(model.pendingCount() <= 10 + 10 / 4);
    model.flush();
    QCOMPARE(messages(model), range(90, 99));
    QCOMPARE(model.totalAppended(), quint64(100));
    QCOMPARE(model.totalEvicted(), quint64(90));
}

void tst_LogModel::prependIntoFreeRoom_data()
{
    QTest::addColumn<int>("capacity");
    QTest::addColumn<int>("shown");  // lines 100.. appended first
    QTest::addColumn<int>("queued"); // then queued, not yet flushed
    QTest::addColumn<int>("older");  // then lines 100-older..99 prepended
    QTest::addColumn<int>("inserted");

    QTest::newRow("room for all") << 10 << 3 << 0 << 4 << 4;
    QTest::newRow("into an empty model") << 10 << 0 << 0 << 5 << 5;
    QTest::newRow("only the newest that fit") << 10 << 6 << 0 << 7 << 4;
    QTest::newRow("queued lines keep their room") << 10 << 3 << 4 << 5 << 3;
    QTest::newRow("full: nothing") << 10 << 10 << 0 << 5 << 0;
    QTest::newRow("nothing to prepend") << 10 << 3 << 0 << 0 << 0;
}

void tst_LogModel::prependIntoFreeRoom()
{
    QFETCH(int, capacity);
    QFETCH(int, shown);
    QFETCH(int, queued);
    QFETCH(int, older);
    QFETCH(int, inserted);

    LogModel model(capacity);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.append(lines(100, shown));
    for (const LogRecord &r : lines(100 + shown, queued))
        model.enqueue(r);
    Ranges insertions;
    connect(&model, &QAbstractItemModel::rowsInserted, this,
            [&](const QModelIndex &, int first, int last) {
                insertions.append({first, last});
            });
    QCOMPARE(model.prepend(lines(100 - older, older)), inserted);
    QCOMPARE(insertions, (inserted ? Ranges{{0, inserted - 1}} : Ranges{}));
    // In order, the newest of the older lines next to the oldest shown; nothing evicted.
    QCOMPARE(messages(model), range(100 - inserted, 100 + shown - 1));
    QCOMPARE(model.totalEvicted(), 0u);
    QCOMPARE(model.totalAppended(), quint64(shown)); // older lines were not received
    model.flush();
    QCOMPARE(messages(model), range(100 - inserted, 100 + shown + queued - 1));
    QCOMPARE(model.totalEvicted(), 0u);
}

void tst_LogModel::prependedLinesAreEvictedFirst()
{
    LogModel model(10);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.append(lines(100, 5));
    // Again and again, so the ring's positions go below zero and back.
    QCOMPARE(model.prepend(lines(98, 2)), 2);
    QCOMPARE(model.prepend(lines(95, 3)), 3);
    QCOMPARE(messages(model), range(95, 104));
    model.append(lines(105, 4));
    QCOMPARE(messages(model), range(99, 108));
    QCOMPARE(model.record(0).text, QStringLiteral("99"));
    model.clear();
    QCOMPARE(model.prepend(lines(1, 3)), 3);
    model.append(lines(4, 2));
    QCOMPARE(messages(model), range(1, 5));
}

void tst_LogModel::oldestMessageIds()
{
    LogRecordDecoder decoder;
    const auto envelope = [&](int n) {
        return decoder.decodeEnvelope(QStringLiteral(R"({"id":"7-%1","channel":"logs:a","ts":1,)"
                                                     R"("payload":"line %1"})")
                                          .arg(n)
                                          .toUtf8());
    };
    LogModel model(100);
    QCOMPARE(model.oldestMessageId(), QString());
    LogRecord gap;
    gap.kind = LogRecord::Kind::Gap;
    gap.text = QStringLiteral("gap: lost");
    model.append({gap, envelope(3), envelope(4), envelope(5)});
    // Markers have no id: the oldest message's is the one to page back from.
    QCOMPARE(model.oldestMessageId(), QStringLiteral("7-3"));
    QCOMPARE(model.oldestMessageIds(2),
             (QSet<QString>{QStringLiteral("7-3"), QStringLiteral("7-4")}));
    QCOMPARE(model.oldestMessageIds(10).size(), 3);
    model.prepend({envelope(1), envelope(2)});
    QCOMPARE(model.oldestMessageId(), QStringLiteral("7-1"));
}

void tst_LogModel::setCapacity()
{
    LogModel model(10);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.append(lines(0, 10));
    model.setCapacity(4);
    QCOMPARE(model.capacity(), 4);
    QCOMPARE(messages(model), range(6, 9));
    model.append(lines(10, 2));
    QCOMPARE(messages(model), range(8, 11));
    model.setCapacity(6);
    model.append(lines(12, 1));
    QCOMPARE(messages(model), range(8, 12));
    model.append(lines(13, 3));
    QCOMPARE(messages(model), range(10, 15));
}

void tst_LogModel::clear()
{
    LogModel model(10);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.append(lines(0, 5));
    model.enqueue(line(5));
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    model.clear();
    QCOMPARE(reset.size(), 1);
    QCOMPARE(model.rowCount(), 0);
    QCOMPARE(model.pendingCount(), 0);
    model.append(lines(6, 12));
    QCOMPARE(messages(model), range(8, 17));
}

void tst_LogModel::idColumn()
{
    // The trace id, else the request id: shortened in the cell, whole in the tooltip and the role.
    LogRecordDecoder decoder;
    const auto envelope = [&](const char *payload) {
        return decoder.decodeEnvelope(QByteArray(R"({"id":"7-1","channel":"logs:a","ts":1,)") +
                                      "\"payload\":" + payload + '}');
    };
    LogModel model(100);
    model.append({envelope(R"({"msg":"a","request_id":"r-42"})"),
                  envelope(R"({"msg":"b","request_id":"r-42",)"
                           R"("trace_id":"0af7651916cd43dd8448eb211c80319c"})"),
                  envelope(R"({"msg":"c"})"), envelope(R"("trace_id=x text")")});
    const auto cell = [&](int row, int role = Qt::DisplayRole) {
        return model.index(row, LogModel::IdColumn).data(role);
    };
    QCOMPARE(cell(0).toString(), QStringLiteral("r-42"));
    QCOMPARE(cell(0, LogModel::LinkedIdRole).toString(), QStringLiteral("r-42"));
    QCOMPARE(cell(1).toString(), QStringLiteral("0af76519\u2026"));
    QCOMPARE(cell(1, LogModel::LinkedIdRole).toString(),
             QStringLiteral("0af7651916cd43dd8448eb211c80319c"));
    QVERIFY(shownAsToolTip(cell(1, Qt::ToolTipRole).toString())
                .startsWith(QStringLiteral("trace_id 0af7651916cd43dd8448eb211c80319c\n")));
    for (const int row : {2, 3}) {
        QVERIFY(cell(row).isNull());
        QVERIFY(cell(row, LogModel::LinkedIdRole).toString().isEmpty());
    }
    QCOMPARE(cell(0, Qt::TextAlignmentRole).value<Qt::Alignment>(),
             Qt::AlignLeft | Qt::AlignVCenter);
    QCOMPARE(model.headerData(LogModel::IdColumn, Qt::Horizontal).toString(),
             QStringLiteral("Trace/request"));
}

void tst_LogModel::display()
{
    LogModel model;
    LogRecord r = line(1, LogLevel::Error);
    r.text = QStringLiteral("boom");
    r.setLabels(QStringLiteral("logs:errors"), QStringLiteral("svc"),
                QStringLiteral("meta-llama/m"));
    r.inputTokens = 10;
    r.outputTokens = 0;
    r.durationMs = 1234.4f;
    r.ttftMs = 56.6f;
    LogRecord gap;
    gap.kind = LogRecord::Kind::Gap;
    gap.text = QStringLiteral("gap: the gateway restarted");
    model.append({r, gap, line(2)});
    const auto cell = [&](int row, int column, int role = Qt::DisplayRole) {
        return model.index(row, column).data(role);
    };
    QCOMPARE(cell(0, LogModel::TimeColumn).toString(), LogModel::formatTime(r.ts));
    QCOMPARE(cell(0, LogModel::ChannelColumn).toString(), QStringLiteral("logs:errors"));
    QCOMPARE(cell(0, LogModel::LevelColumn).toString(), QStringLiteral("ERROR"));
    QCOMPARE(cell(0, LogModel::ServiceColumn).toString(), QStringLiteral("svc"));
    QCOMPARE(cell(0, LogModel::MessageColumn).toString(), QStringLiteral("boom"));
    QCOMPARE(cell(0, LogModel::ModelColumn).toString(), QStringLiteral("m")); // the short name
    QCOMPARE(shownAsToolTip(cell(0, LogModel::ModelColumn, Qt::ToolTipRole).toString()),
             QStringLiteral("meta-llama/m"));
    QCOMPARE(cell(0, LogModel::InputTokensColumn).toString(), QStringLiteral("10"));
    QCOMPARE(cell(0, LogModel::OutputTokensColumn).toString(), QStringLiteral("0"));
    QCOMPARE(cell(0, LogModel::DurationColumn).toString(), QStringLiteral("1234 ms"));
    QCOMPARE(cell(0, LogModel::TtftColumn).toString(), QStringLiteral("57 ms"));
    QCOMPARE(cell(0, LogModel::LevelColumn, LogModel::LevelRole).toInt(), int(LogLevel::Error));
    QCOMPARE(cell(0, LogModel::ChannelColumn, LogModel::ChannelRole).toString(),
             QStringLiteral("logs:errors"));
    QCOMPARE(cell(0, 0, LogModel::TimestampRole).toLongLong(), r.ts);
    QVERIFY(cell(2, LogModel::InputTokensColumn).isNull()); // no tokens: empty, not "-1"
    QVERIFY(cell(2, LogModel::DurationColumn).isNull());
    QCOMPARE(cell(1, LogModel::LevelColumn).toString(), QStringLiteral("GAP"));
    QCOMPARE(cell(1, LogModel::MessageColumn).toString(),
             QStringLiteral("gap: the gateway restarted"));
    QCOMPARE(cell(1, 0, LogModel::KindRole).toInt(), int(LogRecord::Kind::Gap));
    QVERIFY(cell(1, LogModel::MessageColumn, Qt::BackgroundRole).value<QColor>().isValid());
    QVERIFY(cell(1, LogModel::MessageColumn, Qt::FontRole).value<QFont>().bold());
    QCOMPARE(cell(0, LogModel::DurationColumn, Qt::TextAlignmentRole).value<Qt::Alignment>(),
             Qt::AlignRight | Qt::AlignVCenter);
    QCOMPARE(model.headerData(LogModel::TtftColumn, Qt::Horizontal).toString(),
             QStringLiteral("TTFT"));
    QCOMPARE(model.columnCount(), int(LogModel::ColumnCount));
}

void tst_LogModel::toolTipsShowTextLiterally_data()
{
    QTest::addColumn<int>("column");
    QTest::addColumn<QString>("message");
    QTest::addColumn<QString>("expected");

    const QString markup = QStringLiteral("<b>x</b> <img src=x> &amp; <a href=\"y\">z</a>");
    QTest::newRow("message") << int(LogModel::MessageColumn) << markup << markup;
    QTest::newRow("message cut to 300 characters")
        << int(LogModel::MessageColumn) << QStringLiteral("<b>x</b>").repeated(40)
        << QString(QStringLiteral("<b>x</b>").repeated(37) + QStringLiteral("<b>x") +
                   QChar(0x2026));
    QTest::newRow("service") << int(LogModel::ServiceColumn) << markup
                             << QStringLiteral("<b>svc</b>");
    QTest::newRow("model") << int(LogModel::ModelColumn) << markup
                           << QStringLiteral("org/<img src=x><b>m</b>");
}

void tst_LogModel::toolTipsShowTextLiterally()
{
    // Tooltips are rich text when Qt guesses they might be, and a log line can make it guess
    // so: what the record says must be shown as written, never as markup.
    QFETCH(int, column);
    QFETCH(QString, message);
    QFETCH(QString, expected);
    LogRecord r = line(1);
    r.text = message;
    r.setLabels(QStringLiteral("logs:test"), QStringLiteral("<b>svc</b>"),
                QStringLiteral("org/<img src=x><b>m</b>"));
    LogModel model;
    model.append({r});
    const QString toolTip = model.index(0, column).data(Qt::ToolTipRole).toString();
    QVERIFY2(Qt::mightBeRichText(toolTip), qPrintable(toolTip)); // so escaping is what counts
    QTextDocument shown;
    shown.setHtml(toolTip);
    QCOMPARE(shown.toPlainText(), expected);
    QVERIFY2(!shown.toHtml().contains(QLatin1StringView("<img")), qPrintable(shown.toHtml()));
}

void tst_LogModel::colours()
{
    LogModel model;
    model.append({line(0, LogLevel::Error), line(1, LogLevel::Warn), line(2, LogLevel::Debug),
                  line(3, LogLevel::None)});
    const auto colour = [&](int row) {
        return model.index(row, LogModel::LevelColumn).data(Qt::ForegroundRole).value<QColor>();
    };
    QVERIFY(colour(0).isValid() && colour(1).isValid() && colour(2).isValid());
    QVERIFY(colour(0) != colour(1) && colour(1) != colour(2));
    QVERIFY(!colour(3).isValid()); // no level: the palette's text colour
    const QColor lightError = colour(0);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    model.setDarkPalette(true);
    QCOMPARE(changed.size(), 1);
    QVERIFY(colour(0) != lightError);
    QVERIFY(colour(0).lightness() > lightError.lightness()); // lighter on a dark background
}

QTEST_MAIN(tst_LogModel)
#include "tst_logmodel.moc"
