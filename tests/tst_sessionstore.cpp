// Browser sessions (gateway/sessionstore.h): bounded per token and in all, expiring, revocable.
#include "sessionstore.h"

#include <QSet>
#include <QTest>

class tst_SessionStore : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void oneTokenCannotEvictAnother();
    void perTokenCapEvictsOldestOfThatToken();
    void totalCap();
    void expiry();
    void removeWhere();
};

void tst_SessionStore::oneTokenCannotEvictAnother()
{
    SessionStore store(100, 10000, 3600'000);
    const QByteArray alice = store.create("alice-token", 0);
    QSet<QByteArray> ids{alice};
    for (int i = 0; i < 10000; ++i)
        ids.insert(store.create("mallory-token", i));
    QCOMPARE(ids.size(), 10001); // every id is new
    QCOMPARE(store.tokenOf(alice, 10000), QByteArray("alice-token"));
    QCOMPARE(store.size(), qsizetype(101));
}

void tst_SessionStore::perTokenCapEvictsOldestOfThatToken()
{
    SessionStore store(3, 100, 3600'000);
    const QByteArray a1 = store.create("a", 1), a2 = store.create("a", 2),
                     a3 = store.create("a", 3);
    const QByteArray b1 = store.create("b", 4);
    const QByteArray a4 = store.create("a", 5);
    QVERIFY(store.tokenOf(a1, 6).isEmpty());
    for (const QByteArray &id : {a2, a3, a4})
        QCOMPARE(store.tokenOf(id, 6), QByteArray("a"));
    QCOMPARE(store.tokenOf(b1, 6), QByteArray("b"));
    QCOMPARE(a1.size(), 48);
}

void tst_SessionStore::totalCap()
{
    SessionStore store(100, 5, 3600'000);
    QList<QByteArray> ids;
    for (int i = 0; i < 7; ++i)
        ids.append(store.create("t" + QByteArray::number(i), i));
    QCOMPARE(store.size(), qsizetype(5));
    QVERIFY(store.tokenOf(ids[0], 8).isEmpty());
    QVERIFY(store.tokenOf(ids[1], 8).isEmpty());
    QCOMPARE(store.tokenOf(ids[6], 8), QByteArray("t6"));
}

void tst_SessionStore::expiry()
{
    SessionStore store(100, 100, 1000);
    const QByteArray id = store.create("a", 10'000);
    QCOMPARE(store.tokenOf(id, 10'999), QByteArray("a"));
    QVERIFY(store.tokenOf(id, 11'000).isEmpty());
    QCOMPARE(store.size(), qsizetype(0));
    store.create("b", 20'000);
    store.create("c", 20'500);
    store.create("d", 21'200); // the first two expired meanwhile and are gone
    QCOMPARE(store.size(), qsizetype(2));
    QVERIFY(store.tokenOf("unknown", 0).isEmpty());
}

void tst_SessionStore::removeWhere()
{
    SessionStore store(100, 100, 3600'000);
    const QByteArray a = store.create("keep", 0), b = store.create("gone", 0),
                     c = store.create("gone", 0);
    QCOMPARE(store.removeWhere([](const QByteArray &t) { return t == "gone"; }), 2);
    QCOMPARE(store.tokenOf(a, 1), QByteArray("keep"));
    QVERIFY(store.tokenOf(b, 1).isEmpty());
    QVERIFY(store.tokenOf(c, 1).isEmpty());
}

QTEST_APPLESS_MAIN(tst_SessionStore)
#include "tst_sessionstore.moc"
