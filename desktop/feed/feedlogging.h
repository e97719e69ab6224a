#pragma once

#include <QLoggingCategory>

// llmstreamer.desktop.feed: the gateway's event stream, its channels and the gaps it reports
// (e.g. QT_LOGGING_RULES="llmstreamer.desktop.feed.debug=true").
Q_DECLARE_LOGGING_CATEGORY(lcDesktopFeed)
