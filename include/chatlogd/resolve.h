/*
 * Host name lookups that never block the loop (libevent's evdns), for the modules
 * that connect out: Redis and the alert webhook. Owns the evdns base and keeps it
 * alive while a cancelled lookup has still to be called back; an answer holds up to
 * RESOLVE_MAX_ADDRESSES addresses, IPv4 first. Connects to nothing itself.
 */
#ifndef CHATLOGD_RESOLVE_H
#define CHATLOGD_RESOLVE_H

#include <netinet/in.h>

/* Addresses kept from one answer; callers rotate through them on retries. */
#define RESOLVE_MAX_ADDRESSES 8

struct event;
struct event_base;
struct resolver;
struct resolve_lookup;

struct resolve_answer {
	int done;  /* set with the answer; the caller clears it once it has acted */
	int error; /* 0, or an EVUTIL_EAI_* code (evutil_gai_strerror) */
	char addresses[RESOLVE_MAX_ADDRESSES][INET6_ADDRSTRLEN];
	int count; /* 0 with error 0: the name has no IPv4 or IPv6 address */
};

/* Reads /etc/resolv.conf and /etc/hosts. NULL when evdns cannot be set up. */
struct resolver *resolver_new(struct event_base *base);

/* The owner lets go. The evdns base goes when no lookup is left to be called back
 * (a cancelled one is, at a later turn of the loop). Accepts NULL. */
void resolver_free(struct resolver *r);

/* 1 while some lookup, cancelled or not, has not been called back yet. */
int resolver_busy(const struct resolver *r);

/* Looks host up. When evdns answers, *answer is filled (done = 1), *handle set to
 * NULL and `wake` activated: possibly before this returns (numeric hosts,
 * /etc/hosts), so the caller acts on the answer in wake's callback, never inside
 * evdns. Until then *handle is the lookup under way. */
void resolver_lookup(struct resolver *r, const char *host, struct resolve_lookup **handle,
                     struct resolve_answer *answer, struct event *wake);

/* Takes a done answer (clears done): the address to try on retry number `attempt`,
 * rotating through the addresses, or NULL with why there is none (the lookup's
 * error, or no address) in *failure. */
const char *resolve_take(struct resolve_answer *answer, unsigned attempt, const char **failure);

/* Abandons the lookup in *handle, if any, and sets *handle to NULL: evdns still
 * calls back later, and the answer goes nowhere. */
void resolver_cancel(struct resolve_lookup **handle);

#endif
