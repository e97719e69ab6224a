#include "desktoplogging.h"

Q_LOGGING_CATEGORY(lcDesktopFeed, "llmstreamer.desktop.feed")
Q_LOGGING_CATEGORY(lcDesktopUi, "llmstreamer.desktop.ui")
