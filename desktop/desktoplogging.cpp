#include "desktoplogging.h"

Q_LOGGING_CATEGORY(lcDesktopUi, "llmstreamer.desktop.ui")
