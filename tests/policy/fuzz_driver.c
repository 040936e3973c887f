/* A main() for fuzz targets built without libFuzzer: runs the target once
 * on every file named on the command line, descending into directories, so
 * that ctest replays a corpus (here the golden policy cases) through the
 * exact code the fuzzer exercises, under the sanitizers of the build. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t replayed;

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	size_t size = 0, cap = 0;

	if (f == NULL) {
		fprintf(stderr, "cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (;;) {
		size_t n;

		if (size == cap) {
			uint8_t *grown = realloc(data, cap = cap ? cap * 2 : 4096);

			if (grown == NULL) {
				free(data);
				fclose(f);
				return -1;
			}
			data = grown;
		}
		n = fread(data + size, 1, cap - size, f);
		if (n == 0)
			break;
		size += n;
	}
	fclose(f);
	/* An exact-size copy, so that ASan sees reads past the end. */
	{
		uint8_t *exact = malloc(size ? size : 1);

		if (exact == NULL) {
			free(data);
			return -1;
		}
		memcpy(exact, data, size);
		free(data);
		LLVMFuzzerTestOneInput(exact, size);
		free(exact);
	}
	replayed++;
	return 0;
}

static int replay(const char *path)
{
	struct stat st;
	struct dirent **entries;
	int n, rc = 0;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "cannot stat %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return replay_file(path);
	n = scandir(path, &entries, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "cannot list %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char child[4096];

		if (entries[i]->d_name[0] != '.' &&
		    (size_t)snprintf(child, sizeof(child), "%s/%s", path, entries[i]->d_name) <
			sizeof(child) &&
		    replay(child) < 0)
			rc = -1;
		free(entries[i]);
	}
	free(entries);
	return rc;
}

int main(int argc, char **argv)
{
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		if (replay(argv[i]) < 0)
			rc = 1;
	}
	printf("replayed %zu input(s)\n", replayed);
	return rc != 0 || replayed == 0;
}
