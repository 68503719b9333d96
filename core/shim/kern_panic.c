/*
 * Userspace shim: panic(9) output.  The abort() is in the panic/KASSERT
 * macros so the crashing frame is the caller's; this file only prints.
 */
#include <stdarg.h>
#include <unistd.h>

#include "shim/systm.h"

void (*kern_panic_hook)(void);

static _Thread_local char kern_panic_buf[1024];
static int kern_panicking;
static _Thread_local bool kern_panic_self;

const char *
kern_panic_fmt(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(kern_panic_buf, sizeof(kern_panic_buf), fmt, ap);
	va_end(ap);
	return (kern_panic_buf);
}

void
kern_panic_print(const char *file, int line, const char *fmt, ...)
{
	char msg[2048];
	void (*hook)(void);
	va_list ap;

	/*
	 * Exactly one panic line per process: a second thread that panics
	 * while the first is on its way to abort() waits for it, so the
	 * crash bucket is always the first failure.  A panic inside the
	 * hook just returns to its macro's abort().
	 */
	if (kern_panic_self)
		return;
	kern_panic_self = true;
	if (__atomic_exchange_n(&kern_panicking, 1, __ATOMIC_ACQ_REL) != 0) {
		for (;;)
			pause();
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fflush(stdout);
	fprintf(stderr, "panic: %s\n  at %s:%d\n", msg, file, line);
	fflush(stderr);
	hook = kern_panic_hook;
	if (hook != NULL) {
		kern_panic_hook = NULL;
		hook();
		fflush(stderr);
	}
}
