#include "payloadview.h"

#include "logmodel.h"
#include "logrecord.h"

#include <QDateTime>
#include <QFontDatabase>
#include <QLabel>
#include <QPlainTextEdit>
#include <QVBoxLayout>

PayloadView::PayloadView(QWidget *parent)
    : QWidget(parent), m_title(new QLabel(this)), m_text(new QPlainTextEdit(this))
{
    m_title->setObjectName(QStringLiteral("payloadTitle"));
    m_title->setTextFormat(Qt::PlainText);
    m_title->setWordWrap(true);
    m_title->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_text->setObjectName(QStringLiteral("payloadText"));
    m_text->setReadOnly(true);
    m_text->setLineWrapMode(QPlainTextEdit::WidgetWidth);
    m_text->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_text->setPlaceholderText(tr("Select a line to see its whole payload."));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 0, 0);
    layout->setSpacing(4);
    layout->addWidget(m_title);
    layout->addWidget(m_text, 1);
    showRecord(nullptr);
}

PayloadView::~PayloadView() = default;

void PayloadView::showRecord(const LogRecord *r)
{
    if (!r) {
        m_title->setText(tr("Details"));
        m_text->clear();
        return;
    }
    QStringList title;
    title << QDateTime::fromMSecsSinceEpoch(r->ts).toString(
        QStringLiteral("yyyy-MM-dd HH:mm:ss.zzz"));
    if (r->kind == LogRecord::Kind::Gap)
        title << tr("gap");
    else if (r->kind == LogRecord::Kind::Notice)
        title << tr("notice");
    if (!r->channel().isEmpty())
        title << r->channel();
    if (r->level != LogLevel::None)
        title << LogLevels::name(r->level);
    if (const QString id = r->id(); !id.isEmpty())
        title << tr("id %1").arg(id);
    m_title->setText(title.join(QStringLiteral(" · ")));
    QString body = r->prettyPayload();
    if (r->isMarker())
        body = r->message() + QStringLiteral("\n\n") + body;
    m_text->setPlainText(body);
}

QString PayloadView::title() const
{
    return m_title->text();
}

QString PayloadView::text() const
{
    return m_text->toPlainText();
}
