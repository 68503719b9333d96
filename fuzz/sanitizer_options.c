/*
 * Sanitizer defaults for the executables that run inputs back to back
 * (the fuzz targets, sndtag-bench); ASAN_OPTIONS and TSAN_OPTIONS in the
 * environment still override each flag they name.
 *
 * ASan, quarantine_size_mb: freed blocks wait this long before reuse,
 * which is what lets ASan report a use after free.  One execution frees
 * at most a few MiB (the packet budget, 256 units of at most ~10 KiB
 * each, plus the topology's objects), so 16 MiB still holds every block
 * the current input freed, and the one before it: every use after free
 * within an input is reported as before.  The default (256 MiB) holds a
 * hundred inputs' worth, and cycling through that much memory made
 * every allocation a cache and TLB miss, half of each execution's time.
 *
 * TSan, report_signal_unsafe=0: the model installs no signal handler;
 * the only ones are libFuzzer's crash handlers, which print a stack and
 * write the crash input, allocating as they go.  With the check on, a
 * panic on a model thread of fuzz_threads became a TSan report about
 * libFuzzer's handler, and the process exited (66) or hung before the
 * input was written: a TSan campaign lost every panic's input.  Races
 * between model threads are reported as before.
 */
const char *__asan_default_options(void);
const char *__tsan_default_options(void);

const char *
__asan_default_options(void)
{
	return ("quarantine_size_mb=16");
}

/* TSan reads it while it starts: no instrumentation (no func_entry). */
__attribute__((disable_sanitizer_instrumentation)) const char *
__tsan_default_options(void)
{
	return ("report_signal_unsafe=0");
}
