/*
 * Harness: run a piece of work in a forked child and name how it ended,
 * for the repro tools (sndtag-minimize, sndtag-cprog), and the crash
 * bucket every tool uses.
 *
 * The core is one world per process and a crash ends the process, so
 * every run of a scenario happens in a child: its stderr (the model's
 * "panic: ..." line or a sanitizer report) is captured, a run that
 * exceeds the timeout is killed, and the report is reduced to a crash
 * bucket.  This is the one bucket rule of the harness: sndtag-minimize,
 * sndtag-cprog, sndtag-sweep and, through sndtag-bucket (which
 * tools/bucket.sh runs), the fuzz campaigns all name a report with it.
 * The first report of a run is the bug (what follows is fallout):
 *
 *	panic: <invariant>: <details>	(one more field for "quiesce: hang")
 *	<Sanitizer>: <kind> in <first model frame>
 *	ThreadSanitizer: data race: <frame> / <frame>	(each access's
 *					first model frame, sorted)
 *	UBSan: <message>[ in <first model frame>]
 *
 * Numbers become N and 0x... addresses ADDR in details, kinds and
 * messages (never in function names).  ASan's ("#0 0x.. in fn file")
 * and TSan's ("#0 fn file:line (bin+0x..)") frame formats both count,
 * and a panic line behind a --trace replay's "#7 t0 " (stdout and stderr
 * merged) still counts.
 */
#ifndef _REPRO_CRASHRUN_H_
#define	_REPRO_CRASHRUN_H_

#include <stdbool.h>
#include <stddef.h>

#define	CRASH_BUCKET_MAX	512
#define	CRASH_REPORT_MAX	(1u << 20)	/* stderr kept */

struct crashrun {
	int	 status;	/* waitpid() status */
	bool	 timed_out;	/* killed after the timeout */
	char	*report;	/* the child's stderr (malloc'd, NUL-ended) */
	size_t	 report_len;
};

/*
 * Fork; the child runs fn(arg) with stdout on /dev/null (unless
 * keep_stdout) and stderr captured, runs LeakSanitizer's check if the
 * build has one, and exits with fn's return value.  timeout_ms 0: none.
 * Returns 0, or -1 with errno (fork or pipe failed).  Free with
 * crashrun_free().
 */
int	crashrun(int (*fn)(void *), void *arg, unsigned timeout_ms,
	    bool keep_stdout, struct crashrun *cr);
void	crashrun_free(struct crashrun *cr);

/* The bucket of a report ("" if it names no crash). */
void	crash_bucket(const char *report, char *buf, size_t len);

/*
 * The bucket of a run that ended with waitpid() status 'status': its
 * report's bucket; else "timeout", "signal N (name)" or "exit N" for an
 * abnormal end with no report; "" for a clean exit 0.
 */
void	crash_bucket_status(const char *report, int status, bool timed_out,
	    char *buf, size_t len);
void	crashrun_bucket(const struct crashrun *cr, char *buf, size_t len);

/*
 * Write head then len bytes of text to path through a temporary file in
 * the same directory and a rename, so path is never half written.
 * 0, or -1 with a short reason in err.
 */
int	repro_write_atomic(const char *path, const char *head,
	    const char *text, size_t len, char *err, size_t errlen);

#endif /* !_REPRO_CRASHRUN_H_ */
