/* Support for the ctest suites; see testlib.h. */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/testlib.h"

static int t_count;

void
t_run(const char *name, void (*fn)(void))
{
	fn();
	t_count++;
	printf("ok %d - %s\n", t_count, name);
	fflush(stdout);
}

int
t_done(void)
{
	printf("%d passed, 0 failed\n", t_count);
	return (0);
}

void
t_fail(const char *file, int line, const char *expr)
{
	fprintf(stderr, "FAIL %s:%d: CHECK(%s)\n", file, line, expr);
	exit(1);
}

void
t_fail_eq(const char *file, int line, const char *a, const char *b,
    long long va, long long vb)
{
	fprintf(stderr, "FAIL %s:%d: %s == %s (%lld != %lld)\n", file, line,
	    a, b, va, vb);
	exit(1);
}

bool
expect_panic(void (*fn)(void *), void *arg, const char *needle)
{
	char buf[16384];
	size_t got = 0;
	ssize_t n;
	int fds[2], status;
	pid_t pid;
	bool ok;

	fflush(stdout);
	fflush(stderr);
	if (pipe(fds) != 0)
		return (false);
	pid = fork();
	if (pid < 0)
		return (false);
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], STDERR_FILENO);
		dup2(fds[1], STDOUT_FILENO);
		fn(arg);
		fprintf(stderr, "expect_panic: returned without a panic\n");
		fflush(stderr);
		_exit(0);
	}
	close(fds[1]);
	while (got < sizeof(buf) - 1 &&
	    (n = read(fds[0], buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	/* Drain anything past our buffer so the child never blocks. */
	while (read(fds[0], &(char){0}, 1) > 0)
		;
	close(fds[0]);
	waitpid(pid, &status, 0);
	ok = WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
	if (ok) {
		const char *p = strstr(buf, "panic: ");
		ok = p != NULL && strstr(p, needle) != NULL;
	}
	if (!ok)
		fprintf(stderr, "expect_panic(\"%s\") did not hold; child "
		    "status %#x, output:\n%s\n", needle, status, buf);
	return (ok);
}
