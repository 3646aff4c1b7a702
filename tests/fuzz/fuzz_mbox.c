/*
 * fuzz_mbox.c - the mbox reader, fetch_mbox_stream(), on the input opened
 * with fmemopen(), importing into a real store (see fuzz-store.h).
 */
#include "fuzz-store.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_store_init();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err e;
	FILE *f;

	if (size == 0)
		return 0;
	/* fmemopen() wants a writable buffer even for reading */
	if ((f = fmemopen((void *)(uintptr_t)data, size, "rb")) == NULL)
		abort();
	FUZZ_CHECK(fetch_mbox_stream(&fs.fc, f, "fuzz.mbox", &e) == 0);
	fclose(f);
	fuzz_store_after();
	return 0;
}
