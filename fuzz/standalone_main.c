/*
 * Driver for fuzz targets built without a fuzzing engine: runs
 * LLVMFuzzerTestOneInput once over every file named on the command line,
 * and over the regular files of every directory named (sorted by name, so
 * runs are reproducible).  Arguments starting with '-' are libFuzzer
 * options and are ignored, so the same command lines work with both.
 * This is the reproducer mode (OSS-Fuzz's "standalone" engine).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int	LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((__weak__));

static int
run_file(const char *path)
{
	uint8_t *buf;
	size_t len, got;
	FILE *fp;
	long sz;

	fp = fopen(path, "rb");
	if (fp == NULL) {
		fprintf(stderr, "standalone: %s: %s\n", path, strerror(errno));
		return (-1);
	}
	if (fseek(fp, 0, SEEK_END) != 0 || (sz = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) != 0) {
		fprintf(stderr, "standalone: %s: cannot size\n", path);
		fclose(fp);
		return (-1);
	}
	len = (size_t)sz;
	/* Exactly len bytes, so ASan sees any read past the input. */
	buf = malloc(len > 0 ? len : 1);
	if (buf == NULL) {
		fclose(fp);
		return (-1);
	}
	got = fread(buf, 1, len, fp);
	fclose(fp);
	if (got != len) {
		fprintf(stderr, "standalone: %s: short read\n", path);
		free(buf);
		return (-1);
	}
	fprintf(stderr, "Running: %s (%zu bytes)\n", path, len);
	(void)LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return (0);
}

static int
name_cmp(const void *a, const void *b)
{

	return (strcmp(*(char * const *)a, *(char * const *)b));
}

static int
run_dir(const char *dir, unsigned *ran)
{
	struct dirent *de;
	struct stat st;
	char **names = NULL, **nn, *path;
	size_t n = 0, cap = 0, i;
	int rv = 0;
	DIR *dp;

	dp = opendir(dir);
	if (dp == NULL) {
		fprintf(stderr, "standalone: %s: %s\n", dir, strerror(errno));
		return (-1);
	}
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			nn = realloc(names, cap * sizeof(*names));
			if (nn == NULL) {
				rv = -1;
				break;
			}
			names = nn;
		}
		names[n] = strdup(de->d_name);
		if (names[n] == NULL) {
			rv = -1;
			break;
		}
		n++;
	}
	closedir(dp);
	if (n > 0)
		qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n; i++) {
		path = malloc(strlen(dir) + strlen(names[i]) + 2);
		if (rv == 0 && path != NULL) {
			sprintf(path, "%s/%s", dir, names[i]);
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
				if (run_file(path) == 0)
					(*ran)++;
				else
					rv = -1;
			}
		}
		free(path);
		free(names[i]);
	}
	free(names);
	return (rv);
}

int
main(int argc, char **argv)
{
	struct stat st;
	unsigned ran = 0;
	int i, inputs = 0, rv = 0;

	if (LLVMFuzzerInitialize != NULL)
		(void)LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		if (argv[i][0] == '-')
			continue;
		inputs++;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "standalone: %s: %s\n", argv[i],
			    strerror(errno));
			rv = 1;
		} else if (S_ISDIR(st.st_mode)) {
			if (run_dir(argv[i], &ran) != 0)
				rv = 1;
		} else if (run_file(argv[i]) == 0)
			ran++;
		else
			rv = 1;
	}
	if (inputs == 0) {
		fprintf(stderr, "usage: %s file-or-directory ...\n"
		    "(built without a fuzzing engine: runs each input once)\n",
		    argv[0]);
		return (2);
	}
	fprintf(stderr, "standalone: ran %u input(s)\n", ran);
	return (rv);
}
