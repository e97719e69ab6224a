# Included from tests/CMakeLists.txt: the producer's tests (they link llmstreamer_producer).
llmstreamer_add_test(logsimulator LIBS llmstreamer_producer LABELS unit)
llmstreamer_add_test(producerlinebuffer LIBS llmstreamer_producer LABELS unit)
llmstreamer_add_test(produceroptions LIBS llmstreamer_producer LABELS unit)
llmstreamer_add_test(producer LIBS llmstreamer_producer LABELS integration TIMEOUT 90)
