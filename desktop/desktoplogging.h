#pragma once

#include <QLoggingCategory>

// One category per part of the desktop monitor, switchable with QT_LOGGING_RULES
// (e.g. "llmstreamer.desktop.*.debug=true"); the feed's is in feed/feedlogging.h.
Q_DECLARE_LOGGING_CATEGORY(lcDesktopUi) // llmstreamer.desktop.ui: windows, settings, export
