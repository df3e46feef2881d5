/*
 * rediskey.c owns how a shop or agent name is spelled inside a Redis key name: the
 * daemon writes keys with it and chatlogctl finds them with it.
 */
#include "chatlogd/rediskey.h"

static int needs_escape(unsigned char c)
{
	return c < 0x20 || c == '%' || c == '{' || c == '}' || c == ':' || c == '*';
}

size_t rediskey_escape(const char *name, size_t len, char *out, size_t out_size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		size_t width = needs_escape(c) ? 3 : 1;
		if (n + width < out_size) {
			if (width == 1) {
				out[n] = (char)c;
			} else {
				out[n] = '%';
				out[n + 1] = hex[c >> 4];
				out[n + 2] = hex[c & 15];
			}
		} else if (out_size > 0 && n < out_size) {
			out_size = n + 1; /* full: stop writing, keep counting */
		}
		n += width;
	}
	if (out_size > 0)
		out[n < out_size ? n : out_size - 1] = '\0';
	return n;
}
