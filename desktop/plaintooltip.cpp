#include "plaintooltip.h"

#include <QTextDocument>

QString PlainToolTip::fromText(const QString &text)
{
    // "<p>…</p>" with <, > and & escaped: certainly rich text, and only ever the text itself.
    return text.isEmpty() ? QString() : Qt::convertFromPlainText(text, Qt::WhiteSpaceNormal);
}
