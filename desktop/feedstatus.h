#pragma once

#include "sseconnection.h"

#include <QWidget>

class QLabel;

// The status bar's pieces: connection state with its reason, the delivery badge ("Complete since
// HH:MM", or the last gap), receive rate, lines received, gaps seen, and how much of the buffer
// is shown.
class FeedStatus final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(FeedStatus)

public:
    explicit FeedStatus(QWidget *parent = nullptr);
    ~FeedStatus() override;

    // `retryInMs` matters while reconnecting; `note` is added while live (e.g. a recent gap).
    void setConnectionState(SseConnection::State state, const QString &reason, qint64 retryInMs,
                            const QString &note = {});
    void setRate(double perSecond);
    void setReceived(quint64 total);
    void setGaps(int count, const QString &lastGap);
    void setShown(int shown, int kept);
    // Everything arrived since `completeSinceMs` (ms since the epoch; -1: not yet connected, no
    // badge); `gapAtMs` >= 0: the last gap, with the gateway's reason and words.
    void setDelivery(qint64 completeSinceMs, qint64 gapAtMs, const QString &gapReason,
                     const QString &gapText);

    QString stateText() const;
    QString rateText() const;
    QString receivedText() const;
    QString gapsText() const;
    QString deliveryText() const;
    QString deliveryToolTip() const;

private:
    QLabel *m_dot;
    QLabel *m_state;
    QLabel *m_delivery;
    QLabel *m_rate;
    QLabel *m_received;
    QLabel *m_gaps;
    QLabel *m_shown;
};
