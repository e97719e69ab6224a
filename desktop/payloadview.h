#pragma once

#include <QWidget>

class QLabel;
class QPlainTextEdit;
struct LogRecord;

// The side panel: everything about the selected line, the payload pretty-printed if it is JSON.
class PayloadView final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(PayloadView)

public:
    explicit PayloadView(QWidget *parent = nullptr);
    ~PayloadView() override;

    // Shows a copy of the record (it may be evicted from the buffer meanwhile); nullptr clears.
    void showRecord(const LogRecord *record);
    QString title() const;
    QString text() const;

private:
    QLabel *m_title;
    QPlainTextEdit *m_text;
};
