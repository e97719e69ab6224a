#pragma once

#include <QLoggingCategory>

// The producer's one logging category ("llmstreamer.producer").
Q_DECLARE_LOGGING_CATEGORY(lcProducer)
