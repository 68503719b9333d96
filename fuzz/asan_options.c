/*
 * ASan defaults for the executables that run inputs back to back (the
 * fuzz targets, sndtag-bench); ASAN_OPTIONS in the environment still
 * overrides them.
 *
 * quarantine_size_mb: freed blocks wait this long before reuse, which is
 * what lets ASan report a use after free.  One execution frees at most a
 * few MiB (the packet budget, 256 units of at most ~10 KiB each, plus
 * the topology's objects), so 16 MiB still holds every block the current
 * input freed, and the one before it: every use after free within an
 * input is reported as before.  The default (256 MiB) holds a hundred
 * inputs' worth, and cycling through that much memory made every
 * allocation a cache and TLB miss, half of each execution's time.
 */
const char *__asan_default_options(void);

const char *
__asan_default_options(void)
{
	return ("quarantine_size_mb=16");
}
