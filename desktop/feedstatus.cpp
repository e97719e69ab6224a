#include "feedstatus.h"

#include "plaintooltip.h"

#include <QDateTime>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QPainter>
#include <QPixmap>

namespace {

QPixmap dot(const QColor &color, int size, qreal dpr)
{
    QPixmap pixmap(QSize(size, size) * dpr);
    pixmap.setDevicePixelRatio(dpr);
    pixmap.fill(Qt::transparent);
    QPainter p(&pixmap);
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(Qt::NoPen);
    p.setBrush(color);
    p.drawEllipse(QRectF(1, 1, size - 2, size - 2));
    return pixmap;
}

QString clockTime(qint64 msSinceEpoch)
{
    return QDateTime::fromMSecsSinceEpoch(msSinceEpoch).toString(QStringLiteral("HH:mm"));
}

QLabel *separated(QLabel *label)
{
    label->setContentsMargins(10, 0, 0, 0);
    return label;
}

} // namespace

FeedStatus::FeedStatus(QWidget *parent)
    : QWidget(parent), m_dot(new QLabel(this)), m_state(new QLabel(this)),
      m_delivery(new QLabel(this)), m_rate(new QLabel(this)), m_received(new QLabel(this)),
      m_gaps(new QLabel(this)), m_shown(new QLabel(this))
{
    m_state->setObjectName(QStringLiteral("connectionState"));
    m_state->setTextFormat(Qt::PlainText);
    m_state->setMinimumWidth(120);
    // A long reason is cut; the tooltip and the banner above the log have it whole.
    m_state->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_delivery->setObjectName(QStringLiteral("delivery"));
    m_delivery->setTextFormat(Qt::PlainText); // the gap's words are the gateway's
    m_delivery->setAutoFillBackground(true);
    m_delivery->setContentsMargins(6, 0, 6, 0);
    m_rate->setObjectName(QStringLiteral("rate"));
    m_received->setObjectName(QStringLiteral("received"));
    m_gaps->setObjectName(QStringLiteral("gaps"));
    m_shown->setObjectName(QStringLiteral("shown"));
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(4, 0, 4, 0);
    layout->setSpacing(6);
    layout->addWidget(m_dot);
    layout->addWidget(m_state, 1);
    layout->addWidget(m_delivery);
    layout->addWidget(separated(m_rate));
    layout->addWidget(separated(m_received));
    layout->addWidget(separated(m_gaps));
    layout->addWidget(separated(m_shown));
    setConnectionState(SseConnection::State::Idle, tr("disconnected"), 0);
    setRate(0);
    setReceived(0);
    setGaps(0, {});
    setShown(0, 0);
    setDelivery(-1, -1, {}, {});
}

FeedStatus::~FeedStatus() = default;

void FeedStatus::setConnectionState(SseConnection::State state, const QString &reason,
                                    qint64 retryInMs, const QString &note)
{
    QColor color;
    QString text;
    switch (state) {
    case SseConnection::State::Idle:
        color = palette().color(QPalette::PlaceholderText);
        text = tr("Disconnected");
        break;
    case SseConnection::State::Connecting:
        color = QColor(0xe0, 0xa0, 0x00);
        text = tr("Connecting…");
        break;
    case SseConnection::State::Live:
        color = QColor(0x2e, 0xa0, 0x43);
        text = note.isEmpty() ? tr("Live") : tr("Live · %1").arg(note);
        break;
    case SseConnection::State::Reconnecting:
        color = QColor(0xe0, 0xa0, 0x00);
        text = tr("Reconnecting in %1 s: %2").arg((retryInMs + 999) / 1000).arg(reason);
        break;
    case SseConnection::State::Failed:
        color = QColor(0xd0, 0x30, 0x30);
        text = tr("Stopped: %1").arg(reason);
        break;
    }
    const int size = fontMetrics().height() * 2 / 3;
    m_dot->setPixmap(dot(color, size, devicePixelRatioF()));
    m_state->setText(text);
    m_state->setToolTip(PlainToolTip::fromText(text)); // the gateway's words
}

void FeedStatus::setRate(double perSecond)
{
    m_rate->setText(tr("%1 msg/s").arg(QLocale().toString(perSecond, 'f', perSecond < 10 ? 1 : 0)));
}

void FeedStatus::setReceived(quint64 total)
{
    m_received->setText(tr("%1 received").arg(QLocale().toString(total)));
}

void FeedStatus::setGaps(int count, const QString &lastGap)
{
    m_gaps->setText(count == 1 ? tr("1 gap") : tr("%1 gaps").arg(count));
    m_gaps->setToolTip(lastGap.isEmpty() ? tr("No events were missed")
                                         : PlainToolTip::fromText(tr("Last gap: %1").arg(lastGap)));
    QPalette pal = palette();
    if (count > 0)
        pal.setColor(QPalette::WindowText, QColor(0xc0, 0x70, 0x00));
    m_gaps->setPalette(pal);
}

void FeedStatus::setShown(int shown, int kept)
{
    m_shown->setText(
        shown == kept
            ? tr("%1 lines").arg(QLocale().toString(kept))
            : tr("%1 of %2 lines shown").arg(QLocale().toString(shown), QLocale().toString(kept)));
}

void FeedStatus::setDelivery(qint64 completeSinceMs, qint64 gapAtMs, const QString &gapReason,
                             const QString &gapText)
{
    m_delivery->setVisible(completeSinceMs >= 0);
    if (completeSinceMs < 0) {
        m_delivery->clear();
        m_delivery->setToolTip(QString());
        return;
    }
    QPalette pal = palette();
    const bool dark = pal.color(QPalette::Window).lightness() < 128;
    if (gapAtMs < 0) {
        m_delivery->setText(tr("Complete since %1").arg(clockTime(completeSinceMs)));
        m_delivery->setToolTip(tr("Every event since %1, when the feed connected, has arrived: "
                                  "the gateway announced no gap.")
                                   .arg(clockTime(completeSinceMs)));
        pal.setColor(QPalette::Window, dark ? QColor(0x1f, 0x4d, 0x2b) : QColor(0xd4, 0xed, 0xda));
    } else {
        QString shown = gapText;
        if (shown.size() > 80)
            shown = shown.first(80) + QChar(0x2026);
        m_delivery->setText(tr("Gap at %1: %2").arg(clockTime(gapAtMs), shown));
        m_delivery->setToolTip(PlainToolTip::fromText(
            tr("Events are missing at %1 (%2): %3. Everything since then has arrived.")
                .arg(clockTime(gapAtMs), gapReason.isEmpty() ? tr("no reason given") : gapReason,
                     gapText)));
        pal.setColor(QPalette::Window, dark ? QColor(0x5a, 0x45, 0x12) : QColor(0xff, 0xe8, 0xb0));
    }
    pal.setColor(QPalette::WindowText, dark ? QColor(0xf0, 0xf0, 0xf0) : QColor(0x21, 0x21, 0x21));
    m_delivery->setPalette(pal);
}

QString FeedStatus::stateText() const
{
    return m_state->text();
}

QString FeedStatus::rateText() const
{
    return m_rate->text();
}

QString FeedStatus::receivedText() const
{
    return m_received->text();
}

QString FeedStatus::gapsText() const
{
    return m_gaps->text();
}

QString FeedStatus::deliveryText() const
{
    return m_delivery->isHidden() ? QString() : m_delivery->text();
}

QString FeedStatus::deliveryToolTip() const
{
    return m_delivery->toolTip();
}
