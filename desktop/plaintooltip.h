#pragma once

#include <QString>

// Qt shows a tooltip as rich text whenever Qt::mightBeRichText() guesses so, which a log line can
// arrange ("<b>", "<img src=...>"). Text from the feed (payloads, services, models, the gateway's
// reasons) goes into a tooltip only through here.
namespace PlainToolTip {

// `text` escaped and wrapped as rich text, so it is shown exactly as written; empty (no tooltip)
// for empty text.
QString fromText(const QString &text);

} // namespace PlainToolTip
