/*
 * Harness: forked runs and crash buckets for the repro tools (see
 * crashrun.h).
 */
#ifndef _GNU_SOURCE
#define	_GNU_SOURCE	/* asprintf, open_memstream, pipe2 */
#endif
#include "repro/crashrun.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Present in ASan builds (LeakSanitizer); NULL elsewhere. */
extern int __lsan_do_recoverable_leak_check(void) __attribute__((weak));

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void
child_run(int (*fn)(void *), void *arg, int errfd, bool keep_stdout)
{
	int fd, rc;

	if (dup2(errfd, STDERR_FILENO) < 0)
		_exit(125);
	close(errfd);
	if (!keep_stdout && (fd = open("/dev/null", O_WRONLY)) >= 0) {
		dup2(fd, STDOUT_FILENO);
		close(fd);
	}
	rc = fn(arg);
	fflush(NULL);
	/*
	 * A normal exit would run the parent's atexit handlers; LSan's
	 * check is the one exit-time check the replay tool gets, so run it
	 * here (it prints its report and we exit non-zero, as LSan does).
	 */
	if (__lsan_do_recoverable_leak_check != NULL &&
	    __lsan_do_recoverable_leak_check() != 0)
		_exit(23);
	_exit(rc);
}

int
crashrun(int (*fn)(void *), void *arg, unsigned timeout_ms, bool keep_stdout,
    struct crashrun *cr)
{
	struct pollfd pfd;
	long long deadline;
	size_t cap = 4096;
	ssize_t n;
	char drain[4096];
	int p[2], wait_ms;
	pid_t pid;

	memset(cr, 0, sizeof(*cr));
	cr->report = malloc(cap);
	if (cr->report == NULL)
		return (-1);
	cr->report[0] = '\0';
	if (pipe2(p, O_CLOEXEC) != 0) {
		crashrun_free(cr);
		return (-1);
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		crashrun_free(cr);
		return (-1);
	}
	if (pid == 0) {
		close(p[0]);
		child_run(fn, arg, p[1], keep_stdout);
	}
	close(p[1]);
	deadline = timeout_ms != 0 ? now_ms() + timeout_ms : 0;
	pfd.fd = p[0];
	pfd.events = POLLIN;
	for (;;) {
		wait_ms = -1;
		if (deadline != 0) {
			long long left = deadline - now_ms();

			if (left <= 0) {
				/* Only the child we forked, by its pid. */
				kill(pid, SIGKILL);
				cr->timed_out = true;
				break;
			}
			wait_ms = left > 1000000 ? 1000000 : (int)left;
		}
		if (poll(&pfd, 1, wait_ms) < 0) {
			if (errno == EINTR)
				continue;
			kill(pid, SIGKILL);
			break;
		}
		if (pfd.revents == 0)
			continue;
		if (cr->report_len + 1 < CRASH_REPORT_MAX) {
			if (cr->report_len + 1 + sizeof(drain) > cap) {
				char *nb;

				cap *= 2;
				nb = realloc(cr->report, cap);
				if (nb == NULL) {
					kill(pid, SIGKILL);
					break;
				}
				cr->report = nb;
			}
			n = read(p[0], cr->report + cr->report_len,
			    cap - cr->report_len - 1);
			if (n > 0) {
				cr->report_len += (size_t)n;
				if (cr->report_len >= CRASH_REPORT_MAX)
					cr->report_len = CRASH_REPORT_MAX - 1;
			}
		} else
			n = read(p[0], drain, sizeof(drain));
		if (n == 0)
			break;
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			break;
	}
	cr->report[cr->report_len] = '\0';
	close(p[0]);
	while (waitpid(pid, &cr->status, 0) < 0 && errno == EINTR)
		continue;
	return (0);
}

void
crashrun_free(struct crashrun *cr)
{
	free(cr->report);
	cr->report = NULL;
	cr->report_len = 0;
}

/* ---- buckets ------------------------------------------------------- */

/* Append to a bounded string. */
static void
cat(char *buf, size_t len, const char *s, size_t n)
{
	size_t have = strlen(buf);

	if (have + 1 >= len)
		return;
	if (n > len - have - 1)
		n = len - have - 1;
	memcpy(buf + have, s, n);
	buf[have + n] = '\0';
}

/* bucket.sh's strip(): 0x<hex> -> ADDR, then digit runs -> N. */
static void
strip(const char *s, size_t n, char *out, size_t len)
{
	size_t i = 0;

	out[0] = '\0';
	while (i < n) {
		if (i + 2 < n && s[i] == '0' && s[i + 1] == 'x' &&
		    isxdigit((unsigned char)s[i + 2])) {
			i += 2;
			while (i < n && isxdigit((unsigned char)s[i]))
				i++;
			cat(out, len, "ADDR", 4);
		} else if (isdigit((unsigned char)s[i])) {
			while (i < n && isdigit((unsigned char)s[i]))
				i++;
			cat(out, len, "N", 1);
		} else {
			cat(out, len, s + i, 1);
			i++;
		}
	}
}

static bool
starts(const char *s, const char *prefix)
{
	return (strncmp(s, prefix, strlen(prefix)) == 0);
}

/* The function of a stack frame line, or NULL. */
static bool
frame_fn(const char *line, size_t n, char *fn, size_t fnlen)
{
	const char *p = line, *end = line + n, *w;
	size_t k;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p >= end || *p != '#')
		return (false);
	p++;
	if (p >= end || *p < '0' || *p > '9')
		return (false);
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	if (p >= end || *p != ' ')
		return (false);
	p++;
	/* ASan/UBSan: "#0 0x55d1 in fn file:line"; TSan: "#0 fn file:line". */
	if (end - p > 2 && p[0] == '0' && p[1] == 'x') {
		while (p < end && *p != ' ')
			p++;
		if (end - p < 4 || strncmp(p, " in ", 4) != 0)
			return (false);
		p += 4;
	}
	w = p;
	while (p < end && *p != ' ' && *p != '\t')
		p++;
	k = (size_t)(p - w);
	if (k == 0 || k >= fnlen)
		return (false);
	memcpy(fn, w, k);
	fn[k] = '\0';
	return (true);
}

/*
 * Frames that are not the model: the sanitizer runtimes and their
 * interceptors, libc, threads, the panic path.  The shim allocator
 * (kmalloc/kfree) is the model's own and stays: a race with a free is
 * named after kfree.
 */
static bool
frame_skipped(const char *fn)
{
	static const char *const pfx[] = { "__tsan", "__asan", "__ubsan",
	    "__sanitizer", "__interceptor", "__lsan", "__libc", "__GI_",
	    "__", "_start", "malloc", "calloc", "realloc", "free", "memcpy",
	    "memmove", "memset", "memcmp", "strlen", "strcmp", "pthread_",
	    "abort", "raise", "kern_panic", "<null>", "operator",
	    "start_thread", "clone" };
	size_t i;

	for (i = 0; i < sizeof(pfx) / sizeof(pfx[0]); i++)
		if (starts(fn, pfx[i]))
			return (true);
	return (false);
}

/* A line that starts a stack: "#0 ". */
static bool
stack_start(const char *line, size_t n)
{
	size_t i = 0;

	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	return (n - i >= 3 && line[i] == '#' && line[i + 1] == '0' &&
	    line[i + 2] == ' ');
}

/*
 * The first model frame of each of the first 'want' stacks from 'from'
 * on, up to the sanitizer's SUMMARY line; how many stacks were seen.
 */
static int
model_frames(const char *from, char fns[][CRASH_BUCKET_MAX], int want)
{
	const char *line, *nl;
	char fn[CRASH_BUCKET_MAX];
	int nst = 0;
	size_t n;

	for (line = from; line != NULL && *line != '\0';
	    line = nl != NULL ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		n = nl != NULL ? (size_t)(nl - line) : strlen(line);
		if (n >= 8 && starts(line, "SUMMARY:"))
			break;
		if (stack_start(line, n)) {
			if (nst == want)
				break;
			fns[nst++][0] = '\0';
		}
		if (nst > 0 && fns[nst - 1][0] == '\0' &&
		    frame_fn(line, n, fn, sizeof(fn)) && !frame_skipped(fn))
			snprintf(fns[nst - 1], CRASH_BUCKET_MAX, "%s", fn);
	}
	return (nst);
}

/* Cut s at the first occurrence of any marker. */
static size_t
cut_at(const char *s, size_t n, const char *const *marks, size_t nmarks)
{
	size_t i, best = n;
	const char *hit;
	char tmp[CRASH_BUCKET_MAX];

	if (n >= sizeof(tmp))
		n = sizeof(tmp) - 1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	best = n;
	for (i = 0; i < nmarks; i++) {
		hit = strstr(tmp, marks[i]);
		if (hit != NULL && (size_t)(hit - tmp) < best)
			best = (size_t)(hit - tmp);
	}
	return (best);
}

/*
 * Where a line's "panic: " starts: at the beginning, or after the
 * "#<op> t<thread> " a --trace replay printed to stdout just before (the
 * two streams merged into one line).
 */
static const char *
panic_start(const char *line, size_t n)
{
	const char *p = line, *e = line + n;

	if (n >= 7 && starts(line, "panic: "))
		return (line);
	if (p >= e || *p++ != '#')
		return (NULL);
	if (p >= e || !isdigit((unsigned char)*p))
		return (NULL);
	while (p < e && isdigit((unsigned char)*p))
		p++;
	if (e - p < 3 || p[0] != ' ' || p[1] != 't' ||
	    !isdigit((unsigned char)p[2]))
		return (NULL);
	for (p += 2; p < e && isdigit((unsigned char)*p); p++)
		continue;
	if (e - p < 8 || strncmp(p, " panic: ", 8) != 0)
		return (NULL);
	return (p + 1);
}

/*
 * "panic: <invariant>: <details>[: more]" -> "panic: <invariant>:
 * <details stripped>" (bucket.sh splits on ": " and keeps two fields, three
 * for "quiesce: hang: <who>").
 */
static void
panic_bucket(const char *s, size_t n, char *out, size_t len)
{
	const char *e = s + n, *c1 = NULL, *c2 = NULL, *q;
	char tmp[CRASH_BUCKET_MAX];

	snprintf(out, len, "panic: ");
	for (q = s; q + 1 < e; q++) {
		if (q[0] != ':' || q[1] != ' ')
			continue;
		if (c1 == NULL)
			c1 = q;
		else {
			c2 = q;
			break;
		}
	}
	if (c1 == NULL) {
		cat(out, len, s, n);
		return;
	}
	cat(out, len, s, (size_t)(c1 - s));
	cat(out, len, ": ", 2);
	strip(c1 + 2, (size_t)((c2 != NULL ? c2 : e) - (c1 + 2)), tmp,
	    sizeof(tmp));
	cat(out, len, tmp, strlen(tmp));
	/* One more level for "quiesce: hang: <who>", as bucket.sh does. */
	if (c2 != NULL && strcmp(out, "panic: quiesce: hang") == 0) {
		for (q = c2 + 2; q + 1 < e && (q[0] != ':' || q[1] != ' '); q++)
			continue;
		if (q + 1 >= e)
			q = e;
		strip(c2 + 2, (size_t)(q - (c2 + 2)), tmp, sizeof(tmp));
		cat(out, len, ": ", 2);
		cat(out, len, tmp, strlen(tmp));
	}
}

/* Where a sanitizer's report kind starts in a line, or NULL. */
static const char *
sanitizer_kind(const char *line, size_t n)
{
	static const char *const errs[] = { "ERROR: AddressSanitizer: ",
	    "ERROR: LeakSanitizer: ", "ERROR: ThreadSanitizer: ",
	    "WARNING: ThreadSanitizer: " };
	char lbuf[CRASH_BUCKET_MAX];
	const char *hit;
	size_t i, ln = n < sizeof(lbuf) - 1 ? n : sizeof(lbuf) - 1;

	memcpy(lbuf, line, ln);
	lbuf[ln] = '\0';
	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		if ((hit = strstr(lbuf, errs[i])) == NULL)
			continue;
		/* From the tool's name on: "AddressSanitizer: ...". */
		return (line + (strchr(hit, ' ') + 1 - lbuf));
	}
	return (NULL);
}

void
crash_bucket(const char *report, char *buf, size_t len)
{
	static const char *const kind_ends[] = { " on address",
	    " on unknown address", " (pid=", " (pc " };
	char kind[CRASH_BUCKET_MAX], tmp[CRASH_BUCKET_MAX];
	char fns[2][CRASH_BUCKET_MAX];
	const char *line, *nl, *s, *panic = NULL, *san = NULL, *ub = NULL;
	const char *panic_at = NULL, *san_at = NULL, *ub_at = NULL;
	size_t n, m;
	int nst;

	buf[0] = '\0';
	for (line = report; line != NULL && *line != '\0';
	    line = nl != NULL ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		n = nl != NULL ? (size_t)(nl - line) : strlen(line);
		if (panic == NULL && (s = panic_start(line, n)) != NULL) {
			panic = line;
			panic_at = s;
		}
		if (san == NULL && (s = sanitizer_kind(line, n)) != NULL) {
			san = line;
			san_at = s;
		}
		if (ub == NULL && (s = strstr(line, "runtime error: ")) !=
		    NULL && (nl == NULL || s < nl)) {
			ub = line;
			ub_at = s + 15;
		}
	}
	/* Whichever report came first is the bug; the rest is fallout. */
	if (panic != NULL && (san == NULL || panic <= san) &&
	    (ub == NULL || panic <= ub)) {
		nl = strchr(panic_at, '\n');
		n = nl != NULL ? (size_t)(nl - panic_at) : strlen(panic_at);
		panic_bucket(panic_at + 7, n - 7, buf, len);
		return;
	}
	if (san != NULL && (ub == NULL || san <= ub)) {
		nl = strchr(san_at, '\n');
		n = nl != NULL ? (size_t)(nl - san_at) : strlen(san_at);
		m = cut_at(san_at, n, kind_ends, 4);
		strip(san_at, m, kind, sizeof(kind));
		/* A race has two accesses, either may come first: order. */
		if (strstr(kind, "ThreadSanitizer: data race") == kind) {
			nst = model_frames(san, fns, 2);
			if (nst == 2 && fns[0][0] != '\0' &&
			    fns[1][0] != '\0') {
				int c = strcmp(fns[0], fns[1]) > 0;

				snprintf(buf, len, "%s: %s / %s", kind,
				    fns[c], fns[1 - c]);
				return;
			}
		} else
			nst = model_frames(san, fns, 1);
		if (nst >= 1 && fns[0][0] != '\0')
			snprintf(buf, len, "%s in %s", kind, fns[0]);
		else
			snprintf(buf, len, "%s", kind);
		return;
	}
	if (ub != NULL) {
		nl = strchr(ub_at, '\n');
		n = nl != NULL ? (size_t)(nl - ub_at) : strlen(ub_at);
		strip(ub_at, n, tmp, sizeof(tmp));
		if (model_frames(ub, fns, 1) == 1 && fns[0][0] != '\0')
			snprintf(buf, len, "UBSan: %s in %s", tmp, fns[0]);
		else
			snprintf(buf, len, "UBSan: %s", tmp);
	}
}

void
crash_bucket_status(const char *report, int status, bool timed_out,
    char *buf, size_t len)
{
	crash_bucket(report != NULL ? report : "", buf, len);
	if (buf[0] != '\0')
		return;
	if (timed_out)
		snprintf(buf, len, "timeout");
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "signal %d (%s)", WTERMSIG(status),
		    strsignal(WTERMSIG(status)));
	else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		snprintf(buf, len, "exit %d", WEXITSTATUS(status));
}

void
crashrun_bucket(const struct crashrun *cr, char *buf, size_t len)
{
	crash_bucket_status(cr->report, cr->status, cr->timed_out, buf, len);
}

/* ---- files -------------------------------------------------------- */

/* Write text to path via a temporary file in the same directory. */
int
repro_write_atomic(const char *path, const char *head, const char *text,
    size_t len, char *err, size_t errlen)
{
	char *tmp;
	FILE *fp;
	int fd;

	if (asprintf(&tmp, "%s.tmpXXXXXX", path) < 0) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create a temporary file next "
		    "to it: %s", strerror(errno));
		free(tmp);
		return (-1);
	}
	(void)fchmod(fd, 0644);
	fp = fdopen(fd, "w");
	if (fp == NULL || fputs(head, fp) == EOF ||
	    fwrite(text, 1, len, fp) != len || fflush(fp) != 0 ||
	    fsync(fd) != 0) {
		snprintf(err, errlen, "write failed: %s", strerror(errno));
		if (fp != NULL)
			fclose(fp);
		else
			close(fd);
		unlink(tmp);
		free(tmp);
		return (-1);
	}
	if (fclose(fp) != 0 || rename(tmp, path) != 0) {
		snprintf(err, errlen, "cannot rename the temporary file: %s",
		    strerror(errno));
		unlink(tmp);
		free(tmp);
		return (-1);
	}
	free(tmp);
	return (0);
}
