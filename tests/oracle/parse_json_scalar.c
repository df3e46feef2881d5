/*
 * daemon/parse_json.c compiled a second time, with its SSE2 path turned off and its
 * entry points renamed, so that the differential tests run the portable scalar scan
 * on every line as well as the vector one the build uses.
 */
#define CHATLOGD_NO_SIMD 1
#define json_parser_new scalar_json_parser_new
#define json_parser_parse scalar_json_parser_parse
#define json_parser_free scalar_json_parser_free

#include "../../daemon/parse_json.c"
