#include <stdio.h>

#include "chatlogd/reasons.h"
#include "chatlogd/wire.h"
#include "check.h"

static void test_reason_registry_is_stable(void)
{
	struct reasons r;
	reasons_init(&r);
	CHECK_INT(reasons_intern(&r, "no_reply"), REASON_NO_REPLY);
	CHECK_INT(reasons_intern(&r, "price"), 3);
	CHECK_INT(reasons_intern(&r, "stock"), 4);
	CHECK_INT(reasons_intern(&r, "price"), 3);
	reasons_free(&r);
}

static void test_full_registry_returns_reason_none_and_keeps_known_names(void)
{
	struct reasons r;
	char name[32];
	reasons_init(&r);
	for (unsigned i = r.count; i < LIMIT_REASONS; i++) {
		snprintf(name, sizeof(name), "reason_%u", i);
		CHECK_INT(reasons_intern(&r, name), i);
	}
	CHECK(reasons_intern(&r, "one_too_many") == REASON_NONE);
	CHECK_INT(reasons_intern(&r, "slow"), REASON_SLOW);
	reasons_free(&r);
}

static void test_saved_registry_loads_with_the_same_ids(void)
{
	struct reasons saved, loaded;
	struct wire_writer w = {0};
	struct wire_reader rd;
	reasons_init(&saved);
	CHECK_INT(reasons_intern(&saved, "price"), 3);
	CHECK_INT(reasons_intern(&saved, "stock"), 4);
	reasons_save(&saved, &w);
	reasons_init(&loaded);
	wire_reader_init(&rd, w.data, w.len);
	CHECK_INT(reasons_load(&loaded, &rd), 0);
	CHECK_INT(loaded.count, 5);
	CHECK_STR(loaded.names[4], "stock");
	reasons_free(&saved);
	reasons_free(&loaded);
	wire_writer_free(&w);
}

/* A registry saved with the built-ins in another order is not this process's. */
static void test_registry_with_builtins_out_of_order_is_refused(void)
{
	struct reasons r;
	struct wire_writer w = {0};
	struct wire_reader rd;
	wire_put_u32(&w, 1);
	wire_put_bytes(&w, "slow", 4);
	reasons_init(&r);
	wire_reader_init(&rd, w.data, w.len);
	CHECK_INT(reasons_load(&r, &rd), -1);
	reasons_free(&r);
	wire_writer_free(&w);
}

int main(void)
{
	RUN(test_reason_registry_is_stable);
	RUN(test_full_registry_returns_reason_none_and_keeps_known_names);
	RUN(test_saved_registry_loads_with_the_same_ids);
	RUN(test_registry_with_builtins_out_of_order_is_refused);
	return check_done();
}
