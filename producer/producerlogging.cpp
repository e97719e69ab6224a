#include "producerlogging.h"

Q_LOGGING_CATEGORY(lcProducer, "llmstreamer.producer")
