#include "feedlogging.h"

Q_LOGGING_CATEGORY(lcDesktopFeed, "llmstreamer.desktop.feed")
