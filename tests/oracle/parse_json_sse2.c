/*
 * daemon/parse_json.c compiled a third time, without its AVX2 index and with its
 * entry points renamed, so that the differential tests run the SSE2 index on every
 * line even on a CPU where the daemon's parser picks AVX2.
 */
#define CHATLOGD_NO_AVX2 1
#define json_parser_new sse2_json_parser_new
#define json_parser_parse sse2_json_parser_parse
#define json_parser_free sse2_json_parser_free

#include "../../daemon/parse_json.c"
