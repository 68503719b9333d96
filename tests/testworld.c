/*
 * World helpers for the ctest suites (separate from testlib.c so suites
 * that never build a topology do not link the whole model).
 */
#include "tests/testlib.h"
#include "harness/world.h"

void
t_world_begin(void)
{
	world_init(NULL);
}

void
t_world_end(void)
{
	world_teardown();
	world_check_ledger();
	world_fini();
}
