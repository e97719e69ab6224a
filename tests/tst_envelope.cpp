// Unit tests of the JSON envelope: exact bytes for object and non-object payloads, UTF-8
// repair, escaping, and envelopes surviving SSE framing the way a client receives them.
#include "envelope.h"
#include "sseencoder.h"
#include "sseparser.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

namespace {

template <qsizetype N> QByteArray raw(const char (&s)[N])
{
    return QByteArray(s, N - 1);
}

const QByteArray prefix = R"({"id":"1-1","channel":"logs:a","ts":1700000000000,"payload":)";

// An envelope as a browser receives it: SSE-framed, parsed, data reassembled.
QByteArray throughSse(const QByteArray &json)
{
    QByteArray data;
    int events = 0;
    SseParser parser([&](const SseEvent &e) {
        data = e.data;
        ++events;
    });
    if (!parser.feed(SseEncoder::event("1-1", {}, json)) || events != 1)
        return {};
    return data;
}

// True when `json` has no raw byte below 0x20 other than whitespace outside strings (what
// RFC 8259 and JSON.parse demand).
bool isStrictAboutControls(const QByteArray &json)
{
    bool inString = false;
    for (qsizetype i = 0; i < json.size(); ++i) {
        const auto c = static_cast<unsigned char>(json[i]);
        if (inString && c < 0x20)
            return false;
        if (!inString && c < 0x20 && c != '\n' && c != '\r' && c != '\t')
            return false;
        if (c == '"')
            inString = !inString;
        else if (inString && c == '\\')
            ++i;
    }
    return true;
}

} // namespace

class tst_Envelope : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void objectPayload_data();
    void objectPayload();
    void nonObjectPayload_data();
    void nonObjectPayload();
    void jsonString_data();
    void jsonString();
    void channelEscaped_data();
    void channelEscaped();
    void rawControlsInsideObjectStrings_data();
    void rawControlsInsideObjectStrings();
    void prettyObjectThroughSse();
    void outputTokens_data();
    void outputTokens();
    void byteOrderMark_data();
    void byteOrderMark();
    void decodeRejects_data();
    void decodeRejects();
    void decodeAccepts();
    void largeObjectEmbeddedAsIs();
    void encodeIntoAppends();
    void specialByteAtEveryOffset();
};

void tst_Envelope::objectPayload_data()
{
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<QByteArray>("embedded");

    QTest::newRow("simple") << QByteArray(R"({"a":1})") << QByteArray(R"({"a":1})");
    QTest::newRow("empty object") << QByteArray("{}") << QByteArray("{}");
    QTest::newRow("key order kept")
        << QByteArray(R"({"z":1,"a":2,"m":3})") << QByteArray(R"({"z":1,"a":2,"m":3})");
    QTest::newRow("spacing kept") << QByteArray(R"({ "a" : [ 1 , 2 ] })")
                                  << QByteArray(R"({ "a" : [ 1 , 2 ] })");
    QTest::newRow("surrounding whitespace trimmed")
        << QByteArray(" \t\r\n{\"a\":1}\n\r\t ") << QByteArray(R"({"a":1})");
    QTest::newRow("escapes kept as written")
        << QByteArray(R"({"a":"\u00e9\n\"\\\/","b":"\ud83d\ude00"})")
        << QByteArray(R"({"a":"\u00e9\n\"\\\/","b":"\ud83d\ude00"})");
    QTest::newRow("numbers kept as written") << QByteArray(R"({"a":-0.50e+10,"b":1E3,"c":0})")
                                             << QByteArray(R"({"a":-0.50e+10,"b":1E3,"c":0})");
    QTest::newRow("big integer kept exactly") << QByteArray(R"({"n":12345678901234567890123})")
                                              << QByteArray(R"({"n":12345678901234567890123})");
    QTest::newRow("UTF-8 kept") << QByteArray("{\"msg\":\"caf\xC3\xA9 \xF0\x9F\x98\x80\"}")
                                << QByteArray("{\"msg\":\"caf\xC3\xA9 \xF0\x9F\x98\x80\"}");
    QTest::newRow("nested") << QByteArray(R"({"a":{"b":[true,false,null,{"c":[]}]}})")
                            << QByteArray(R"({"a":{"b":[true,false,null,{"c":[]}]}})");
    QTest::newRow("LLM fields")
        << QByteArray(
               R"({"level":"info","gen_ai.request.model":"m","gen_ai.usage.output_tokens":7})")
        << QByteArray(
               R"({"level":"info","gen_ai.request.model":"m","gen_ai.usage.output_tokens":7})");
}

void tst_Envelope::objectPayload()
{
    QFETCH(QByteArray, payload);
    QFETCH(QByteArray, embedded);

    const Envelope::Encoded enc = Envelope::encode("1-1", "logs:a", 1700000000000, payload);
    QCOMPARE(enc.json, QByteArray(prefix + embedded + '}'));
    QVERIFY(enc.payloadIsObject);
    QVERIFY(!enc.invalidUtf8);

    const auto decoded = Envelope::decode(throughSse(enc.json));
    QVERIFY(decoded);
    QCOMPARE(decoded->id, QStringLiteral("1-1"));
    QCOMPARE(decoded->channel, QStringLiteral("logs:a"));
    QCOMPARE(decoded->ts, qint64(1700000000000));
    QVERIFY(decoded->payload.isObject());
    QCOMPARE(decoded->payload.toObject(), QJsonDocument::fromJson(payload).object());
}

void tst_Envelope::nonObjectPayload_data()
{
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<QByteArray>("embedded");

    QTest::newRow("plain text") << QByteArray("ERROR disk full")
                                << QByteArray(R"("ERROR disk full")");
    QTest::newRow("empty") << QByteArray() << QByteArray(R"("")");
    QTest::newRow("array") << QByteArray("[1,2]") << QByteArray(R"("[1,2]")");
    QTest::newRow("number") << QByteArray("42") << QByteArray(R"("42")");
    QTest::newRow("JSON string") << QByteArray(R"("x")") << QByteArray(R"("\"x\"")");
    QTest::newRow("null") << QByteArray("null") << QByteArray(R"("null")");
    QTest::newRow("true") << QByteArray("true") << QByteArray(R"("true")");
    QTest::newRow("truncated object") << QByteArray(R"({"a":)") << QByteArray(R"("{\"a\":")");
    QTest::newRow("garbage after object")
        << QByteArray(R"({"a":1}x)") << QByteArray(R"("{\"a\":1}x")");
    QTest::newRow("two objects") << QByteArray(R"({}{})") << QByteArray(R"("{}{}")");
    QTest::newRow("single quotes") << QByteArray("{'a':1}") << QByteArray(R"("{'a':1}")");
    QTest::newRow("trailing comma") << QByteArray(R"({"a":1,})") << QByteArray(R"("{\"a\":1,}")");
    QTest::newRow("unquoted key") << QByteArray("{a:1}") << QByteArray(R"("{a:1}")");
    // QJsonDocument accepts these, JSON.parse does not: they must not be embedded raw.
    QTest::newRow("number ending in dot")
        << QByteArray(R"({"a":1.})") << QByteArray(R"("{\"a\":1.}")");
    QTest::newRow("number starting with dot")
        << QByteArray(R"({"a":.5})") << QByteArray(R"("{\"a\":.5}")");
    QTest::newRow("dot before exponent")
        << QByteArray(R"({"a":1.e5})") << QByteArray(R"("{\"a\":1.e5}")");
    QTest::newRow("unknown escape")
        << QByteArray(R"({"a":"\x"})") << QByteArray(R"("{\"a\":\"\\x\"}")");
    QTest::newRow("short unicode escape")
        << QByteArray(R"({"a":"\u12"})") << QByteArray(R"("{\"a\":\"\\u12\"}")");
    QTest::newRow("leading zero") << QByteArray(R"({"a":01})") << QByteArray(R"("{\"a\":01}")");
    QTest::newRow("plus sign") << QByteArray(R"({"a":+1})") << QByteArray(R"("{\"a\":+1}")");
    QTest::newRow("NaN") << QByteArray(R"({"a":NaN})") << QByteArray(R"("{\"a\":NaN}")");
    QTest::newRow("misspelt literal")
        << QByteArray(R"({"a":tru})") << QByteArray(R"("{\"a\":tru}")");
    QTest::newRow("control char between tokens") << raw("{\"a\":\x01"
                                                        "1}")
                                                 << QByteArray(R"("{\"a\":\u00011}")");
    // Valid JSON, but deeper than QJsonDocument goes: a string (and no stack overflow).
    const QByteArray deep = QByteArray(100000, '[') + QByteArray(100000, ']');
    QTest::newRow("deep nesting") << QByteArray("{\"a\":" + deep + '}')
                                  << QByteArray("\"{\\\"a\\\":" + deep + "}\"");
}

void tst_Envelope::nonObjectPayload()
{
    QFETCH(QByteArray, payload);
    QFETCH(QByteArray, embedded);

    const Envelope::Encoded enc = Envelope::encode("1-1", "logs:a", 1700000000000, payload);
    QCOMPARE(enc.json, QByteArray(prefix + embedded + '}'));
    QVERIFY(!enc.payloadIsObject);
    QVERIFY(!enc.invalidUtf8);
    QCOMPARE(enc.outputTokens, qint64(0));

    const auto decoded = Envelope::decode(throughSse(enc.json));
    QVERIFY(decoded);
    QVERIFY(decoded->payload.isString());
    QCOMPARE(decoded->payload.toString(), QString::fromUtf8(payload));
}

void tst_Envelope::jsonString_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QByteArray>("literal");
    QTest::addColumn<bool>("valid");

    const QByteArray fffd = "\xEF\xBF\xBD";
    // Escaping.
    QTest::newRow("plain") << QByteArray("abc") << QByteArray(R"("abc")") << true;
    QTest::newRow("quote and backslash")
        << QByteArray(R"(a"b\c)") << QByteArray(R"("a\"b\\c")") << true;
    QTest::newRow("slash not escaped") << QByteArray("a/b") << QByteArray(R"("a/b")") << true;
    QTest::newRow("NUL") << raw("\0") << QByteArray(R"("\u0000")") << true;
    QTest::newRow("0x01 and 0x1f")
        << QByteArray("\x01\x1f") << QByteArray(R"("\u0001\u001f")") << true;
    QTest::newRow("backspace and form feed")
        << QByteArray("\b\f") << QByteArray(R"("\u0008\u000c")") << true;
    QTest::newRow("LF CR TAB") << QByteArray("\n\r\t") << QByteArray(R"("\n\r\t")") << true;
    QTest::newRow("DEL raw") << QByteArray("\x7f") << QByteArray("\"\x7f\"") << true;
    QTest::newRow("injection") << QByteArray("\"}\n{\"") << QByteArray(R"("\"}\n{\"")") << true;
    // Valid UTF-8 is kept.
    QTest::newRow("2-byte") << QByteArray("\xC3\xA9") << QByteArray("\"\xC3\xA9\"") << true;
    QTest::newRow("3-byte") << QByteArray("\xE2\x82\xAC") << QByteArray("\"\xE2\x82\xAC\"") << true;
    QTest::newRow("4-byte") << QByteArray("\xF0\x9F\x98\x80") << QByteArray("\"\xF0\x9F\x98\x80\"")
                            << true;
    QTest::newRow("U+10FFFF") << QByteArray("\xF4\x8F\xBF\xBF")
                              << QByteArray("\"\xF4\x8F\xBF\xBF\"") << true;
    QTest::newRow("U+FFFF") << QByteArray("\xEF\xBF\xBF") << QByteArray("\"\xEF\xBF\xBF\"") << true;
    QTest::newRow("U+0800") << QByteArray("\xE0\xA0\x80") << QByteArray("\"\xE0\xA0\x80\"") << true;
    QTest::newRow("U+D7FF") << QByteArray("\xED\x9F\xBF") << QByteArray("\"\xED\x9F\xBF\"") << true;
    QTest::newRow("U+E000") << QByteArray("\xEE\x80\x80") << QByteArray("\"\xEE\x80\x80\"") << true;
    // Invalid UTF-8: one U+FFFD per bad byte.
    QTest::newRow("0xFF") << QByteArray("a\xFF"
                                        "b")
                          << QByteArray('"' + QByteArray("a") + fffd + "b\"") << false;
    QTest::newRow("0xFE") << QByteArray("\xFE") << QByteArray('"' + fffd + '"') << false;
    QTest::newRow("lone continuation")
        << QByteArray("\x80") << QByteArray('"' + fffd + '"') << false;
    QTest::newRow("overlong 2-byte")
        << QByteArray("\xC0\xAF") << QByteArray('"' + fffd + fffd + '"') << false;
    QTest::newRow("overlong C1") << QByteArray("\xC1\xBF") << QByteArray('"' + fffd + fffd + '"')
                                 << false;
    QTest::newRow("overlong 3-byte")
        << QByteArray("\xE0\x80\xAF") << QByteArray('"' + fffd + fffd + fffd + '"') << false;
    QTest::newRow("overlong 4-byte")
        << QByteArray("\xF0\x80\x80\xAF") << QByteArray('"' + fffd.repeated(4) + '"') << false;
    QTest::newRow("high surrogate")
        << QByteArray("\xED\xA0\x80") << QByteArray('"' + fffd.repeated(3) + '"') << false;
    QTest::newRow("low surrogate")
        << QByteArray("\xED\xBF\xBF") << QByteArray('"' + fffd.repeated(3) + '"') << false;
    QTest::newRow("above U+10FFFF")
        << QByteArray("\xF4\x90\x80\x80") << QByteArray('"' + fffd.repeated(4) + '"') << false;
    QTest::newRow("F5 lead") << QByteArray("\xF5\x80\x80\x80")
                             << QByteArray('"' + fffd.repeated(4) + '"') << false;
    QTest::newRow("truncated 3-byte")
        << QByteArray("\xE2\x82") << QByteArray('"' + fffd.repeated(2) + '"') << false;
    QTest::newRow("truncated 4-byte then ASCII")
        << QByteArray("\xF0\x9F\x98"
                      "a")
        << QByteArray('"' + fffd.repeated(3) + "a\"") << false;
    QTest::newRow("truncated at end")
        << QByteArray("ok\xC3") << QByteArray("\"ok" + fffd + '"') << false;
    QTest::newRow("lead then quote")
        << QByteArray("\xC3\"") << QByteArray('"' + fffd + "\\\"\"") << false;
    QTest::newRow("valid around invalid")
        << QByteArray("\xC3\xA9\xFF\xE2\x82\xAC")
        << QByteArray("\"\xC3\xA9" + fffd + "\xE2\x82\xAC\"") << false;
}

void tst_Envelope::jsonString()
{
    QFETCH(QByteArray, input);
    QFETCH(QByteArray, literal);
    QFETCH(bool, valid);

    QByteArray out = "x";
    QCOMPARE(Envelope::appendJsonString(out, input), valid);
    QCOMPARE(out, QByteArray('x' + literal));

    // The same bytes as a payload: a string, flagged when repaired, and decodable.
    const Envelope::Encoded enc = Envelope::encode("1-1", "logs:a", 1700000000000, input);
    QCOMPARE(enc.json, QByteArray(prefix + literal + '}'));
    QCOMPARE(enc.invalidUtf8, !valid);
    const auto decoded = Envelope::decode(throughSse(enc.json));
    QVERIFY(decoded);
    QVERIFY(decoded->payload.isString());
    if (valid)
        QCOMPARE(decoded->payload.toString(), QString::fromUtf8(input));
    else
        QVERIFY(decoded->payload.toString().contains(QChar(0xFFFD)));
}

void tst_Envelope::channelEscaped_data()
{
    QTest::addColumn<QByteArray>("channel");
    QTest::addColumn<QByteArray>("literal");
    QTest::addColumn<bool>("invalid");

    QTest::newRow("plain") << QByteArray("logs:errors") << QByteArray(R"("logs:errors")") << false;
    QTest::newRow("quote") << QByteArray(R"(a"b)") << QByteArray(R"("a\"b")") << false;
    QTest::newRow("backslash") << QByteArray(R"(a\b)") << QByteArray(R"("a\\b")") << false;
    QTest::newRow("newline") << QByteArray("a\nb") << QByteArray(R"("a\nb")") << false;
    QTest::newRow("NUL") << raw("a\0b") << QByteArray(R"("a\u0000b")") << false;
    QTest::newRow("invalid UTF-8")
        << QByteArray("a\xFF") << QByteArray("\"a\xEF\xBF\xBD\"") << true;
}

void tst_Envelope::channelEscaped()
{
    QFETCH(QByteArray, channel);
    QFETCH(QByteArray, literal);
    QFETCH(bool, invalid);

    const Envelope::Encoded enc = Envelope::encode("9-9", channel, 5, "{}");
    QCOMPARE(enc.json,
             QByteArray(R"({"id":"9-9","channel":)" + literal + R"(,"ts":5,"payload":{}})"));
    QCOMPARE(enc.invalidUtf8, invalid);
    QVERIFY(enc.payloadIsObject);
    const auto decoded = Envelope::decode(throughSse(enc.json));
    QVERIFY(decoded);
    if (!invalid)
        QCOMPARE(decoded->channel, QString::fromUtf8(channel));
}

void tst_Envelope::rawControlsInsideObjectStrings_data()
{
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<QByteArray>("embedded");

    QTest::newRow("LF") << QByteArray("{\"a\":\"x\ny\"}") << QByteArray(R"({"a":"x\ny"})");
    QTest::newRow("CR") << QByteArray("{\"a\":\"x\ry\"}") << QByteArray(R"({"a":"x\ry"})");
    QTest::newRow("CRLF") << QByteArray("{\"a\":\"x\r\ny\"}") << QByteArray(R"({"a":"x\r\ny"})");
    QTest::newRow("LF LF") << QByteArray("{\"a\":\"\n\n\"}") << QByteArray(R"({"a":"\n\n"})");
    QTest::newRow("TAB") << QByteArray("{\"a\":\"x\ty\"}") << QByteArray(R"({"a":"x\ty"})");
    QTest::newRow("NUL") << raw("{\"a\":\"x\0y\"}") << QByteArray(R"({"a":"x\u0000y"})");
    QTest::newRow("0x01 0x1f") << QByteArray("{\"a\":\"\x01\x1f\"}")
                               << QByteArray(R"({"a":"\u0001\u001f"})");
    QTest::newRow("in a key") << QByteArray("{\"k\n\":1}") << QByteArray(R"({"k\n":1})");
    QTest::newRow("after escaped backslash")
        << QByteArray("{\"a\":\"\\\\\n\"}") << QByteArray(R"({"a":"\\\n"})");
    QTest::newRow("after escaped quote")
        << QByteArray("{\"a\":\"\\\"\n\"}") << QByteArray(R"({"a":"\"\n"})");
    QTest::newRow("nested") << QByteArray("{\"a\":[\"x\n\",{\"b\":\"\r\r\"}]}")
                            << QByteArray(R"({"a":["x\n",{"b":"\r\r"}]})");
    QTest::newRow("with line breaks between tokens too")
        << QByteArray("{\n\"a\":\r\n\"x\ny\"\r}") << QByteArray("{\n\"a\":\r\n\"x\\ny\"\r}");
    QTest::newRow("data injection inside a string")
        << QByteArray("{\"a\":\"\n\ndata: {}\n\nid: 9\"}")
        << QByteArray(R"({"a":"\n\ndata: {}\n\nid: 9"})");
}

void tst_Envelope::rawControlsInsideObjectStrings()
{
    QFETCH(QByteArray, payload);
    QFETCH(QByteArray, embedded);

    // QJsonDocument's reading of the payload is the content to preserve.
    const QJsonDocument original = QJsonDocument::fromJson(payload);
    QVERIFY(original.isObject());

    const Envelope::Encoded enc = Envelope::encode("1-1", "logs:a", 1700000000000, payload);
    QVERIFY(enc.payloadIsObject);
    QVERIFY(!enc.invalidUtf8);
    QCOMPARE(enc.json, QByteArray(prefix + embedded + '}'));
    QVERIFY(isStrictAboutControls(enc.json));

    const QByteArray received = throughSse(enc.json);
    QVERIFY(!received.isEmpty());
    const auto decoded = Envelope::decode(received);
    QVERIFY(decoded);
    QVERIFY(decoded->payload.isObject());
    QCOMPARE(decoded->payload.toObject(), original.object());
}

void tst_Envelope::prettyObjectThroughSse()
{
    QJsonObject o;
    o.insert(QStringLiteral("msg"), QStringLiteral("line1\nline2\r\n\"quoted\""));
    o.insert(QStringLiteral("n"), 3);
    o.insert(QStringLiteral("list"), QJsonArray{1, QStringLiteral("two"), QJsonObject{}});
    const QByteArray payload = QJsonDocument(o).toJson(QJsonDocument::Indented);
    QVERIFY(payload.count('\n') > 3);

    const Envelope::Encoded enc = Envelope::encode("2-7", "logs:x", 1, payload);
    QVERIFY(enc.payloadIsObject);
    QCOMPARE(enc.json, QByteArray(R"({"id":"2-7","channel":"logs:x","ts":1,"payload":)" +
                                  payload.trimmed() + '}'));
    const QByteArray frame = SseEncoder::event("2-7", {}, enc.json);
    QVERIFY(frame.count("\ndata: ") > 3); // one data line per line of the object
    const auto decoded = Envelope::decode(throughSse(enc.json));
    QVERIFY(decoded);
    QCOMPARE(decoded->payload.toObject(), o);
}

// Found by fuzz/fuzz_envelope: Qt's JSON parser drops a raw U+FEFF that starts a string or a
// key, so a Qt client lost it; written as "\ufeff" it arrives (and JSON.parse reads both alike).
void tst_Envelope::byteOrderMark_data()
{
    QTest::addColumn<QByteArray>("channel");
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QJsonValue>("decoded");

    const QByteArray bom = "\xEF\xBB\xBF";
    const QString u = QStringLiteral("\uFEFF");
    const QByteArray head = R"({"id":"1-1","channel":"logs:a","ts":1,"payload":)";
    QTest::newRow("starting a text")
        << QByteArray("logs:a") << QByteArray(bom + "hello")
        << QByteArray(head + R"("\ufeffhello"})") << QJsonValue(u + QStringLiteral("hello"));
    QTest::newRow("inside a text") << QByteArray("logs:a") << QByteArray("a" + bom + "b")
                                   << QByteArray(head + R"("a\ufeffb"})")
                                   << QJsonValue(QStringLiteral("a") + u + QStringLiteral("b"));
    QTest::newRow("before an object (not JSON whitespace)")
        << QByteArray("logs:a") << QByteArray(bom + "{}") << QByteArray(head + R"("\ufeff{}"})")
        << QJsonValue(u + QStringLiteral("{}"));
    QTest::newRow("starting a string in an object")
        << QByteArray("logs:a") << QByteArray("{\"a\":\"" + bom + "x\"}")
        << QByteArray(head + R"({"a":"\ufeffx"}})")
        << QJsonValue(QJsonObject{{QStringLiteral("a"), QString(u + QStringLiteral("x"))}});
    QTest::newRow("starting a key")
        << QByteArray("logs:a") << QByteArray("{\"" + bom + "k\":1}")
        << QByteArray(head + R"({"\ufeffk":1}})")
        << QJsonValue(QJsonObject{{QString(u + QStringLiteral("k")), 1}});
    QTest::newRow("starting the channel")
        << QByteArray(bom + "logs:a") << QByteArray("x")
        << QByteArray(R"({"id":"1-1","channel":"\ufefflogs:a","ts":1,"payload":"x"})")
        << QJsonValue(QStringLiteral("x"));
}

void tst_Envelope::byteOrderMark()
{
    QFETCH(QByteArray, channel);
    QFETCH(QByteArray, payload);
    QFETCH(QByteArray, json);
    QFETCH(QJsonValue, decoded);

    const Envelope::Encoded enc = Envelope::encode("1-1", channel, 1, payload);
    QCOMPARE(enc.json, json);
    QVERIFY(!enc.invalidUtf8);
    const auto back = Envelope::decode(throughSse(enc.json));
    QVERIFY(back);
    QCOMPARE(back->payload, decoded);
    QCOMPARE(back->channel.toUtf8(), channel); // QString::fromUtf8() would drop the BOM too
}

void tst_Envelope::outputTokens_data()
{
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<qint64>("tokens");

    QTest::newRow("integer") << QByteArray(R"({"gen_ai.usage.output_tokens":42})") << qint64(42);
    QTest::newRow("among others")
        << QByteArray(
               R"({"level":"info","gen_ai.usage.input_tokens":9,"gen_ai.usage.output_tokens":1500})")
        << qint64(1500);
    QTest::newRow("zero") << QByteArray(R"({"gen_ai.usage.output_tokens":0})") << qint64(0);
    QTest::newRow("large") << QByteArray(R"({"gen_ai.usage.output_tokens":4000000000})")
                           << qint64(4000000000);
    QTest::newRow("whole double") << QByteArray(R"({"gen_ai.usage.output_tokens":12.0})")
                                  << qint64(12);
    QTest::newRow("fraction") << QByteArray(R"({"gen_ai.usage.output_tokens":12.5})") << qint64(0);
    QTest::newRow("string") << QByteArray(R"({"gen_ai.usage.output_tokens":"42"})") << qint64(0);
    QTest::newRow("missing") << QByteArray(R"({"gen_ai.usage.input_tokens":42})") << qint64(0);
    QTest::newRow("nested is not the OTel name")
        << QByteArray(R"({"gen_ai":{"usage":{"output_tokens":5}}})") << qint64(0);
    QTest::newRow("not an object") << QByteArray(R"(gen_ai.usage.output_tokens=5)") << qint64(0);
    QTest::newRow("array") << QByteArray(R"([{"gen_ai.usage.output_tokens":5}])") << qint64(0);
    QTest::newRow("object with raw newline")
        << QByteArray("{\"msg\":\"a\nb\",\"gen_ai.usage.output_tokens\":8}") << qint64(8);
}

void tst_Envelope::outputTokens()
{
    QFETCH(QByteArray, payload);
    QFETCH(qint64, tokens);

    QCOMPARE(Envelope::encode("1-1", "c", 0, payload).outputTokens, tokens);
}

void tst_Envelope::decodeRejects_data()
{
    QTest::addColumn<QByteArray>("json");

    QTest::newRow("empty") << QByteArray();
    QTest::newRow("not JSON") << QByteArray("hello");
    QTest::newRow("array") << QByteArray(R"([{"id":"1","channel":"c","ts":1,"payload":"x"}])");
    QTest::newRow("truncated") << QByteArray(R"({"id":"1","channel":"c","ts":1,"payload":"x")");
    QTest::newRow("missing id") << QByteArray(R"({"channel":"c","ts":1,"payload":"x"})");
    QTest::newRow("numeric id") << QByteArray(R"({"id":1,"channel":"c","ts":1,"payload":"x"})");
    QTest::newRow("missing channel") << QByteArray(R"({"id":"1","ts":1,"payload":"x"})");
    QTest::newRow("null channel") << QByteArray(
        R"({"id":"1","channel":null,"ts":1,"payload":"x"})");
    QTest::newRow("missing ts") << QByteArray(R"({"id":"1","channel":"c","payload":"x"})");
    QTest::newRow("string ts") << QByteArray(R"({"id":"1","channel":"c","ts":"1","payload":"x"})");
    QTest::newRow("missing payload") << QByteArray(R"({"id":"1","channel":"c","ts":1})");
    QTest::newRow("number payload") << QByteArray(R"({"id":"1","channel":"c","ts":1,"payload":1})");
    QTest::newRow("array payload") << QByteArray(R"({"id":"1","channel":"c","ts":1,"payload":[]})");
    QTest::newRow("null payload") << QByteArray(
        R"({"id":"1","channel":"c","ts":1,"payload":null})");
}

void tst_Envelope::decodeRejects()
{
    QFETCH(QByteArray, json);

    QVERIFY(!Envelope::decode(json));
}

void tst_Envelope::decodeAccepts()
{
    const auto s = Envelope::decode(R"({"payload":"x","ts":12,"channel":"c","id":"3-4"})");
    QVERIFY(s);
    QCOMPARE(s->id, QStringLiteral("3-4"));
    QCOMPARE(s->channel, QStringLiteral("c"));
    QCOMPARE(s->ts, qint64(12));
    QCOMPARE(s->payload.toString(), QStringLiteral("x"));

    const auto o = Envelope::decode(R"({"id":"1","channel":"c","ts":1,"payload":{"k":[1]}})");
    QVERIFY(o);
    QCOMPARE(o->payload.toObject().value(QStringLiteral("k")).toArray().size(), 1);
}

void tst_Envelope::largeObjectEmbeddedAsIs()
{
    QByteArray payload = R"({"msg":")";
    payload.append(QByteArray("0123456789abcdef").repeated(64 * 1024)); // 1 MiB
    payload.append(R"(","gen_ai.usage.output_tokens":3})");

    const Envelope::Encoded enc = Envelope::encode("1-1", "logs:a", 1700000000000, payload);
    QVERIFY(enc.payloadIsObject);
    QCOMPARE(enc.outputTokens, qint64(3));
    QCOMPARE(enc.json, QByteArray(prefix + payload + '}'));
    const auto decoded = Envelope::decode(throughSse(enc.json));
    QVERIFY(decoded);
    QCOMPARE(decoded->payload.toObject().value(QStringLiteral("msg")).toString().size(),
             1024 * 1024);
}

void tst_Envelope::encodeIntoAppends()
{
    // The gateway writes the envelope straight after "id: ...\ndata: " in its SSE frame.
    const QByteArray payloads[] = {"plain", R"({"a":1})", "{\n\"a\": 1\n}", "\xFF bad", ""};
    for (const QByteArray &payload : payloads) {
        QByteArray out = "id: 7-9\ndata: ";
        const Envelope::Encoded into =
            Envelope::encodeInto(out, "7-9", "logs:a", 1700000000000, payload);
        const Envelope::Encoded plain = Envelope::encode("7-9", "logs:a", 1700000000000, payload);
        QCOMPARE(out, QByteArray("id: 7-9\ndata: " + plain.json));
        QVERIFY(into.json.isEmpty());
        QCOMPARE(into.payloadIsObject, plain.payloadIsObject);
        QCOMPARE(into.invalidUtf8, plain.invalidUtf8);
    }
}

void tst_Envelope::specialByteAtEveryOffset()
{
    // The string escaper skips clean bytes 16 (SSE2) and 8 at a time: a byte that needs a look
    // must be found wherever it sits in or after such a block.
    const QByteArray specials[] = {"\"",   "\\",       "\n",   "\x01",
                                   "\x7F", "\xC3\xA9", "\xFF", "\xEF\xBB\xBF"};
    for (const QByteArray &special : specials) {
        for (int at = 0; at < 48; ++at) {
            const QByteArray input = QByteArray(at, 'a') + special + QByteArray(40 - at % 7, 'b');
            QByteArray literal;
            const bool valid = Envelope::appendJsonString(literal, input);
            QCOMPARE(valid, special != "\xFF");
            const QJsonDocument doc = QJsonDocument::fromJson("[" + literal + "]");
            QVERIFY2(doc.isArray(), literal.constData());
            // Compared as UTF-8: QString::fromUtf8 would drop a leading U+FEFF, the JSON keeps it.
            const QByteArray expected =
                valid ? input : QByteArray(input).replace("\xFF", "\xEF\xBF\xBD");
            QCOMPARE(doc.array().at(0).toString().toUtf8(), expected);
        }
    }
}

QTEST_GUILESS_MAIN(tst_Envelope)
#include "tst_envelope.moc"
