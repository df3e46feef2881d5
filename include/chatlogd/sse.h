/*
 * Server-Sent Events (the text/event-stream format browsers' EventSource reads):
 * events framed so that no text, whatever its bytes, can end an event early or
 * forge another, and alert messages from Redis made into events carrying valid
 * JSON. Writes into evbuffers; knows nothing of connections.
 */
#ifndef CHATLOGD_SSE_H
#define CHATLOGD_SSE_H

#include <stddef.h>

struct evbuffer;

/* Appends one event: "event: NAME" when name is not NULL, then data as "data:" lines,
 * one per line of data (split at CR, LF and CRLF, as the reader joins them with LF),
 * then the blank line that ends it. name must be one line of letters. */
void sse_event(struct evbuffer *out, const char *name, const char *data, size_t len);

/* Appends a comment line (": text"), which readers ignore: it keeps an idle stream
 * from looking dead to proxies and shows a closed one to the writer. */
void sse_comment(struct evbuffer *out, const char *text);

/* Appends an "alert" event whose data is one line of JSON: the message as it is when
 * it is valid JSON in UTF-8 (its line breaks, which can only stand between tokens,
 * made spaces), else the message as a JSON string (bytes that are not UTF-8 become
 * U+FFFD). */
void sse_alert(struct evbuffer *out, const char *message, size_t len);

#endif
