#pragma once

#include "otlpdecoder.h"

#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QPair>
#include <QString>

// What the JSON and the protobuf reader of OtlpDecoder have in common: they read a request into
// these plain values, and Mapper makes the records of them, so both encodings map alike.
namespace OtlpDecoder::Detail {

// key → value, with OTLP's AnyValue as JSON (kvlist: object, array: array, bytes: base64, int64:
// a number while exact in a double, else a string).
using Attributes = QList<QPair<QString, QJsonValue>>;

struct Scope
{
    Attributes resource;
    QString name;
    QString version;
    Attributes attributes;
};

struct LogRecord
{
    quint64 time = 0;
    quint64 observedTime = 0;
    int severityNumber = 0;
    QString severityText;
    QJsonValue body = QJsonValue::Undefined;
    Attributes attributes;
    QByteArray traceId; // bytes, 16 or none
    QByteArray spanId;  // bytes, 8 or none
    QString eventName;
};

struct Span
{
    QByteArray traceId;
    QByteArray spanId;
    QByteArray parentSpanId;
    QString name;
    int kind = 0;
    quint64 start = 0;
    quint64 end = 0;
    Attributes attributes;
    QString exceptionType; // from an "exception" event, if any
    int statusCode = 0;    // 2: error
    QString statusMessage;
};

// An int64 as JSON: a number while a double holds it exactly, else a string.
QJsonValue integerValue(qint64 n);
// The id check both readers share: empty, or `size` bytes that are not all zero.
bool isValidId(const QByteArray &id, qsizetype size);

class Mapper final
{
public:
    Mapper(const Channels &channels, const Limits &limits);

    // The fields a scope gives each of its records; call once per scope.
    void setScope(const Scope &scope);
    void addLog(const LogRecord &record);
    void addSpan(const Span &span);
    void reject(const QString &reason);
    // Not an export request at all: no records, HTTP 400 with `error`.
    void fail(const QString &error);
    bool isFailed() const { return m_result.status != Result::Status::Ok; }
    // The records would pass Limits::maxOutputBytes: readers stop.
    bool isFull() const { return m_result.status == Result::Status::OutputTooLarge; }
    Result take();

private:
    void publish(const QByteArray &channel, const QByteArray &payload);

    const Channels &m_channels;
    Limits m_limits;
    QJsonValue m_service = QJsonValue::Undefined; // resource attribute service.name
    Attributes m_scopeFields;                     // resource.* and scope.*
    int m_scopeDropped = 0;                       // of those, left out for maxAttributes
    qint64 m_outputBytes = 0;
    Result m_result;
};

} // namespace OtlpDecoder::Detail
