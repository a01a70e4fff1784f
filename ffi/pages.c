/* pages.c - hand back the executable's start-up pages: drop this process's mappings of clean,
 * read-only file pages (they stay in the page cache and fault back in on use). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

#define MAX_RANGES 512

struct range {
	uintptr_t start, end;
	uint64_t rss_kib;
};

/* A mapping may be dropped when it is a private, read-only mapping of a file and none of its pages
 * is anonymous: then every resident page is an unmodified copy of the file (a RELRO segment, written
 * by the loader before it was made read-only, has anonymous pages and is kept). */
static int droppable(const char *perms, const char *path, uint64_t anon_kib)
{
	if (path[0] != '/' || anon_kib != 0)
		return 0;
	return strcmp(perms, "r-xp") == 0 || strcmp(perms, "r--p") == 0;
}

static void consider(struct range *r, size_t *n, const char *perms, const char *path, uintptr_t start,
		uintptr_t end, uint64_t rss_kib, uint64_t anon_kib)
{
	if (*n >= MAX_RANGES || rss_kib == 0 || end <= start || !droppable(perms, path, anon_kib))
		return;
	r[*n].start = start;
	r[*n].end = end;
	r[*n].rss_kib = rss_kib;
	(*n)++;
}

SHIM_EXPORT int32_t rtpe_release_file_pages(void)
{
	struct range *ranges;
	size_t n = 0, i;
	FILE *f;
	char line[4352], perms[8] = "", path[4096] = "";
	uintptr_t start = 0, end = 0;
	uint64_t rss = 0, anon = 0, released = 0;
	int have = 0;

	ranges = calloc(MAX_RANGES, sizeof(*ranges));
	if (!ranges)
		return -ENOMEM;
	f = fopen("/proc/self/smaps", "re");
	if (!f) {
		free(ranges);
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long a, b;
		char p[8];
		int off = 0;

		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s%n", &a, &b, p, &off) == 3 && off > 0) {
			if (have)
				consider(ranges, &n, perms, path, start, end, rss, anon);
			have = 1;
			start = a;
			end = b;
			rss = anon = 0;
			memcpy(perms, p, sizeof(perms));
			/* the path: what follows the inode, without leading blanks or the newline */
			const char *q = line + off;
			while (*q == ' ' || *q == '\t')
				q++;
			size_t len = strcspn(q, "\n");
			if (len >= sizeof(path))
				len = sizeof(path) - 1;
			memcpy(path, q, len);
			path[len] = '\0';
		} else if (strncmp(line, "Rss:", 4) == 0) {
			rss = strtoull(line + 4, NULL, 10);
		} else if (strncmp(line, "Anonymous:", 10) == 0) {
			anon = strtoull(line + 10, NULL, 10);
		}
	}
	if (have)
		consider(ranges, &n, perms, path, start, end, rss, anon);
	fclose(f);

	for (i = 0; i < n; i++) {
		if (madvise((void *)ranges[i].start, ranges[i].end - ranges[i].start, MADV_DONTNEED) == 0)
			released += ranges[i].rss_kib;
	}
	free(ranges);
	return released > INT32_MAX ? INT32_MAX : (int32_t)released;
}
