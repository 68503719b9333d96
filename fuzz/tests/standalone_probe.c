/*
 * A target for testing standalone_main.c: prints what it is given, so
 * the test can check order, sizes and the init hook.
 */
#include <stdint.h>
#include <stdio.h>

int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{

	printf("init argc=%d\n", *argc);
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{

	printf("input %zu:%.*s\n", size, (int)size, (const char *)data);
	return (0);
}
