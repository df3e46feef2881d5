/*
 * resolve.c owns non-blocking name lookups: the evdns base, its lifetime (it outlives
 * its owner while a cancelled lookup is still to be called back, since evdns touches
 * its base in that callback), and turning an evdns answer into addresses. It never
 * calls its users from inside evdns: it fills their answer and wakes their event.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "chatlogd/resolve.h"
#include "chatlogd/util.h"

struct resolver {
	struct evdns_base *dns;
	int users; /* the owner (until resolver_free), plus each lookup not called back */
};

struct resolve_lookup {
	struct resolver *resolver;
	struct evdns_getaddrinfo_request *request; /* NULL if answered synchronously */
	/* where the answer goes; all NULL once cancelled */
	struct resolve_lookup **handle;
	struct resolve_answer *answer;
	struct event *wake;
};

static void resolver_release(struct resolver *r)
{
	if (--r->users > 0)
		return;
	evdns_base_free(r->dns, 0);
	free(r);
}

struct resolver *resolver_new(struct event_base *base)
{
	struct resolver *r = xcalloc(1, sizeof(*r));

	r->dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
	                                  EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (r->dns == NULL) {
		free(r);
		return NULL;
	}
	r->users = 1;
	return r;
}

void resolver_free(struct resolver *r)
{
	if (r != NULL)
		resolver_release(r);
}

int resolver_busy(const struct resolver *r)
{
	return r != NULL && r->users > 1;
}

static void copy_addresses(struct resolve_answer *answer, const struct evutil_addrinfo *res)
{
	const struct evutil_addrinfo *ai;
	const void *addr;

	answer->count = 0;
	/* IPv4 first: a server bound to 127.0.0.1, or a host without an IPv6 route, is
	 * the common case. */
	for (int pass = 0; pass < 2; pass++) {
		for (ai = res; ai != NULL && answer->count < RESOLVE_MAX_ADDRESSES;
		     ai = ai->ai_next) {
			if (ai->ai_family != (pass == 0 ? AF_INET : AF_INET6))
				continue;
			if (ai->ai_family == AF_INET)
				addr = &((const struct sockaddr_in *)(const void *)ai->ai_addr)
				            ->sin_addr;
			else
				addr = &((const struct sockaddr_in6 *)(const void *)ai->ai_addr)
				            ->sin6_addr;
			if (evutil_inet_ntop(ai->ai_family, addr, answer->addresses[answer->count],
			                     sizeof(answer->addresses[0])) != NULL)
				answer->count++;
		}
	}
}

static void on_answer(int result, struct evutil_addrinfo *res, void *arg)
{
	struct resolve_lookup *lookup = arg;

	if (lookup->handle != NULL) {
		lookup->answer->error = result;
		copy_addresses(lookup->answer, result == 0 ? res : NULL);
		lookup->answer->done = 1;
		*lookup->handle = NULL;
		event_active(lookup->wake, EV_TIMEOUT, 1);
	}
	if (res != NULL)
		evutil_freeaddrinfo(res);
	resolver_release(lookup->resolver);
	free(lookup);
}

void resolver_lookup(struct resolver *r, const char *host, struct resolve_lookup **handle,
                     struct resolve_answer *answer, struct event *wake)
{
	struct evdns_getaddrinfo_request *request;
	struct evutil_addrinfo hints;
	struct resolve_lookup *lookup = xcalloc(1, sizeof(*lookup));

	lookup->resolver = r;
	lookup->handle = handle;
	lookup->answer = answer;
	lookup->wake = wake;
	r->users++;
	answer->done = 0;
	*handle = lookup;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	request = evdns_getaddrinfo(r->dns, host, NULL, &hints, on_answer, lookup);
	if (*handle == lookup) /* not answered synchronously (then lookup is freed) */
		lookup->request = request;
}

const char *resolve_take(struct resolve_answer *answer, unsigned attempt, const char **failure)
{
	answer->done = 0;
	*failure = NULL;
	if (answer->error != 0)
		*failure = evutil_gai_strerror(answer->error);
	else if (answer->count == 0)
		*failure = "no IPv4 or IPv6 address";
	return *failure != NULL ? NULL : answer->addresses[attempt % (unsigned)answer->count];
}

void resolver_cancel(struct resolve_lookup **handle)
{
	struct resolve_lookup *lookup = *handle;

	if (lookup == NULL)
		return;
	lookup->handle = NULL;
	lookup->answer = NULL;
	lookup->wake = NULL;
	*handle = NULL;
	if (lookup->request != NULL)
		evdns_getaddrinfo_cancel(lookup->request);
}
