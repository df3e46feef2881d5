/*
 * webaccess.c owns the access rules of the dashboard: which listen addresses need a
 * token, how a token is compared and where a request may carry it, and which Host
 * headers a loopback-only dashboard accepts. It reads no file (secret.c reads the
 * token) and answers no request (ctl_serve.c does).
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "chatlogd/webaccess.h"

/* host (no brackets, no port) is 127.0.0.0/8, ::1 or "localhost". */
static int loopback_name(const char *host, size_t len)
{
	char text[64];
	struct in_addr v4;
	struct in6_addr v6;

	if (len == 0 || len >= sizeof(text))
		return 0;
	memcpy(text, host, len);
	text[len] = '\0';
	if (strcasecmp(text, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, text, &v4) == 1)
		return (ntohl(v4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, text, &v6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&v6);
	return 0;
}

/* The host part of "HOST", "HOST:PORT", "[V6]" or "[V6]:PORT" into *start, *len;
 * -1 when it is none of them. A bare IPv6 address (two colons or more) is a host. */
static int split_host(const char *text, const char **start, size_t *len)
{
	const char *colon;

	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (close == NULL || (close[1] != '\0' && close[1] != ':'))
			return -1;
		*start = text + 1;
		*len = (size_t)(close - text - 1);
		return 0;
	}
	colon = strchr(text, ':');
	*start = text;
	if (colon != NULL && strchr(colon + 1, ':') == NULL)
		*len = (size_t)(colon - text);
	else
		*len = strlen(text);
	return 0;
}

int webaccess_listen_is_loopback(const char *listen)
{
	const char *colon = strrchr(listen, ':');
	const char *host;
	size_t len;

	if (colon == NULL)
		return 0;
	if (listen[0] == '[') {
		if (split_host(listen, &host, &len) == -1)
			return 0;
	} else {
		host = listen;
		len = (size_t)(colon - listen);
	}
	return loopback_name(host, len);
}

int webaccess_host_is_loopback(const char *host)
{
	const char *name;
	size_t len;

	if (host == NULL || split_host(host, &name, &len) == -1)
		return 0;
	return loopback_name(name, len);
}

int webaccess_token_equal(const char *a, size_t a_len, const char *b, size_t b_len)
{
	unsigned char da[EVP_MAX_MD_SIZE], db[EVP_MAX_MD_SIZE];
	size_t la = 0, lb = 0;

	/* Hashing first makes the comparison's time independent of the lengths too. */
	if (EVP_Q_digest(NULL, "SHA256", NULL, a, a_len, da, &la) != 1 ||
	    EVP_Q_digest(NULL, "SHA256", NULL, b, b_len, db, &lb) != 1 || la != lb)
		return 0;
	return CRYPTO_memcmp(da, db, la) == 0;
}

int webaccess_request_has_token(const char *token, size_t token_len, const char *authorization,
                                const char *query)
{
	struct evkeyvalq params;
	struct evkeyval *p;
	int found = 0;

	if (authorization != NULL && strncasecmp(authorization, "Bearer ", 7) == 0) {
		const char *given = authorization + 7;
		while (*given == ' ')
			given++;
		found |= webaccess_token_equal(token, token_len, given, strlen(given));
	}
	if (query != NULL && evhttp_parse_query_str(query, &params) == 0) {
		for (p = TAILQ_FIRST(&params); p != NULL; p = TAILQ_NEXT(p, next))
			if (strcmp(p->key, "token") == 0)
				found |= webaccess_token_equal(token, token_len, p->value,
				                               strlen(p->value));
		evhttp_clear_headers(&params);
	}
	return found;
}
