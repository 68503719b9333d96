/*
 * sndtag-mutstats: which mutations of the structure-aware mutator pay.
 *
 * A campaign run with SNDTAG_MUTLOG=FILE logs one line per mutation
 * (fuzz/pb_libfuzzer_mutator.h): the FNV-1a 64 hash of the output, the
 * input and output sizes, "mut" or "cross", and the mutation steps
 * ("ins:ops,val:size", ...).  libFuzzer keeps in its corpus directory
 * exactly the outputs that gave new coverage, so hashing the corpus files
 * tells which mutations produced them.  The log also has "new <hash>" after
 * a run that reached a state or an edge no earlier run reached (what the
 * target follows and the mutator's step weights learn from).  For each
 * step kind (and kind:field with -f) this prints how often it ran, how
 * many corpus entries it took part in and how many new results, each per
 * thousand runs, and how much it grew its input.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define	PROG	"sndtag-mutstats"
#define	MAX_KINDS	512

struct kind {
	char		name[64];
	uint64_t	runs;
	uint64_t	kept;
	uint64_t	novel;		/* runs that reached something new */
	int64_t		growth;		/* sum of out - in, bytes */
};

static struct kind kinds[MAX_KINDS];
static int nkinds;

static uint64_t *hashes;	/* sorted corpus hashes */
static bool *claimed;		/* the first mutation making it is credited */
static size_t nhashes;

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: " PROG " [-f] LOG CORPUS_DIR\n"
	    "  LOG         the file a campaign wrote with SNDTAG_MUTLOG=LOG\n"
	    "  CORPUS_DIR  that campaign's libFuzzer corpus directory\n"
	    "  -f          one row per step and field (ins:ops), not per step\n"
	    "Prints, per mutation step, runs, corpus entries it made and new\n"
	    "results it reached (each also per 1000 runs), and mean growth\n"
	    "in bytes; see docs/FUZZING.md.\n");
}

/*
 * The log's hash: FNV-1a 64, as pbmutate_hash() writes it (a copy: this
 * tool links nothing of the mutator; tests/mutstats_check.sh and
 * test_pbmutate pin both to the same values).
 */
static uint64_t
fnv(const unsigned char *p, size_t n)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * UINT64_C(0x100000001b3);
	return (h);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x < y ? -1 : x > y);
}

static int
load_corpus(const char *dir)
{
	unsigned char *buf = NULL;
	char path[4096];
	struct dirent *de;
	size_t cap = 0, n;
	FILE *f;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, PROG ": %s: %s\n", dir, strerror(errno));
		return (-1);
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((f = fopen(path, "rb")) == NULL)
			continue;
		if (nhashes == cap) {
			cap = cap == 0 ? 1024 : cap * 2;
			hashes = realloc(hashes, cap * sizeof(*hashes));
			if (hashes == NULL) {
				fprintf(stderr, PROG ": out of memory\n");
				exit(2);
			}
		}
		fseek(f, 0, SEEK_END);
		n = (size_t)ftell(f);
		rewind(f);
		buf = realloc(buf, n + 1);
		if (buf == NULL || fread(buf, 1, n, f) != n) {
			fclose(f);
			continue;
		}
		fclose(f);
		hashes[nhashes++] = fnv(buf, n);
	}
	closedir(d);
	free(buf);
	qsort(hashes, nhashes, sizeof(*hashes), cmp_u64);
	claimed = calloc(nhashes + 1, sizeof(*claimed));
	if (claimed == NULL) {
		fprintf(stderr, PROG ": out of memory\n");
		exit(2);
	}
	return (0);
}

/* True the first time a mutation's output is found in the corpus. */
static bool
in_corpus(uint64_t h)
{
	uint64_t *p = bsearch(&h, hashes, nhashes, sizeof(h), cmp_u64);

	if (p == NULL || claimed[p - hashes])
		return (false);
	claimed[p - hashes] = true;
	return (true);
}

static struct kind *
kind_of(const char *name, size_t len)
{
	int i;

	if (len >= sizeof(kinds[0].name))
		len = sizeof(kinds[0].name) - 1;
	for (i = 0; i < nkinds; i++)
		if (strncmp(kinds[i].name, name, len) == 0 &&
		    kinds[i].name[len] == '\0')
			return (&kinds[i]);
	if (nkinds == MAX_KINDS)
		return (NULL);
	memcpy(kinds[nkinds].name, name, len);
	kinds[nkinds].name[len] = '\0';
	return (&kinds[nkinds++]);
}

static int
cmp_kind(const void *a, const void *b)
{
	const struct kind *x = a, *y = b;

	return (x->runs < y->runs ? 1 : x->runs > y->runs ? -1 : 0);
}

int
main(int argc, char **argv)
{
	char line[512], what[16], steps[400], *p, *q;
	uint64_t h, total = 0, kept = 0, novel = 0, last_h = 0;
	struct kind *last[64];
	int nlast = 0;
	size_t in, out;
	bool fields = false;
	struct kind *k;
	FILE *log;
	int ch, i;

	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return (0);
	}
	while ((ch = getopt(argc, argv, "fh")) != -1) {
		switch (ch) {
		case 'f':
			fields = true;
			break;
		case 'h':
			usage(stdout);
			return (0);
		default:
			usage(stderr);
			return (2);
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, PROG ": need LOG and CORPUS_DIR (see --help)\n");
		return (2);
	}
	if ((log = fopen(argv[optind], "r")) == NULL) {
		fprintf(stderr, PROG ": %s: %s; run the campaign with "
		    "SNDTAG_MUTLOG=%s first\n", argv[optind], strerror(errno),
		    argv[optind]);
		return (2);
	}
	if (load_corpus(argv[optind + 1]) != 0)
		return (2);
	while (fgets(line, sizeof(line), log) != NULL) {
		bool hit;

		if (line[0] == '#') {
			fputs(line, stdout);
			continue;
		}
		/* A new result: the run of the mutation logged just before. */
		if (sscanf(line, "new %" SCNx64, &h) == 1) {
			if (nlast > 0 && h == last_h) {
				novel++;
				for (i = 0; i < nlast; i++)
					last[i]->novel++;
			}
			nlast = 0;
			continue;
		}
		if (sscanf(line, "%" SCNx64 " %zu %zu %15s %399s", &h, &in,
		    &out, what, steps) != 5)
			continue;
		hit = in_corpus(h);
		total++;
		kept += hit;
		last_h = h;
		nlast = 0;
		if ((k = kind_of(what, strlen(what))) != NULL) {
			k->runs++;
			k->kept += hit;
			k->growth += (int64_t)out - (int64_t)in;
			last[nlast++] = k;
		}
		for (p = steps; *p != '\0'; p = *q != '\0' ? q + 1 : q) {
			q = strchr(p, ',');
			if (q == NULL)
				q = p + strlen(p);
			{
				const char *colon = memchr(p, ':', q - p);
				size_t len = fields ? (size_t)(q - p) :
				    (size_t)(colon - p);

				/* No colon: cut off at the log's width. */
				if (colon == NULL ||
				    (k = kind_of(p, len)) == NULL)
					continue;
			}
			k->runs++;
			k->kept += hit;
			k->growth += (int64_t)out - (int64_t)in;
			if (nlast < (int)(sizeof(last) / sizeof(last[0])))
				last[nlast++] = k;
		}
	}
	fclose(log);
	qsort(kinds, nkinds, sizeof(kinds[0]), cmp_kind);
	printf("mutations: %" PRIu64 ", corpus entries made by one: %" PRIu64
	    " (%zu files in the corpus), new results: %" PRIu64 "\n", total,
	    kept, nhashes, novel);
	printf("%-28s %10s %8s %10s %8s %10s %10s\n", "step", "runs", "kept",
	    "per_1000", "new", "new_1000", "growth_B");
	for (i = 0; i < nkinds; i++) {
		k = &kinds[i];
		printf("%-28s %10" PRIu64 " %8" PRIu64 " %10.2f %8" PRIu64
		    " %10.2f %10.1f\n", k->name, k->runs, k->kept,
		    k->runs ? 1000.0 * (double)k->kept / (double)k->runs : 0.0,
		    k->novel,
		    k->runs ? 1000.0 * (double)k->novel / (double)k->runs : 0.0,
		    k->runs ? (double)k->growth / (double)k->runs : 0.0);
	}
	free(hashes);
	free(claimed);
	return (0);
}
