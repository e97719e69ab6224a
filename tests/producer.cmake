# Included from tests/CMakeLists.txt: the producer's tests (they link llmstreamer_producer).
llmstreamer_add_test(logsimulator LIBS llmstreamer_producer LABELS unit)
llmstreamer_add_test(producerlinebuffer LIBS llmstreamer_producer LABELS unit)
# Log lines to records (--format), held to tests/fixtures/logformats/.
llmstreamer_add_test(lineparser LIBS llmstreamer_producer LABELS unit)
llmstreamer_add_test(produceroptions LIBS llmstreamer_producer LABELS unit)
llmstreamer_add_test(producer LIBS llmstreamer_producer LABELS integration TIMEOUT 90)
# Some of its cases run the program itself: its memory and stderr are what they check.
target_compile_definitions(tst_producer PRIVATE
    LLMSTREAMER_PRODUCER_EXECUTABLE="$<TARGET_FILE:llmstreamer-producer>")
add_dependencies(tst_producer llmstreamer-producer)
# Redis over TLS: the gateway in-process, the producer as a program, certificates from openssl.
find_program(OPENSSL_EXECUTABLE openssl REQUIRED)
llmstreamer_add_test(redistls LIBS llmstreamer_gateway LABELS integration TIMEOUT 180)
target_compile_definitions(tst_redistls PRIVATE
    LLMSTREAMER_PRODUCER_EXECUTABLE="$<TARGET_FILE:llmstreamer-producer>")
add_dependencies(tst_redistls llmstreamer-producer)
# Redis Cluster with streams: the slot router and the partitioned producer on real local
# clusters (3 masters, and 3 masters + 3 replicas for a failover).
llmstreamer_add_test(clusterrouting LIBS llmstreamer_producer PkgConfig::HIREDIS
    LABELS integration TIMEOUT 240)
target_compile_definitions(tst_clusterrouting PRIVATE
    LLMSTREAMER_PRODUCER_EXECUTABLE="$<TARGET_FILE:llmstreamer-producer>")
add_dependencies(tst_clusterrouting llmstreamer-producer)
# The streams transport on Redis Cluster end to end: partitioned producer, gateways, SSE clients;
# a slot moved and a master killed while streaming.
llmstreamer_add_test(clusterstreams LIBS llmstreamer_producer llmstreamer_gateway
    LABELS integration TIMEOUT 300)
# llmstreamer-producer otlp: the receiver in-process, a real Redis, requests built with the
# generated OTLP classes (hence llmstreamer_otlpproto) and gzipped with zlib.
llmstreamer_add_test(otlp LIBS llmstreamer_producer llmstreamer_otlpproto ZLIB::ZLIB
    LABELS integration TIMEOUT 180)
