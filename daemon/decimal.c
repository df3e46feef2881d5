/*
 * decimal.c owns reading a whole unsigned decimal number (decimal.h). It knows
 * nothing of what the number counts.
 */
#include "chatlogd/decimal.h"

int decimal_parse(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t value = 0;

	if (len == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		uint64_t digit = (uint64_t)(s[i] - '0');
		/* value * 10 + digit <= max, asked without computing it */
		if (s[i] < '0' || s[i] > '9' || digit > max || value > (max - digit) / 10)
			return -1;
		value = value * 10 + digit;
	}
	*out = value;
	return 0;
}
