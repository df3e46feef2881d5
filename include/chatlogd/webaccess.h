/*
 * Who may read a web page that shows the counters (chatlogctl serve): the address
 * policy (loopback unless a token is set), the token check in constant time, and the
 * Host check that keeps other web sites out of a loopback-only dashboard (DNS
 * rebinding). Pure functions: no sockets, no files.
 */
#ifndef CHATLOGD_WEBACCESS_H
#define CHATLOGD_WEBACCESS_H

#include <stddef.h>

/* A token shorter than this is refused: it could be guessed over the network. */
#define WEBACCESS_TOKEN_MIN 16
/* Longer than any token a person or `openssl rand -hex 32` makes. */
#define WEBACCESS_TOKEN_MAX 512

/* 1 when the host of "HOST:PORT" is a loopback address (127.0.0.0/8, ::1, [::1]) or
 * "localhost", 0 for anything else (0.0.0.0, a name, an outside address). */
int webaccess_listen_is_loopback(const char *listen);

/* 1 when a and b are the same bytes, in a time that depends on neither their
 * contents nor where they differ (both are hashed first, then compared with
 * CRYPTO_memcmp). */
int webaccess_token_equal(const char *a, size_t a_len, const char *b, size_t b_len);

/* 1 when a request carries the token: "Authorization: Bearer TOKEN" (authorization
 * may be NULL), or the query parameter token=TOKEN (percent-encoded; query is the part
 * after '?', may be NULL). Every candidate is compared in full. */
int webaccess_request_has_token(const char *token, size_t token_len, const char *authorization,
                                const char *query);

/* 1 when a Host header names this machine's loopback ("127.0.0.1:8080", "localhost",
 * "[::1]:8080"), 0 otherwise (NULL too): a loopback-only dashboard answers nothing
 * else, so a page of another site whose name was made to resolve to 127.0.0.1 gets
 * nothing. */
int webaccess_host_is_loopback(const char *host);

#endif
